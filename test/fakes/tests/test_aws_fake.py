"""Proves test/fakes/aws_api.py with real botocore clients.

Run: /usr/bin/python3 -m pytest -q test/fakes/tests/test_aws_fake.py
"""

import datetime
import json
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.retries.standard import ThrottledRetryableChecker

from awsfake_util import NO_RETRY, AwsFake, create_account, wait_for

FAST = ['--create-account-seconds', '0.4', '--case-resolve-seconds', '0.4', '--instance-running-seconds', '0.3',
        '--region-enable-seconds', '0.4']


@pytest.fixture(scope='module')
def fake():
    f = AwsFake(*FAST)
    try:
        yield f
    finally:
        f.stop()


@pytest.fixture(scope='module')
def org(fake):
    return fake.client('organizations')


@pytest.fixture(scope='module')
def member(fake, org):
    """A member account created through the API, with admin IAM user credentials."""
    st = create_account(org, f'member+{uuid.uuid4().hex[:8]}@example.com', 'member-1')
    assert st['State'] == 'SUCCEEDED', st
    acct = st['AccountId']
    sts = fake.client('sts')
    role = sts.assume_role(RoleArn=f'arn:aws:iam::{acct}:role/OrganizationAccountAccessRole',
                           RoleSessionName='awsAccountOperator', DurationSeconds=3600)['Credentials']
    iam = fake.client('iam', creds=role)
    iam.create_user(UserName='osdManagedAdmin-m1')
    iam.attach_user_policy(UserName='osdManagedAdmin-m1', PolicyArn='arn:aws:iam::aws:policy/AdministratorAccess')
    key = iam.create_access_key(UserName='osdManagedAdmin-m1')['AccessKey']
    return {'account': acct, 'role': role, 'user': key}


def code_of(exc):
    return exc.value.response['Error']['Code']


def status_of(exc):
    return exc.value.response['ResponseMetadata']['HTTPStatusCode']


# ----------------------------------------------------------------------------- basics
def test_start_and_caller_identity(fake):
    ident = fake.client('sts').get_caller_identity()
    assert ident['Account'] == fake.account
    assert ident['Arn'] == f'arn:aws:iam::{fake.account}:user/aao-operator'
    st = fake.control('GET', 'state')
    assert st['management_account_id'] == fake.account
    assert st['organizational_units'] == []
    assert st['root'].startswith('r-')


def test_organization_basics(fake, org):
    o = org.describe_organization()['Organization']
    assert o['MasterAccountId'] == fake.account and o['Id'].startswith('o-')
    roots = org.list_roots()['Roots']
    assert len(roots) == 1 and roots[0]['Id'].startswith('r-')


# ----------------------------------------------------------------------------- lifecycle
def test_full_account_lifecycle(fake, org):
    email = f'osd-creds-mgmt+{uuid.uuid4().hex[:8]}@example.com'
    rid = org.create_account(Email=email, AccountName='osd-creds-mgmt-abc')['CreateAccountStatus']
    assert rid['State'] == 'IN_PROGRESS' and rid['Id'].startswith('car-')
    first = org.describe_create_account_status(CreateAccountRequestId=rid['Id'])['CreateAccountStatus']
    assert first['State'] == 'IN_PROGRESS'
    st = wait_for(lambda: (lambda s: s if s['State'] != 'IN_PROGRESS' else None)(
        org.describe_create_account_status(CreateAccountRequestId=rid['Id'])['CreateAccountStatus']))
    assert st['State'] == 'SUCCEEDED'
    acct = st['AccountId']
    assert len(acct) == 12
    org.tag_resource(ResourceId=acct, Tags=[{'Key': 'owner', 'Value': 'shard-1'}])
    assert org.list_tags_for_resource(ResourceId=acct)['Tags'] == [{'Key': 'owner', 'Value': 'shard-1'}]
    org.untag_resource(ResourceId=acct, TagKeys=['owner'])
    assert org.list_tags_for_resource(ResourceId=acct)['Tags'] == []
    assert org.describe_account(AccountId=acct)['Account']['Status'] == 'ACTIVE'

    sts = fake.client('sts')
    ar = sts.assume_role(RoleArn=f'arn:aws:iam::{acct}:role/OrganizationAccountAccessRole',
                         RoleSessionName='awsAccountOperator', DurationSeconds=3600)
    assert ar['AssumedRoleUser']['Arn'] == \
        f'arn:aws:sts::{acct}:assumed-role/OrganizationAccountAccessRole/awsAccountOperator'
    role = ar['Credentials']
    assert role['AccessKeyId'].startswith('ASIA')
    assert fake.client('sts', creds=role).get_caller_identity()['Account'] == acct
    iam = fake.client('iam', creds=role)
    user = 'osdManagedAdmin-abc123'
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName=user)
    assert code_of(e) == 'NoSuchEntity' and status_of(e) == 404
    iam.create_user(UserName=user, Tags=[{'Key': 'clusterAccountName', 'Value': 'osd-creds-mgmt-abc'}])
    iam.attach_user_policy(UserName=user, PolicyArn='arn:aws:iam::aws:policy/AdministratorAccess')
    assert iam.list_access_keys(UserName=user)['AccessKeyMetadata'] == []
    key = iam.create_access_key(UserName=user)['AccessKey']
    ident = fake.client('sts', creds=key).get_caller_identity()
    assert ident['Account'] == acct and ident['Arn'] == f'arn:aws:iam::{acct}:user/{user}'

    roots = org.list_roots()['Roots'][0]['Id']
    base = org.create_organizational_unit(ParentId=roots, Name='base')['OrganizationalUnit']
    ou = org.create_organizational_unit(ParentId=base['Id'], Name='legal-entity-1')['OrganizationalUnit']
    with pytest.raises(ClientError) as e:
        org.create_organizational_unit(ParentId=base['Id'], Name='legal-entity-1')
    assert code_of(e) == 'DuplicateOrganizationalUnitException'
    ous = org.list_organizational_units_for_parent(ParentId=base['Id'])['OrganizationalUnits']
    assert [o['Name'] for o in ous] == ['legal-entity-1']
    org.move_account(AccountId=acct, SourceParentId=roots, DestinationParentId=ou['Id'])
    with pytest.raises(ClientError) as e:       # already moved: not in source parent
        org.move_account(AccountId=acct, SourceParentId=roots, DestinationParentId=base['Id'])
    assert code_of(e) == 'AccountNotFoundException'
    with pytest.raises(ClientError) as e:
        org.move_account(AccountId=acct, SourceParentId=roots, DestinationParentId=ou['Id'])
    assert code_of(e) == 'DuplicateAccountException'
    with pytest.raises(ClientError) as e:
        org.move_account(AccountId=acct, SourceParentId='ou-zzzz-nonexist', DestinationParentId=ou['Id'])
    assert code_of(e) == 'SourceParentNotFoundException'
    assert org.list_parents(ChildId=acct)['Parents'] == [{'Id': ou['Id'], 'Type': 'ORGANIZATIONAL_UNIT'}]
    kids = org.list_children(ParentId=ou['Id'], ChildType='ACCOUNT')['Children']
    assert kids == [{'Id': acct, 'Type': 'ACCOUNT'}]
    assert org.list_children(ParentId=roots, ChildType='ORGANIZATIONAL_UNIT')['Children'][0]['Id'] == base['Id']
    state = fake.control('GET', 'state')
    assert {'Id': ou['Id'], 'Name': 'legal-entity-1', 'parent': base['Id']} in state['organizational_units']
    assert [a['parent'] for a in state['accounts'] if a['Id'] == acct] == [ou['Id']]

    s3 = fake.client('s3', creds=key)
    s3.create_bucket(Bucket='cleanup-bucket-abc')
    s3.put_object(Bucket='cleanup-bucket-abc', Key='k1', Body=b'x')
    assert [b['Name'] for b in s3.list_buckets()['Buckets']] == ['cleanup-bucket-abc']
    keys = [o['Key'] for o in s3.list_objects_v2(Bucket='cleanup-bucket-abc')['Contents']]
    s3.delete_objects(Bucket='cleanup-bucket-abc', Delete={'Objects': [{'Key': k} for k in keys]})
    s3.delete_bucket(Bucket='cleanup-bucket-abc')
    assert s3.list_buckets()['Buckets'] == []

    # deletion path: IAM cleanup then close
    iam.detach_user_policy(UserName=user, PolicyArn='arn:aws:iam::aws:policy/AdministratorAccess')
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName=user)
    assert code_of(e) == 'DeleteConflict'
    iam.delete_access_key(UserName=user, AccessKeyId=key['AccessKeyId'])
    iam.delete_user(UserName=user)
    with pytest.raises(ClientError) as e:
        fake.client('sts', creds=key, config=NO_RETRY).get_caller_identity()
    assert code_of(e) == 'InvalidClientTokenId'
    org.close_account(AccountId=acct)
    assert org.describe_account(AccountId=acct)['Account']['Status'] == 'PENDING_CLOSURE'
    with pytest.raises(ClientError) as e:
        org.close_account(AccountId=acct)
    assert code_of(e) == 'AccountAlreadyClosedException'
    wait_for(lambda: org.describe_account(AccountId=acct)['Account']['Status'] == 'SUSPENDED')


def test_list_accounts_and_statuses_paginate(fake, org, member):
    accounts = []
    for page in org.get_paginator('list_accounts').paginate(PaginationConfig={'PageSize': 1}):
        assert len(page['Accounts']) <= 1
        accounts += page['Accounts']
    ids = [a['Id'] for a in accounts]
    assert fake.account in ids and member['account'] in ids and len(ids) == len(set(ids))
    r = org.list_create_account_status(States=['SUCCEEDED'], MaxResults=1)
    assert len(r['CreateAccountStatuses']) == 1 and r['NextToken']
    allst = []
    for page in org.get_paginator('list_create_account_status').paginate(
            States=['SUCCEEDED'], PaginationConfig={'PageSize': 1}):
        allst += page['CreateAccountStatuses']
    assert all(s['State'] == 'SUCCEEDED' for s in allst) and len(allst) >= 1
    assert org.list_create_account_status(States=['IN_PROGRESS'])['CreateAccountStatuses'] == []
    with pytest.raises(ClientError) as e:
        org.describe_account(AccountId='999999999999')
    assert code_of(e) == 'AccountNotFoundException'
    with pytest.raises(ClientError) as e:
        org.describe_create_account_status(CreateAccountRequestId='car-00000000000000000000000000000000')
    assert code_of(e) == 'CreateAccountStatusNotFoundException'


def test_duplicate_email_and_injected_failure(fake, org, member):
    email = f'dup+{uuid.uuid4().hex[:6]}@example.com'
    assert create_account(org, email, 'dup-1')['State'] == 'SUCCEEDED'
    st = create_account(org, email.upper(), 'dup-2')
    assert st['State'] == 'FAILED' and st['FailureReason'] == 'EMAIL_ALREADY_EXISTS'
    fake.control('POST', 'create-account-failures', {'reason': 'ACCOUNT_LIMIT_EXCEEDED', 'count': 1})
    st = create_account(org, f'inj+{uuid.uuid4().hex[:6]}@example.com', 'inj')
    assert st['State'] == 'FAILED' and st['FailureReason'] == 'ACCOUNT_LIMIT_EXCEEDED'
    assert create_account(org, f'ok+{uuid.uuid4().hex[:6]}@example.com', 'ok')['State'] == 'SUCCEEDED'
    # organization account quota: synchronous ConstraintViolationException
    n = len(fake.control('GET', 'state')['accounts'])
    fake.control('POST', 'timing', {'max_accounts': n})
    try:
        with pytest.raises(ClientError) as e:
            fake.client('organizations', config=NO_RETRY).create_account(Email='over@example.com', AccountName='o')
        assert code_of(e) == 'ConstraintViolationException'
        assert e.value.response['Reason'] == 'ACCOUNT_NUMBER_LIMIT_EXCEEDED'
    finally:
        fake.control('POST', 'timing', {'max_accounts': 1000})
    # member accounts may not call Organizations
    with pytest.raises(ClientError) as e:
        fake.client('organizations', creds=member['user'], config=NO_RETRY).list_accounts()
    assert code_of(e) == 'AccessDeniedException'


