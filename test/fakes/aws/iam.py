"""IAM: users, access keys, roles, managed and inline policies.

Handlers take (st, ctx, params) and return the output dict (botocore member
names); they raise protocol.ApiError for service errors. The caller holds the
server lock."""

import json
import re
from urllib.parse import quote

from .protocol import ApiError
from . import state as part
from .registry import op
from .state import AWS_MANAGED_POLICIES, _det_hex, _upper_alnum, paginate, policy_check


_IAM_EPOCH = 1423000000.0


def _no_entity(kind, name):
    return ApiError('NoSuchEntity', f'The {kind} with name {name} cannot be found.', 404)


def _user(st, ctx, name):
    if name is None:
        c = ctx.cred
        if c['kind'] != 'user':
            raise ApiError('ValidationError', 'Must specify userName when calling with non-User credentials', 400)
        name = c['user']
    u = st._iam(ctx.account)['users'].get(name)
    if u is None:
        raise _no_entity('user', name)
    return u


def _role(st, ctx, name):
    r = st._iam(ctx.account)['roles'].get(name)
    if r is None:
        raise _no_entity('role', name)
    return r


def _user_view(u):
    return {k: u[k] for k in ('UserName', 'Path', 'UserId', 'Arn', 'CreateDate')} | \
        ({'Tags': u['Tags']} if u['Tags'] else {})


def _role_view(r, full=True):
    v = {k: r[k] for k in ('RoleName', 'Path', 'RoleId', 'Arn', 'CreateDate', 'MaxSessionDuration')}
    v['AssumeRolePolicyDocument'] = quote(r['AssumeRolePolicyDocument'], safe='')
    if r.get('Description'):
        v['Description'] = r['Description']
    if full and r['Tags']:
        v['Tags'] = r['Tags']
    return v


def _check_name(name, what):
    if not re.match(r'^[\w+=,.@-]{1,128}$', name) or (what == 'role' and len(name) > 64) or \
            (what == 'user' and len(name) > 64):
        raise ApiError('ValidationError', f'1 validation error detected: Value \'{name}\' at \'{what}Name\' failed '
                       'to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+')


def _merge_tags(existing, new):
    d = {t['Key']: t['Value'] for t in existing}
    for t in new:
        d[t['Key']] = t['Value']
    if len(d) > 50:
        raise ApiError('LimitExceeded', 'The number of tags has reached the maximum limit.', 409)
    return [{'Key': k, 'Value': v} for k, v in d.items()]


def _policy_lookup(st, ctx, arn):
    m = re.match(r'^arn:([^:]+):iam::aws:policy/(.+)$', arn)
    if m:
        # an AWS managed policy of another partition does not exist in this one
        if m.group(1) != part.PARTITION or m.group(2) not in AWS_MANAGED_POLICIES:
            raise ApiError('NoSuchEntity', f'Policy {arn} does not exist or is not attachable.', 404)
        return None
    pol = st._iam(ctx.account)['policies'].get(arn)
    if pol is None:
        raise ApiError('NoSuchEntity', f'Policy {arn} does not exist or is not attachable.', 404)
    return pol


def _check_trust_principals(doc):
    """MalformedPolicyDocument for an AWS principal ARN of another partition, as IAM answers."""
    d = policy_check(doc)
    sts_list = d['Statement'] if isinstance(d['Statement'], list) else [d['Statement']]
    for s in sts_list:
        pr = s.get('Principal')
        aws = pr.get('AWS', []) if isinstance(pr, dict) else []
        for x in aws if isinstance(aws, list) else [aws]:
            if not part.arn_partition_ok(x):
                raise ApiError('MalformedPolicyDocument', f'Invalid principal in policy: "AWS":"{x}"', 400)
    return d


def _attachments(st, acct, arn):
    i = st._iam(acct)
    return sum(1 for x in list(i['users'].values()) + list(i['roles'].values()) if arn in x['attached'])


def _aws_policy_view(name, st, acct):
    base = name.split('/')[-1]
    return {'PolicyName': base, 'PolicyId': 'ANPA' + _det_hex(name, 17).upper(),
            'Arn': f'arn:{part.PARTITION}:iam::aws:policy/{name}',
            'Path': '/' + name[:-len(base)] if '/' in name else '/', 'DefaultVersionId': 'v1',
            'AttachmentCount': _attachments(st, acct, f'arn:{part.PARTITION}:iam::aws:policy/{name}'),
            'PermissionsBoundaryUsageCount': 0, 'IsAttachable': True, 'CreateDate': _IAM_EPOCH,
            'UpdateDate': _IAM_EPOCH}


