"""AWS STS: caller identity, AssumeRole (trust policies, session limits),
web identity, federation tokens.

Handlers take (st, ctx, params) and return the output dict (botocore member
names); they raise protocol.ApiError for service errors. The caller holds the
server lock."""

import fnmatch
import json
import re

from .protocol import ApiError
from . import state as part
from .registry import op


@op('sts', 'GetCallerIdentity')
def _gci(st, ctx, p):
    c = ctx.cred
    return {'UserId': c['user_id'], 'Account': c['account'], 'Arn': c['arn']}


def _caller_principals(st, cred):
    """Every trust-policy principal that names this caller: the account id, the account root,
    the caller's own ARN (user, session) and, for a role session, the role's ARN (with its path)."""
    acct = cred['account']
    out = {'*', acct, f'arn:{part.PARTITION}:iam::{acct}:root', cred['arn']}
    m = re.match(r'^arn:[^:]+:sts::(\d+):assumed-role/([^/]+)/', cred['arn'])
    if m:
        role = st.d['iam'].get(m.group(1), {}).get('roles', {}).get(m.group(2))
        out.add(role['Arn'] if role else f'arn:{part.PARTITION}:iam::{m.group(1)}:role/{m.group(2)}')
    return out


def _external_id_ok(cond, external_id):
    """sts:ExternalId conditions (StringEquals exact, StringLike with wildcards); both must hold."""
    for k, like in (('StringEquals', False), ('StringLike', True)):
        v = (cond.get(k) or {}).get('sts:ExternalId')
        if v is None:
            continue
        want = v if isinstance(v, list) else [v]
        if external_id is None:
            return False
        if not any(fnmatch.fnmatchcase(external_id, w) if like else external_id == w for w in want):
            return False
    return True


def _trust_allows(doc, principals, external_id, federated=False):
    try:
        d = json.loads(doc)
    except ValueError:
        return False
    sts_list = d.get('Statement', [])
    sts_list = sts_list if isinstance(sts_list, list) else [sts_list]
    want = 'sts:AssumeRoleWithWebIdentity' if federated else 'sts:AssumeRole'
    for s in sts_list:
        if s.get('Effect') != 'Allow':
            continue
        actions = s.get('Action', [])
        actions = actions if isinstance(actions, list) else [actions]
        if not any(fnmatch.fnmatchcase(want, a) for a in actions):
            continue
        pr = s.get('Principal', {})
        if federated:
            ok = pr == '*' or 'Federated' in (pr if isinstance(pr, dict) else {})
        else:
            aws = pr.get('AWS', []) if isinstance(pr, dict) else ([] if pr != '*' else ['*'])
            aws = aws if isinstance(aws, list) else [aws]
            ok = any(x in principals for x in aws)
        if ok and _external_id_ok(s.get('Condition') or {}, external_id):
            return True
    return False


def _parse_role_arn(arn):
    m = re.match(r'^arn:([a-z-]+):iam::(\d{12}):role/(?:.*/)?([\w+=,.@-]+)$', arn or '')
    if not m or m.group(1) != part.PARTITION:   # another partition's ARN is invalid here
        raise ApiError('ValidationError', f'{arn} is invalid', 400)
    return m.group(2), m.group(3)