def test_create_account_concurrency_cap():
    f = AwsFake('--create-account-seconds', '1.5')
    try:
        org = f.client('organizations')
        results = []

        def go(i):
            results.append(org.create_account(Email=f'cap{i}@example.com', AccountName=f'cap{i}')
                           ['CreateAccountStatus'])
        threads = [threading.Thread(target=go, args=(i,)) for i in range(7)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        states = sorted((r['State'], r.get('FailureReason')) for r in results)
        assert states.count(('IN_PROGRESS', None)) == 5
        assert states.count(('FAILED', 'CONCURRENT_ACCOUNT_MODIFICATION')) == 2
        c = f.control('GET', 'counters')
        assert c['create_account_peak_in_flight'] == 5
        assert c['create_account_attempted_peak'] == 6
        assert c['create_account_rejected_concurrent'] == 2
        assert c['operations']['organizations.CreateAccount'] == 7
        inflight = org.list_create_account_status(States=['IN_PROGRESS'])['CreateAccountStatuses']
        assert len(inflight) == 5
        wait_for(lambda: not org.list_create_account_status(States=['IN_PROGRESS'])['CreateAccountStatuses'])
        # a slot is free again
        assert org.create_account(Email='cap-late@example.com', AccountName='late')['CreateAccountStatus'][
            'State'] == 'IN_PROGRESS'
    finally:
        f.stop()


def test_create_account_tags(fake, org):
    """CreateAccount's Tags land on the new account (the operator tags there,
    not with TagResource), within the model's limits."""
    tags = [{'Key': 'owner', 'Value': 'shard-1'}, {'Key': 'app-code', 'Value': ''}]
    st = create_account(org, f'tagged+{uuid.uuid4().hex[:8]}@example.com', 'tagged-1', Tags=tags)
    assert st['State'] == 'SUCCEEDED', st
    got = org.list_tags_for_resource(ResourceId=st['AccountId'])['Tags']
    assert sorted((t['Key'], t['Value']) for t in got) == [('app-code', ''), ('owner', 'shard-1')]
    bad = [([{'Key': 'k' * 129, 'Value': 'v'}], 'ValidationException'),
           ([{'Key': 'k', 'Value': 'v' * 257}], 'ValidationException'),
           ([{'Key': f'k{i}', 'Value': 'v'} for i in range(51)], 'ConstraintViolationException')]
    for t, code in bad:
        with pytest.raises(ClientError) as e:
            org.create_account(Email=f'bad+{uuid.uuid4().hex[:8]}@example.com', AccountName='bad', Tags=t)
        assert code_of(e) == code, (len(t), e.value.response)


# ----------------------------------------------------------------------------- STS
def test_assume_role_trust_external_id_and_chaining(fake, member):
    acct = member['account']
    iam = fake.client('iam', creds=member['role'])
    mgmt_arn = f'arn:aws:iam::{fake.account}:user/aao-operator'
    trust = {'Version': '2012-10-17', 'Statement': [{
        'Effect': 'Allow', 'Principal': {'AWS': mgmt_arn}, 'Action': 'sts:AssumeRole',
        'Condition': {'StringEquals': {'sts:ExternalId': 'ext-123'}}}]}
    iam.create_role(RoleName='ManagedOpenShift-Support-x', AssumeRolePolicyDocument=json.dumps(trust),
                    MaxSessionDuration=7200)
    sts = fake.client('sts', config=NO_RETRY)
    arn = f'arn:aws:iam::{acct}:role/ManagedOpenShift-Support-x'
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=arn, RoleSessionName='s1')
    assert code_of(e) == 'AccessDenied' and status_of(e) == 403
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=arn, RoleSessionName='s1', ExternalId='wrong')
    assert code_of(e) == 'AccessDenied'
    c = sts.assume_role(RoleArn=arn, RoleSessionName='s1', ExternalId='ext-123', DurationSeconds=7200)
    assert c['Credentials']['Expiration'].timestamp() - time.time() > 7000
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=f'arn:aws:iam::{acct}:role/NoSuchRole', RoleSessionName='s1')
    assert code_of(e) == 'AccessDenied'
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=f'arn:aws:iam::{acct}:role/OrganizationAccountAccessRole',
                        RoleSessionName='s1', DurationSeconds=7200)
    assert code_of(e) == 'ValidationError' and 'MaxSessionDuration' in str(e.value)

    # role chaining: the member's role session assumes a role in its own account
    chain_trust = {'Version': '2012-10-17', 'Statement': [{
        'Effect': 'Allow', 'Principal': {'AWS': f'arn:aws:iam::{acct}:root'}, 'Action': 'sts:AssumeRole'}]}
    iam.create_role(RoleName='chain-target', AssumeRolePolicyDocument=json.dumps(chain_trust),
                    MaxSessionDuration=43200)
    chained = fake.client('sts', creds=member['role'], config=NO_RETRY)
    with pytest.raises(ClientError) as e:
        chained.assume_role(RoleArn=f'arn:aws:iam::{acct}:role/chain-target', RoleSessionName='chain',
                            DurationSeconds=7200)
    assert code_of(e) == 'ValidationError'
    assert 'exceeds the 1 hour session limit for roles assumed by role chaining' in \
        e.value.response['Error']['Message']
    ok = chained.assume_role(RoleArn=f'arn:aws:iam::{acct}:role/chain-target', RoleSessionName='chain',
                             DurationSeconds=3600)
    assert ok['AssumedRoleUser']['Arn'].endswith('assumed-role/chain-target/chain')


def control_status(fake, method, path, doc=None):
    """(HTTP status, decoded body) of a control call, errors included."""
    try:
        return 200, fake.control(method, path, doc)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


# ----------------------------------------------------------------------------- customer-owned accounts
def test_standalone_customer_account(fake, org):
    cust = fake.standalone()
    acct, key = cust['account'], cust['user']
    assert cust['user_name'] == 'osdCcsAdmin'
    ident = fake.client('sts', creds=key).get_caller_identity()
    assert ident['Account'] == acct and ident['Arn'] == f'arn:aws:iam::{acct}:user/osdCcsAdmin'
    iam = fake.client('iam', creds=key)
    assert [p['PolicyArn'] for p in iam.list_attached_user_policies(UserName='osdCcsAdmin')['AttachedPolicies']] \
        == ['arn:aws:iam::aws:policy/AdministratorAccess']
    with pytest.raises(ClientError) as e:
        iam.get_role(RoleName='OrganizationAccountAccessRole')
    assert code_of(e) == 'NoSuchEntity'
    # not in the organization: invisible to the management account, Organizations refuses it
    assert acct not in [a['Id'] for a in org.list_accounts()['Accounts']]
    with pytest.raises(ClientError) as e:
        org.describe_account(AccountId=acct)
    assert code_of(e) == 'AccountNotFoundException'
    corg = fake.client('organizations', creds=key, config=NO_RETRY)
    for call in (corg.describe_organization, corg.list_accounts, corg.list_roots):
        with pytest.raises(ClientError) as e:
            call()
        assert code_of(e) == 'AWSOrganizationsNotInUseException', call
    with pytest.raises(ClientError) as e:
        fake.client('sts', config=NO_RETRY).assume_role(
            RoleArn=f'arn:aws:iam::{acct}:role/OrganizationAccountAccessRole', RoleSessionName='s1')
    assert code_of(e) == 'AccessDenied'
    # its own EC2, IAM, S3 work
    ec2 = fake.client('ec2', region='us-east-2', creds=key)
    assert any(r['RegionName'] == 'us-east-2' for r in ec2.describe_regions()['Regions'])
    iam.create_user(UserName='another')
    s3 = fake.client('s3', creds=key)
    s3.create_bucket(Bucket=f'cust-{acct}')
    assert [b['Name'] for b in s3.list_buckets()['Buckets']] == [f'cust-{acct}']
    st = fake.control('GET', 'state')
    assert {'Id': acct, 'standalone': True} in st['standalone_accounts']
    assert acct not in [a['Id'] for a in st['accounts']]
    assert all(a['standalone'] is False for a in st['accounts'])
    assert sorted(st['iam_users'][acct]) == ['another', 'osdCcsAdmin']
    # a second key for the same account reuses it; a named user is created
    again = fake.standalone(acct, user_name='ccs-2')
    assert fake.client('sts', creds=again['user']).get_caller_identity()['Arn'] == \
        f'arn:aws:iam::{acct}:user/ccs-2'
    assert len(fake.control('GET', 'state')['standalone_accounts']) == len(st['standalone_accounts'])


@pytest.mark.parametrize('bad', ['12345', '12345678901a', '1234567890123', 123456789012, ''])
def test_standalone_account_id_is_validated(fake, bad):
    status, body = control_status(fake, 'POST', 'credentials', {'account_id': bad} if bad != '' else
                                  {'account_id': '12ab'})
    assert status == 400 and '12 digits' in body['error']


def test_role_chaining_into_customer_account_with_external_id(fake):
    mgmt_iam = fake.client('iam')
    op_arn = f'arn:aws:iam::{fake.account}:user/aao-operator'
    jump_trust = {'Version': '2012-10-17', 'Statement': [{
        'Effect': 'Allow', 'Principal': {'AWS': [op_arn]}, 'Action': 'sts:AssumeRole'}]}
    jump = mgmt_iam.create_role(RoleName='jump-role', Path='/jump/',
                                AssumeRolePolicyDocument=json.dumps(jump_trust))['Role']
    assert jump['Arn'] == f'arn:aws:iam::{fake.account}:role/jump/jump-role'
    jcreds = fake.client('sts').assume_role(RoleArn=jump['Arn'], RoleSessionName='jump')['Credentials']
    jump_session = f'arn:aws:sts::{fake.account}:assumed-role/jump-role/jump'

    cust = fake.standalone()
    acct = cust['account']
    ciam = fake.client('iam', creds=cust['user'])
    trust = {'Version': '2012-10-17', 'Statement': [{
        'Effect': 'Allow', 'Principal': {'AWS': jump['Arn']}, 'Action': 'sts:AssumeRole',
        'Condition': {'StringEquals': {'sts:ExternalId': 'cluster-ext-42'}}}]}
    role_arn = ciam.create_role(RoleName='ManagedOpenShift-Support-Role',
                                AssumeRolePolicyDocument=json.dumps(trust))['Role']['Arn']
    jsts = fake.client('sts', creds=jcreds, config=NO_RETRY)
    ok = jsts.assume_role(RoleArn=role_arn, RoleSessionName='support', ExternalId='cluster-ext-42')
    assert ok['AssumedRoleUser']['Arn'] == f'arn:aws:sts::{acct}:assumed-role/ManagedOpenShift-Support-Role/support'
    assert fake.client('sts', creds=ok['Credentials']).get_caller_identity()['Account'] == acct
    want = f'User: {jump_session} is not authorized to perform: sts:AssumeRole on resource: {role_arn}'
    for kw in ({'ExternalId': 'cluster-ext-43'}, {}):
        with pytest.raises(ClientError) as e:
            jsts.assume_role(RoleArn=role_arn, RoleSessionName='support', **kw)
        assert code_of(e) == 'AccessDenied' and status_of(e) == 403, kw
        assert e.value.response['Error']['Message'] == want
    # the operator itself (not the jump role) is not trusted, even with the right external ID
    with pytest.raises(ClientError) as e:
        fake.client('sts', config=NO_RETRY).assume_role(RoleArn=role_arn, RoleSessionName='xx',
                                                         ExternalId='cluster-ext-42')
    assert e.value.response['Error']['Message'] == \
        f'User: {op_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}'


def test_trust_principal_forms(fake):
    cust = fake.standalone()
    ciam = fake.client('iam', creds=cust['user'])
    op_arn = f'arn:aws:iam::{fake.account}:user/aao-operator'
    sts = fake.client('sts', config=NO_RETRY)
    cases = [  # (principal, condition, external id, allowed)
        (fake.account, None, None, True),
        (f'arn:aws:iam::{fake.account}:root', None, None, True),
        (op_arn, None, None, True),
        (f'arn:aws:iam::{fake.account}:user/someone-else', None, None, False),
        (f'arn:aws:iam::{fake.account}:role/jump/jump-role', None, None, False),
        ('123456789012' if fake.account != '123456789012' else '210987654321', None, None, False),
        (op_arn, {'StringLike': {'sts:ExternalId': 'ext-*'}}, 'ext-9', True),
        (op_arn, {'StringLike': {'sts:ExternalId': 'ext-*'}}, 'other', False),
        (op_arn, {'StringEquals': {'sts:ExternalId': ['a1', 'b2']}}, 'b2', True),
    ]
    for n, (principal, cond, ext, allowed) in enumerate(cases):
        stmt = {'Effect': 'Allow', 'Principal': {'AWS': principal}, 'Action': 'sts:AssumeRole'}
        if cond:
            stmt['Condition'] = cond
        arn = ciam.create_role(RoleName=f'forms-{n}', AssumeRolePolicyDocument=json.dumps(
            {'Version': '2012-10-17', 'Statement': [stmt]}))['Role']['Arn']
        kw = {'ExternalId': ext} if ext else {}
        if allowed:
            assert sts.assume_role(RoleArn=arn, RoleSessionName='ff', **kw)['AssumedRoleUser'], cases[n]
        else:
            with pytest.raises(ClientError) as e:
                sts.assume_role(RoleArn=arn, RoleSessionName='ff', **kw)
            assert code_of(e) == 'AccessDenied', cases[n]


