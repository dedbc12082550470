"""AWS Support: cases.

Handlers take (st, ctx, params) and return the output dict (botocore member
names); they raise protocol.ApiError for service errors. The caller holds the
server lock."""

import random
import time

from .protocol import ApiError
from .registry import op
from .state import _hex, paginate


def _fmt_support_time(ts):
    return time.strftime('%Y-%m-%dT%H:%M:%S.000Z', time.gmtime(ts))


@op('support', 'CreateCase')
def _support_create(st, ctx, p):
    cases = st.d['support'].setdefault(ctx.account, {})
    if sum(1 for c in cases.values() if c['status'] != 'resolved') >= 10:
        raise ApiError('CaseCreationLimitExceeded', 'You have exceeded the case creation limit.')
    cid = f'case-{ctx.account}-{time.strftime("%Y", time.gmtime(ctx.now))}-{_hex(16)}'
    c = {'caseId': cid, 'displayId': str(random.randint(10 ** 9, 10 ** 10 - 1)), 'subject': p['subject'],
         'status': 'opened', 'serviceCode': p.get('serviceCode') or 'general-info',
         'categoryCode': p.get('categoryCode') or 'other', 'severityCode': p.get('severityCode') or 'low',
         'submittedBy': ctx.cred['arn'], 'timeCreated': _fmt_support_time(ctx.now),
         'language': p.get('language') or 'en', 'ccEmailAddresses': p.get('ccEmailAddresses') or [],
         'recentCommunications': {'communications': [{
             'caseId': cid, 'body': p['communicationBody'], 'submittedBy': ctx.cred['arn'],
             'timeCreated': _fmt_support_time(ctx.now)}]},
         '_resolve_at': ctx.now + st.cfg['case_resolve_seconds']}
    cases[cid] = c
    st.schedule(c['_resolve_at'], 'case', c)
    return {'caseId': cid}


@op('support', 'DescribeCases')
def _support_describe(st, ctx, p):
    cases = st.d['support'].get(ctx.account, {})
    ids = p.get('caseIdList')
    out = []
    if ids:
        for cid in ids:
            if cid not in cases:
                raise ApiError('CaseIdNotFound', f'Invalid case ID: {cid}')
            out.append(cases[cid])
    else:
        out = list(cases.values())
    if not p.get('includeResolvedCases'):
        out = [c for c in out if c['status'] != 'resolved']
    views = []
    for c in out:
        v = {k: val for k, val in c.items() if not k.startswith('_')}
        if p.get('includeCommunications') is False:
            v.pop('recentCommunications')
        views.append(v)
    page, nxt = paginate(views, p.get('nextToken'), p.get('maxResults'), 100, code='InvalidParameterValue')
    return {'cases': page, 'nextToken': nxt}
