"""The control API under /_fake/ (state, call log, counters, coverage,
fault rules, eventual consistency, CreateAccount failures, quota policy,
web identity tokens, expiry, timing, credentials), as a mixin of
server.Handler."""

import json
import re
import time

from . import services as S
from . import state as part


class Control:
    """Mixin of Handler: the /_fake/ endpoints."""

    # ---------------------------------------------------------------- control
    def control(self, parts, body):
        fake = self.fake
        path = parts.path[len('/_fake/'):].rstrip('/')
        try:
            doc = json.loads(body) if body else {}
        except ValueError:
            self.send_json(400, {'error': 'invalid JSON'})
            return
        m = self.command
        with fake.lock:
            st = fake.st
            if m == 'GET' and path == 'health':
                return self.send_json(200, {'ok': True})
            if m == 'GET' and path == 'state':
                st.tick(time.time())
                return self.send_json(200, st.state_view())
            if m == 'GET' and path == 'calls':
                return self.send_json(200, {'calls': fake.calls})
            if m == 'GET' and path == 'issued-secrets':
                return self.send_json(200, {'secrets': st.issued_secrets()})
            if m == 'GET' and path == 'counters':
                st.tick(time.time())
                return self.send_json(200, st.counters)
            if m == 'GET' and path == 'coverage':
                return self.send_json(200, {'succeeded': sorted(fake.covered)})
            if m == 'POST' and path == 'reset-log':
                fake.calls = []
                cur = st.counters['create_account_in_flight']
                st.counters.update({'operations': {}, 'create_account_peak_in_flight': cur,
                                    'create_account_attempted_peak': cur, 'create_account_rejected_concurrent': 0,
                                    'throttled': 0, 'injected_errors': 0, 'auth_failures': 0, 'calls': 0})
                return self.send_json(200, {'ok': True})
            if m == 'POST' and path in ('faults', 'throttle', 'latency', '5xx', 'error', 'truncate', 'oversize',
                                        'hold'):
                rule = dict(doc)
                if path != 'faults':
                    rule['kind'] = path
                rule.setdefault('kind', 'throttle')
                if rule['kind'] not in ('throttle', 'latency', '5xx', 'error', 'truncate', 'oversize', 'hold'):
                    return self.send_json(400, {'error': 'bad kind'})
                for k in ('service', 'operation'):
                    try:
                        re.compile(rule.get(k) or '.*')
                    except re.error:
                        return self.send_json(400, {'error': f'bad regex in {k}'})
                fake.faults.append(rule)
                return self.send_json(200, {'ok': True, 'rules': len(fake.faults)})
            if m == 'POST' and path == 'faults/clear':
                fake.faults = []
                return self.send_json(200, {'ok': True})
            if m == 'GET' and path == 'faults':
                return self.send_json(200, {'rules': fake.faults})
            if m == 'POST' and path == 'eventual-consistency':
                secs = float(doc.get('seconds', 0))
                if secs:
                    st.eventual[doc['account_id']] = secs
                else:
                    st.eventual.pop(doc['account_id'], None)
                return self.send_json(200, {'ok': True})
            if m == 'POST' and path == 'create-account-failures':
                if doc.get('clear'):
                    st.create_failures = []
                else:
                    st.create_failures.append({'reason': doc['reason'], 'count': int(doc.get('count', 1)),
                                               'email_regex': doc.get('email_regex')})
                return self.send_json(200, {'ok': True})
            if m == 'POST' and path == 'quota-policy':
                if 'default' in doc:
                    st.quota_policy['default'] = doc['default']
                if 'overrides' in doc:
                    st.quota_policy['overrides'] = dict(doc['overrides'])
                return self.send_json(200, st.quota_policy)
            if m == 'POST' and path == 'web-identity':
                st.web_tokens[doc['token'].strip()] = doc.get('subject', 'system:serviceaccount:default:default')
                return self.send_json(200, {'ok': True})
            if m == 'POST' and path == 'expire-credentials':
                c = st.d['creds'].get(doc.get('access_key_id'))
                if c is None:
                    return self.send_json(404, {'error': 'unknown access key'})
                c['expires'] = time.time() - 1
                return self.send_json(200, {'ok': True})
            if m == 'POST' and path == 'timing':
                for k in ('create_account_seconds', 'case_resolve_seconds', 'instance_running_seconds',
                          'region_enable_seconds', 'max_accounts'):
                    if k in doc:
                        st.cfg[k] = doc[k]
                if 'ec2_optin_seconds' in doc:
                    st.ec2_optin_seconds = float(doc['ec2_optin_seconds'])
                if 'stuck_regions' in doc:
                    st.cfg['stuck_regions'] = list(doc['stuck_regions'])
                if 'no_t3_regions' in doc:
                    if not isinstance(doc['no_t3_regions'], list):
                        return self.send_json(400, {'error': 'no_t3_regions must be a list of region names'})
                    st.cfg['no_t3_regions'] = list(doc['no_t3_regions'])
                return self.send_json(200, {k: st.cfg.get(k) for k in ('create_account_seconds',
                                                                        'case_resolve_seconds',
                                                                        'instance_running_seconds',
                                                                        'region_enable_seconds', 'max_accounts',
                                                                        'stuck_regions', 'no_t3_regions')})
            if m == 'POST' and path == 'credentials':
                return self.control_credentials(st, doc)
            if m == 'POST' and path == 'seed-image':
                return self.control_seed_image(st, doc)
            if m == 'POST' and path == 'seed-accounts':
                return self.control_seed_accounts(st, doc)
        self.send_json(404, {'error': f'unknown control path {m} /_fake/{path}'})

    def control_credentials(self, st, doc):
        """An admin IAM user (AdministratorAccess) with a new access key in an account of the
        organization, or in a standalone customer account created on first use."""
        acct = doc.get('account_id') or st.mgmt
        if not isinstance(acct, str) or not re.match(r'^\d{12}$', acct):
            return self.send_json(400, {'error': f'account_id must be a string of 12 digits, got {acct!r}'})
        now = time.time()
        name = doc.get('user_name')
        if name is not None and not (isinstance(name, str) and re.match(r'^[\w+=,.@-]{1,64}$', name)):
            return self.send_json(400, {'error': f'invalid user_name {name!r}'})
        standalone = acct not in st.d['accounts']
        if standalone and acct not in st.d['standalone']:
            st.create_standalone(acct, name or 'osdCcsAdmin', now)
        name = name or ('osdCcsAdmin' if standalone else 'fake-admin-' + S._hex(6))
        admin = f'arn:{part.PARTITION}:iam::aws:policy/AdministratorAccess'
        u = st._iam(acct)['users'].get(name) or st._create_user(acct, name, '/', [], now)
        if admin not in u['attached']:
            u['attached'].append(admin)
        akid, secret = st._new_access_key(acct, u, now)
        self.fake.save()
        return self.send_json(200, {'access_key_id': akid, 'secret_access_key': secret,
                                    'account_id': acct, 'user_name': name, 'standalone': standalone})

    def control_seed_accounts(self, st, doc):
        """`count` ACTIVE accounts of the organization at once, in the root, with `tags`, as if
        CreateAccount had finished for each (a fleet for scale scenarios, without the
        concurrency limit's wait). Returns their ids."""
        n, tags = doc.get('count', 1), doc.get('tags') or {}
        if not isinstance(n, int) or not 1 <= n <= 10000 or not isinstance(tags, dict):
            return self.send_json(400, {'error': 'count must be 1..10000 and tags an object'})
        now, ids = time.time(), []
        for _ in range(n):
            r = {'Email': f'seed-{S._hex(12)}@example.com', 'AccountName': 'seed-' + S._hex(6),
                 '_tags': [{'Key': k, 'Value': str(v)} for k, v in tags.items()]}
            st._finish_create(r, now)
            if r['State'] != 'SUCCEEDED':
                return self.send_json(400, {'error': r['FailureReason'], 'account_ids': ids})
            ids.append(r['AccountId'])
        self.fake.save()
        return self.send_json(200, {'account_ids': ids})

    def control_seed_image(self, st, doc):
        """A snapshot and an AMI backed by it, owned by an existing account, in one region."""
        acct = doc.get('account_id')
        if acct not in st.d['accounts'] and acct not in st.d['standalone']:
            return self.send_json(404, {'error': f'unknown account {acct!r}'})
        region = doc.get('region') or part.DEFAULT_REGIONS[0]
        if region not in part.ALL_REGIONS:
            return self.send_json(400, {'error': f'region {region!r} is not in partition {part.PARTITION}'})
        now = time.time()
        snap = S.ec2.new_snapshot(st, acct, region, now, desc='seeded by /_fake/seed-image')
        name = doc.get('name') or 'seeded-image-' + S._hex(8)
        try:
            img = S.ec2.register_image(st, acct, region, name, [{'DeviceName': '/dev/sda1', 'Ebs': {
                'SnapshotId': snap['SnapshotId']}}], now)
        except S.ApiError as e:
            del st.ec2r(acct, region)['snapshots'][snap['SnapshotId']]
            return self.send_json(400, {'error': e.message})
        self.fake.save()
        return self.send_json(200, {'image_id': img['ImageId'], 'snapshot_id': snap['SnapshotId'],
                                    'account_id': acct, 'region': region, 'name': name})