def test_web_identity_and_federation_token(fake, member):
    acct = member['account']
    iam = fake.client('iam', creds=member['role'])
    trust = {'Version': '2012-10-17', 'Statement': [{
        'Effect': 'Allow', 'Principal': {'Federated': f'arn:aws:iam::{acct}:oidc-provider/oidc.fake.local'},
        'Action': 'sts:AssumeRoleWithWebIdentity'}]}
    iam.create_role(RoleName='irsa-role', AssumeRolePolicyDocument=json.dumps(trust))
    fake.control('POST', 'web-identity', {'token': 'eyJ.token.sig', 'subject': 'system:serviceaccount:aao:op'})
    sts = fake.client('sts', config=NO_RETRY)
    r = sts.assume_role_with_web_identity(RoleArn=f'arn:aws:iam::{acct}:role/irsa-role',
                                          RoleSessionName='op', WebIdentityToken='eyJ.token.sig')
    assert r['SubjectFromWebIdentityToken'] == 'system:serviceaccount:aao:op'
    assert fake.client('sts', creds=r['Credentials']).get_caller_identity()['Account'] == acct
    with pytest.raises(ClientError) as e:
        sts.assume_role_with_web_identity(RoleArn=f'arn:aws:iam::{acct}:role/irsa-role',
                                          RoleSessionName='op', WebIdentityToken='bad-token')
    assert code_of(e) == 'InvalidIdentityToken'
    fed = sts.get_federation_token(Name='console-user', DurationSeconds=3600)
    assert fed['FederatedUser']['Arn'] == f'arn:aws:sts::{fake.account}:federated-user/console-user'
    assert fake.client('sts', creds=fed['Credentials']).get_caller_identity()['Account'] == fake.account


# ----------------------------------------------------------------------------- IAM
def test_iam_roles_policies_and_errors(fake, member):
    iam = fake.client('iam', creds=member['role'], config=NO_RETRY)
    trust = json.dumps({'Version': '2012-10-17', 'Statement': [{
        'Effect': 'Allow', 'Principal': {'AWS': 'arn:aws:iam::123456789012:root'}, 'Action': 'sts:AssumeRole'}]})
    iam.create_role(RoleName='managed-sts-role', AssumeRolePolicyDocument=trust, Description='Managed by AAO',
                    Tags=[{'Key': 'clusterAccountName', 'Value': 'a'}])
    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName='managed-sts-role', AssumeRolePolicyDocument=trust)
    assert code_of(e) == 'EntityAlreadyExists' and status_of(e) == 409
    role = iam.get_role(RoleName='managed-sts-role')['Role']
    # botocore decodes the URL-encoded policy documents into dicts
    assert role['AssumeRolePolicyDocument']['Statement'][0]['Action'] == 'sts:AssumeRole'
    assert role['Tags'] == [{'Key': 'clusterAccountName', 'Value': 'a'}]
    iam.tag_role(RoleName='managed-sts-role', Tags=[{'Key': 'x', 'Value': 'y'}])
    assert len(iam.list_role_tags(RoleName='managed-sts-role')['Tags']) == 2
    doc = json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': 's3:*',
                                                               'Resource': '*'}]})
    iam.put_role_policy(RoleName='managed-sts-role', PolicyName='AAO-CustomPolicy', PolicyDocument=doc)
    assert iam.list_role_policies(RoleName='managed-sts-role')['PolicyNames'] == ['AAO-CustomPolicy']
    got = iam.get_role_policy(RoleName='managed-sts-role', PolicyName='AAO-CustomPolicy')
    assert got['PolicyDocument'] == json.loads(doc)
    iam.attach_role_policy(RoleName='managed-sts-role', PolicyArn='arn:aws:iam::aws:policy/AdministratorAccess')
    att = iam.list_attached_role_policies(RoleName='managed-sts-role')['AttachedPolicies']
    assert att == [{'PolicyName': 'AdministratorAccess', 'PolicyArn': 'arn:aws:iam::aws:policy/AdministratorAccess'}]
    with pytest.raises(ClientError) as e:
        iam.attach_role_policy(RoleName='managed-sts-role', PolicyArn='arn:aws:iam::aws:policy/NoSuchPolicy')
    assert code_of(e) == 'NoSuchEntity'
    with pytest.raises(ClientError) as e:
        iam.delete_role(RoleName='managed-sts-role')
    assert code_of(e) == 'DeleteConflict'
    iam.detach_role_policy(RoleName='managed-sts-role', PolicyArn='arn:aws:iam::aws:policy/AdministratorAccess')
    iam.delete_role_policy(RoleName='managed-sts-role', PolicyName='AAO-CustomPolicy')
    iam.delete_role(RoleName='managed-sts-role')
    with pytest.raises(ClientError) as e:
        iam.get_role(RoleName='managed-sts-role')
    assert code_of(e) == 'NoSuchEntity'
    assert 'OrganizationAccountAccessRole' in [r['RoleName'] for r in iam.list_roles()['Roles']]

    # customer managed policies with versions
    with pytest.raises(ClientError) as e:
        iam.create_policy(PolicyName='bad', PolicyDocument='{"Version": "2012-10-17", "Statement": [')
    assert code_of(e) == 'MalformedPolicyDocument'
    pol = iam.create_policy(PolicyName='custom-abc', PolicyDocument=doc)['Policy']
    arn = pol['Arn']
    assert arn == f'arn:aws:iam::{member["account"]}:policy/custom-abc' and pol['DefaultVersionId'] == 'v1'
    assert iam.get_policy(PolicyArn=arn)['Policy']['PolicyName'] == 'custom-abc'
    v2 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc, SetAsDefault=True)['PolicyVersion']
    assert v2['VersionId'] == 'v2' and v2['IsDefaultVersion']
    vers = iam.list_policy_versions(PolicyArn=arn)['Versions']
    assert sorted(v['VersionId'] for v in vers) == ['v1', 'v2']
    pv = iam.get_policy_version(PolicyArn=arn, VersionId='v2')['PolicyVersion']
    assert pv['Document'] == json.loads(doc)
    with pytest.raises(ClientError) as e:
        iam.delete_policy(PolicyArn=arn)
    assert code_of(e) == 'DeleteConflict'
    iam.delete_policy_version(PolicyArn=arn, VersionId='v1')
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(ClientError) as e:
        iam.get_policy(PolicyArn=arn)
    assert code_of(e) == 'NoSuchEntity'
    names = []
    for page in iam.get_paginator('list_policies').paginate(Scope='All', PaginationConfig={'PageSize': 5}):
        names += [p['PolicyName'] for p in page['Policies']]
    assert 'AdministratorAccess' in names and 'ReadOnlyAccess' in names
    # users: tags, list, get caller user
    iam.create_user(UserName='tagged-u', Tags=[{'Key': 'clusterNamespace', 'Value': 'aao'}])
    iam.tag_user(UserName='tagged-u', Tags=[{'Key': 'k', 'Value': 'v'}])
    iam.untag_user(UserName='tagged-u', TagKeys=['k'])
    assert iam.list_user_tags(UserName='tagged-u')['Tags'] == [{'Key': 'clusterNamespace', 'Value': 'aao'}]
    assert 'tagged-u' in [u['UserName'] for u in iam.list_users()['Users']]
    assert iam.list_attached_user_policies(UserName='osdManagedAdmin-m1')['AttachedPolicies'][0][
        'PolicyName'] == 'AdministratorAccess'
    me = fake.client('iam', creds=member['user']).get_user()['User']
    assert me['UserName'] == 'osdManagedAdmin-m1'


# ----------------------------------------------------------------------------- Support
def test_support_case_resolves(fake, member):
    sup = fake.client('support', creds=member['role'], config=NO_RETRY)
    cid = sup.create_case(subject=f'Add account {member["account"]} to Enterprise Support',
                          communicationBody='Please enable Enterprise Support', serviceCode='customer-account',
                          categoryCode='other-account-issues', severityCode='high', issueType='customer-service',
                          language='en')['caseId']
    c = sup.describe_cases(caseIdList=[cid], includeResolvedCases=True)['cases'][0]
    assert c['status'] == 'opened' and c['subject'].startswith('Add account')
    wait_for(lambda: sup.describe_cases(caseIdList=[cid], includeResolvedCases=True)['cases'][0]['status']
             == 'resolved')
    with pytest.raises(ClientError) as e:
        sup.describe_cases(caseIdList=['case-000000000000-2020-deadbeef'], includeResolvedCases=True)
    assert code_of(e) == 'CaseIdNotFound'


# ----------------------------------------------------------------------------- EC2
def test_ec2_region_initialization_and_cleanup(fake, member):
    ec2 = fake.client('ec2', region='us-east-2', creds=member['user'], config=NO_RETRY)
    regions = [r['RegionName'] for r in ec2.describe_regions()['Regions']]
    assert len(regions) == 17 and 'us-east-1' in regions and 'af-south-1' not in regions
    with pytest.raises(ClientError) as e:
        ec2.describe_instances(DryRun=True)
    assert code_of(e) == 'DryRunOperation' and status_of(e) == 412
    itypes = ec2.describe_instance_types(InstanceTypes=['t3.micro'])['InstanceTypes']
    assert itypes[0]['InstanceType'] == 't3.micro'
    assert ec2.describe_instance_types(InstanceTypes=['t2.micro'])['InstanceTypes'][0]['VCpuInfo']['DefaultVCpus'] == 1
    imgs = ec2.describe_images(Owners=['309956199498'], Filters=[
        {'Name': 'architecture', 'Values': ['x86_64']}, {'Name': 'state', 'Values': ['available']}],
        ExecutableUsers=['all'])['Images']
    names = [i['Name'] for i in imgs]
    assert any('SAP' in n for n in names) and any('BETA' in n for n in names)
    ami = next(i for i in imgs if 'SAP' not in i['Name'] and 'BETA' not in i['Name'])
    tags = [{'Key': k, 'Value': 'v'} for k in ('clusterAccountName', 'clusterNamespace', 'clusterClaimLink',
                                               'clusterClaimLinkNamespace')] + [{'Key': 'Name',
                                                                                 'Value': 'red-hat-region-init'}]
    kw = dict(ImageId=ami['ImageId'], InstanceType='t3.micro', MinCount=1, MaxCount=1,
              TagSpecifications=[{'ResourceType': 'instance', 'Tags': tags},
                                 {'ResourceType': 'volume', 'Tags': tags}],
              BlockDeviceMappings=[{'DeviceName': '/dev/sda1', 'Ebs': {
                  'VolumeSize': 10, 'VolumeType': 'gp2', 'Encrypted': True, 'DeleteOnTermination': True}}])
    with pytest.raises(ClientError) as e:
        ec2.run_instances(DryRun=True, **kw)
    assert code_of(e) == 'DryRunOperation'
    inst = ec2.run_instances(**kw)['Instances'][0]
    iid = inst['InstanceId']
    assert inst['State'] == {'Code': 0, 'Name': 'pending'}
    found = ec2.describe_instances(Filters=[{'Name': 'tag-key', 'Values': ['clusterAccountName']},
                                            {'Name': 'instance-state-name', 'Values': ['pending', 'running']},
                                            {'Name': 'instance-type', 'Values': ['t3.micro']}])
    assert [i['InstanceId'] for r in found['Reservations'] for i in r['Instances']] == [iid]
    none = ec2.describe_instances(Filters=[{'Name': 'instance-state-name', 'Values': ['stopped']}])
    assert none['Reservations'] == []

    def running():
        st = ec2.describe_instance_status(InstanceIds=[iid], IncludeAllInstances=True)['InstanceStatuses']
        return st and st[0]['InstanceState']['Code'] == 16
    wait_for(running)
    vols = ec2.describe_volumes()['Volumes']
    assert len(vols) == 1 and vols[0]['Encrypted'] and vols[0]['State'] == 'in-use'
    term = ec2.terminate_instances(InstanceIds=[iid])['TerminatingInstances'][0]
    assert term['CurrentState']['Name'] == 'shutting-down' and term['PreviousState']['Code'] == 16
    wait_for(lambda: ec2.describe_instances(InstanceIds=[iid])['Reservations'][0]['Instances'][0]['State'][
        'Name'] == 'terminated')
    assert ec2.describe_volumes()['Volumes'] == []
    with pytest.raises(ClientError) as e:
        ec2.describe_instances(InstanceIds=['i-0123456789abcdef0'])
    assert code_of(e) == 'InvalidInstanceID.NotFound'

    # a fresh account may not be subscribed to EC2 yet
    fake.control('POST', 'timing', {'ec2_optin_seconds': 3600})
    try:
        with pytest.raises(ClientError) as e:
            ec2.run_instances(**kw)
        assert code_of(e) == 'OptInRequired' and status_of(e) == 401
    finally:
        fake.control('POST', 'timing', {'ec2_optin_seconds': 0})

    # cleanup resources (reuse path)
    vol = ec2.create_volume(AvailabilityZone='us-east-2a', Size=1)
    snap = ec2.create_snapshot(VolumeId=vol['VolumeId'])
    svc = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=['arn:aws:elasticloadbalancing:us-east-2:1:loadbalancer/net/x/y'])
    snaps = ec2.describe_snapshots(OwnerIds=['self'])['Snapshots']
    assert [s['SnapshotId'] for s in snaps] == [snap['SnapshotId']]
    ec2.delete_snapshot(SnapshotId=snap['SnapshotId'])
    ec2.delete_volume(VolumeId=vol['VolumeId'])
    with pytest.raises(ClientError) as e:
        ec2.delete_volume(VolumeId=vol['VolumeId'])
    assert code_of(e) == 'InvalidVolume.NotFound'
    cfgs = ec2.describe_vpc_endpoint_service_configurations()['ServiceConfigurations']
    assert [c['ServiceId'] for c in cfgs] == [svc['ServiceConfiguration']['ServiceId']]
    r = ec2.delete_vpc_endpoint_service_configurations(ServiceIds=[cfgs[0]['ServiceId'], 'vpce-svc-00000000000000000'])
    assert [u['ResourceId'] for u in r['Unsuccessful']] == ['vpce-svc-00000000000000000']
    assert ec2.describe_vpc_endpoint_service_configurations()['ServiceConfigurations'] == []
    assert ec2.describe_snapshots(OwnerIds=['self'])['Snapshots'] == []