def _policy_view(st, acct, pol):
    v = {k: pol[k] for k in ('PolicyName', 'PolicyId', 'Arn', 'Path', 'DefaultVersionId', 'CreateDate',
                             'UpdateDate')}
    v.update({'AttachmentCount': _attachments(st, acct, pol['Arn']), 'PermissionsBoundaryUsageCount': 0,
              'IsAttachable': True})
    if pol.get('Description'):
        v['Description'] = pol['Description']
    if pol.get('Tags'):
        v['Tags'] = pol['Tags']
    return v


def _marker_page(items, p):
    page, nxt = paginate(items, p.get('Marker'), p.get('MaxItems'), 100, code='ValidationError')
    return page, {'IsTruncated': nxt is not None, 'Marker': nxt}


@op('iam', 'CreateUser')
def _iam_create_user(st, ctx, p):
    _check_name(p['UserName'], 'user')
    i = st._iam(ctx.account)
    if p['UserName'] in i['users']:
        raise ApiError('EntityAlreadyExists', f'User with name {p["UserName"]} already exists.', 409)
    u = st._create_user(ctx.account, p['UserName'], p.get('Path'), p.get('Tags'), ctx.now)
    return {'User': _user_view(u)}


@op('iam', 'GetUser')
def _iam_get_user(st, ctx, p):
    return {'User': _user_view(_user(st, ctx, p.get('UserName')))}


@op('iam', 'ListUsers')
def _iam_list_users(st, ctx, p):
    items = [_user_view(u) for u in st._iam(ctx.account)['users'].values()
             if u['Path'].startswith(p.get('PathPrefix') or '/')]
    for it in items:
        it.pop('Tags', None)
    page, extra = _marker_page(items, p)
    return {'Users': page, **extra}


@op('iam', 'DeleteUser')
def _iam_delete_user(st, ctx, p):
    u = _user(st, ctx, p['UserName'])
    if u['keys'] or u['attached'] or u['inline']:
        raise ApiError('DeleteConflict', 'Cannot delete entity, must delete access keys and detach all policies first.',
                       409)
    del st._iam(ctx.account)['users'][u['UserName']]
    return {}


@op('iam', 'TagUser')
def _iam_tag_user(st, ctx, p):
    u = _user(st, ctx, p['UserName'])
    u['Tags'] = _merge_tags(u['Tags'], p['Tags'])
    return {}


@op('iam', 'UntagUser')
def _iam_untag_user(st, ctx, p):
    u = _user(st, ctx, p['UserName'])
    u['Tags'] = [t for t in u['Tags'] if t['Key'] not in p['TagKeys']]
    return {}


@op('iam', 'ListUserTags')
def _iam_list_user_tags(st, ctx, p):
    u = _user(st, ctx, p['UserName'])
    page, extra = _marker_page(u['Tags'], p)
    return {'Tags': page, **extra}


@op('iam', 'AttachUserPolicy')
def _iam_attach_user(st, ctx, p):
    u = _user(st, ctx, p['UserName'])
    _policy_lookup(st, ctx, p['PolicyArn'])
    if p['PolicyArn'] not in u['attached']:
        u['attached'].append(p['PolicyArn'])
    return {}


@op('iam', 'DetachUserPolicy')
def _iam_detach_user(st, ctx, p):
    u = _user(st, ctx, p['UserName'])
    if p['PolicyArn'] not in u['attached']:
        raise ApiError('NoSuchEntity', f'Policy {p["PolicyArn"]} was not found.', 404)
    u['attached'].remove(p['PolicyArn'])
    return {}


def _attached_view(arns):
    return [{'PolicyName': a.rsplit('/', 1)[-1], 'PolicyArn': a} for a in arns]


@op('iam', 'ListAttachedUserPolicies')
def _iam_list_attached_user(st, ctx, p):
    u = _user(st, ctx, p['UserName'])
    page, extra = _marker_page(_attached_view(u['attached']), p)
    return {'AttachedPolicies': page, **extra}


