"""State of the AWS stand-in: every account's resources (one State object,
a JSON-serialisable dict plus indexes), the time-driven transitions
(account creation, support cases, instances, quota requests, region
opt-in) and the helpers the service handlers share (pagination, EC2
filters, policy checks). All times are epoch floats; callers hold the
server lock while calling into State."""

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

from .protocol import ApiError


# The partition served; set once at start by set_partition() (--partition). Modules read
# it as state.PARTITION at call time, never copy it.
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
GOV_REGIONS = ['us-gov-west-1', 'us-gov-east-1']

AWS_MANAGED_POLICIES = [
    'AdministratorAccess', 'ReadOnlyAccess', 'PowerUserAccess', 'IAMFullAccess',
    'AmazonEC2FullAccess', 'AmazonS3FullAccess', 'AmazonRoute53FullAccess',
    'AWSSupportAccess', 'ServiceQuotasFullAccess', 'AWSOrganizationsFullAccess',
    'AmazonEC2ReadOnlyAccess', 'AmazonS3ReadOnlyAccess', 'job-function/Billing',
    'job-function/ViewOnlyAccess',
    # the stock AWSFederatedRoles' (deploy/examples/awsfederatedrole-*.yaml)
    'AWSAccountUsageReportAccess', 'IAMReadOnlyAccess', 'CloudWatchReadOnlyAccess',
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

def set_partition(name):
    """Serve 'aws' (default) or 'aws-us-gov'. The region lists are changed in place because
    service modules imported them by name."""
    global PARTITION
    if name not in ('aws', 'aws-us-gov'):
        raise ValueError(f'unsupported partition {name}')
    PARTITION = name
    if name == 'aws-us-gov':
        DEFAULT_REGIONS[:] = GOV_REGIONS
        OPT_IN_REGIONS[:] = []
        ALL_REGIONS[:] = GOV_REGIONS


def region_in_partition(region):
    """Whether credentials of the served partition can sign for region (GovCloud keys only
    work in us-gov-*, commercial keys never there)."""
    return region.startswith('us-gov-') == (PARTITION == 'aws-us-gov')


def arn_partition_ok(arn):
    """False for an ARN of another partition (arn:aws:... given to GovCloud and vice versa)."""
    return not isinstance(arn, str) or not arn.startswith('arn:') or arn.split(':', 2)[1] == PARTITION


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
        self.issued = {}              # access key id -> its secrets, kept after the key is deleted
        self.counters = {'operations': {}, 'create_account_in_flight': 0,
                         'create_account_peak_in_flight': 0, 'create_account_rejected_concurrent': 0,
                         'throttled': 0, 'injected_errors': 0, 'auth_failures': 0, 'calls': 0}
        self.create_failures = []    # list of {'reason', 'email_regex'}
        self.quota_policy = {'default': 'approve', 'overrides': {}}
        self.web_tokens = {}          # token -> subject
        self.ec2_optin_seconds = cfg.get('ec2_optin_seconds', 0.0)
        self.d = data or self._fresh()
        self.d.setdefault('standalone', {})
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
            'closures': [], 'standalone': {},
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

    def eventual_seconds(self, acct):
        """The eventual-consistency window for new credentials in acct: its own, else the one
        set for every account ('*'), which also covers accounts created later."""
        return self.eventual.get(acct, self.eventual.get('*', 0))

    def issued_secrets(self):
        """Every secret access key and session token minted so far."""
        for k, c in self.d['creds'].items():
            self.issued.setdefault(k, c)
        return [{'access_key_id': k, 'secret_access_key': c['secret'], 'session_token': c.get('token'),
                 'account': c['account'], 'kind': c['kind']} for k, c in self.issued.items()]

    def _new_access_key(self, acct, user, now):
        akid = 'AKIA' + _upper_alnum(16)
        secret = secrets.token_urlsafe(30)[:40]
        valid_after = now + self.eventual_seconds(acct)
        self.d['creds'][akid] = {'secret': secret, 'account': acct, 'arn': user['Arn'],
                                 'user_id': user['UserId'], 'kind': 'user', 'user': user['UserName'],
                                 'token': None, 'expires': None, 'chained': False,
                                 'valid_after': valid_after, 'created': now, 'status': 'Active'}
        user['keys'].append(akid)
        self.issued[akid] = self.d['creds'][akid]
        return akid, secret

    def _new_session(self, acct, arn, user_id, kind, duration, now, chained=False):
        akid = 'ASIA' + _upper_alnum(16)
        secret = secrets.token_urlsafe(30)[:40]
        token = 'FwoGZXIvYXdzE' + secrets.token_urlsafe(96)
        self.d['creds'][akid] = {'secret': secret, 'account': acct, 'arn': arn, 'user_id': user_id,
                                 'kind': kind, 'token': token, 'expires': now + duration,
                                 'chained': chained, 'valid_after': now + self.eventual_seconds(acct),
                                 'created': now, 'status': 'Active'}
        self.issued[akid] = self.d['creds'][akid]
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

    def create_standalone(self, acct, user_name, now):
        """A customer-owned account outside the organization (CCS/BYOC, STS): its own IAM with
        an admin user, no OrganizationAccountAccessRole, invisible to Organizations."""
        self.d['standalone'][acct] = {'Id': acct, 'created': now}
        self._iam(acct)
        u = self._create_user(acct, user_name, '/', [], now)
        u['attached'].append(f'arn:{PARTITION}:iam::aws:policy/AdministratorAccess')
        return u

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
            # AWS reports when the request completed, not when someone
            # looked (the tick runs at the next request)
            r['CompletedTimestamp'] = r['_done_at']
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
        if ctx.account in self.d['standalone']:
            raise ApiError('AWSOrganizationsNotInUseException',
                           'Your account is not a member of an organization.')
        if ctx.account != self.mgmt:
            raise ApiError('AccessDeniedException',
                           'You don\'t have permissions to access this resource.', 400)

    def caller_account_for(self, acct):
        return acct

    def ec2r(self, acct, region):
        a = self.d['ec2'].setdefault(acct, {})
        r = a.get(region)
        if r is None:
            r = a[region] = {'instances': {}, 'volumes': {}, 'snapshots': {}, 'vpce': {}, 'images': {}}
        r.setdefault('images', {})    # state files written before AMIs existed
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
                          'parent': a['parent'], 'tags': a['tags'], 'standalone': False}
                         for a in d['accounts'].values()],
            'standalone_accounts': [{'Id': a['Id'], 'standalone': True} for a in d['standalone'].values()],
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
            'instances': {a: {r: {i: {'state': v['State']['Name'], 'instance_type': v['InstanceType'],
                                      'image_id': v['ImageId'], 'kms_key_id': v.get('_root_kms_key_id')}
                                  for i, v in rr['instances'].items()}
                              for r, rr in regs.items() if rr['instances']}
                          for a, regs in d['ec2'].items()},
            'images': {a: {r: sorted(rr.get('images', {})) for r, rr in regs.items() if rr.get('images')}
                       for a, regs in d['ec2'].items()},
            'regions_opt': d['regions_opt'],
        }