def test_seed_accounts_joins_the_organization(fake, org):
    ids = fake.control('POST', 'seed-accounts', {'count': 3, 'tags': {'owner': 'e2e'}})['account_ids']
    assert len(set(ids)) == 3
    root = org.list_roots()['Roots'][0]['Id']
    for acct in ids:
        assert org.describe_account(AccountId=acct)['Account']['Status'] == 'ACTIVE'
        assert org.list_parents(ChildId=acct)['Parents'][0]['Id'] == root
        assert org.list_tags_for_resource(ResourceId=acct)['Tags'] == [{'Key': 'owner', 'Value': 'e2e'}]
    status, body = control_status(fake, 'POST', 'seed-accounts', {'count': 0})
    assert status == 400, body


# ----------------------------------------------------------------------------- Service Quotas
def test_amis_owned_by_an_account_and_snapshots_in_use(fake):
    cust = fake.standalone()
    acct = cust['account']
    seeded = fake.control('POST', 'seed-image', {'account_id': acct, 'region': 'eu-west-1'})
    ami, snap = seeded['image_id'], seeded['snapshot_id']
    assert ami.startswith('ami-') and snap.startswith('snap-')
    ec2 = fake.client('ec2', region='eu-west-1', creds=cust['user'], config=NO_RETRY)
    for owners in (['self'], [acct]):
        imgs = ec2.describe_images(Owners=owners)['Images']
        assert [(i['ImageId'], i['OwnerId']) for i in imgs] == [(ami, acct)], owners
        assert imgs[0]['BlockDeviceMappings'][0]['Ebs']['SnapshotId'] == snap
    everything = ec2.describe_images()['Images']
    assert ami in [i['ImageId'] for i in everything] and len(everything) > 1   # public catalogue too
    assert ec2.describe_images(Owners=['309956199498'])['Images'] and \
        ami not in [i['ImageId'] for i in ec2.describe_images(Owners=['309956199498'])['Images']]
    # other accounts do not see it as theirs
    assert fake.client('ec2', region='eu-west-1').describe_images(Owners=['self'])['Images'] == []
    with pytest.raises(ClientError) as e:
        ec2.delete_snapshot(SnapshotId=snap)
    assert code_of(e) == 'InvalidSnapshot.InUse'
    assert e.value.response['Error']['Message'] == f'The snapshot {snap} is currently in use by {ami}'
    # without OwnerIds, public snapshots of another owner come back too: a client must check OwnerId
    snaps = ec2.describe_snapshots()['Snapshots']
    owners = {x['SnapshotId']: x['OwnerId'] for x in snaps}
    assert owners[snap] == acct and '309956199498' in owners.values()
    public = [k for k, v in owners.items() if v == '309956199498'][0]
    assert [x['SnapshotId'] for x in ec2.describe_snapshots(OwnerIds=['self'])['Snapshots']] == [snap]
    with pytest.raises(ClientError) as e:
        ec2.delete_snapshot(SnapshotId=public)
    assert code_of(e) == 'UnauthorizedOperation'
    ec2.deregister_image(ImageId=ami)
    assert ec2.describe_images(Owners=['self'])['Images'] == []
    with pytest.raises(ClientError) as e:
        ec2.deregister_image(ImageId=ami)
    assert code_of(e) == 'InvalidAMIID.NotFound'
    ec2.delete_snapshot(SnapshotId=snap)
    assert ec2.describe_snapshots(OwnerIds=['self'])['Snapshots'] == []
    status, body = control_status(fake, 'POST', 'seed-image', {'account_id': '000000000001', 'region': 'eu-west-1'})
    assert status == 404


def test_create_and_register_image(fake, member):
    ec2 = fake.client('ec2', region='us-west-2', creds=member['user'], config=NO_RETRY)
    public = ec2.describe_images(Owners=['309956199498'])['Images'][0]['ImageId']
    iid = ec2.run_instances(ImageId=public, InstanceType='t2.micro', MinCount=1, MaxCount=1)['Instances'][0][
        'InstanceId']
    wait_for(lambda: ec2.describe_instances(InstanceIds=[iid])['Reservations'][0]['Instances'][0]['State'][
        'Name'] == 'running')
    ami = ec2.create_image(InstanceId=iid, Name='from-instance')['ImageId']
    img = ec2.describe_images(ImageIds=[ami])['Images'][0]
    assert img['OwnerId'] == member['account'] and img['Name'] == 'from-instance' and img['State'] == 'available'
    snap = img['BlockDeviceMappings'][0]['Ebs']['SnapshotId']
    with pytest.raises(ClientError) as e:
        ec2.delete_snapshot(SnapshotId=snap)
    assert code_of(e) == 'InvalidSnapshot.InUse'
    with pytest.raises(ClientError) as e:
        ec2.create_image(InstanceId=iid, Name='from-instance')
    assert code_of(e) == 'InvalidAMIName.Duplicate'
    # an AMI registered from a snapshot, and an instance launched from the account's own AMI
    vol = ec2.create_volume(AvailabilityZone='us-west-2a', Size=8)['VolumeId']
    snap2 = ec2.create_snapshot(VolumeId=vol)['SnapshotId']
    ami2 = ec2.register_image(Name='registered', RootDeviceName='/dev/sda1', VirtualizationType='hvm',
                              Architecture='x86_64', BlockDeviceMappings=[
                                  {'DeviceName': '/dev/sda1', 'Ebs': {'SnapshotId': snap2}}])['ImageId']
    assert {i['ImageId'] for i in ec2.describe_images(Owners=['self'])['Images']} == {ami, ami2}
    with pytest.raises(ClientError) as e:
        ec2.register_image(Name='bad', RootDeviceName='/dev/sda1', BlockDeviceMappings=[
            {'DeviceName': '/dev/sda1', 'Ebs': {'SnapshotId': 'snap-0123456789abcdef0'}}])
    assert code_of(e) == 'InvalidSnapshot.NotFound'
    own = ec2.run_instances(ImageId=ami2, InstanceType='t2.micro', MinCount=1, MaxCount=1)['Instances'][0]
    assert own['ImageId'] == ami2
    ec2.terminate_instances(InstanceIds=[iid, own['InstanceId']])
    for a, s in ((ami, snap), (ami2, snap2)):
        ec2.deregister_image(ImageId=a)
        ec2.delete_snapshot(SnapshotId=s)
    ec2.delete_volume(VolumeId=vol)


def _public_ami(ec2):
    return [i for i in ec2.describe_images(Owners=['309956199498'])['Images']
            if i['Architecture'] == 'x86_64'][0]['ImageId']


def test_call_log_detail_and_instance_kms_key(fake, member):
    acct = member['account']
    iam = fake.client('iam', creds=member['role'])
    trust = {'Version': '2012-10-17', 'Statement': [{
        'Effect': 'Allow', 'Principal': {'AWS': fake.account}, 'Action': 'sts:AssumeRole',
        'Condition': {'StringEquals': {'sts:ExternalId': 'very-secret-ext-77'}}}]}
    arn = iam.create_role(RoleName='log-detail', AssumeRolePolicyDocument=json.dumps(trust))['Role']['Arn']
    fake.control('POST', 'reset-log')
    sts = fake.client('sts', config=NO_RETRY)
    sts.assume_role(RoleArn=arn, RoleSessionName='detail-ok', ExternalId='very-secret-ext-77')
    with pytest.raises(ClientError):
        sts.assume_role(RoleArn=arn, RoleSessionName='detail-bad', ExternalId='very-secret-ext-78')
    ec2 = fake.client('ec2', region='us-east-2', creds=member['user'])
    ami = _public_ami(ec2)
    kms = f'arn:aws:kms:us-east-2:{acct}:key/1234abcd-12ab-34cd-56ef-1234567890ab'
    with_kms = ec2.run_instances(ImageId=ami, InstanceType='t2.micro', MinCount=1, MaxCount=1, BlockDeviceMappings=[
        {'DeviceName': '/dev/sda1', 'Ebs': {'Encrypted': True, 'KmsKeyId': kms}}])['Instances'][0]['InstanceId']
    plain = ec2.run_instances(ImageId=ami, InstanceType='t2.micro', MinCount=1, MaxCount=1)['Instances'][0][
        'InstanceId']
    calls = fake.control('GET', 'calls')['calls']
    assert 'very-secret-ext' not in json.dumps(calls)
    ar = [c for c in calls if c['operation'] == 'AssumeRole']
    assert [(c['role_arn'], c['role_session_name'], c['error_code']) for c in ar] == \
        [(arn, 'detail-ok', None), (arn, 'detail-bad', 'AccessDenied')]
    assert ar[0]['caller_arn'] == f'arn:aws:iam::{fake.account}:user/aao-operator'
    ri = [c for c in calls if c['operation'] == 'RunInstances']
    assert [(c['kms_key_id'], c['instance_type']) for c in ri] == [(kms, 't2.micro'), (None, 't2.micro')]
    insts = fake.control('GET', 'state')['instances'][acct]['us-east-2']
    assert insts[with_kms]['kms_key_id'] == kms and insts[plain]['kms_key_id'] is None
    assert insts[with_kms]['instance_type'] == 't2.micro' and insts[with_kms]['image_id'] == ami
    assert insts[plain]['state'] in ('pending', 'running')
    ec2.terminate_instances(InstanceIds=[with_kms, plain])


def test_t3_micro_not_offered_in_some_regions(fake, member):
    fake.control('POST', 'timing', {'no_t3_regions': ['ap-south-1']})
    try:
        ec2 = fake.client('ec2', region='ap-south-1', creds=member['user'], config=NO_RETRY)
        with pytest.raises(ClientError) as e:
            ec2.describe_instance_types(InstanceTypes=['t3.micro'])
        assert code_of(e) == 'InvalidInstanceType' and '[t3.micro]' in str(e.value)
        assert 't3.micro' not in [t['InstanceType'] for t in ec2.describe_instance_types()['InstanceTypes']]
        assert ec2.describe_instance_types(InstanceTypes=['t2.micro'])['InstanceTypes'][0]['InstanceType'] == \
            't2.micro'
        ami = _public_ami(ec2)
        with pytest.raises(ClientError) as e:
            ec2.run_instances(ImageId=ami, InstanceType='t3.micro', MinCount=1, MaxCount=1)
        assert code_of(e) == 'Unsupported' and 'ap-south-1a' in e.value.response['Error']['Message']
        ok = ec2.run_instances(ImageId=ami, InstanceType='t2.micro', MinCount=1, MaxCount=1)['Instances'][0]
        ec2.terminate_instances(InstanceIds=[ok['InstanceId']])
        other = fake.client('ec2', region='us-east-1', creds=member['user'])
        assert other.describe_instance_types(InstanceTypes=['t3.micro'])['InstanceTypes']
        status, _ = control_status(fake, 'POST', 'timing', {'no_t3_regions': 'ap-south-1'})
        assert status == 400
    finally:
        fake.control('POST', 'timing', {'no_t3_regions': []})
    assert fake.client('ec2', region='ap-south-1', creds=member['user']).describe_instance_types(
        InstanceTypes=['t3.micro'])['InstanceTypes']