@op('iam', 'CreateAccessKey')
def _iam_create_key(st, ctx, p):
    u = _user(st, ctx, p.get('UserName'))
    if len(u['keys']) >= 2:
        raise ApiError('LimitExceeded', 'Cannot exceed quota for AccessKeysPerUser: 2', 409)
    akid, secret = st._new_access_key(ctx.account, u, ctx.now)
    return {'AccessKey': {'UserName': u['UserName'], 'AccessKeyId': akid, 'Status': 'Active',
                          'SecretAccessKey': secret, 'CreateDate': ctx.now}}


@op('iam', 'ListAccessKeys')
def _iam_list_keys(st, ctx, p):
    u = _user(st, ctx, p.get('UserName'))
    items = [{'UserName': u['UserName'], 'AccessKeyId': k, 'Status': st.d['creds'][k]['status'],
              'CreateDate': st.d['creds'][k]['created']} for k in u['keys']]
    page, extra = _marker_page(items, p)
    return {'AccessKeyMetadata': page, **extra}


@op('iam', 'DeleteAccessKey')
def _iam_delete_key(st, ctx, p):
    u = _user(st, ctx, p.get('UserName'))
    k = p['AccessKeyId']
    if k not in u['keys']:
        raise ApiError('NoSuchEntity', f'The Access Key with id {k} cannot be found.', 404)
    u['keys'].remove(k)
    st.d['creds'].pop(k, None)
    return {}


@op('iam', 'CreateRole')
def _iam_create_role(st, ctx, p):
    _check_name(p['RoleName'], 'role')
    i = st._iam(ctx.account)
    if p['RoleName'] in i['roles']:
        raise ApiError('EntityAlreadyExists', f'Role with name {p["RoleName"]} already exists.', 409)
    _check_trust_principals(p['AssumeRolePolicyDocument'])
    ms = p.get('MaxSessionDuration') or 3600
    if ms < 3600 or ms > 43200:
        raise ApiError('ValidationError', f'1 validation error detected: Value \'{ms}\' at \'maxSessionDuration\' '
                       'failed to satisfy constraint: Member must have value between 3600 and 43200')
    r = st._role_obj(ctx.account, p['RoleName'], p.get('Path'), p['AssumeRolePolicyDocument'],
                     p.get('Description'), ms, p.get('Tags'), ctx.now)
    i['roles'][r['RoleName']] = r
    return {'Role': _role_view(r)}


@op('iam', 'GetRole')
def _iam_get_role(st, ctx, p):
    return {'Role': _role_view(_role(st, ctx, p['RoleName']))}


@op('iam', 'ListRoles')
def _iam_list_roles(st, ctx, p):
    items = [_role_view(r, full=False) for r in st._iam(ctx.account)['roles'].values()
             if r['Path'].startswith(p.get('PathPrefix') or '/')]
    page, extra = _marker_page(items, p)
    return {'Roles': page, **extra}


@op('iam', 'UpdateAssumeRolePolicy')
def _iam_update_trust(st, ctx, p):
    r = _role(st, ctx, p['RoleName'])
    _check_trust_principals(p['PolicyDocument'])
    r['AssumeRolePolicyDocument'] = p['PolicyDocument']
    return {}


@op('iam', 'DeleteRole')
def _iam_delete_role(st, ctx, p):
    r = _role(st, ctx, p['RoleName'])
    if r['attached'] or r['inline']:
        raise ApiError('DeleteConflict', 'Cannot delete entity, must detach all policies first.', 409)
    del st._iam(ctx.account)['roles'][r['RoleName']]
    return {}


@op('iam', 'TagRole')
def _iam_tag_role(st, ctx, p):
    r = _role(st, ctx, p['RoleName'])
    r['Tags'] = _merge_tags(r['Tags'], p['Tags'])
    return {}


@op('iam', 'UntagRole')
def _iam_untag_role(st, ctx, p):
    r = _role(st, ctx, p['RoleName'])
    r['Tags'] = [t for t in r['Tags'] if t['Key'] not in p['TagKeys']]
    return {}


@op('iam', 'ListRoleTags')
def _iam_list_role_tags(st, ctx, p):
    r = _role(st, ctx, p['RoleName'])
    page, extra = _marker_page(r['Tags'], p)
    return {'Tags': page, **extra}


@op('iam', 'AttachRolePolicy')
def _iam_attach_role(st, ctx, p):
    r = _role(st, ctx, p['RoleName'])
    _policy_lookup(st, ctx, p['PolicyArn'])
    if p['PolicyArn'] not in r['attached']:
        r['attached'].append(p['PolicyArn'])
    return {}


