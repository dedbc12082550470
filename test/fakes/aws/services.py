"""Service behaviour of the AWS stand-in: one State object holding every
account's resources, and one handler per implemented operation.

Handlers take (ctx, params) and return the output dict (botocore member names);
they raise protocol.ApiError for service errors. All times are epoch floats.
Callers hold the server lock while calling into State.
"""

import base64
import fnmatch
import hashlib
import heapq
import itertools
import json
import random
import re
import secrets
import string
import time
from urllib.parse import quote

from .protocol import ApiError

PARTITION = 'aws'
AMI_OWNER = '309956199498'

DEFAULT_REGIONS = [
    'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'eu-west-1',
    'eu-west-2', 'eu-west-3', 'eu-central-1', 'eu-north-1', 'ap-south-1', 'ap-northeast-1',
    'ap-northeast-2', 'ap-northeast-3', 'ap-southeast-1', 'ap-southeast-2', 'sa-east-1',
]
OPT_IN_REGIONS = [
    'af-south-1', 'ap-east-1', 'ap-south-2', 'ap-southeast-3', 'ap-southeast-4', 'eu-central-2',
    'eu-south-1', 'eu-south-2', 'me-central-1', 'me-south-1', 'il-central-1',
]
ALL_REGIONS = DEFAULT_REGIONS + OPT_IN_REGIONS

AWS_MANAGED_POLICIES = [
    'AdministratorAccess', 'ReadOnlyAccess', 'PowerUserAccess', 'IAMFullAccess',
    'AmazonEC2FullAccess', 'AmazonS3FullAccess', 'AmazonRoute53FullAccess',
    'AWSSupportAccess', 'ServiceQuotasFullAccess', 'AWSOrganizationsFullAccess',
    'AmazonEC2ReadOnlyAccess', 'AmazonS3ReadOnlyAccess', 'job-function/Billing',
    'job-function/ViewOnlyAccess',
]

# (service, quota code) -> (service name, quota name, default value, global)
QUOTAS = {
    ('ec2', 'L-1216C47A'): ('Amazon Elastic Compute Cloud (Amazon EC2)',
                            'Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances', 5.0, False),
    ('ec2', 'L-0263D0A3'): ('Amazon Elastic Compute Cloud (Amazon EC2)', 'EC2-VPC Elastic IPs', 5.0, False),
    ('ec2', 'L-34B43A08'): ('Amazon Elastic Compute Cloud (Amazon EC2)',
                            'All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests', 5.0, False),
    ('vpc', 'L-F678F1CE'): ('Amazon Virtual Private Cloud (Amazon VPC)', 'VPCs per Region', 5.0, False),
    ('vpc', 'L-A4707A72'): ('Amazon Virtual Private Cloud (Amazon VPC)', 'Internet gateways per Region', 5.0, False),
    ('vpc', 'L-FE5A380F'): ('Amazon Virtual Private Cloud (Amazon VPC)', 'NAT gateways per Availability Zone', 5.0, False),
    ('elasticloadbalancing', 'L-53DA6B97'): ('Elastic Load Balancing (ELB)', 'Application Load Balancers per Region', 50.0, False),
    ('ebs', 'L-D18FCD1D'): ('Amazon Elastic Block Store (Amazon EBS)', 'Storage for General Purpose SSD (gp2) volumes, in TiB', 50.0, False),
    ('iam', 'L-FE177D64'): ('AWS Identity and Access Management (IAM)', 'Roles per account', 1000.0, True),
    ('route53', 'L-4EA4796A'): ('Amazon Route 53', 'Hosted zones', 500.0, True),
}

INSTANCE_TYPES = {
    't3.micro': {'InstanceType': 't3.micro', 'CurrentGeneration': True, 'FreeTierEligible': False,
                 'SupportedUsageClasses': ['on-demand', 'spot'], 'SupportedRootDeviceTypes': ['ebs'],
                 'SupportedVirtualizationTypes': ['hvm'], 'BareMetal': False, 'Hypervisor': 'nitro',
                 'ProcessorInfo': {'SupportedArchitectures': ['x86_64'], 'SustainedClockSpeedInGhz': 2.5},
                 'VCpuInfo': {'DefaultVCpus': 2, 'DefaultCores': 1, 'DefaultThreadsPerCore': 2},
                 'MemoryInfo': {'SizeInMiB': 1024}, 'InstanceStorageSupported': False,
                 'EbsInfo': {'EbsOptimizedSupport': 'default', 'EncryptionSupport': 'supported',
                             'NvmeSupport': 'required'},
                 'NetworkInfo': {'NetworkPerformance': 'Up to 5 Gigabit', 'MaximumNetworkInterfaces': 2,
                                 'Ipv4AddressesPerInterface': 2, 'Ipv6Supported': True},
                 'BurstablePerformanceSupported': True},
    't2.micro': {'InstanceType': 't2.micro', 'CurrentGeneration': True, 'FreeTierEligible': True,
                 'SupportedUsageClasses': ['on-demand', 'spot'], 'SupportedRootDeviceTypes': ['ebs'],
                 'SupportedVirtualizationTypes': ['hvm'], 'BareMetal': False, 'Hypervisor': 'xen',
                 'ProcessorInfo': {'SupportedArchitectures': ['i386', 'x86_64'], 'SustainedClockSpeedInGhz': 2.5},
                 'VCpuInfo': {'DefaultVCpus': 1, 'DefaultCores': 1, 'DefaultThreadsPerCore': 1},
                 'MemoryInfo': {'SizeInMiB': 1024}, 'InstanceStorageSupported': False,
                 'EbsInfo': {'EbsOptimizedSupport': 'unsupported', 'EncryptionSupport': 'supported',
                             'NvmeSupport': 'unsupported'},
                 'NetworkInfo': {'NetworkPerformance': 'Low to Moderate', 'MaximumNetworkInterfaces': 2,
                                 'Ipv4AddressesPerInterface': 2, 'Ipv6Supported': True},
                 'BurstablePerformanceSupported': True},
}

# Names are returned in this order: the SAP and BETA ones come first on purpose.
IMAGE_NAMES = [
    ('RHEL-SAP-8.4.0_HVM-20211007-x86_64-0-Hourly2-GP2', 'x86_64'),
    ('RHEL-9.3.0_HVM_BETA-20230920-x86_64-12-Hourly2-GP2', 'x86_64'),
    ('RHEL-8.6.0_HVM-20220503-x86_64-2-Hourly2-GP2', 'x86_64'),
    ('RHEL-8.8.0_HVM-20230503-x86_64-54-Hourly2-GP2', 'x86_64'),
    ('RHEL-9.2.0_HVM-20230503-x86_64-41-Hourly2-GP2', 'x86_64'),
    ('RHEL-9.2.0_HVM-20230503-arm64-41-Hourly2-GP2', 'arm64'),
]

STATE_CODES = {'pending': 0, 'running': 16, 'shutting-down': 32, 'terminated': 48,
               'stopping': 64, 'stopped': 80}

EMAIL_RE = re.compile(r'^[^\s@]+@[^\s@]+\.[^\s@]+$')