def test_service_quotas(fake, member):
    sq = fake.client('service-quotas', region='eu-west-1', creds=member['role'], config=NO_RETRY)
    q = sq.get_service_quota(ServiceCode='ec2', QuotaCode='L-1216C47A')['Quota']
    assert q['Value'] == 5.0 and q['QuotaCode'] == 'L-1216C47A'
    with pytest.raises(ClientError) as e:
        sq.get_service_quota(ServiceCode='ec2', QuotaCode='L-NOPE0000')
    assert code_of(e) == 'NoSuchResourceException'
    req = sq.request_service_quota_increase(ServiceCode='ec2', QuotaCode='L-1216C47A',
                                            DesiredValue=64.0)['RequestedQuota']
    assert req['Status'] == 'PENDING'
    with pytest.raises(ClientError) as e:
        sq.request_service_quota_increase(ServiceCode='ec2', QuotaCode='L-1216C47A', DesiredValue=64.0)
    assert code_of(e) == 'ResourceAlreadyExistsException'
    hist = sq.list_requested_service_quota_change_history_by_quota(ServiceCode='ec2', QuotaCode='L-1216C47A')
    assert [h['Id'] for h in hist['RequestedQuotas']] == [req['Id']]
    wait_for(lambda: sq.list_requested_service_quota_change_history_by_quota(
        ServiceCode='ec2', QuotaCode='L-1216C47A')['RequestedQuotas'][0]['Status'] == 'APPROVED')
    assert sq.get_service_quota(ServiceCode='ec2', QuotaCode='L-1216C47A')['Quota']['Value'] == 64.0
    fake.control('POST', 'quota-policy', {'overrides': {'vpc/L-F678F1CE': 'deny'}})
    sq.request_service_quota_increase(ServiceCode='vpc', QuotaCode='L-F678F1CE', DesiredValue=10.0)
    wait_for(lambda: sq.list_requested_service_quota_change_history_by_quota(
        ServiceCode='vpc', QuotaCode='L-F678F1CE', Status='DENIED')['RequestedQuotas'])
    fake.control('POST', 'quota-policy', {'overrides': {}})


# ----------------------------------------------------------------------------- Account API
def test_account_region_opt_in(fake, member):
    creds = member['user']

    def call(path, doc, c=creds):
        st, h, b = fake.raw('POST', path, 'account', body=json.dumps(doc).encode(),
                            headers={'Content-Type': 'application/json'}, creds=c)
        return st, h, json.loads(b) if b else {}
    st, h, b = call('/getRegionOptStatus', {'RegionName': 'af-south-1'})
    assert st == 200 and b == {'RegionName': 'af-south-1', 'RegionOptStatus': 'DISABLED'}
    assert h.get('x-amzn-requestid')
    assert call('/getRegionOptStatus', {'RegionName': 'us-east-1'})[2]['RegionOptStatus'] == 'ENABLED_BY_DEFAULT'
    st, _, _ = call('/enableRegion', {'RegionName': 'af-south-1'})
    assert st == 200
    assert call('/getRegionOptStatus', {'RegionName': 'af-south-1'})[2]['RegionOptStatus'] == 'ENABLING'
    st, h, b = call('/enableRegion', {'RegionName': 'af-south-1'})
    assert st == 409 and h['x-amzn-errortype'].startswith('ConflictException')
    wait_for(lambda: call('/getRegionOptStatus', {'RegionName': 'af-south-1'})[2]['RegionOptStatus'] == 'ENABLED')
    ec2 = fake.client('ec2', creds=creds)
    assert 'af-south-1' in [r['RegionName'] for r in ec2.describe_regions()['Regions']]
    st, h, b = call('/getRegionOptStatus', {})
    assert st == 400 and h['x-amzn-errortype'].startswith('ValidationException')
    st, h, b = call('/getRegionOptStatus', {'RegionName': 'mars-north-1'})
    assert st == 400 and h['x-amzn-errortype'].startswith('ValidationException')
    # management account acting on a member via AccountId
    mg = {'AccessKeyId': fake.access_key, 'SecretAccessKey': fake.secret_key}
    st, _, b = call('/getRegionOptStatus', {'RegionName': 'me-south-1', 'AccountId': member['account']}, mg)
    assert st == 200 and b['RegionOptStatus'] == 'DISABLED'
    # EC2 in a disabled opt-in region fails authentication
    with pytest.raises(ClientError) as e:
        fake.client('ec2', region='me-south-1', creds=creds, config=NO_RETRY).describe_instances()
    assert code_of(e) == 'AuthFailure'
    # a region told to stick stays ENABLING while another finishes
    prev = fake.control('POST', 'timing', {})['region_enable_seconds']
    fake.control('POST', 'timing', {'stuck_regions': ['eu-south-1'], 'region_enable_seconds': 0.2})
    try:
        assert call('/enableRegion', {'RegionName': 'eu-south-1'})[0] == 200
        assert call('/enableRegion', {'RegionName': 'il-central-1'})[0] == 200
        wait_for(lambda: call('/getRegionOptStatus', {'RegionName': 'il-central-1'})[2]['RegionOptStatus']
                 == 'ENABLED')
        time.sleep(0.5)  # well past region_enable_seconds: a real wait, not a synchronisation
        assert call('/getRegionOptStatus', {'RegionName': 'eu-south-1'})[2]['RegionOptStatus'] == 'ENABLING'
    finally:
        fake.control('POST', 'timing', {'stuck_regions': [], 'region_enable_seconds': prev})


# ----------------------------------------------------------------------------- S3
def test_s3_objects_pagination_and_errors(fake, member):
    s3 = fake.client('s3', creds=member['user'], config=NO_RETRY)
    s3.create_bucket(Bucket='page-bucket')
    for i in range(7):
        s3.put_object(Bucket='page-bucket', Key=f'dir/obj-{i}', Body=b'data%d' % i)
    assert s3.get_object(Bucket='page-bucket', Key='dir/obj-3')['Body'].read() == b'data3'
    keys, tokens = [], 0
    for page in s3.get_paginator('list_objects_v2').paginate(Bucket='page-bucket',
                                                              PaginationConfig={'PageSize': 3}):
        keys += [o['Key'] for o in page.get('Contents', [])]
        tokens += 1
    assert keys == [f'dir/obj-{i}' for i in range(7)] and tokens == 3
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket='page-bucket')
    assert code_of(e) == 'BucketNotEmpty' and status_of(e) == 409
    r = s3.delete_objects(Bucket='page-bucket', Delete={'Objects': [{'Key': k} for k in keys]})
    assert len(r['Deleted']) == 7
    s3.delete_bucket(Bucket='page-bucket')
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket='page-bucket')
    assert code_of(e) == 'NoSuchBucket' and status_of(e) == 404
    # virtual-hosted-style addressing (bucket in the Host header)
    s3.create_bucket(Bucket='vhost-bucket')
    s3.put_object(Bucket='vhost-bucket', Key='v', Body=b'1')
    st, h, b = fake.raw('GET', '/', 's3', creds=member['user'], query='list-type=2',
                        headers={'Host': f'vhost-bucket.s3.localhost:{fake.port}'})
    assert st == 200 and b'<Key>v</Key>' in b and b'<Name>vhost-bucket</Name>' in b
    s3.delete_object(Bucket='vhost-bucket', Key='v')
    s3.delete_bucket(Bucket='vhost-bucket')
    # presigned URL (query-string SigV4) works
    s3.create_bucket(Bucket='presign-bucket')
    s3.put_object(Bucket='presign-bucket', Key='k', Body=b'presigned!')
    s3v4 = fake.client('s3', creds=member['user'], config=Config(signature_version='s3v4'))
    url = s3v4.generate_presigned_url('get_object', Params={'Bucket': 'presign-bucket', 'Key': 'k'}, ExpiresIn=60)
    with urllib.request.urlopen(url) as resp:
        assert resp.read() == b'presigned!'
    s3.delete_object(Bucket='presign-bucket', Key='k')
    s3.delete_bucket(Bucket='presign-bucket')


# ----------------------------------------------------------------------------- Route 53
def test_route53_cleanup_flow(fake, member):
    r53 = fake.client('route53', creds=member['user'], config=NO_RETRY)
    z = r53.create_hosted_zone(Name='cluster.example.org', CallerReference=str(uuid.uuid4()))
    zid = z['HostedZone']['Id']
    assert zid.startswith('/hostedzone/') and len(z['DelegationSet']['NameServers']) == 4
    rec = {'Name': 'api.cluster.example.org', 'Type': 'A', 'TTL': 60, 'ResourceRecords': [{'Value': '10.0.0.1'}]}
    r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={'Changes': [
        {'Action': 'CREATE', 'ResourceRecordSet': rec}]})
    with pytest.raises(ClientError) as e:
        r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={'Changes': [
            {'Action': 'CREATE', 'ResourceRecordSet': rec}]})
    assert code_of(e) == 'InvalidChangeBatch'
    zones = r53.list_hosted_zones()['HostedZones']
    assert [x['Id'] for x in zones] == [zid]
    with pytest.raises(ClientError) as e:
        r53.delete_hosted_zone(Id=zid)
    assert code_of(e) == 'HostedZoneNotEmpty'
    rrs = r53.list_resource_record_sets(HostedZoneId=zid)['ResourceRecordSets']
    assert sorted(r['Type'] for r in rrs) == ['A', 'NS', 'SOA']
    changes = [{'Action': 'DELETE', 'ResourceRecordSet': r} for r in rrs if r['Type'] not in ('NS', 'SOA')]
    r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={'Changes': changes})
    r53.delete_hosted_zone(Id=zid)
    with pytest.raises(ClientError) as e:
        r53.list_resource_record_sets(HostedZoneId=zid)
    assert code_of(e) == 'NoSuchHostedZone' and status_of(e) == 404


# ----------------------------------------------------------------------------- auth
WRONG = {'AccessKeyId': None, 'SecretAccessKey': 'definitely-not-the-secret'}

AUTH_CASES = [
    # service, call, bad-signature code, status, unknown-key code, status
    ('organizations', lambda c: c.list_roots(), 'InvalidSignatureException', 400, 'UnrecognizedClientException', 400),
    ('support', lambda c: c.describe_cases(), 'InvalidSignatureException', 400, 'UnrecognizedClientException', 400),
    ('service-quotas', lambda c: c.get_service_quota(ServiceCode='ec2', QuotaCode='L-1216C47A'),
     'InvalidSignatureException', 400, 'UnrecognizedClientException', 400),
    ('sts', lambda c: c.get_caller_identity(), 'SignatureDoesNotMatch', 403, 'InvalidClientTokenId', 403),
    ('iam', lambda c: c.list_users(), 'SignatureDoesNotMatch', 403, 'InvalidClientTokenId', 403),
    ('ec2', lambda c: c.describe_regions(), 'SignatureDoesNotMatch', 403, 'AuthFailure', 401),
    ('s3', lambda c: c.list_buckets(), 'SignatureDoesNotMatch', 403, 'InvalidAccessKeyId', 403),
    ('route53', lambda c: c.list_hosted_zones(), 'SignatureDoesNotMatch', 403, 'InvalidClientTokenId', 403),
]


@pytest.mark.parametrize('service,call,badsig,badsig_status,unknown,unknown_status', AUTH_CASES,
                         ids=[c[0] for c in AUTH_CASES])
def test_auth_failures(fake, service, call, badsig, badsig_status, unknown, unknown_status):
    bad = fake.client(service, creds={'AccessKeyId': fake.access_key, 'SecretAccessKey': 'wrong-secret'},
                      config=NO_RETRY)
    with pytest.raises(ClientError) as e:
        call(bad)
    assert code_of(e) == badsig and status_of(e) == badsig_status
    hdrs = e.value.response['ResponseMetadata']['HTTPHeaders']
    assert hdrs.get('x-amz-request-id' if service == 's3' else 'x-amzn-requestid') or \
        e.value.response['ResponseMetadata'].get('RequestId')
    unk = fake.client(service, creds={'AccessKeyId': 'AKIAUNKNOWNUNKNOWN00', 'SecretAccessKey': 'x'},
                      config=NO_RETRY)
    with pytest.raises(ClientError) as e:
        call(unk)
    assert code_of(e) == unknown and status_of(e) == unknown_status