@op('sts', 'AssumeRole')
def _assume_role(st, ctx, p):
    now = ctx.now
    c = ctx.cred
    dur = p.get('DurationSeconds') or 3600
    name = p['RoleSessionName']
    if not re.match(r'^[\w+=,.@-]{2,64}$', name):
        raise ApiError('ValidationError', '1 validation error detected: Value \'%s\' at \'roleSessionName\' '
                       'failed to satisfy constraint: Member must satisfy regular expression pattern: '
                       '[\\w+=,.@-]*' % name)
    if dur < 900 or dur > 43200:
        raise ApiError('ValidationError', '1 validation error detected: Value \'%d\' at \'durationSeconds\' '
                       'failed to satisfy constraint: Member must have value %s' %
                       (dur, 'greater than or equal to 900' if dur < 900 else 'less than or equal to 43200'))
    ext = p.get('ExternalId')
    if ext is not None and not re.match(r'^[\w+=,.@:/-]{2,1224}$', ext):
        raise ApiError('ValidationError', '1 validation error detected: Value at \'externalId\' failed to '
                       'satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*')
    acct, rname = _parse_role_arn(p['RoleArn'])
    denied = ApiError('AccessDenied', f'User: {c["arn"]} is not authorized to perform: sts:AssumeRole on '
                      f'resource: {p["RoleArn"]}', 403)
    a = st.d['accounts'].get(acct)
    role = st.d['iam'].get(acct, {}).get('roles', {}).get(rname)
    if role is None or (a is not None and a['Status'] != 'ACTIVE'):
        raise denied
    if not _trust_allows(role['AssumeRolePolicyDocument'], _caller_principals(st, c), ext):
        raise denied
    chained = c['kind'] == 'role'
    if chained and dur > 3600:
        raise ApiError('ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit '
                       'for roles assumed by role chaining.')
    if dur > role['MaxSessionDuration']:
        raise ApiError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set '
                       'for this role.')
    arn = f'arn:{part.PARTITION}:sts::{acct}:assumed-role/{rname}/{name}'
    uid = f'{role["RoleId"]}:{name}'
    creds = st._new_session(acct, arn, uid, 'role', dur, now, chained=chained)
    return {'Credentials': creds, 'AssumedRoleUser': {'AssumedRoleId': uid, 'Arn': arn},
            'PackedPolicySize': 0 if p.get('Policy') else None}


@op('sts', 'AssumeRoleWithWebIdentity')
def _assume_web(st, ctx, p):
    now = ctx.now
    token = p['WebIdentityToken']
    subject = st.web_tokens.get(token)
    if subject is None:
        raise ApiError('InvalidIdentityToken', 'Couldn\'t retrieve verification key from your identity provider, '
                       'please reference AssumeRoleWithWebIdentity documentation for requirements', 400)
    dur = p.get('DurationSeconds') or 3600
    acct, rname = _parse_role_arn(p['RoleArn'])
    role = st.d['iam'].get(acct, {}).get('roles', {}).get(rname)
    if role is None:
        raise ApiError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', 403)
    if not _trust_allows(role['AssumeRolePolicyDocument'], set(), None, federated=True):
        raise ApiError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', 403)
    if dur > role['MaxSessionDuration']:
        raise ApiError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set '
                       'for this role.')
    name = p['RoleSessionName']
    arn = f'arn:{part.PARTITION}:sts::{acct}:assumed-role/{rname}/{name}'
    uid = f'{role["RoleId"]}:{name}'
    creds = st._new_session(acct, arn, uid, 'role', dur, now)
    return {'Credentials': creds, 'SubjectFromWebIdentityToken': subject,
            'AssumedRoleUser': {'AssumedRoleId': uid, 'Arn': arn},
            'Provider': 'oidc.fake.local', 'Audience': 'sts.amazonaws.com'}


@op('sts', 'GetFederationToken')
def _get_fed(st, ctx, p):
    c = ctx.cred
    if c['kind'] != 'user':
        raise ApiError('AccessDenied', 'Cannot call GetFederationToken with session credentials', 403)
    dur = p.get('DurationSeconds') or 43200
    if dur < 900 or dur > 129600:
        raise ApiError('ValidationError', 'The requested DurationSeconds is out of range.')
    name = p['Name']
    arn = f'arn:{part.PARTITION}:sts::{c["account"]}:federated-user/{name}'
    uid = f'{c["account"]}:{name}'
    creds = st._new_session(c['account'], arn, uid, 'federated', dur, ctx.now)
    return {'Credentials': creds, 'FederatedUser': {'FederatedUserId': uid, 'Arn': arn},
            'PackedPolicySize': 0}