@op('iam', 'DetachRolePolicy')
def _iam_detach_role(st, ctx, p):
    r = _role(st, ctx, p['RoleName'])
    if p['PolicyArn'] not in r['attached']:
        raise ApiError('NoSuchEntity', f'Policy {p["PolicyArn"]} was not found.', 404)
    r['attached'].remove(p['PolicyArn'])
    return {}


@op('iam', 'ListAttachedRolePolicies')
def _iam_list_attached_role(st, ctx, p):
    r = _role(st, ctx, p['RoleName'])
    page, extra = _marker_page(_attached_view(r['attached']), p)
    return {'AttachedPolicies': page, **extra}


@op('iam', 'PutRolePolicy')
def _iam_put_role_policy(st, ctx, p):
    r = _role(st, ctx, p['RoleName'])
    policy_check(p['PolicyDocument'])
    r['inline'][p['PolicyName']] = p['PolicyDocument']
    return {}


@op('iam', 'GetRolePolicy')
def _iam_get_role_policy(st, ctx, p):
    r = _role(st, ctx, p['RoleName'])
    doc = r['inline'].get(p['PolicyName'])
    if doc is None:
        raise ApiError('NoSuchEntity', f'The role policy with name {p["PolicyName"]} cannot be found.', 404)
    return {'RoleName': r['RoleName'], 'PolicyName': p['PolicyName'], 'PolicyDocument': quote(doc, safe='')}


@op('iam', 'DeleteRolePolicy')
def _iam_delete_role_policy(st, ctx, p):
    r = _role(st, ctx, p['RoleName'])
    if p['PolicyName'] not in r['inline']:
        raise ApiError('NoSuchEntity', f'The role policy with name {p["PolicyName"]} cannot be found.', 404)
    del r['inline'][p['PolicyName']]
    return {}


@op('iam', 'ListRolePolicies')
def _iam_list_role_policies(st, ctx, p):
    r = _role(st, ctx, p['RoleName'])
    page, extra = _marker_page(sorted(r['inline']), p)
    return {'PolicyNames': page, **extra}


@op('iam', 'CreatePolicy')
def _iam_create_policy(st, ctx, p):
    _check_name(p['PolicyName'], 'policy')
    policy_check(p['PolicyDocument'])
    path = p.get('Path') or '/'
    arn = f'arn:{part.PARTITION}:iam::{ctx.account}:policy{path}{p["PolicyName"]}'
    i = st._iam(ctx.account)
    if arn in i['policies']:
        raise ApiError('EntityAlreadyExists', f'A policy called {p["PolicyName"]} already exists. '
                       'Duplicate names are not allowed.', 409)
    pol = {'PolicyName': p['PolicyName'], 'PolicyId': 'ANPA' + _upper_alnum(17), 'Arn': arn, 'Path': path,
           'DefaultVersionId': 'v1', 'CreateDate': ctx.now, 'UpdateDate': ctx.now,
           'Description': p.get('Description'), 'Tags': p.get('Tags') or [],
           'versions': {'v1': {'Document': p['PolicyDocument'], 'CreateDate': ctx.now}}, 'next_version': 2}
    i['policies'][arn] = pol
    return {'Policy': _policy_view(st, ctx.account, pol)}


@op('iam', 'GetPolicy')
def _iam_get_policy(st, ctx, p):
    pol = _policy_lookup(st, ctx, p['PolicyArn'])
    if pol is None:
        return {'Policy': _aws_policy_view(p['PolicyArn'].split(':policy/', 1)[1], st, ctx.account)}
    return {'Policy': _policy_view(st, ctx.account, pol)}


@op('iam', 'DeletePolicy')
def _iam_delete_policy(st, ctx, p):
    pol = _policy_lookup(st, ctx, p['PolicyArn'])
    if pol is None:
        raise ApiError('AccessDenied', 'Cannot delete AWS managed policies.', 403)
    if _attachments(st, ctx.account, pol['Arn']) or len(pol['versions']) > 1:
        raise ApiError('DeleteConflict', 'Cannot delete a policy attached to entities or with non-default '
                       'versions.', 409)
    del st._iam(ctx.account)['policies'][pol['Arn']]
    return {}


