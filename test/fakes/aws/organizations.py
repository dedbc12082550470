"""AWS Organizations.

Handlers take (st, ctx, params) and return the output dict (botocore member
names); they raise protocol.ApiError for service errors. The caller holds the
server lock."""

import re

from .protocol import ApiError
from . import state as part
from .registry import op
from .state import EMAIL_RE, _alnum_lower, _hex, paginate


def _org_account_view(a):
    return {k: a[k] for k in ('Id', 'Arn', 'Email', 'Name', 'Status', 'JoinedMethod', 'JoinedTimestamp')}


def _req_view(r):
    return {k: v for k, v in r.items() if not k.startswith('_')}


def _ou_or_root_exists(st, pid):
    return pid == st.root or pid in st.d['ous']


def _norm_max(p, hi):
    m = p.get('MaxResults')
    if m is not None and (m < 1 or m > hi):
        raise ApiError('InvalidInputException', f'MaxResults must be between 1 and {hi}.',
                       extra={'Reason': 'INVALID_INPUT'})
    return m


# ---------------------------------------------------------------- Organizations
@op('organizations', 'DescribeOrganization')
def _describe_org(st, ctx, p):
    if ctx.account not in st.d['accounts']:
        raise ApiError('AWSOrganizationsNotInUseException',
                       'Your account is not a member of an organization.')
    o = st.d['org']
    return {'Organization': {k: o[k] for k in ('Id', 'Arn', 'FeatureSet', 'MasterAccountArn',
                                                 'MasterAccountId', 'MasterAccountEmail',
                                                 'AvailablePolicyTypes')}}


@op('organizations', 'ListRoots')
def _list_roots(st, ctx, p):
    st.require_mgmt(ctx)
    o = st.d['org']
    return {'Roots': [{'Id': st.root, 'Arn': f'arn:{part.PARTITION}:organizations::{st.mgmt}:root/{o["Id"]}/{st.root}',
                       'Name': 'Root', 'PolicyTypes': []}]}


@op('organizations', 'CreateAccount')
def _create_account(st, ctx, p):
    st.require_mgmt(ctx)
    now = ctx.now
    email = p['Email']
    if not EMAIL_RE.match(email) or len(email) > 64 or len(email) < 6:
        raise ApiError('ConstraintViolationException', 'You specified an invalid value.',
                       extra={'Reason': 'INVALID_EMAIL_ADDRESS_TARGET'})
    if len(p['AccountName']) > 50:
        raise ApiError('InvalidInputException', 'The account name is too long.',
                       extra={'Reason': 'INVALID_INPUT'})
    if len(p.get('Tags') or []) > 50:
        raise ApiError('ConstraintViolationException', 'Too many tags.', extra={'Reason': 'TAG_LIMIT_EXCEEDED'})
    in_progress = len(st.pending_creates)
    if len(st.d['accounts']) + in_progress >= st.cfg.get('max_accounts', 1000):
        raise ApiError('ConstraintViolationException', 'You have exceeded the allowed number of AWS accounts.',
                       extra={'Reason': 'ACCOUNT_NUMBER_LIMIT_EXCEEDED'})
    rid = 'car-' + _hex(32)
    r = {'Id': rid, 'AccountName': p['AccountName'], 'Email': email, 'State': 'IN_PROGRESS',
         'RequestedTimestamp': now, '_done_at': now + st.cfg['create_account_seconds'],
         '_tags': p.get('Tags') or []}
    in_flight = len(st.pending_creates)
    c = st.counters
    c['create_account_attempted_peak'] = max(c.get('create_account_attempted_peak', 0), in_flight + 1)
    if in_flight >= 5:
        # Documented behaviour chosen: the request is accepted but its status is
        # immediately FAILED with CONCURRENT_ACCOUNT_MODIFICATION.
        c['create_account_rejected_concurrent'] += 1
        r['State'] = 'FAILED'
        r['FailureReason'] = 'CONCURRENT_ACCOUNT_MODIFICATION'
        r['CompletedTimestamp'] = now
        st.d['create_requests'].append(r)
        st.car_index[rid] = r
        return {'CreateAccountStatus': _req_view(r)}
    for i, f in enumerate(st.create_failures):
        if not f.get('email_regex') or re.search(f['email_regex'], email):
            r['_fail'] = f['reason']
            if f.get('count', 1) <= 1:
                st.create_failures.pop(i)
            else:
                f['count'] -= 1
            break
    st.d['create_requests'].append(r)
    st.car_index[rid] = r
    st.pending_creates.add(rid)
    st.schedule(r['_done_at'], 'car', r)
    c['create_account_in_flight'] = in_flight + 1
    c['create_account_peak_in_flight'] = max(c['create_account_peak_in_flight'], in_flight + 1)
    return {'CreateAccountStatus': _req_view(r)}