def _hex(n):
    return secrets.token_hex((n + 1) // 2)[:n]


def _alnum_lower(n):
    return ''.join(random.choice(string.ascii_lowercase + string.digits) for _ in range(n))


def _upper_alnum(n):
    return ''.join(random.choice(string.ascii_uppercase + string.digits) for _ in range(n))


def _det_hex(seed, n):
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


def paginate(items, token, max_results, default_max, code='InvalidInputException', reason=None):
    start = 0
    if token:
        try:
            start = int(base64.b64decode(token.encode()).decode().split(':', 1)[1])
        except Exception:
            extra = {'Reason': reason} if reason else None
            raise ApiError(code, 'The provided pagination token is invalid.', extra=extra)
    n = max_results or default_max
    page = items[start:start + n]
    nxt = None
    if start + n < len(items):
        nxt = base64.b64encode(f'tok:{start + n}'.encode()).decode()
    return page, nxt


def match_filters(filters, getters, obj):
    """EC2-style filters: every filter must match one of its values (wildcards allowed)."""
    for f in filters or []:
        name = f.get('Name', '')
        values = f.get('Values') or []
        if name.startswith('tag:'):
            key = name[4:]
            tags = {t['Key']: t['Value'] for t in obj.get('Tags') or []}
            if key not in tags or not any(fnmatch.fnmatchcase(tags[key], v) for v in values):
                return False
            continue
        if name == 'tag-key':
            keys = [t['Key'] for t in obj.get('Tags') or []]
            if not any(fnmatch.fnmatchcase(k, v) for k in keys for v in values):
                return False
            continue
        if name == 'tag-value':
            vals = [t['Value'] for t in obj.get('Tags') or []]
            if not any(fnmatch.fnmatchcase(k, v) for k in vals for v in values):
                return False
            continue
        g = getters.get(name)
        if g is None:
            raise ApiError('InvalidParameterValue', f'The filter \'{name}\' is invalid')
        actual = g(obj)
        actual = actual if isinstance(actual, list) else [actual]
        if not any(fnmatch.fnmatchcase(str(a).lower() if isinstance(a, bool) else str(a), v)
                   for a in actual for v in values):
            return False
    return True


def policy_check(doc):
    """Raise MalformedPolicyDocument unless doc is a plausible IAM policy."""
    try:
        d = json.loads(doc)
    except (TypeError, ValueError):
        raise ApiError('MalformedPolicyDocument', 'This policy contains invalid Json', 400)
    if not isinstance(d, dict) or 'Statement' not in d:
        raise ApiError('MalformedPolicyDocument', 'Syntax errors in policy.', 400)
    st = d['Statement']
    st = st if isinstance(st, list) else [st]
    for s in st:
        if not isinstance(s, dict) or s.get('Effect') not in ('Allow', 'Deny'):
            raise ApiError('MalformedPolicyDocument', 'Syntax errors in policy.', 400)
    return d


class Ctx:
    def __init__(self, service, region, cred, now):
        self.service = service
        self.region = region
        self.cred = cred
        self.account = cred['account'] if cred else None
        self.now = now


class State:
    def __init__(self, cfg, data=None):
        self.cfg = cfg
        self.eventual = {}            # account -> seconds of InvalidClientTokenId for new keys
        self.counters = {'operations': {}, 'create_account_in_flight': 0,
                         'create_account_peak_in_flight': 0, 'create_account_rejected_concurrent': 0,
                         'throttled': 0, 'injected_errors': 0, 'auth_failures': 0, 'calls': 0}
        self.create_failures = []    # list of {'reason', 'email_regex'}
        self.quota_policy = {'default': 'approve', 'overrides': {}}
        self.web_tokens = {}          # token -> subject
        self.ec2_optin_seconds = cfg.get('ec2_optin_seconds', 0.0)
        self.d = data or self._fresh()
        self._rebuild_index()

    # ------------------------------------------------------------------ setup
    def _fresh(self):
        mgmt = self.cfg.get('management_account_id') or self._new_account_id(set())
        org_id = 'o-' + _alnum_lower(10)
        root = 'r-' + _alnum_lower(4)
        d = {
            'org': {'Id': org_id, 'Arn': f'arn:{PARTITION}:organizations::{mgmt}:organization/{org_id}',
                    'FeatureSet': 'ALL', 'MasterAccountArn':
                        f'arn:{PARTITION}:organizations::{mgmt}:account/{org_id}/{mgmt}',
                    'MasterAccountId': mgmt, 'MasterAccountEmail': 'management@example.com',
                    'AvailablePolicyTypes': [], 'root': root},
            'accounts': {}, 'ous': {}, 'create_requests': [], 'creds': {}, 'iam': {},
            'support': {}, 'ec2': {}, 'quotas': {}, 'regions_opt': {}, 's3': {}, 'r53': {},
            'closures': [],
        }
        self.d = d
        now = time.time()
        d['accounts'][mgmt] = {
            'Id': mgmt, 'Arn': d['org']['MasterAccountArn'], 'Email': 'management@example.com',
            'Name': 'management', 'Status': 'ACTIVE', 'JoinedMethod': 'INVITED',
            'JoinedTimestamp': now, 'parent': root, 'tags': {}}
        self._iam(mgmt)
        u = self._create_user(mgmt, 'aao-operator', '/', [], now)
        u['attached'].append(f'arn:{PARTITION}:iam::aws:policy/AdministratorAccess')
        akid, secret = self._new_access_key(mgmt, u, now)
        d['bootstrap'] = {'access_key': akid, 'secret': secret}
        return d

    def _new_account_id(self, taken):
        while True:
            a = ''.join(random.choice(string.digits) for _ in range(12))
            if a[0] != '0' and a not in taken:
                return a

    @property
    def mgmt(self):
        return self.d['org']['MasterAccountId']

    @property
    def root(self):
        return self.d['org']['root']

    def _iam(self, acct):
        i = self.d['iam'].get(acct)
        if i is None:
            i = self.d['iam'][acct] = {'users': {}, 'roles': {}, 'policies': {}}
        return i

    def _create_user(self, acct, name, path, tags, now):
        u = {'UserName': name, 'Path': path or '/', 'UserId': 'AIDA' + _upper_alnum(17),
             'Arn': f'arn:{PARTITION}:iam::{acct}:user{path or "/"}{name}', 'CreateDate': now,
             'Tags': tags or [], 'attached': [], 'inline': {}, 'keys': []}
        self._iam(acct)['users'][name] = u
        return u

    def _new_access_key(self, acct, user, now):
        akid = 'AKIA' + _upper_alnum(16)
        secret = secrets.token_urlsafe(30)[:40]
        valid_after = now + self.eventual.get(acct, 0)
        self.d['creds'][akid] = {'secret': secret, 'account': acct, 'arn': user['Arn'],
                                 'user_id': user['UserId'], 'kind': 'user', 'user': user['UserName'],
                                 'token': None, 'expires': None, 'chained': False,
                                 'valid_after': valid_after, 'created': now, 'status': 'Active'}
        user['keys'].append(akid)
        return akid, secret

    def _new_session(self, acct, arn, user_id, kind, duration, now, chained=False):
        akid = 'ASIA' + _upper_alnum(16)
        secret = secrets.token_urlsafe(30)[:40]
        token = 'FwoGZXIvYXdzE' + secrets.token_urlsafe(96)
        self.d['creds'][akid] = {'secret': secret, 'account': acct, 'arn': arn, 'user_id': user_id,
                                 'kind': kind, 'token': token, 'expires': now + duration,
                                 'chained': chained, 'valid_after': now + self.eventual.get(acct, 0),
                                 'created': now, 'status': 'Active'}
        return {'AccessKeyId': akid, 'SecretAccessKey': secret, 'SessionToken': token,
                'Expiration': now + duration}

    def _bootstrap_member(self, acct, now):
        """Resources every freshly created member account has."""
        i = self._iam(acct)
        trust = json.dumps({'Version': '2012-10-17', 'Statement': [{
            'Effect': 'Allow', 'Principal': {'AWS': f'arn:{PARTITION}:iam::{self.mgmt}:root'},
            'Action': 'sts:AssumeRole'}]})
        i['roles']['OrganizationAccountAccessRole'] = self._role_obj(
            acct, 'OrganizationAccountAccessRole', '/', trust, '', 3600, [], now)
        i['roles']['OrganizationAccountAccessRole']['attached'].append(
            f'arn:{PARTITION}:iam::aws:policy/AdministratorAccess')

    def _role_obj(self, acct, name, path, trust, desc, max_sess, tags, now):
        return {'RoleName': name, 'Path': path or '/', 'RoleId': 'AROA' + _upper_alnum(17),
                'Arn': f'arn:{PARTITION}:iam::{acct}:role{path or "/"}{name}', 'CreateDate': now,
                'AssumeRolePolicyDocument': trust, 'Description': desc or None,
                'MaxSessionDuration': max_sess or 3600, 'Tags': tags or [], 'attached': [],
                'inline': {}}

    # ------------------------------------------------------------------ time
    # Time-driven transitions are kept in a heap of (due, seq, kind, refs) so a request
    # costs O(log n) however many accounts exist; the due times also live in the objects
    # themselves (_done_at, _resolve_at, ...) so a loaded state file can rebuild the heap.
    def schedule(self, due, kind, *refs):
        heapq.heappush(self.timers, (due, next(self._seq), kind, refs))

    def _rebuild_index(self):
        self.timers = []
        self._seq = itertools.count()
        self.pending_creates = set()
        self.car_index = {}
        self.emails = {a['Email'].lower() for a in self.d['accounts'].values()}
        for r in self.d['create_requests']:
            self.car_index[r['Id']] = r
            if r['State'] == 'IN_PROGRESS':
                self.pending_creates.add(r['Id'])
                self.schedule(r['_done_at'], 'car', r)
        for a in self.d['accounts'].values():
            if a['Status'] == 'PENDING_CLOSURE':
                self.schedule(a.get('_suspend_at', 0), 'close', a)
        for cases in self.d['support'].values():
            for c in cases.values():
                if c['status'] != 'resolved':
                    self.schedule(c['_resolve_at'], 'case', c)
        for regions in self.d['ec2'].values():
            for r in regions.values():
                for inst in r['instances'].values():
                    if inst['State']['Name'] == 'pending':
                        self.schedule(inst['_running_at'], 'inst', inst, r)
                    elif inst['State']['Name'] == 'shutting-down':
                        self.schedule(inst['_terminated_at'], 'inst', inst, r)
        for regions in self.d['quotas'].values():
            for q in regions.values():
                for req in q['requests']:
                    if req['Status'] == 'PENDING':
                        self.schedule(req['_decide_at'], 'quota', req, q)
        for regions in self.d['regions_opt'].values():
            for st in regions.values():
                if st['status'] in ('ENABLING', 'DISABLING'):
                    self.schedule(st['at'], 'region', st)

    def tick(self, now):
        """Advance every time-driven state machine whose time has come."""
        while self.timers and self.timers[0][0] <= now:
            _, _, kind, refs = heapq.heappop(self.timers)
            getattr(self, '_due_' + kind)(now, *refs)
        self.counters['create_account_in_flight'] = len(self.pending_creates)

    def _due_car(self, now, r):
        if r['State'] == 'IN_PROGRESS':
            self._finish_create(r, now)
        self.pending_creates.discard(r['Id'])

    def _due_close(self, now, a):
        if a['Status'] == 'PENDING_CLOSURE':
            a['Status'] = 'SUSPENDED'

    def _due_case(self, now, c):
        c['status'] = 'resolved'

    def _due_inst(self, now, inst, r):
        s = inst['State']['Name']
        if s == 'pending' and now >= inst['_running_at']:
            inst['State'] = {'Code': 16, 'Name': 'running'}
        elif s == 'shutting-down' and now >= inst['_terminated_at']:
            inst['State'] = {'Code': 48, 'Name': 'terminated'}
            for bdm in inst.get('BlockDeviceMappings', []):
                vid = bdm['Ebs']['VolumeId']
                v = r['volumes'].get(vid)
                if v is not None:
                    if bdm['Ebs'].get('DeleteOnTermination'):
                        del r['volumes'][vid]
                    else:
                        v['State'] = 'available'
                        v['Attachments'] = []

    def _due_quota(self, now, req, q):
        if req['Status'] != 'PENDING':
            return
        decision = self._quota_decision(req['ServiceCode'], req['QuotaCode'])
        if decision == 'approve':
            req['Status'] = 'APPROVED'
            q['values'][f"{req['ServiceCode']}/{req['QuotaCode']}"] = req['DesiredValue']
        elif decision == 'deny':
            req['Status'] = 'DENIED'
        else:   # stays pending: look again later (the policy may change)
            req['_decide_at'] = now + max(0.1, self.cfg['case_resolve_seconds'])
            self.schedule(req['_decide_at'], 'quota', req, q)
            return
        req['LastUpdated'] = now

    def _due_region(self, now, st):
        if st['status'] == 'ENABLING':
            st['status'] = 'ENABLED'
        elif st['status'] == 'DISABLING':
            st['status'] = 'DISABLED'

    def _quota_decision(self, svc, code):
        return self.quota_policy['overrides'].get(f'{svc}/{code}', self.quota_policy['default'])

    def _finish_create(self, r, now):
        r['CompletedTimestamp'] = now
        if r.get('_fail'):
            r['State'] = 'FAILED'
            r['FailureReason'] = r['_fail']
            return
        if r['Email'].lower() in self.emails:
            r['State'] = 'FAILED'
            r['FailureReason'] = 'EMAIL_ALREADY_EXISTS'
            return
        if len(self.d['accounts']) >= self.cfg.get('max_accounts', 1000):
            r['State'] = 'FAILED'
            r['FailureReason'] = 'ACCOUNT_LIMIT_EXCEEDED'
            return
        acct = self._new_account_id(set(self.d['accounts']))
        org = self.d['org']
        self.d['accounts'][acct] = {
            'Id': acct, 'Arn': f'arn:{PARTITION}:organizations::{self.mgmt}:account/{org["Id"]}/{acct}',
            'Email': r['Email'], 'Name': r['AccountName'], 'Status': 'ACTIVE', 'JoinedMethod': 'CREATED',
            'JoinedTimestamp': now, 'parent': self.root,
            'tags': {t['Key']: t['Value'] for t in r.get('_tags') or []}, '_created': now}
        self.emails.add(r['Email'].lower())
        self._bootstrap_member(acct, now)
        r['State'] = 'SUCCEEDED'
        r['AccountId'] = acct

    # ------------------------------------------------------------------ helpers
    def require_mgmt(self, ctx):
        if ctx.account != self.mgmt:
            raise ApiError('AccessDeniedException',
                           'You don\'t have permissions to access this resource.', 400)

    def caller_account_for(self, acct):
        return acct

    def ec2r(self, acct, region):
        a = self.d['ec2'].setdefault(acct, {})
        r = a.get(region)
        if r is None:
            r = a[region] = {'instances': {}, 'volumes': {}, 'snapshots': {}, 'vpce': {}}
        return r

    def region_status(self, acct, region):
        if region in DEFAULT_REGIONS:
            return 'ENABLED_BY_DEFAULT'
        st = self.d['regions_opt'].get(acct, {}).get(region)
        return st['status'] if st else 'DISABLED'

    def state_view(self):
        d = self.d
        return {
            'organization': {k: v for k, v in d['org'].items()},
            'root': self.root,
            'management_account_id': self.mgmt,
            'accounts': [{'Id': a['Id'], 'Name': a['Name'], 'Email': a['Email'], 'Status': a['Status'],
                          'parent': a['parent'], 'tags': a['tags']} for a in d['accounts'].values()],
            'organizational_units': [{'Id': o['Id'], 'Name': o['Name'], 'parent': o['parent']}
                                     for o in d['ous'].values()],
            'create_account_requests': [{k: v for k, v in r.items() if not k.startswith('_')}
                                        for r in d['create_requests']],
            'iam_users': {a: sorted(i['users']) for a, i in d['iam'].items()},
            'iam_roles': {a: sorted(i['roles']) for a, i in d['iam'].items()},
            'buckets': {b: {'owner': v['owner'], 'objects': len(v['objects'])} for b, v in d['s3'].items()},
            'hosted_zones': {a: sorted(z) for a, z in d['r53'].items()},
            'support_cases': {a: [{'caseId': c['caseId'], 'status': c['status']} for c in cs.values()]
                              for a, cs in d['support'].items()},
            'instances': {a: {r: {i: v['State']['Name'] for i, v in rr['instances'].items()}
                              for r, rr in regs.items() if rr['instances']}
                          for a, regs in d['ec2'].items()},
            'regions_opt': d['regions_opt'],
        }


# ======================================================================
# Handlers

HANDLERS = {}


def op(service, name):
    def deco(fn):
        HANDLERS[(service, name)] = fn
        return fn
    return deco


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
    return {'Roots': [{'Id': st.root, 'Arn': f'arn:{PARTITION}:organizations::{st.mgmt}:root/{o["Id"]}/{st.root}',
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
    o = {'Id': oid, 'Arn': f'arn:{PARTITION}:organizations::{st.mgmt}:ou/{st.d["org"]["Id"]}/{oid}',
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


# ---------------------------------------------------------------- STS
@op('sts', 'GetCallerIdentity')
def _gci(st, ctx, p):
    c = ctx.cred
    return {'UserId': c['user_id'], 'Account': c['account'], 'Arn': c['arn']}


def _trust_allows(doc, caller_arn, caller_acct, external_id, federated=False):
    try:
        d = json.loads(doc)
    except ValueError:
        return False, False
    sts_list = d.get('Statement', [])
    sts_list = sts_list if isinstance(sts_list, list) else [sts_list]
    ext_mismatch = False
    for s in sts_list:
        if s.get('Effect') != 'Allow':
            continue
        actions = s.get('Action', [])
        actions = actions if isinstance(actions, list) else [actions]
        want = 'sts:AssumeRoleWithWebIdentity' if federated else 'sts:AssumeRole'
        if not any(fnmatch.fnmatchcase(want, a) for a in actions):
            continue
        pr = s.get('Principal', {})
        if federated:
            ok = pr == '*' or 'Federated' in (pr if isinstance(pr, dict) else {})
        else:
            aws = pr.get('AWS', []) if isinstance(pr, dict) else ([] if pr != '*' else ['*'])
            aws = aws if isinstance(aws, list) else [aws]
            base_arn = caller_arn
            m = re.match(r'^arn:[^:]+:sts::(\d+):assumed-role/([^/]+)/', caller_arn)
            if m:
                base_arn = f'arn:{PARTITION}:iam::{m.group(1)}:role/{m.group(2)}'
            ok = any(x in ('*', caller_acct, f'arn:{PARTITION}:iam::{caller_acct}:root', caller_arn, base_arn)
                     for x in aws)
        if not ok:
            continue
        cond = s.get('Condition', {})
        want_ext = None
        for k in ('StringEquals', 'StringLike'):
            v = cond.get(k, {}).get('sts:ExternalId')
            if v is not None:
                want_ext = v if isinstance(v, list) else [v]
        if want_ext is not None and external_id not in want_ext:
            ext_mismatch = True
            continue
        return True, False
    return False, ext_mismatch


def _parse_role_arn(arn):
    m = re.match(r'^arn:aws[a-z-]*:iam::(\d{12}):role/(?:.*/)?([\w+=,.@-]+)$', arn or '')
    if not m:
        raise ApiError('ValidationError', f'{arn} is invalid', 400)
    return m.group(1), m.group(2)


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
    ok, _ = _trust_allows(role['AssumeRolePolicyDocument'], c['arn'], c['account'], ext)
    if not ok:
        raise denied
    chained = c['kind'] == 'role'
    if chained and dur > 3600:
        raise ApiError('ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit '
                       'for roles assumed by role chaining.')
    if dur > role['MaxSessionDuration']:
        raise ApiError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set '
                       'for this role.')
    arn = f'arn:{PARTITION}:sts::{acct}:assumed-role/{rname}/{name}'
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
    ok, _ = _trust_allows(role['AssumeRolePolicyDocument'], '', '', None, federated=True)
    if not ok:
        raise ApiError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', 403)
    if dur > role['MaxSessionDuration']:
        raise ApiError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set '
                       'for this role.')
    name = p['RoleSessionName']
    arn = f'arn:{PARTITION}:sts::{acct}:assumed-role/{rname}/{name}'
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
    arn = f'arn:{PARTITION}:sts::{c["account"]}:federated-user/{name}'
    uid = f'{c["account"]}:{name}'
    creds = st._new_session(c['account'], arn, uid, 'federated', dur, ctx.now)
    return {'Credentials': creds, 'FederatedUser': {'FederatedUserId': uid, 'Arn': arn},
            'PackedPolicySize': 0}


# ---------------------------------------------------------------- IAM
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
    m = re.match(r'^arn:aws:iam::aws:policy/(.+)$', arn)
    if m:
        if m.group(1) not in AWS_MANAGED_POLICIES:
            raise ApiError('NoSuchEntity', f'Policy {arn} does not exist or is not attachable.', 404)
        return None
    pol = st._iam(ctx.account)['policies'].get(arn)
    if pol is None:
        raise ApiError('NoSuchEntity', f'Policy {arn} does not exist or is not attachable.', 404)
    return pol


def _attachments(st, acct, arn):
    i = st._iam(acct)
    return sum(1 for x in list(i['users'].values()) + list(i['roles'].values()) if arn in x['attached'])


def _aws_policy_view(name, st, acct):
    base = name.split('/')[-1]
    return {'PolicyName': base, 'PolicyId': 'ANPA' + _det_hex(name, 17).upper(),
            'Arn': f'arn:aws:iam::aws:policy/{name}', 'Path': '/' + name[:-len(base)] if '/' in name else '/',
            'DefaultVersionId': 'v1', 'AttachmentCount': _attachments(st, acct, f'arn:aws:iam::aws:policy/{name}'),
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
    policy_check(p['AssumeRolePolicyDocument'])
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
    policy_check(p['PolicyDocument'])
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
    arn = f'arn:{PARTITION}:iam::{ctx.account}:policy{path}{p["PolicyName"]}'
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


# ---------------------------------------------------------------- Support
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


# ---------------------------------------------------------------- EC2
def _azs(region):
    return [f'{region}a', f'{region}b', f'{region}c']


def _check_region_enabled(st, ctx):
    if st.region_status(ctx.account, ctx.region) not in ('ENABLED', 'ENABLED_BY_DEFAULT'):
        raise ApiError('AuthFailure', 'AWS was not able to validate the provided access credentials', 401)


def _dry_run(p):
    if p.get('DryRun'):
        raise ApiError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412)


def _images(region):
    out = []
    for name, arch in IMAGE_NAMES:
        out.append({'ImageId': 'ami-' + _det_hex(region + name, 17), 'Name': name, 'OwnerId': AMI_OWNER,
                    'Architecture': arch, 'State': 'available', 'Public': True, 'ImageType': 'machine',
                    'CreationDate': '2023-05-03T12:00:00.000Z', 'RootDeviceType': 'ebs',
                    'RootDeviceName': '/dev/sda1', 'VirtualizationType': 'hvm', 'Hypervisor': 'xen',
                    'EnaSupport': True, 'PlatformDetails': 'Red Hat Enterprise Linux',
                    'UsageOperation': 'RunInstances:0010', 'ImageLocation': f'{AMI_OWNER}/{name}',
                    'ImageOwnerAlias': None,
                    'Description': f'Provided by Red Hat, Inc. ({name})',
                    'BlockDeviceMappings': [{'DeviceName': '/dev/sda1', 'Ebs': {
                        'DeleteOnTermination': True, 'SnapshotId': 'snap-' + _det_hex(region + name + 's', 17),
                        'VolumeSize': 10, 'VolumeType': 'gp2', 'Encrypted': False}}]})
    return out


_IMAGE_FILTERS = {'name': lambda i: i['Name'], 'architecture': lambda i: i['Architecture'],
                  'owner-id': lambda i: i['OwnerId'], 'state': lambda i: i['State'],
                  'image-id': lambda i: i['ImageId'], 'is-public': lambda i: 'true' if i['Public'] else 'false',
                  'image-type': lambda i: i['ImageType'], 'root-device-type': lambda i: i['RootDeviceType'],
                  'virtualization-type': lambda i: i['VirtualizationType']}


@op('ec2', 'DescribeRegions')
def _ec2_regions(st, ctx, p):
    _dry_run(p)
    out = []
    for r in ALL_REGIONS:
        status = st.region_status(ctx.account, r)
        enabled = status in ('ENABLED', 'ENABLED_BY_DEFAULT')
        if not enabled and not p.get('AllRegions'):
            continue
        opt = 'opt-in-not-required' if status == 'ENABLED_BY_DEFAULT' else \
            ('opted-in' if enabled else 'not-opted-in')
        reg = {'RegionName': r, 'Endpoint': f'ec2.{r}.amazonaws.com', 'OptInStatus': opt}
        if p.get('RegionNames') and r not in p['RegionNames']:
            continue
        if not match_filters(p.get('Filters'), {'region-name': lambda x: x['RegionName'],
                                                 'opt-in-status': lambda x: x['OptInStatus'],
                                                 'endpoint': lambda x: x['Endpoint']}, reg):
            continue
        out.append(reg)
    return {'Regions': out}


@op('ec2', 'DescribeImages')
def _ec2_images(st, ctx, p):
    _check_region_enabled(st, ctx)
    _dry_run(p)
    imgs = _images(ctx.region)
    owners = p.get('Owners')
    if owners:
        imgs = [i for i in imgs if i['OwnerId'] in owners or ('self' in owners and i['OwnerId'] == ctx.account)
                or ('amazon' in owners and False)]
    if p.get('ImageIds'):
        missing = [x for x in p['ImageIds'] if x not in {i['ImageId'] for i in imgs}]
        if missing:
            raise ApiError('InvalidAMIID.NotFound', f'The image id \'[{missing[0]}]\' does not exist')
        imgs = [i for i in imgs if i['ImageId'] in p['ImageIds']]
    imgs = [i for i in imgs if match_filters(p.get('Filters'), _IMAGE_FILTERS, i)]
    eu = p.get('ExecutableUsers')
    if eu and not all(x == 'all' or x == 'self' for x in eu):
        imgs = []
    return {'Images': imgs}


@op('ec2', 'DescribeInstanceTypes')
def _ec2_itypes(st, ctx, p):
    _check_region_enabled(st, ctx)
    _dry_run(p)
    names = p.get('InstanceTypes') or list(INSTANCE_TYPES)
    for n in names:
        if n not in INSTANCE_TYPES:
            raise ApiError('InvalidInstanceType', f'The following supplied instance types do not exist: [{n}]')
    items = [INSTANCE_TYPES[n] for n in names]
    items = [i for i in items if match_filters(p.get('Filters'), {
        'instance-type': lambda x: x['InstanceType'],
        'current-generation': lambda x: 'true' if x['CurrentGeneration'] else 'false',
        'processor-info.supported-architecture': lambda x: x['ProcessorInfo']['SupportedArchitectures']}, i)]
    return {'InstanceTypes': items}


def _tags_for(p, rtype):
    out = []
    for ts in p.get('TagSpecifications') or []:
        if ts.get('ResourceType') == rtype:
            out.extend(ts.get('Tags') or [])
    return out


@op('ec2', 'RunInstances')
def _ec2_run(st, ctx, p):
    _check_region_enabled(st, ctx)
    acct = st.d['accounts'].get(ctx.account)
    if acct and st.ec2_optin_seconds and ctx.now - acct.get('_created', 0) < st.ec2_optin_seconds:
        raise ApiError('OptInRequired', 'You are not subscribed to this service. Please go to '
                       'http://aws.amazon.com to subscribe.', 401)
    images = {i['ImageId']: i for i in _images(ctx.region)}
    if p['ImageId'] not in images:
        raise ApiError('InvalidAMIID.NotFound', f'The image id \'[{p["ImageId"]}]\' does not exist')
    itype = p.get('InstanceType') or 'm1.small'
    if itype not in INSTANCE_TYPES:
        raise ApiError('InvalidParameterValue', f'Invalid value \'{itype}\' for InstanceType.')
    if p['MinCount'] < 1 or p['MaxCount'] < p['MinCount']:
        raise ApiError('InvalidParameterValue', 'Invalid MinCount/MaxCount.')
    r = st.ec2r(ctx.account, ctx.region)
    running_vcpus = sum(INSTANCE_TYPES[i['InstanceType']]['VCpuInfo']['DefaultVCpus']
                        for i in r['instances'].values() if i['State']['Name'] in ('pending', 'running'))
    q = st.d['quotas'].get(ctx.account, {}).get(ctx.region, {}).get('values', {})
    limit = q.get('ec2/L-1216C47A', QUOTAS[('ec2', 'L-1216C47A')][2])
    need = INSTANCE_TYPES[itype]['VCpuInfo']['DefaultVCpus'] * p['MinCount']
    if running_vcpus + need > limit:
        raise ApiError('VcpuLimitExceeded', f'You have requested more vCPU capacity than your current vCPU limit '
                       f'of {int(limit)} allows for the instance bucket that the specified instance type belongs to.')
    _dry_run(p)
    count = p['MaxCount'] if running_vcpus + INSTANCE_TYPES[itype]['VCpuInfo']['DefaultVCpus'] * p['MaxCount'] \
        <= limit else p['MinCount']
    az = (p.get('Placement') or {}).get('AvailabilityZone') or _azs(ctx.region)[0]
    itags = _tags_for(p, 'instance')
    vtags = _tags_for(p, 'volume')
    instances = []
    for n in range(count):
        iid = 'i-' + _hex(17)
        bdms = []
        for bdm in p.get('BlockDeviceMappings') or [{'DeviceName': '/dev/sda1', 'Ebs': {}}]:
            ebs = bdm.get('Ebs') or {}
            vid = 'vol-' + _hex(17)
            r['volumes'][vid] = {'VolumeId': vid, 'Size': ebs.get('VolumeSize') or 10,
                                 'AvailabilityZone': az, 'State': 'in-use', 'CreateTime': ctx.now,
                                 'VolumeType': ebs.get('VolumeType') or 'gp2',
                                 'Encrypted': bool(ebs.get('Encrypted')), 'KmsKeyId': ebs.get('KmsKeyId'),
                                 'Tags': list(vtags) or None, 'Iops': 100,
                                 'Attachments': [{'AttachTime': ctx.now, 'Device': bdm.get('DeviceName'),
                                                  'InstanceId': iid, 'State': 'attached', 'VolumeId': vid,
                                                  'DeleteOnTermination': ebs.get('DeleteOnTermination', True)}]}
            bdms.append({'DeviceName': bdm.get('DeviceName'), 'Ebs': {
                'AttachTime': ctx.now, 'DeleteOnTermination': ebs.get('DeleteOnTermination', True),
                'Status': 'attached', 'VolumeId': vid}})
        inst = {'InstanceId': iid, 'ImageId': p['ImageId'], 'InstanceType': itype, 'AmiLaunchIndex': n,
                'State': {'Code': 0, 'Name': 'pending'}, 'LaunchTime': ctx.now,
                'Placement': {'AvailabilityZone': az, 'Tenancy': 'default'},
                'PrivateDnsName': f'ip-10-0-0-{n + 10}.ec2.internal', 'PrivateIpAddress': f'10.0.0.{n + 10}',
                'Architecture': images[p['ImageId']]['Architecture'], 'RootDeviceType': 'ebs',
                'RootDeviceName': '/dev/sda1', 'BlockDeviceMappings': bdms, 'Tags': list(itags) or None,
                'VirtualizationType': 'hvm', 'Hypervisor': 'xen', 'EbsOptimized': False,
                'Monitoring': {'State': 'disabled'}, 'StateReason': None,
                '_running_at': ctx.now + st.cfg['instance_running_seconds'], '_reservation': None}
        instances.append(inst)
    rid = 'r-' + _hex(17)
    for inst in instances:
        inst['_reservation'] = rid
        r['instances'][inst['InstanceId']] = inst
        st.schedule(inst['_running_at'], 'inst', inst, r)
    return {'ReservationId': rid, 'OwnerId': ctx.account, 'Groups': [], 'Instances': instances}


_INST_FILTERS = {'instance-state-name': lambda i: i['State']['Name'],
                 'instance-state-code': lambda i: str(i['State']['Code']),
                 'instance-type': lambda i: i['InstanceType'], 'instance-id': lambda i: i['InstanceId'],
                 'image-id': lambda i: i['ImageId'], 'availability-zone': lambda i: i['Placement']['AvailabilityZone']}


def _find_instances(st, ctx, ids):
    r = st.ec2r(ctx.account, ctx.region)
    for i in ids or []:
        if i not in r['instances']:
            raise ApiError('InvalidInstanceID.NotFound', f'The instance ID \'{i}\' does not exist')
    return r


@op('ec2', 'DescribeInstances')
def _ec2_desc_instances(st, ctx, p):
    _check_region_enabled(st, ctx)
    _dry_run(p)
    r = _find_instances(st, ctx, p.get('InstanceIds'))
    insts = [i for i in r['instances'].values()
             if (not p.get('InstanceIds') or i['InstanceId'] in p['InstanceIds'])
             and match_filters(p.get('Filters'), _INST_FILTERS, i)]
    byres = {}
    for i in insts:
        byres.setdefault(i['_reservation'], []).append(i)
    res = [{'ReservationId': k, 'OwnerId': ctx.account, 'Groups': [], 'Instances': v} for k, v in byres.items()]
    page, nxt = paginate(res, p.get('NextToken'), p.get('MaxResults'), 1000, code='InvalidParameterValue')
    return {'Reservations': page, 'NextToken': nxt}


@op('ec2', 'DescribeInstanceStatus')
def _ec2_inst_status(st, ctx, p):
    _check_region_enabled(st, ctx)
    _dry_run(p)
    r = _find_instances(st, ctx, p.get('InstanceIds'))
    out = []
    for i in r['instances'].values():
        if p.get('InstanceIds') and i['InstanceId'] not in p['InstanceIds']:
            continue
        if i['State']['Name'] != 'running' and not p.get('IncludeAllInstances'):
            continue
        if not match_filters(p.get('Filters'), {'instance-state-name': lambda x: x['State']['Name'],
                                                 'instance-state-code': lambda x: str(x['State']['Code'])}, i):
            continue
        ok = 'ok' if i['State']['Name'] == 'running' else 'not-applicable'
        out.append({'InstanceId': i['InstanceId'], 'AvailabilityZone': i['Placement']['AvailabilityZone'],
                    'InstanceState': i['State'],
                    'InstanceStatus': {'Status': ok, 'Details': [{'Name': 'reachability', 'Status': 'passed'}]},
                    'SystemStatus': {'Status': ok, 'Details': [{'Name': 'reachability', 'Status': 'passed'}]}})
    page, nxt = paginate(out, p.get('NextToken'), p.get('MaxResults'), 1000, code='InvalidParameterValue')
    return {'InstanceStatuses': page, 'NextToken': nxt}


@op('ec2', 'TerminateInstances')
def _ec2_terminate(st, ctx, p):
    _check_region_enabled(st, ctx)
    r = _find_instances(st, ctx, p['InstanceIds'])
    _dry_run(p)
    out = []
    for iid in p['InstanceIds']:
        i = r['instances'][iid]
        prev = dict(i['State'])
        if prev['Name'] not in ('terminated', 'shutting-down'):
            i['State'] = {'Code': 32, 'Name': 'shutting-down'}
            i['_terminated_at'] = ctx.now + st.cfg['instance_running_seconds']
            st.schedule(i['_terminated_at'], 'inst', i, r)
        out.append({'InstanceId': iid, 'CurrentState': dict(i['State']), 'PreviousState': prev})
    return {'TerminatingInstances': out}


_VOL_FILTERS = {'status': lambda v: v['State'], 'volume-id': lambda v: v['VolumeId'],
                'availability-zone': lambda v: v['AvailabilityZone'],
                'attachment.instance-id': lambda v: [a['InstanceId'] for a in v.get('Attachments') or []]}


@op('ec2', 'DescribeVolumes')
def _ec2_volumes(st, ctx, p):
    _check_region_enabled(st, ctx)
    _dry_run(p)
    r = st.ec2r(ctx.account, ctx.region)
    for v in p.get('VolumeIds') or []:
        if v not in r['volumes']:
            raise ApiError('InvalidVolume.NotFound', f'The volume \'{v}\' does not exist.')
    vols = [v for v in r['volumes'].values() if (not p.get('VolumeIds') or v['VolumeId'] in p['VolumeIds'])
            and match_filters(p.get('Filters'), _VOL_FILTERS, v)]
    page, nxt = paginate(vols, p.get('NextToken'), p.get('MaxResults'), 1000, code='InvalidParameterValue')
    return {'Volumes': page, 'NextToken': nxt}


@op('ec2', 'CreateVolume')
def _ec2_create_volume(st, ctx, p):
    _check_region_enabled(st, ctx)
    _dry_run(p)
    r = st.ec2r(ctx.account, ctx.region)
    vid = 'vol-' + _hex(17)
    v = {'VolumeId': vid, 'Size': p.get('Size') or 8, 'AvailabilityZone': p['AvailabilityZone'],
         'State': 'available', 'CreateTime': ctx.now, 'VolumeType': p.get('VolumeType') or 'gp2',
         'Encrypted': bool(p.get('Encrypted')), 'Tags': _tags_for(p, 'volume') or None, 'Attachments': [],
         'Iops': 100}
    r['volumes'][vid] = v
    return dict(v)


@op('ec2', 'DeleteVolume')
def _ec2_delete_volume(st, ctx, p):
    _check_region_enabled(st, ctx)
    r = st.ec2r(ctx.account, ctx.region)
    v = r['volumes'].get(p['VolumeId'])
    if v is None:
        raise ApiError('InvalidVolume.NotFound', f'The volume \'{p["VolumeId"]}\' does not exist.')
    _dry_run(p)
    if v['State'] == 'in-use':
        raise ApiError('VolumeInUse', f'Volume {p["VolumeId"]} is currently attached to '
                       f'{v["Attachments"][0]["InstanceId"]}')
    del r['volumes'][p['VolumeId']]
    return {}


@op('ec2', 'CreateSnapshot')
def _ec2_create_snapshot(st, ctx, p):
    _check_region_enabled(st, ctx)
    _dry_run(p)
    r = st.ec2r(ctx.account, ctx.region)
    v = r['volumes'].get(p['VolumeId'])
    if v is None:
        raise ApiError('InvalidVolume.NotFound', f'The volume \'{p["VolumeId"]}\' does not exist.')
    sid = 'snap-' + _hex(17)
    s = {'SnapshotId': sid, 'VolumeId': v['VolumeId'], 'VolumeSize': v['Size'], 'State': 'completed',
         'StartTime': ctx.now, 'Progress': '100%', 'OwnerId': ctx.account, 'Description': p.get('Description', ''),
         'Encrypted': v['Encrypted'], 'Tags': _tags_for(p, 'snapshot') or None, 'StorageTier': 'standard'}
    r['snapshots'][sid] = s
    return dict(s)


@op('ec2', 'DescribeSnapshots')
def _ec2_snapshots(st, ctx, p):
    _check_region_enabled(st, ctx)
    _dry_run(p)
    r = st.ec2r(ctx.account, ctx.region)
    owners = p.get('OwnerIds')
    snaps = list(r['snapshots'].values())
    if owners and not any(o in ('self', ctx.account) for o in owners):
        snaps = []
    for s in p.get('SnapshotIds') or []:
        if s not in r['snapshots']:
            raise ApiError('InvalidSnapshot.NotFound', f'The snapshot \'{s}\' does not exist.')
    snaps = [s for s in snaps if (not p.get('SnapshotIds') or s['SnapshotId'] in p['SnapshotIds'])
             and match_filters(p.get('Filters'), {'snapshot-id': lambda x: x['SnapshotId'],
                                                  'volume-id': lambda x: x['VolumeId'],
                                                  'status': lambda x: x['State'],
                                                  'owner-id': lambda x: x['OwnerId']}, s)]
    page, nxt = paginate(snaps, p.get('NextToken'), p.get('MaxResults'), 1000, code='InvalidParameterValue')
    return {'Snapshots': page, 'NextToken': nxt}


@op('ec2', 'DeleteSnapshot')
def _ec2_delete_snapshot(st, ctx, p):
    _check_region_enabled(st, ctx)
    r = st.ec2r(ctx.account, ctx.region)
    if p['SnapshotId'] not in r['snapshots']:
        raise ApiError('InvalidSnapshot.NotFound', f'The snapshot \'{p["SnapshotId"]}\' does not exist.')
    _dry_run(p)
    del r['snapshots'][p['SnapshotId']]
    return {}


@op('ec2', 'CreateVpcEndpointServiceConfiguration')
def _ec2_create_vpce(st, ctx, p):
    _check_region_enabled(st, ctx)
    _dry_run(p)
    r = st.ec2r(ctx.account, ctx.region)
    sid = 'vpce-svc-' + _hex(17)
    s = {'ServiceType': [{'ServiceType': 'Interface'}], 'ServiceId': sid,
         'ServiceName': f'com.amazonaws.vpce.{ctx.region}.{sid}', 'ServiceState': 'Available',
         'AvailabilityZones': _azs(ctx.region), 'AcceptanceRequired': bool(p.get('AcceptanceRequired')),
         'ManagesVpcEndpoints': False, 'NetworkLoadBalancerArns': p.get('NetworkLoadBalancerArns') or [],
         'BaseEndpointDnsNames': [f'{sid}.{ctx.region}.vpce.amazonaws.com'],
         'Tags': _tags_for(p, 'vpc-endpoint-service') or None}
    r['vpce'][sid] = s
    return {'ServiceConfiguration': s}


@op('ec2', 'DescribeVpcEndpointServiceConfigurations')
def _ec2_desc_vpce(st, ctx, p):
    _check_region_enabled(st, ctx)
    _dry_run(p)
    r = st.ec2r(ctx.account, ctx.region)
    for s in p.get('ServiceIds') or []:
        if s not in r['vpce']:
            raise ApiError('InvalidVpcEndpointServiceId.NotFound', f'The Vpc Endpoint Service Id \'{s}\' does '
                           'not exist')
    items = [s for s in r['vpce'].values() if not p.get('ServiceIds') or s['ServiceId'] in p['ServiceIds']]
    page, nxt = paginate(items, p.get('NextToken'), p.get('MaxResults'), 1000, code='InvalidParameterValue')
    return {'ServiceConfigurations': page, 'NextToken': nxt}


@op('ec2', 'DeleteVpcEndpointServiceConfigurations')
def _ec2_delete_vpce(st, ctx, p):
    _check_region_enabled(st, ctx)
    _dry_run(p)
    r = st.ec2r(ctx.account, ctx.region)
    bad = []
    for s in p['ServiceIds']:
        if s in r['vpce']:
            del r['vpce'][s]
        else:
            bad.append({'ResourceId': s, 'Error': {'Code': 'InvalidVpcEndpointService.NotFound',
                                                   'Message': f'The VpcEndpointService Id \'{s}\' does not exist'}})
    return {'Unsuccessful': bad}


# ---------------------------------------------------------------- Service Quotas
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
                      'QuotaArn': f'arn:{PARTITION}:servicequotas:{ctx.region}:{ctx.account}:'
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
         'QuotaArn': f'arn:{PARTITION}:servicequotas:{ctx.region}:{ctx.account}:{p["ServiceCode"]}/{p["QuotaCode"]}',
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


# ---------------------------------------------------------------- Account (hand-written ops)
def account_target(st, ctx, p):
    aid = p.get('AccountId')
    if aid is None or aid == ctx.account:
        return ctx.account
    if not re.match(r'^\d{12}$', aid):
        raise ApiError('ValidationException', 'Invalid AccountId.', 400,
                       extra={'reason': 'fieldValidationFailed'})
    if ctx.account != st.mgmt or aid not in st.d['accounts']:
        raise ApiError('AccessDeniedException', 'User is not authorized to perform this operation on the '
                       'specified account.', 403)
    return aid


def validate_region_body(p):
    if not isinstance(p, dict):
        raise ApiError('ValidationException', 'Invalid request body.', 400)
    unknown = set(p) - {'RegionName', 'AccountId'}
    if unknown:
        raise ApiError('ValidationException', f'Unknown parameter(s): {", ".join(sorted(unknown))}', 400)
    rn = p.get('RegionName')
    if not isinstance(rn, str) or not 1 <= len(rn) <= 50:
        raise ApiError('ValidationException', '1 validation error detected: Value null at \'regionName\' '
                       'failed to satisfy constraint: Member must not be null', 400,
                       extra={'reason': 'fieldValidationFailed'})
    if 'AccountId' in p and not isinstance(p['AccountId'], str):
        raise ApiError('ValidationException', 'AccountId must be a string.', 400)
    if rn not in ALL_REGIONS:
        raise ApiError('ValidationException', f'The region {rn} is not a valid region.', 400,
                       extra={'reason': 'invalidRegionOptTarget'})


@op('account', 'GetRegionOptStatus')
def _acct_get_region(st, ctx, p):
    validate_region_body(p)
    acct = account_target(st, ctx, p)
    return {'RegionName': p['RegionName'], 'RegionOptStatus': st.region_status(acct, p['RegionName'])}


@op('account', 'EnableRegion')
def _acct_enable_region(st, ctx, p):
    validate_region_body(p)
    acct = account_target(st, ctx, p)
    cur = st.region_status(acct, p['RegionName'])
    if cur == 'ENABLED_BY_DEFAULT':
        raise ApiError('ValidationException', f'The region {p["RegionName"]} is enabled by default and cannot '
                       'be enabled or disabled.', 400, extra={'reason': 'invalidRegionOptTarget'})
    if cur in ('ENABLING', 'DISABLING'):
        raise ApiError('ConflictException', f'The request failed because the region {p["RegionName"]} is '
                       f'currently {cur.lower()}.', 409)
    if cur == 'ENABLED':
        return {}
    ent = st.d['regions_opt'].setdefault(acct, {})[p['RegionName']] = {
        'status': 'ENABLING', 'at': ctx.now + st.cfg['region_enable_seconds']}
    st.schedule(ent['at'], 'region', ent)
    return {}


# ---------------------------------------------------------------- S3
def _bucket(st, ctx, name, own=True):
    b = st.d['s3'].get(name)
    if b is None or (own and b['owner'] != ctx.account):
        if b is not None:
            raise ApiError('AccessDenied', 'Access Denied', 403)
        raise ApiError('NoSuchBucket', 'The specified bucket does not exist', 404, extra={'BucketName': name})
    return b


@op('s3', 'ListBuckets')
def _s3_list_buckets(st, ctx, p):
    bs = [{'Name': n, 'CreationDate': b['created']} for n, b in sorted(st.d['s3'].items())
          if b['owner'] == ctx.account]
    return {'Buckets': bs, 'Owner': {'DisplayName': f'owner-{ctx.account}', 'ID': _det_hex(ctx.account, 64)}}


@op('s3', 'CreateBucket')
def _s3_create_bucket(st, ctx, p):
    name = p['Bucket']
    if not re.match(r'^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', name) or '..' in name:
        raise ApiError('InvalidBucketName', 'The specified bucket is not valid.', 400, extra={'BucketName': name})
    loc = ((p.get('CreateBucketConfiguration') or {}).get('LocationConstraint')) or 'us-east-1'
    if loc != ctx.region and not (loc == 'us-east-1' and ctx.region == 'us-east-1'):
        raise ApiError('IllegalLocationConstraintException',
                       f'The {loc} location constraint is incompatible for the region specific endpoint this '
                       'request was sent to.', 400)
    b = st.d['s3'].get(name)
    if b is not None:
        if b['owner'] == ctx.account:
            raise ApiError('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket '
                           'succeeded and you already own it.', 409, extra={'BucketName': name})
        raise ApiError('BucketAlreadyExists', 'The requested bucket name is not available.', 409,
                       extra={'BucketName': name})
    st.d['s3'][name] = {'owner': ctx.account, 'region': loc, 'created': ctx.now, 'objects': {}}
    return {'Location': f'/{name}'}


@op('s3', 'HeadBucket')
def _s3_head_bucket(st, ctx, p):
    _bucket(st, ctx, p['Bucket'])
    return {}


@op('s3', 'DeleteBucket')
def _s3_delete_bucket(st, ctx, p):
    b = _bucket(st, ctx, p['Bucket'])
    if b['objects']:
        raise ApiError('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409,
                       extra={'BucketName': p['Bucket']})
    del st.d['s3'][p['Bucket']]
    return {}


@op('s3', 'PutObject')
def _s3_put(st, ctx, p):
    b = _bucket(st, ctx, p['Bucket'])
    body = p.get('Body') or b''
    if isinstance(body, str):
        body = body.encode()
    etag = '"' + hashlib.md5(body).hexdigest() + '"'
    b['objects'][p['Key']] = {'body': base64.b64encode(body).decode(), 'size': len(body), 'etag': etag,
                              'mtime': ctx.now, 'ctype': p.get('ContentType') or 'binary/octet-stream'}
    return {'ETag': etag}


@op('s3', 'GetObject')
def _s3_get(st, ctx, p):
    b = _bucket(st, ctx, p['Bucket'])
    o = b['objects'].get(p['Key'])
    if o is None:
        raise ApiError('NoSuchKey', 'The specified key does not exist.', 404, extra={'Key': p['Key']})
    return {'Body': base64.b64decode(o['body']), 'ETag': o['etag'], 'ContentLength': o['size'],
            'LastModified': o['mtime'], 'ContentType': o['ctype']}


@op('s3', 'DeleteObject')
def _s3_delete_object(st, ctx, p):
    b = _bucket(st, ctx, p['Bucket'])
    b['objects'].pop(p['Key'], None)
    return {}


@op('s3', 'ListObjectsV2')
def _s3_list_v2(st, ctx, p):
    b = _bucket(st, ctx, p['Bucket'])
    prefix = p.get('Prefix') or ''
    keys = sorted(k for k in b['objects'] if k.startswith(prefix))
    start_after = p.get('StartAfter')
    if p.get('ContinuationToken'):
        try:
            start_after = base64.b64decode(p['ContinuationToken']).decode()
        except Exception:
            raise ApiError('InvalidArgument', 'The continuation token provided is incorrect', 400,
                           extra={'ArgumentName': 'continuation-token'})
    if start_after:
        keys = [k for k in keys if k > start_after]
    mk = p.get('MaxKeys')
    mk = 1000 if mk is None else min(mk, 1000)
    page = keys[:mk]
    truncated = len(keys) > mk
    out = {'IsTruncated': truncated, 'Name': p['Bucket'], 'Prefix': prefix, 'MaxKeys': mk,
           'KeyCount': len(page), 'ContinuationToken': p.get('ContinuationToken'),
           'StartAfter': p.get('StartAfter'),
           'Contents': [{'Key': k, 'LastModified': b['objects'][k]['mtime'], 'ETag': b['objects'][k]['etag'],
                         'Size': b['objects'][k]['size'], 'StorageClass': 'STANDARD'} for k in page] or None}
    if truncated:
        out['NextContinuationToken'] = base64.b64encode(page[-1].encode()).decode()
    return out


@op('s3', 'DeleteObjects')
def _s3_delete_objects(st, ctx, p):
    b = _bucket(st, ctx, p['Bucket'])
    objs = p['Delete'].get('Objects') or []
    if len(objs) > 1000:
        raise ApiError('MalformedXML', 'The XML you provided was not well-formed or did not validate against '
                       'our published schema', 400)
    deleted = []
    for o in objs:
        b['objects'].pop(o['Key'], None)
        deleted.append({'Key': o['Key']})
    return {'Deleted': None if p['Delete'].get('Quiet') else deleted}


# ---------------------------------------------------------------- Route 53
def _zone(st, ctx, zid):
    zid = zid.split('/')[-1]
    z = st.d['r53'].get(ctx.account, {}).get(zid)
    if z is None:
        raise ApiError('NoSuchHostedZone', f'No hosted zone found with ID: {zid}', 404)
    return z


def _zone_view(z):
    return {'Id': '/hostedzone/' + z['zid'], 'Name': z['Name'], 'CallerReference': z['CallerReference'],
            'Config': z['Config'], 'ResourceRecordSetCount': len(z['records'])}


def _change_info(ctx):
    return {'Id': '/change/C' + _upper_alnum(13), 'Status': 'INSYNC', 'SubmittedAt': ctx.now}


@op('route53', 'CreateHostedZone')
def _r53_create(st, ctx, p):
    zones = st.d['r53'].setdefault(ctx.account, {})
    for z in zones.values():
        if z['CallerReference'] == p['CallerReference']:
            raise ApiError('HostedZoneAlreadyExists', 'A hosted zone has already been created with the specified '
                           'caller reference.', 409)
    name = p['Name'] if p['Name'].endswith('.') else p['Name'] + '.'
    zid = 'Z' + _upper_alnum(20)
    ns = [f'ns-{random.randint(1, 2000)}.awsdns-{random.randint(10, 60)}.{tld}' for tld in ('com', 'net', 'org',
                                                                                              'co.uk')]
    cfg = p.get('HostedZoneConfig') or {}
    z = {'zid': zid, 'Name': name, 'CallerReference': p['CallerReference'],
         'Config': {'Comment': cfg.get('Comment'), 'PrivateZone': bool(cfg.get('PrivateZone') or p.get('VPC'))},
         'records': [
             {'Name': name, 'Type': 'NS', 'TTL': 172800, 'ResourceRecords': [{'Value': n + '.'} for n in ns]},
             {'Name': name, 'Type': 'SOA', 'TTL': 900, 'ResourceRecords': [{'Value': f'{ns[0]}. awsdns-hostmaster.'
                                                                           'amazon.com. 1 7200 900 1209600 86400'}]}],
         'ns': ns}
    zones[zid] = z
    return {'HostedZone': _zone_view(z), 'ChangeInfo': _change_info(ctx),
            'DelegationSet': {'NameServers': ns}, 'Location': f'https://route53.amazonaws.com/2013-04-01/hostedzone/{zid}'}


@op('route53', 'GetHostedZone')
def _r53_get(st, ctx, p):
    z = _zone(st, ctx, p['Id'])
    return {'HostedZone': _zone_view(z), 'DelegationSet': {'NameServers': z['ns']}}


@op('route53', 'ListHostedZones')
def _r53_list(st, ctx, p):
    zones = sorted(st.d['r53'].get(ctx.account, {}).values(), key=lambda z: z['zid'])
    mi = int(p.get('MaxItems') or 100)
    start = 0
    if p.get('Marker'):
        ids = [z['zid'] for z in zones]
        if p['Marker'] not in ids:
            raise ApiError('InvalidInput', 'Invalid marker.', 400)
        start = ids.index(p['Marker'])
    page = zones[start:start + mi]
    out = {'HostedZones': [_zone_view(z) for z in page], 'IsTruncated': start + mi < len(zones),
           'MaxItems': str(mi), 'Marker': p.get('Marker')}
    if out['IsTruncated']:
        out['NextMarker'] = zones[start + mi]['zid']
    return out


@op('route53', 'ListResourceRecordSets')
def _r53_list_rr(st, ctx, p):
    z = _zone(st, ctx, p['HostedZoneId'])
    recs = sorted(z['records'], key=lambda r: (r['Name'], r['Type']))
    if p.get('StartRecordName'):
        srn = p['StartRecordName'] if p['StartRecordName'].endswith('.') else p['StartRecordName'] + '.'
        recs = [r for r in recs if (r['Name'], r['Type']) >= (srn, p.get('StartRecordType') or '')]
    mi = int(p.get('MaxItems') or 300)
    page = recs[:mi]
    out = {'ResourceRecordSets': page, 'IsTruncated': len(recs) > mi, 'MaxItems': str(mi)}
    if len(recs) > mi:
        out['NextRecordName'] = recs[mi]['Name']
        out['NextRecordType'] = recs[mi]['Type']
    return out


@op('route53', 'ChangeResourceRecordSets')
def _r53_change(st, ctx, p):
    z = _zone(st, ctx, p['HostedZoneId'])
    recs = [dict(r) for r in z['records']]
    errors = []
    for ch in p['ChangeBatch']['Changes']:
        rr = dict(ch['ResourceRecordSet'])
        if not rr['Name'].endswith('.'):
            rr['Name'] += '.'
        key = (rr['Name'], rr['Type'])
        idx = next((i for i, r in enumerate(recs) if (r['Name'], r['Type']) == key), None)
        if not rr['Name'].endswith(z['Name']):
            errors.append(f'RRSet with DNS name {rr["Name"]} is not permitted in zone {z["Name"]}')
            continue
        if ch['Action'] == 'CREATE':
            if idx is not None:
                errors.append(f'Tried to create resource record set [name=\'{rr["Name"]}\', type=\'{rr["Type"]}\'] '
                              'but it already exists')
            else:
                recs.append(rr)
        elif ch['Action'] == 'DELETE':
            if idx is None:
                errors.append(f'Tried to delete resource record set [name=\'{rr["Name"]}\', type=\'{rr["Type"]}\'] '
                              'but it was not found')
            elif rr['Name'] == z['Name'] and rr['Type'] in ('SOA', 'NS'):
                errors.append('A HostedZone must contain exactly one SOA record and at least one NS record at '
                              'the apex.')
            else:
                recs.pop(idx)
        else:
            if idx is None:
                recs.append(rr)
            else:
                recs[idx] = rr
    if errors:
        raise ApiError('InvalidChangeBatch', f'[{", ".join(errors)}]', 400)
    z['records'] = recs
    return {'ChangeInfo': _change_info(ctx)}


@op('route53', 'GetChange')
def _r53_get_change(st, ctx, p):
    return {'ChangeInfo': {'Id': '/change/' + p['Id'].split('/')[-1], 'Status': 'INSYNC', 'SubmittedAt': ctx.now}}


@op('route53', 'DeleteHostedZone')
def _r53_delete(st, ctx, p):
    z = _zone(st, ctx, p['Id'])
    if any(not (r['Name'] == z['Name'] and r['Type'] in ('SOA', 'NS')) for r in z['records']):
        raise ApiError('HostedZoneNotEmpty', 'The specified hosted zone contains non-required resource record '
                       'sets and so cannot be deleted.', 400)
    del st.d['r53'][ctx.account][z['zid']]
    return {'ChangeInfo': _change_info(ctx)}