@op('iam', 'ListPolicies')
def _iam_list_policies(st, ctx, p):
    scope = p.get('Scope') or 'All'
    items = []
    if scope in ('All', 'AWS'):
        items += [_aws_policy_view(n, st, ctx.account) for n in AWS_MANAGED_POLICIES]
    if scope in ('All', 'Local'):
        items += [_policy_view(st, ctx.account, pol) for pol in st._iam(ctx.account)['policies'].values()]
    if p.get('OnlyAttached'):
        items = [x for x in items if x['AttachmentCount']]
    items = [x for x in items if x['Path'].startswith(p.get('PathPrefix') or '/')]
    for x in items:
        x.pop('Tags', None)
    page, extra = _marker_page(items, p)
    return {'Policies': page, **extra}


def _customer_policy(st, ctx, arn):
    pol = _policy_lookup(st, ctx, arn)
    if pol is None:
        raise ApiError('AccessDenied', 'Cannot modify AWS managed policies.', 403)
    return pol


@op('iam', 'CreatePolicyVersion')
def _iam_create_pv(st, ctx, p):
    pol = _customer_policy(st, ctx, p['PolicyArn'])
    policy_check(p['PolicyDocument'])
    if len(pol['versions']) >= 5:
        raise ApiError('LimitExceeded', 'A managed policy can have up to 5 versions. Before you create a new '
                       'version, you must delete an existing version.', 409)
    vid = f'v{pol["next_version"]}'
    pol['next_version'] += 1
    pol['versions'][vid] = {'Document': p['PolicyDocument'], 'CreateDate': ctx.now}
    if p.get('SetAsDefault'):
        pol['DefaultVersionId'] = vid
        pol['UpdateDate'] = ctx.now
    return {'PolicyVersion': {'VersionId': vid, 'IsDefaultVersion': pol['DefaultVersionId'] == vid,
                              'CreateDate': ctx.now}}


@op('iam', 'GetPolicyVersion')
def _iam_get_pv(st, ctx, p):
    pol = _policy_lookup(st, ctx, p['PolicyArn'])
    if pol is None:
        doc = json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': '*',
                                                                   'Resource': '*'}]})
        if p['VersionId'] != 'v1':
            raise ApiError('NoSuchEntity', f'Policy version {p["VersionId"]} does not exist.', 404)
        return {'PolicyVersion': {'Document': quote(doc, safe=''), 'VersionId': 'v1', 'IsDefaultVersion': True,
                                  'CreateDate': _IAM_EPOCH}}
    v = pol['versions'].get(p['VersionId'])
    if v is None:
        raise ApiError('NoSuchEntity', f'Policy {pol["Arn"]} version {p["VersionId"]} does not exist or is not '
                       'attachable.', 404)
    return {'PolicyVersion': {'Document': quote(v['Document'], safe=''), 'VersionId': p['VersionId'],
                              'IsDefaultVersion': pol['DefaultVersionId'] == p['VersionId'],
                              'CreateDate': v['CreateDate']}}


@op('iam', 'ListPolicyVersions')
def _iam_list_pv(st, ctx, p):
    pol = _customer_policy(st, ctx, p['PolicyArn'])
    items = [{'VersionId': k, 'IsDefaultVersion': k == pol['DefaultVersionId'], 'CreateDate': v['CreateDate']}
             for k, v in sorted(pol['versions'].items(), key=lambda kv: -int(kv[0][1:]))]
    page, extra = _marker_page(items, p)
    return {'Versions': page, **extra}


@op('iam', 'DeletePolicyVersion')
def _iam_delete_pv(st, ctx, p):
    pol = _customer_policy(st, ctx, p['PolicyArn'])
    if p['VersionId'] not in pol['versions']:
        raise ApiError('NoSuchEntity', f'Policy {pol["Arn"]} version {p["VersionId"]} does not exist.', 404)
    if p['VersionId'] == pol['DefaultVersionId']:
        raise ApiError('DeleteConflict', 'Cannot delete the default version of a policy.', 409)
    del pol['versions'][p['VersionId']]
    return {}


@op('iam', 'SetDefaultPolicyVersion')
def _iam_set_default_pv(st, ctx, p):
    pol = _customer_policy(st, ctx, p['PolicyArn'])
    if p['VersionId'] not in pol['versions']:
        raise ApiError('NoSuchEntity', f'Policy {pol["Arn"]} version {p["VersionId"]} does not exist.', 404)
    pol['DefaultVersionId'] = p['VersionId']
    return {}