@op('organizations', 'DescribeCreateAccountStatus')
def _describe_car(st, ctx, p):
    st.require_mgmt(ctx)
    r = st.car_index.get(p['CreateAccountRequestId'])
    if r is not None:
        return {'CreateAccountStatus': _req_view(r)}
    if not re.match(r'^car-[a-z0-9]{8,32}$', p['CreateAccountRequestId']):
        raise ApiError('InvalidInputException', 'Invalid create account request id.',
                       extra={'Reason': 'INVALID_PATTERN'})
    raise ApiError('CreateAccountStatusNotFoundException',
                   'We can\'t find a create account request with the CreateAccountRequestId that you specified.')


@op('organizations', 'ListCreateAccountStatus')
def _list_car(st, ctx, p):
    st.require_mgmt(ctx)
    _norm_max(p, 20)
    states = p.get('States')
    items = [_req_view(r) for r in st.d['create_requests'] if not states or r['State'] in states]
    page, nxt = paginate(items, p.get('NextToken'), p.get('MaxResults'), 20, reason='INVALID_NEXT_TOKEN')
    return {'CreateAccountStatuses': page, 'NextToken': nxt}


@op('organizations', 'ListAccounts')
def _list_accounts(st, ctx, p):
    st.require_mgmt(ctx)
    _norm_max(p, 20)
    items = [_org_account_view(a) for a in st.d['accounts'].values()]
    page, nxt = paginate(items, p.get('NextToken'), p.get('MaxResults'), 20, reason='INVALID_NEXT_TOKEN')
    return {'Accounts': page, 'NextToken': nxt}


def _get_account(st, aid):
    a = st.d['accounts'].get(aid)
    if a is None:
        raise ApiError('AccountNotFoundException',
                       'You specified an account that doesn\'t exist.')
    return a


@op('organizations', 'DescribeAccount')
def _describe_account(st, ctx, p):
    st.require_mgmt(ctx)
    return {'Account': _org_account_view(_get_account(st, p['AccountId']))}


@op('organizations', 'ListParents')
def _list_parents(st, ctx, p):
    st.require_mgmt(ctx)
    cid = p['ChildId']
    if cid in st.d['accounts']:
        parent = st.d['accounts'][cid]['parent']
    elif cid in st.d['ous']:
        parent = st.d['ous'][cid]['parent']
    else:
        raise ApiError('ChildNotFoundException', 'We can\'t find an organizational unit (OU) or '
                       'AWS account with the ChildId that you specified.')
    t = 'ROOT' if parent == st.root else 'ORGANIZATIONAL_UNIT'
    return {'Parents': [{'Id': parent, 'Type': t}]}


@op('organizations', 'ListChildren')
def _list_children(st, ctx, p):
    st.require_mgmt(ctx)
    pid = p['ParentId']
    if not _ou_or_root_exists(st, pid):
        raise ApiError('ParentNotFoundException', 'We can\'t find a root or OU with the ParentId that you specified.')
    _norm_max(p, 20)
    if p['ChildType'] == 'ACCOUNT':
        items = [{'Id': a['Id'], 'Type': 'ACCOUNT'} for a in st.d['accounts'].values() if a['parent'] == pid]
    else:
        items = [{'Id': o['Id'], 'Type': 'ORGANIZATIONAL_UNIT'} for o in st.d['ous'].values() if o['parent'] == pid]
    page, nxt = paginate(items, p.get('NextToken'), p.get('MaxResults'), 20, reason='INVALID_NEXT_TOKEN')
    return {'Children': page, 'NextToken': nxt}


def _ou_depth(st, pid):
    depth = 0
    while pid != st.root:
        depth += 1
        pid = st.d['ous'][pid]['parent']
    return depth


@op('organizations', 'CreateOrganizationalUnit')
def _create_ou(st, ctx, p):
    st.require_mgmt(ctx)
    pid = p['ParentId']
    if not _ou_or_root_exists(st, pid):
        raise ApiError('ParentNotFoundException', 'We can\'t find a root or OU with the ParentId that you specified.')
    for o in st.d['ous'].values():
        if o['parent'] == pid and o['Name'] == p['Name']:
            raise ApiError('DuplicateOrganizationalUnitException',
                           'An OU with the same name already exists.')
    if _ou_depth(st, pid) >= 5:
        raise ApiError('ConstraintViolationException', 'You have reached the maximum OU depth.',
                       extra={'Reason': 'OU_DEPTH_LIMIT_EXCEEDED'})
    if len(st.d['ous']) >= 2000:
        raise ApiError('ConstraintViolationException', 'You have reached the maximum number of OUs.',
                       extra={'Reason': 'OU_NUMBER_LIMIT_EXCEEDED'})
    oid = f'ou-{st.root[2:]}-{_alnum_lower(8)}'
    o = {'Id': oid, 'Arn': f'arn:{part.PARTITION}:organizations::{st.mgmt}:ou/{st.d["org"]["Id"]}/{oid}',
         'Name': p['Name'], 'parent': pid, 'tags': {t['Key']: t['Value'] for t in p.get('Tags') or []}}
    st.d['ous'][oid] = o
    return {'OrganizationalUnit': {'Id': oid, 'Arn': o['Arn'], 'Name': o['Name']}}