def test_auth_error_wire_shapes(fake):
    bad = {'AccessKeyId': fake.access_key, 'SecretAccessKey': 'nope'}
    st, h, b = fake.raw('POST', '/', 'organizations', body=b'{}', creds=bad, headers={
        'X-Amz-Target': 'AWSOrganizationsV20161128.ListRoots', 'Content-Type': 'application/x-amz-json-1.1'})
    assert st == 400 and json.loads(b)['__type'] == 'InvalidSignatureException' and h['x-amzn-requestid']
    st, h, b = fake.raw('POST', '/', 'sts', body=b'Action=GetCallerIdentity&Version=2011-06-15', creds=bad,
                        headers={'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8'})
    root = ET.fromstring(b)
    assert st == 403 and root.tag == '{https://sts.amazonaws.com/doc/2011-06-15/}ErrorResponse' or \
        root.tag == 'ErrorResponse'
    err = root.find('{*}Error')
    assert err.find('{*}Type').text == 'Sender' and err.find('{*}Code').text == 'SignatureDoesNotMatch'
    assert root.find('{*}RequestId').text
    st, h, b = fake.raw('POST', '/', 'ec2', body=b'Action=DescribeRegions&Version=2016-11-15',
                        creds={'AccessKeyId': 'AKIANOPENOPENOPE0000', 'SecretAccessKey': 'x'},
                        headers={'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8'})
    root = ET.fromstring(b)
    assert st == 401 and root.tag == 'Response'
    assert root.find('Errors/Error/Code').text == 'AuthFailure' and root.find('RequestID').text
    st, h, b = fake.raw('GET', '/', 's3', creds={'AccessKeyId': 'AKIANOPENOPENOPE0000', 'SecretAccessKey': 'x'})
    root = ET.fromstring(b)
    assert st == 403 and root.tag == 'Error' and root.find('Code').text == 'InvalidAccessKeyId'
    assert h['x-amz-request-id'] == root.find('RequestId').text
    st, h, b = fake.raw('GET', '/2013-04-01/hostedzone', 'route53', creds=bad)
    root = ET.fromstring(b)
    assert st == 403 and root.tag == '{https://route53.amazonaws.com/doc/2013-04-01/}ErrorResponse'
    assert root.find('{*}Error/{*}Code').text == 'SignatureDoesNotMatch'
    st, h, b = fake.raw('POST', '/getRegionOptStatus', 'account', body=b'{"RegionName":"af-south-1"}', creds=bad)
    assert st == 403 and h['x-amzn-errortype'].startswith('InvalidSignatureException')
    # malformed Authorization header
    for svc, hdrs, body, code in [
            ('sts', {'Content-Type': 'application/x-www-form-urlencoded'},
             b'Action=GetCallerIdentity&Version=2011-06-15', b'<Code>IncompleteSignature</Code>'),
            ('organizations', {'X-Amz-Target': 'AWSOrganizationsV20161128.ListRoots'}, b'{}',
             b'"IncompleteSignatureException"')]:
        hdrs = dict(hdrs, Authorization=f'AWS4-HMAC-SHA256 Credential={fake.access_key}/20240101/us-east-1/'
                    f'{svc}/aws4_request, Signature=abc')
        st, h, b = fake.raw('POST', '/', svc, body=body, headers=hdrs, sign=False)
        assert st == 400 and code in b, b
    # unsigned requests (other than AssumeRoleWithWebIdentity) are refused
    st, h, b = fake.raw('POST', '/', 'sts', body=b'Action=GetCallerIdentity&Version=2011-06-15', sign=False,
                        headers={'Content-Type': 'application/x-www-form-urlencoded'})
    assert st == 403 and b'<Code>MissingAuthenticationToken</Code>' in b
    # the body is covered by the signature: tampering after signing is caught
    st, h, b = fake.raw('POST', '/', 'organizations', body=b'{}', tamper_body=b'{ }', headers={
        'X-Amz-Target': 'AWSOrganizationsV20161128.ListRoots', 'Content-Type': 'application/x-amz-json-1.1'})
    assert st == 400 and json.loads(b)['__type'] == 'InvalidSignatureException'
    # a good signature through the raw path succeeds (the signer is botocore's own)
    st, h, b = fake.raw('POST', '/', 'sts', body=b'Action=GetCallerIdentity&Version=2011-06-15',
                        headers={'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8'})
    assert st == 200 and b'GetCallerIdentityResult' in b


def test_s3_payload_hash(fake, member):
    creds = member['user']
    s3 = fake.client('s3', creds=creds)
    s3.create_bucket(Bucket='payload-bucket')
    st, h, b = fake.raw('PUT', '/payload-bucket/unsigned', 's3', body=b'abc', creds=creds,
                        payload_override='UNSIGNED-PAYLOAD')
    assert st == 200 and h['etag'] and h['x-amz-request-id']
    st, h, b = fake.raw('PUT', '/payload-bucket/tampered', 's3', body=b'abc', creds=creds, tamper_body=b'xyz')
    assert st == 400 and b'<Code>XAmzContentSHA256Mismatch</Code>' in b
    st, h, b = fake.raw('PUT', '/payload-bucket/meta', 's3', body=b'abc', creds=creds,
                        payload_override='UNSIGNED-PAYLOAD', headers={'X-Amz-Meta-A': '1'})
    assert st == 200
    keys = [o['Key'] for o in s3.list_objects_v2(Bucket='payload-bucket')['Contents']]
    assert keys == ['meta', 'unsigned']
    s3.delete_objects(Bucket='payload-bucket', Delete={'Objects': [{'Key': k} for k in keys]})
    s3.delete_bucket(Bucket='payload-bucket')


def test_libcurl_sigv4_is_accepted(fake):
    """An independent signer (libcurl's CURLOPT_AWS_SIGV4, what the C client builds on) is accepted."""
    user = f'{fake.access_key}:{fake.secret_key}'

    def curl(scope, url, *extra):
        out = subprocess.run(['curl', '-s', '-w', '\\n%{http_code}', '--aws-sigv4', f'aws:amz:us-east-1:{scope}',
                              '--user', user, *extra, url], capture_output=True, text=True, timeout=20).stdout
        body, _, code = out.rpartition('\n')
        return int(code), body
    ep = fake.endpoint
    st, b = curl('sts', ep + '/', '-H', 'Content-Type: application/x-www-form-urlencoded',
                 '-d', 'Action=GetCallerIdentity&Version=2011-06-15')
    assert st == 200 and f'<Account>{fake.account}</Account>' in b
    st, b = curl('organizations', ep + '/', '-H', 'Content-Type: application/x-amz-json-1.1',
                 '-H', 'X-Amz-Target: AWSOrganizationsV20161128.ListRoots', '-d', '{}')
    assert st == 200 and json.loads(b)['Roots'][0]['Id'].startswith('r-')
    st, b = curl('ec2', ep + '/?Action=DescribeRegions&Version=2016-11-15')
    assert st == 200 and '<regionName>us-east-1</regionName>' in b
    st, b = curl('s3', ep + '/', '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD')
    assert st == 200 and '<ListAllMyBucketsResult' in b
    st, b = curl('route53', ep + '/2013-04-01/hostedzone?maxitems=5')
    assert st == 200 and '<ListHostedZonesResponse' in b
    st, b = curl('account', ep + '/getRegionOptStatus', '-H', 'Content-Type: application/json',
                 '-d', '{"RegionName": "us-west-2"}')
    assert st == 200 and json.loads(b)['RegionOptStatus'] == 'ENABLED_BY_DEFAULT'
    user = f'{fake.access_key}:wrong'
    st, b = curl('sts', ep + '/', '-d', 'Action=GetCallerIdentity&Version=2011-06-15')
    assert st == 403 and '<Code>SignatureDoesNotMatch</Code>' in b


def test_clock_skew(fake):
    body = b'Action=GetCallerIdentity&Version=2011-06-15'
    hdr = {'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8'}
    st, _, b = fake.raw('POST', '/', 'sts', body=body, headers=hdr, skew=-600)
    assert st == 403 and b'<Code>SignatureDoesNotMatch</Code>' in b and b'Signature expired' in b
    st, _, b = fake.raw('POST', '/', 'sts', body=body, headers=hdr, skew=120)
    assert st == 200
    st, _, b = fake.raw('GET', '/', 's3', skew=900)
    assert st == 403 and b'<Code>RequestTimeTooSkewed</Code>' in b
    st, _, b = fake.raw('POST', '/', 'organizations', body=b'{}', skew=-900, headers={
        'X-Amz-Target': 'AWSOrganizationsV20161128.ListRoots', 'Content-Type': 'application/x-amz-json-1.1'})
    assert st == 400 and json.loads(b)['__type'] == 'InvalidSignatureException'
    assert 'Signature expired' in json.loads(b)['message']


def test_expired_session_token(fake, member):
    sts = fake.client('sts')
    c = sts.assume_role(RoleArn=f'arn:aws:iam::{member["account"]}:role/OrganizationAccountAccessRole',
                        RoleSessionName='expiring')['Credentials']
    assert fake.client('sts', creds=c).get_caller_identity()['Account'] == member['account']
    fake.control('POST', 'expire-credentials', {'access_key_id': c['AccessKeyId']})
    with pytest.raises(ClientError) as e:
        fake.client('sts', creds=c, config=NO_RETRY).get_caller_identity()
    assert code_of(e) == 'ExpiredToken'
    with pytest.raises(ClientError) as e:
        fake.client('organizations', creds=c, config=NO_RETRY).list_roots()
    assert code_of(e) == 'ExpiredTokenException'
    with pytest.raises(ClientError) as e:
        fake.client('ec2', creds=c, config=NO_RETRY).describe_regions()
    assert code_of(e) == 'RequestExpired'
    # a session token that does not belong to the key
    tampered = dict(c, SessionToken='FwoGZXIvYXdzEtampered')
    with pytest.raises(ClientError) as e:
        fake.client('iam', creds=tampered, config=NO_RETRY).list_users()
    assert code_of(e) == 'InvalidClientTokenId'


def test_eventual_consistency_window(fake, member):
    fake.control('POST', 'eventual-consistency', {'account_id': member['account'], 'seconds': 0.6})
    try:
        iam = fake.client('iam', creds=member['role'])
        iam.create_user(UserName='ec-user')
        key = iam.create_access_key(UserName='ec-user')['AccessKey']
        sts = fake.client('sts', creds=key, config=NO_RETRY)
        with pytest.raises(ClientError) as e:
            sts.get_caller_identity()
        assert code_of(e) == 'InvalidClientTokenId'
        time.sleep(0.7)
        assert sts.get_caller_identity()['Account'] == member['account']
    finally:
        fake.control('POST', 'eventual-consistency', {'account_id': member['account'], 'seconds': 0})


def test_eventual_consistency_for_every_account(fake, org):
    """'*' covers accounts created after it was set; clearing it ends the window."""
    fake.control('POST', 'eventual-consistency', {'account_id': '*', 'seconds': 30})
    try:
        st = create_account(org, f'ec+{uuid.uuid4().hex[:8]}@example.com', 'ec-later')
        acct = st['AccountId']
        role = fake.client('sts').assume_role(RoleArn=f'arn:aws:iam::{acct}:role/OrganizationAccountAccessRole',
                                              RoleSessionName='ec1')['Credentials']
        with pytest.raises(ClientError) as e:
            fake.client('sts', creds=role, config=NO_RETRY).get_caller_identity()
        assert code_of(e) == 'InvalidClientTokenId'
        fake.control('POST', 'eventual-consistency', {'account_id': '*', 'seconds': 0})
        role = fake.client('sts').assume_role(RoleArn=f'arn:aws:iam::{acct}:role/OrganizationAccountAccessRole',
                                              RoleSessionName='ec2')['Credentials']
        assert fake.client('sts', creds=role, config=NO_RETRY).get_caller_identity()['Account'] == acct
    finally:
        fake.control('POST', 'eventual-consistency', {'account_id': '*', 'seconds': 0})


def test_issued_secrets_lists_every_minted_credential(fake, member):
    """Access keys (also after deletion) and role sessions, with their secrets and tokens."""
    iam = fake.client('iam', creds=member['role'])
    iam.create_user(UserName='leak-scan')
    key = iam.create_access_key(UserName='leak-scan')['AccessKey']
    iam.delete_access_key(UserName='leak-scan', AccessKeyId=key['AccessKeyId'])
    listed = {s['access_key_id']: s for s in fake.control('GET', 'issued-secrets')['secrets']}
    assert listed[key['AccessKeyId']]['secret_access_key'] == key['SecretAccessKey']
    assert listed[fake.access_key]['secret_access_key'] == fake.secret_key
    role = listed[member['role']['AccessKeyId']]
    assert role['session_token'] == member['role']['SessionToken']
    assert role['secret_access_key'] == member['role']['SecretAccessKey']


