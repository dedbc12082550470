"""Service Quotas.

Handlers take (st, ctx, params) and return the output dict (botocore member
names); they raise protocol.ApiError for service errors. The caller holds the
server lock."""

import json
import random

from .protocol import ApiError
from . import state as part
from .registry import op
from .state import QUOTAS, _hex, paginate


def _quota_region(st, ctx):
    a = st.d['quotas'].setdefault(ctx.account, {})
    q = a.get(ctx.region)
    if q is None:
        q = a[ctx.region] = {'values': {}, 'requests': []}
    return q


def _quota_meta(p):
    key = (p['ServiceCode'], p['QuotaCode'])
    meta = QUOTAS.get(key)
    if meta is None:
        raise ApiError('NoSuchResourceException', f'The request failed because the specified service quota does '
                       f'not exist: {p["ServiceCode"]}/{p["QuotaCode"]}')
    return meta


@op('service-quotas', 'GetServiceQuota')
def _sq_get(st, ctx, p):
    sname, qname, default, glob = _quota_meta(p)
    q = _quota_region(st, ctx)
    value = q['values'].get(f'{p["ServiceCode"]}/{p["QuotaCode"]}', default)
    return {'Quota': {'ServiceCode': p['ServiceCode'], 'ServiceName': sname,
                      'QuotaArn': f'arn:{part.PARTITION}:servicequotas:{ctx.region}:{ctx.account}:'
                                  f'{p["ServiceCode"]}/{p["QuotaCode"]}',
                      'QuotaCode': p['QuotaCode'], 'QuotaName': qname, 'Value': value, 'Unit': 'None',
                      'Adjustable': True, 'GlobalQuota': glob}}


def _sq_req_view(r):
    return {k: v for k, v in r.items() if not k.startswith('_')}


@op('service-quotas', 'RequestServiceQuotaIncrease')
def _sq_request(st, ctx, p):
    sname, qname, default, glob = _quota_meta(p)
    q = _quota_region(st, ctx)
    for r in q['requests']:
        if r['ServiceCode'] == p['ServiceCode'] and r['QuotaCode'] == p['QuotaCode'] and \
                r['Status'] in ('PENDING', 'CASE_OPENED'):
            raise ApiError('ResourceAlreadyExistsException', 'Only one open service quota increase request is '
                           'allowed per quota.')
    cur = q['values'].get(f'{p["ServiceCode"]}/{p["QuotaCode"]}', default)
    if p['DesiredValue'] <= cur:
        raise ApiError('IllegalArgumentException', 'The requested value must be greater than the current value.')
    rid = _hex(32)
    r = {'Id': rid, 'CaseId': str(random.randint(10 ** 9, 10 ** 10 - 1)), 'ServiceCode': p['ServiceCode'],
         'ServiceName': sname, 'QuotaCode': p['QuotaCode'], 'QuotaName': qname,
         'DesiredValue': p['DesiredValue'], 'Status': 'PENDING', 'Created': ctx.now, 'LastUpdated': ctx.now,
         'Requester': json.dumps({'accountId': ctx.account, 'callerArn': ctx.cred['arn']}),
         'QuotaArn': f'arn:{part.PARTITION}:servicequotas:{ctx.region}:{ctx.account}:'
                     f'{p["ServiceCode"]}/{p["QuotaCode"]}',
         'GlobalQuota': glob, 'Unit': 'None', '_decide_at': ctx.now + st.cfg['case_resolve_seconds']}
    q['requests'].append(r)
    st.schedule(r['_decide_at'], 'quota', r, q)
    return {'RequestedQuota': _sq_req_view(r)}


@op('service-quotas', 'ListRequestedServiceQuotaChangeHistoryByQuota')
def _sq_history(st, ctx, p):
    q = _quota_region(st, ctx)
    items = [_sq_req_view(r) for r in q['requests'] if r['ServiceCode'] == p['ServiceCode']
             and r['QuotaCode'] == p['QuotaCode'] and (not p.get('Status') or r['Status'] == p['Status'])]
    page, nxt = paginate(items, p.get('NextToken'), p.get('MaxResults'), 100, code='InvalidPaginationTokenException')
    return {'RequestedQuotas': page, 'NextToken': nxt}