@op('organizations', 'ListOrganizationalUnitsForParent')
def _list_ous(st, ctx, p):
    st.require_mgmt(ctx)
    pid = p['ParentId']
    if not _ou_or_root_exists(st, pid):
        raise ApiError('ParentNotFoundException', 'We can\'t find a root or OU with the ParentId that you specified.')
    _norm_max(p, 20)
    items = [{'Id': o['Id'], 'Arn': o['Arn'], 'Name': o['Name']} for o in st.d['ous'].values()
             if o['parent'] == pid]
    page, nxt = paginate(items, p.get('NextToken'), p.get('MaxResults'), 20, reason='INVALID_NEXT_TOKEN')
    return {'OrganizationalUnits': page, 'NextToken': nxt}


@op('organizations', 'MoveAccount')
def _move_account(st, ctx, p):
    st.require_mgmt(ctx)
    a = _get_account(st, p['AccountId'])
    if not _ou_or_root_exists(st, p['SourceParentId']):
        raise ApiError('SourceParentNotFoundException',
                       'We can\'t find a source root or OU with the ParentId that you specified.')
    if not _ou_or_root_exists(st, p['DestinationParentId']):
        raise ApiError('DestinationParentNotFoundException',
                       'We can\'t find the destination container (a root or OU) with the ParentId that you specified.')
    if a['parent'] == p['DestinationParentId']:
        raise ApiError('DuplicateAccountException', 'That account is already present in the specified destination.')
    if a['parent'] != p['SourceParentId']:
        raise ApiError('AccountNotFoundException',
                       'You specified an account that doesn\'t exist.')
    a['parent'] = p['DestinationParentId']
    return {}


def _tag_target(st, rid):
    if rid in st.d['accounts']:
        return st.d['accounts'][rid]['tags']
    if rid in st.d['ous']:
        return st.d['ous'][rid]['tags']
    raise ApiError('TargetNotFoundException', 'We can\'t find a root, OU, account, or policy with the TargetId '
                   'that you specified.')


@op('organizations', 'TagResource')
def _org_tag(st, ctx, p):
    st.require_mgmt(ctx)
    tags = _tag_target(st, p['ResourceId'])
    new = dict(tags)
    for t in p['Tags']:
        new[t['Key']] = t['Value']
    if len(new) > 50:
        raise ApiError('ConstraintViolationException', 'You have exceeded the allowed number of tags.',
                       extra={'Reason': 'TAG_LIMIT_EXCEEDED'})
    tags.clear()
    tags.update(new)
    return {}


@op('organizations', 'UntagResource')
def _org_untag(st, ctx, p):
    st.require_mgmt(ctx)
    tags = _tag_target(st, p['ResourceId'])
    for k in p['TagKeys']:
        tags.pop(k, None)
    return {}


@op('organizations', 'ListTagsForResource')
def _org_list_tags(st, ctx, p):
    st.require_mgmt(ctx)
    tags = _tag_target(st, p['ResourceId'])
    items = [{'Key': k, 'Value': v} for k, v in tags.items()]
    page, nxt = paginate(items, p.get('NextToken'), None, 50, reason='INVALID_NEXT_TOKEN')
    return {'Tags': page, 'NextToken': nxt}


@op('organizations', 'CloseAccount')
def _close_account(st, ctx, p):
    st.require_mgmt(ctx)
    a = _get_account(st, p['AccountId'])
    if a['Id'] == st.mgmt:
        raise ApiError('ConstraintViolationException', 'You can\'t close the management account.',
                       extra={'Reason': 'MASTER_ACCOUNT_MISSING_CONTACT_INFO'})
    if a['Status'] in ('PENDING_CLOSURE', 'SUSPENDED'):
        raise ApiError('AccountAlreadyClosedException',
                       'You attempted to close an account that is already closed.')
    now = ctx.now
    members = sum(1 for x in st.d['accounts'].values() if x['Id'] != st.mgmt)
    quota = min(1000, max(10, members // 10))
    recent = [t for t in st.d['closures'] if now - t < 30 * 86400]
    if len(recent) >= quota:
        raise ApiError('ConstraintViolationException',
                       'You have exceeded close account quota for the past 30 days.',
                       extra={'Reason': 'CLOSE_ACCOUNT_QUOTA_EXCEEDED'})
    st.d['closures'] = recent + [now]
    a['Status'] = 'PENDING_CLOSURE'
    a['_suspend_at'] = now + st.cfg['create_account_seconds']
    st.schedule(a['_suspend_at'], 'close', a)
    return {}