# ----------------------------------------------------------------------------- validation
def test_model_lengths_and_patterns_are_enforced(fake):
    """botocore's validator leaves out max lengths and patterns; AWS checks them."""
    loose = Config(parameter_validation=False, retries={'total_max_attempts': 1, 'mode': 'standard'})
    org = fake.client('organizations', config=loose)
    root = org.list_roots()['Roots'][0]['Id']
    with pytest.raises(ClientError) as e:
        org.create_organizational_unit(ParentId=root, Name='x' * 20000)
    assert code_of(e) == 'ValidationException'
    msg = e.value.response['Error']['Message']
    assert msg.startswith('1 validation error detected: ')
    assert "at 'name' failed to satisfy constraint: Member must have length less than or equal to 128" in msg
    ou = org.create_organizational_unit(ParentId=root, Name='y' * 128)['OrganizationalUnit']
    assert len(ou['Name']) == 128
    with pytest.raises(ClientError) as e:
        org.create_organizational_unit(ParentId='not-a-root', Name='ok')
    assert code_of(e) == 'ValidationException' and 'regular expression pattern' in str(e.value)
    with pytest.raises(ClientError) as e:  # sensitive: the value is not echoed
        org.create_account(Email='no spaces@example.com', AccountName='n')
    assert code_of(e) == 'ValidationException' and 'no spaces' not in str(e.value)
    with pytest.raises(ClientError) as e:
        org.describe_account(AccountId='12345')
    assert code_of(e) == 'ValidationException' and "Value '12345' at 'accountId'" in str(e.value)
    iam = fake.client('iam', config=loose)
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName='a/b')
    assert code_of(e) == 'ValidationError' and 'userName' in str(e.value)
    with pytest.raises(ClientError) as e:  # list length: at most 50 tags
        iam.create_user(UserName='tags', Tags=[{'Key': f'k{i}', 'Value': 'v'} for i in range(51)])
    assert code_of(e) == 'ValidationError' and 'less than or equal to 50' in str(e.value)


@pytest.mark.parametrize('mode', ['close', 'short'])
def test_truncate_fault(fake, mode):
    fake.control('POST', 'truncate', {'service': 'organizations', 'operation': 'ListRoots', 'count': 1,
                                      'mode': mode})
    st, hdrs, body = None, None, None
    try:
        st, hdrs, body = fake.raw('POST', '/', 'organizations', body=b'{}', headers={
            'X-Amz-Target': 'AWSOrganizationsV20161128.ListRoots',
            'Content-Type': 'application/x-amz-json-1.1'})
    except Exception as e:  # close: the client sees the connection end early
        assert mode == 'close', e
        return
    assert mode == 'short' and st == 200
    with pytest.raises(ValueError):
        json.loads(body)
    # the next call is whole again
    assert fake.client('organizations').list_roots()['Roots']


def test_hold_fault_does_the_call_before_answering(fake):
    """hold: the key exists (listed by another client) while its creator still
    waits for the answer; the answer then arrives intact."""
    iam = fake.client('iam')
    iam.create_user(UserName='hold-user')
    fake.control('POST', 'hold', {'service': 'iam', 'operation': 'CreateAccessKey', 'count': 1,
                                  'hold_ms': 1500})
    out = {}
    t = threading.Thread(target=lambda: out.update(iam.create_access_key(UserName='hold-user')))
    t0 = time.monotonic()
    t.start()
    seen = []
    while not seen and time.monotonic() - t0 < 1.2:
        seen = fake.client('iam').list_access_keys(UserName='hold-user')['AccessKeyMetadata']
    assert len(seen) == 1 and t.is_alive(), 'the key is made before the answer is sent'
    t.join(10)
    assert time.monotonic() - t0 >= 1.4
    assert out['AccessKey']['AccessKeyId'] == seen[0]['AccessKeyId']


def test_list_access_keys_status_and_create_date(fake):
    iam = fake.client('iam')
    iam.create_user(UserName='dated-user')
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
    k1 = iam.create_access_key(UserName='dated-user')['AccessKey']
    k2 = iam.create_access_key(UserName='dated-user')['AccessKey']
    meta = iam.list_access_keys(UserName='dated-user')['AccessKeyMetadata']
    assert [m['AccessKeyId'] for m in meta] == [k1['AccessKeyId'], k2['AccessKeyId']]
    assert all(m['Status'] == 'Active' and m['CreateDate'] >= before for m in meta)
    with pytest.raises(ClientError) as e:  # AWS's limit: two keys per user
        iam.create_access_key(UserName='dated-user')
    assert code_of(e) == 'LimitExceeded'
    iam.delete_access_key(UserName='dated-user', AccessKeyId=k1['AccessKeyId'])
    with pytest.raises(ClientError) as e:
        fake.client('sts', creds=k1, config=NO_RETRY).get_caller_identity()
    assert code_of(e) == 'InvalidClientTokenId'
    assert [m['AccessKeyId'] for m in iam.list_access_keys(UserName='dated-user')['AccessKeyMetadata']] == \
        [k2['AccessKeyId']]


def test_oversize_fault(fake):
    fake.control('POST', 'oversize', {'service': 'organizations', 'operation': 'ListRoots', 'count': 1,
                                      'bytes': 3 * 1024 * 1024})
    roots = fake.client('organizations').list_roots()
    assert roots['Roots']
    fake.control('POST', 'oversize', {'service': 'sts', 'operation': 'GetCallerIdentity', 'count': 1,
                                      'bytes': 1024})
    st, _, body = fake.raw('POST', '/', 'sts', body=b'Action=GetCallerIdentity&Version=2011-06-15',
                           headers={'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8'})
    assert st == 200 and b'<Padding>' + b'x' * 1024 + b'</Padding>' in body
    ET.fromstring(body)


def test_validation_errors(fake):
    loose = Config(parameter_validation=False, retries={'total_max_attempts': 1, 'mode': 'standard'})
    org = fake.client('organizations', config=loose)
    with pytest.raises(ClientError) as e:
        org.create_account(AccountName='no-email')
    assert code_of(e) == 'ValidationException' and 'Email' in str(e.value)
    with pytest.raises(ClientError) as e:
        org.list_accounts(MaxResults='ten')
    assert code_of(e) == 'ValidationException'
    iam = fake.client('iam', config=loose)
    with pytest.raises(ClientError) as e:
        iam.create_user()
    assert code_of(e) == 'ValidationError'
    sts = fake.client('sts', config=loose)
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn='arn:aws:iam::123456789012:role/x')
    assert code_of(e) == 'ValidationError' and 'RoleSessionName' in str(e.value)
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=f'arn:aws:iam::{fake.account}:role/x', RoleSessionName='s', DurationSeconds=60)
    assert code_of(e) == 'ValidationError'
    ec2 = fake.client('ec2', config=loose)
    with pytest.raises(ClientError) as e:
        ec2.run_instances(InstanceType='t3.micro', MinCount=1, MaxCount=1)
    assert code_of(e) == 'MissingParameter' and 'ImageId' in str(e.value)
    with pytest.raises(ClientError) as e:
        ec2.run_instances(ImageId='ami-1', MinCount='one', MaxCount=1)
    assert code_of(e) == 'InvalidParameterValue'
    st, _, b = fake.raw('POST', '/', 'ec2', body=b'Action=DescribeRegions&Version=2016-11-15&Bogus=1',
                        headers={'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8'})
    assert st == 400 and b'<Code>UnknownParameter</Code>' in b
    sq = fake.client('service-quotas', config=loose)
    with pytest.raises(ClientError) as e:
        sq.get_service_quota(ServiceCode='ec2')
    assert code_of(e) == 'ValidationException'
    r53 = fake.client('route53', config=loose)
    with pytest.raises(ClientError) as e:
        r53.create_hosted_zone(Name='x.example.com')
    assert code_of(e) == 'InvalidInput'
    # unknown operations
    st, _, b = fake.raw('POST', '/', 'organizations', body=b'{}', headers={
        'X-Amz-Target': 'AWSOrganizationsV20161128.MakeCoffee', 'Content-Type': 'application/x-amz-json-1.1'})
    assert st == 400 and json.loads(b)['__type'] == 'UnknownOperationException'
    st, _, b = fake.raw('POST', '/', 'iam', body=b'Action=MakeCoffee&Version=2010-05-08',
                        headers={'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8'})
    assert st == 400 and b'<Code>InvalidAction</Code>' in b
    st, _, b = fake.raw('POST', '/', 'organizations', body=b'{not json', headers={
        'X-Amz-Target': 'AWSOrganizationsV20161128.ListRoots', 'Content-Type': 'application/x-amz-json-1.1'})
    assert st == 400 and json.loads(b)['__type'] == 'SerializationException'


# ----------------------------------------------------------------------------- faults & control
def test_throttling_injection(fake, member):
    detector = ThrottledRetryableChecker()
    fake.control('POST', 'faults/clear')
    fake.control('POST', 'reset-log')
    cases = [('organizations', 'ListRoots', lambda c: c.list_roots(), 'TooManyRequestsException', 400, None),
             ('iam', 'ListUsers', lambda c: c.list_users(), 'Throttling', 400, None),
             ('sts', 'GetCallerIdentity', lambda c: c.get_caller_identity(), 'Throttling', 400, None),
             ('support', 'DescribeCases', lambda c: c.describe_cases(), 'ThrottlingException', 400, None),
             ('ec2', 'DescribeRegions', lambda c: c.describe_regions(), 'RequestLimitExceeded', 503, None),
             ('s3', 'ListBuckets', lambda c: c.list_buckets(), 'SlowDown', 503, None),
             ('route53', 'ListHostedZones', lambda c: c.list_hosted_zones(), 'Throttling', 400, None)]
    for svc, opn, call, code, status, _ in cases:
        fake.control('POST', 'throttle', {'service': f'^{svc}$', 'operation': f'^{opn}$', 'count': 1})
        creds = None if svc == 'organizations' else member['user']
        with pytest.raises(ClientError) as e:
            call(fake.client(svc, creds=creds, config=NO_RETRY))
        assert code_of(e) == code and status_of(e) == status, svc

        class Ctx:
            def get_error_code(self, _r=e.value.response):
                return _r['Error']['Code']
        assert detector.is_retryable(Ctx()), code
        call(fake.client(svc, creds=creds, config=NO_RETRY))   # count exhausted
    # the Account API (no botocore model for these operations): 429 with x-amzn-ErrorType
    fake.control('POST', 'throttle', {'service': '^account$', 'operation': 'GetRegionOptStatus', 'count': 1})
    st, h, b = fake.raw('POST', '/getRegionOptStatus', 'account', body=b'{"RegionName": "us-east-1"}',
                        creds=member['user'], headers={'Content-Type': 'application/json'})
    assert st == 429 and h['x-amzn-errortype'].startswith('TooManyRequestsException')
    # a fraction with the standard retryer recovers
    fake.control('POST', 'throttle', {'service': 'organizations', 'operation': 'ListRoots', 'count': 2})
    org = fake.client('organizations', config=Config(retries={'total_max_attempts': 4, 'mode': 'standard'}))
    assert org.list_roots()['Roots']
    c = fake.control('GET', 'counters')
    assert c['throttled'] == len(cases) + 3
    assert c['operations']['organizations.ListRoots'] >= 5
    calls = fake.control('GET', 'calls')['calls']
    assert any(x['error_code'] == 'SlowDown' and x['status'] == 503 and x['account'] == member['account']
               for x in calls)


def test_5xx_latency_and_error_injection(fake, member):
    fake.control('POST', 'faults/clear')
    fake.control('POST', '5xx', {'service': 'iam', 'count': 2})
    iam = fake.client('iam', creds=member['user'], config=NO_RETRY)
    for _ in range(2):
        with pytest.raises(ClientError) as e:
            iam.list_users()
        assert code_of(e) == 'ServiceFailure' and status_of(e) == 500
    iam.list_users()
    fake.control('POST', '5xx', {'service': 'organizations', 'count': 1})
    with pytest.raises(ClientError) as e:
        fake.client('organizations', config=NO_RETRY).list_roots()
    assert code_of(e) == 'ServiceException' and status_of(e) == 500
    fake.control('POST', 'latency', {'service': 'sts', 'latency_ms': 300, 'count': 1})
    t0 = time.time()
    fake.client('sts').get_caller_identity()
    assert time.time() - t0 >= 0.3
    fake.control('POST', 'error', {'service': 'organizations', 'operation': 'MoveAccount',
                                   'code': 'ConcurrentModificationException', 'status': 400, 'count': 1})
    org = fake.client('organizations', config=NO_RETRY)
    with pytest.raises(ClientError) as e:
        org.move_account(AccountId=member['account'], SourceParentId='r-xxxx', DestinationParentId='r-yyyy')
    assert code_of(e) == 'ConcurrentModificationException'
    fake.control('POST', 'error', {'service': 'organizations', 'operation': 'CloseAccount',
                                   'code': 'ConstraintViolationException', 'count': 1,
                                   'extra': {'Reason': 'CLOSE_ACCOUNT_QUOTA_EXCEEDED'}})
    with pytest.raises(ClientError) as e:
        org.close_account(AccountId=member['account'])
    assert code_of(e) == 'ConstraintViolationException'
    assert e.value.response['Reason'] == 'CLOSE_ACCOUNT_QUOTA_EXCEEDED'
    assert fake.control('GET', 'faults')['rules'] == []


def test_control_endpoint_log_counters_state(fake, member):
    fake.control('POST', 'reset-log')
    assert fake.control('GET', 'calls')['calls'] == []
    fake.client('sts', creds=member['user']).get_caller_identity()
    calls = fake.control('GET', 'calls')['calls']
    assert len(calls) == 1
    c = calls[0]
    assert c['service'] == 'sts' and c['operation'] == 'GetCallerIdentity' and c['status'] == 200
    assert c['account'] == member['account'] and c['error_code'] is None and c['time'] > 0
    counters = fake.control('GET', 'counters')
    assert counters['operations'] == {'sts.GetCallerIdentity': 1} and counters['calls'] == 1
    for k in ('create_account_peak_in_flight', 'throttled', 'create_account_in_flight'):
        assert k in counters
    st = fake.control('GET', 'state')
    acc = [a for a in st['accounts'] if a['Id'] == member['account']][0]
    assert acc['Status'] == 'ACTIVE' and acc['parent'] == st['root']
    new = fake.control('POST', 'credentials', {'account_id': member['account']})
    ident = fake.client('sts', creds={'AccessKeyId': new['access_key_id'],
                                      'SecretAccessKey': new['secret_access_key']}).get_caller_identity()
    assert ident['Account'] == member['account']
    timing = fake.control('POST', 'timing', {})
    assert timing['create_account_seconds'] == 0.4
    with pytest.raises(urllib.error.HTTPError):
        fake.control('GET', 'nope')


def test_state_file_persists(tmp_path):
    path = str(tmp_path / 'state.json')
    f = AwsFake('--state-file', path)
    try:
        iam = f.client('iam')
        iam.create_user(UserName='persisted')
        key = iam.create_access_key(UserName='persisted')['AccessKey']
        first = (f.access_key, f.account)
    finally:
        f.stop()
    g = AwsFake('--state-file', path)
    try:
        assert (g.access_key, g.account) == first
        ident = g.client('sts', creds=key).get_caller_identity()
        assert ident['Arn'].endswith(':user/persisted')
    finally:
        g.stop()


# ----------------------------------------------------------------------------- coverage (runs last)
LISTED = {
    'organizations': ['DescribeOrganization', 'ListRoots', 'CreateAccount', 'DescribeCreateAccountStatus',
                      'ListCreateAccountStatus', 'ListAccounts', 'DescribeAccount', 'ListParents', 'ListChildren',
                      'CreateOrganizationalUnit', 'ListOrganizationalUnitsForParent', 'MoveAccount', 'TagResource',
                      'UntagResource', 'ListTagsForResource', 'CloseAccount'],
    'sts': ['GetCallerIdentity', 'AssumeRole', 'AssumeRoleWithWebIdentity', 'GetFederationToken'],
    'iam': ['CreateUser', 'GetUser', 'ListUsers', 'DeleteUser', 'TagUser', 'UntagUser', 'ListUserTags',
            'AttachUserPolicy', 'DetachUserPolicy', 'ListAttachedUserPolicies', 'CreateAccessKey', 'ListAccessKeys',
            'DeleteAccessKey', 'CreateRole', 'GetRole', 'ListRoles', 'DeleteRole', 'TagRole', 'ListRoleTags',
            'AttachRolePolicy', 'DetachRolePolicy', 'ListAttachedRolePolicies', 'PutRolePolicy', 'GetRolePolicy',
            'DeleteRolePolicy', 'ListRolePolicies', 'CreatePolicy', 'GetPolicy', 'DeletePolicy', 'ListPolicies',
            'CreatePolicyVersion', 'GetPolicyVersion', 'ListPolicyVersions', 'DeletePolicyVersion'],
    'support': ['CreateCase', 'DescribeCases'],
    'ec2': ['DescribeRegions', 'DescribeImages', 'DescribeInstanceTypes', 'RunInstances', 'DescribeInstances',
            'DescribeInstanceStatus', 'TerminateInstances', 'DescribeVolumes', 'DeleteVolume', 'DescribeSnapshots',
            'DeleteSnapshot', 'DescribeVpcEndpointServiceConfigurations', 'DeleteVpcEndpointServiceConfigurations',
            'CreateImage', 'RegisterImage', 'DeregisterImage'],
    'service-quotas': ['GetServiceQuota', 'RequestServiceQuotaIncrease',
                       'ListRequestedServiceQuotaChangeHistoryByQuota'],
    'account': ['GetRegionOptStatus', 'EnableRegion'],
    's3': ['ListBuckets', 'CreateBucket', 'PutObject', 'ListObjectsV2', 'DeleteObjects', 'DeleteBucket'],
    'route53': ['CreateHostedZone', 'ListHostedZones', 'ListResourceRecordSets', 'ChangeResourceRecordSets',
                'DeleteHostedZone'],
}


def test_zz_every_listed_operation_succeeded(fake):
    covered = set(fake.control('GET', 'coverage')['succeeded'])
    missing = [f'{s}.{o}' for s, ops in LISTED.items() for o in ops if f'{s}.{o}' not in covered]
    assert missing == []


# ----------------------------------------------------------------------------- GovCloud
def _arns(obj):
    if isinstance(obj, str):
        return [x for x in __import__('re').findall(r'arn:[a-z-]+:[^\s"\']*', obj)]
    if isinstance(obj, dict):
        return [a for v in obj.values() for a in _arns(v)]
    if isinstance(obj, list):
        return [a for v in obj for a in _arns(v)]
    return []


def test_govcloud_partition():
    gov = AwsFake(*FAST, '--partition', 'aws-us-gov')
    try:
        _govcloud_checks(gov)
    finally:
        gov.stop()


def _govcloud_checks(gov):
    assert gov.partition == 'aws-us-gov' and gov.region == 'us-gov-west-1'
    mgmt = gov.account
    assert gov.client('sts').get_caller_identity()['Arn'] == f'arn:aws-us-gov:iam::{mgmt}:user/aao-operator'
    # commercial regions are another partition: the keys are unknown there
    with pytest.raises(ClientError) as e:
        gov.client('sts', region='us-east-1', config=NO_RETRY).get_caller_identity()
    assert code_of(e) == 'InvalidClientTokenId'
    with pytest.raises(ClientError) as e:
        gov.client('ec2', region='us-east-1', config=NO_RETRY).describe_regions()
    assert code_of(e) == 'AuthFailure'
    ec2 = gov.client('ec2', region='us-gov-east-1')
    assert sorted(r['RegionName'] for r in ec2.describe_regions(AllRegions=True)['Regions']) == \
        ['us-gov-east-1', 'us-gov-west-1']
    org = gov.client('organizations')
    o = org.describe_organization()['Organization']
    assert o['Arn'].startswith('arn:aws-us-gov:organizations::') and o['MasterAccountArn'].startswith('arn:aws-us-gov:')
    root = org.list_roots()['Roots'][0]
    assert root['Arn'].startswith('arn:aws-us-gov:organizations::')
    ou = org.create_organizational_unit(ParentId=root['Id'], Name='gov-ou')['OrganizationalUnit']
    assert ou['Arn'].startswith('arn:aws-us-gov:organizations::')
    acct = create_account(org, 'gov-member@example.com', 'gov-member')['AccountId']
    assert all(a['Arn'].startswith('arn:aws-us-gov:organizations::') for a in org.list_accounts()['Accounts'])
    sts = gov.client('sts', config=NO_RETRY)
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=f'arn:aws:iam::{acct}:role/OrganizationAccountAccessRole', RoleSessionName='aao')
    assert code_of(e) == 'ValidationError'
    role = sts.assume_role(RoleArn=f'arn:aws-us-gov:iam::{acct}:role/OrganizationAccountAccessRole',
                           RoleSessionName='aao')
    assert role['AssumedRoleUser']['Arn'] == \
        f'arn:aws-us-gov:sts::{acct}:assumed-role/OrganizationAccountAccessRole/aao'
    iam = gov.client('iam', creds=role['Credentials'], config=NO_RETRY)
    iam.create_user(UserName='osdManagedAdmin-gov')
    with pytest.raises(ClientError) as e:
        iam.attach_user_policy(UserName='osdManagedAdmin-gov', PolicyArn='arn:aws:iam::aws:policy/AdministratorAccess')
    assert code_of(e) == 'NoSuchEntity'
    iam.attach_user_policy(UserName='osdManagedAdmin-gov',
                           PolicyArn='arn:aws-us-gov:iam::aws:policy/AdministratorAccess')
    assert [p['PolicyArn'] for p in iam.list_attached_user_policies(UserName='osdManagedAdmin-gov')[
        'AttachedPolicies']] == ['arn:aws-us-gov:iam::aws:policy/AdministratorAccess']
    assert all(p['Arn'].startswith('arn:aws-us-gov:iam::') for p in iam.list_policies(Scope='AWS')['Policies'])
    bad_trust = {'Version': '2012-10-17', 'Statement': [{
        'Effect': 'Allow', 'Principal': {'AWS': f'arn:aws:iam::{mgmt}:root'}, 'Action': 'sts:AssumeRole'}]}
    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName='bad-partition', AssumeRolePolicyDocument=json.dumps(bad_trust))
    assert code_of(e) == 'MalformedPolicyDocument' and 'Invalid principal in policy' in str(e.value)
    good_trust = json.loads(json.dumps(bad_trust).replace('arn:aws:', 'arn:aws-us-gov:'))
    r = iam.create_role(RoleName='good-partition', AssumeRolePolicyDocument=json.dumps(good_trust))['Role']
    assert r['Arn'] == f'arn:aws-us-gov:iam::{acct}:role/good-partition'
    iam.attach_role_policy(RoleName='good-partition', PolicyArn='arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess')
    cust = gov.standalone()
    assert gov.client('sts', creds=cust['user']).get_caller_identity()['Arn'] == \
        f'arn:aws-us-gov:iam::{cust["account"]}:user/osdCcsAdmin'
    mec2 = gov.client('ec2', region='us-gov-west-1', creds=role['Credentials'])
    ami = _public_ami(mec2)
    mec2.run_instances(ImageId=ami, InstanceType='t3.micro', MinCount=1, MaxCount=1)
    q = gov.client('service-quotas', region='us-gov-west-1', creds=role['Credentials'])
    assert q.get_service_quota(ServiceCode='ec2', QuotaCode='L-1216C47A')['Quota']['QuotaArn'].startswith(
        'arn:aws-us-gov:servicequotas:us-gov-west-1:')
    # every ARN the stand-in minted or was given in successful calls is a GovCloud ARN
    calls = [c for c in gov.control('GET', 'calls')['calls'] if c['error_code'] is None]
    arns = _arns(gov.control('GET', 'state')) + _arns(calls)
    assert any(c.get('role_arn') for c in calls) and any(c.get('policy_arn') for c in calls)
    assert arns and [a for a in arns if not a.startswith('arn:aws-us-gov:')] == []
    failed = [c for c in gov.control('GET', 'calls')['calls'] if c['error_code'] in ('ValidationError', 'NoSuchEntity')]
    assert f'arn:aws:iam::{acct}:role/OrganizationAccountAccessRole' in [c.get('role_arn') for c in failed]
    assert 'arn:aws:iam::aws:policy/AdministratorAccess' in [c.get('policy_arn') for c in failed]


def test_iam_list_policies_path_prefix_and_stock_role_managed_policies(fake):
    """ListPolicies honours PathPrefix (the federated-role probe cleanup lists
    its own path) and knows the managed policies the stock roles name."""
    iam = fake.client('iam', config=NO_RETRY)
    doc = json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': 's3:*',
                                                               'Resource': '*'}]})
    iam.create_policy(PolicyName='probe-1', Path='/aao-probe-test/', PolicyDocument=doc)
    iam.create_policy(PolicyName='elsewhere-1', PolicyDocument=doc)
    local = iam.list_policies(Scope='Local', PathPrefix='/aao-probe-test/')['Policies']
    assert [p['PolicyName'] for p in local] == ['probe-1']
    names = set()
    kw = {'Scope': 'AWS', 'MaxItems': 5}
    while True:
        page = iam.list_policies(**kw)
        names |= {p['PolicyName'] for p in page['Policies']}
        if not page['IsTruncated']:
            break
        kw['Marker'] = page['Marker']
    for n in ('AWSAccountUsageReportAccess', 'AmazonEC2ReadOnlyAccess', 'AmazonS3ReadOnlyAccess',
              'IAMReadOnlyAccess', 'CloudWatchReadOnlyAccess'):
        assert n in names
    for p in iam.list_policies(Scope='Local', PathPrefix='/')['Policies']:
        if p['PolicyName'] in ('probe-1', 'elsewhere-1'):
            iam.delete_policy(PolicyArn=p['Arn'])
