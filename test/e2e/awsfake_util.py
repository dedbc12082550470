"""Helpers to run test/fakes/aws_api.py and talk to it (used by test_aws_fake.py).

Only the standard library and botocore; run under Debian's /usr/bin/python3.
"""

import datetime
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.request

import botocore.session
from botocore.auth import SIGV4_TIMESTAMP, S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = os.path.join(HERE, '..', 'fakes', 'aws_api.py')
PYTHON = '/usr/bin/python3'

NO_RETRY = Config(retries={'total_max_attempts': 1, 'mode': 'standard'})


class AwsFake:
    """A running fake: .endpoint, .port, .access_key, .secret_key, .account."""

    def __init__(self, *args, start_timeout=20):
        self.args = list(args)
        self.proc = subprocess.Popen([PYTHON, FAKE, '--port', '0', *self.args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.stderr_lines = []
        deadline = time.time() + start_timeout
        info = {}
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            line = line.strip()
            if line == 'ready':
                break
            k, _, v = line.partition(': ')
            info[k] = v
        else:
            self.stop()
            raise RuntimeError('fake did not become ready')
        if 'credentials' not in info:
            err = self.proc.stderr.read() if self.proc.poll() is not None else ''
            self.stop()
            raise RuntimeError(f'fake failed to start: {err}')
        threading.Thread(target=self._drain, daemon=True).start()
        self.port = int(info['port'])
        self.account = info['management-account']
        self.partition = info.get('partition', 'aws')
        # the region clients sign for by default: GovCloud keys only work in us-gov-*
        self.region = 'us-gov-west-1' if self.partition == 'aws-us-gov' else 'us-east-1'
        self.access_key, self.secret_key = info['credentials'].split()
        self.endpoint = f'http://127.0.0.1:{self.port}'
        self.session = botocore.session.get_session()

    def _drain(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    # ------------------------------------------------------------ clients
    def client(self, service, region=None, creds=None, config=None):
        region = region or self.region
        if creds is None:
            creds = {'AccessKeyId': self.access_key, 'SecretAccessKey': self.secret_key}
        return self.session.create_client(
            service, endpoint_url=self.endpoint, region_name=region,
            aws_access_key_id=creds['AccessKeyId'], aws_secret_access_key=creds['SecretAccessKey'],
            aws_session_token=creds.get('SessionToken'), config=config)

    # ------------------------------------------------------------ control
    def standalone(self, account_id=None, user_name=None):
        """A customer-owned account outside the organization (POST /_fake/credentials with an
        unknown id): returns {'account', 'user': {AccessKeyId, SecretAccessKey}}."""
        account_id = account_id or str(random.randint(10 ** 11, 10 ** 12 - 1))
        doc = {'account_id': account_id}
        if user_name:
            doc['user_name'] = user_name
        r = self.control('POST', 'credentials', doc)
        return {'account': account_id, 'user_name': r['user_name'],
                'user': {'AccessKeyId': r['access_key_id'], 'SecretAccessKey': r['secret_access_key']}}

    def control(self, method, path, doc=None):
        data = json.dumps(doc).encode() if doc is not None else None
        req = urllib.request.Request(self.endpoint + '/_fake/' + path, data=data, method=method,
                                     headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def raw(self, method, path, service, region=None, body=b'', headers=None, creds=None,
            skew=0.0, sign=True, query='', payload_override=None, tamper_body=None):
        """Send a request signed with botocore's signer (optionally with a skewed clock).

        Returns (status, headers dict lower-cased, body bytes)."""
        region = region or self.region
        if creds is None:
            creds = {'AccessKeyId': self.access_key, 'SecretAccessKey': self.secret_key}
        url = self.endpoint + path + ('?' + query if query else '')
        req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
        if sign:
            cls = _SkewS3 if service == 's3' else _Skew
            auth = cls(Credentials(creds['AccessKeyId'], creds['SecretAccessKey'], creds.get('SessionToken')),
                       service, region)
            auth.skew = skew
            auth.payload_override = payload_override
            auth.add_auth(req)
        if tamper_body is not None:
            body = tamper_body
        conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10)
        try:
            conn.request(method, path + ('?' + query if query else ''), body=body,
                         headers=dict(req.headers.items()))
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()


class _SkewMixin:
    skew = 0.0
    payload_override = None

    def payload(self, request):
        if self.payload_override is not None:
            return self.payload_override
        return super().payload(request)

    def add_auth(self, request):
        now = datetime.datetime.utcnow() + datetime.timedelta(seconds=self.skew)
        request.context['timestamp'] = now.strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        canonical = self.canonical_request(request)
        sts = self.string_to_sign(request, canonical)
        self._inject_signature_to_request(request, self.signature(sts, request))


class _Skew(_SkewMixin, SigV4Auth):
    pass


class _SkewS3(_SkewMixin, S3SigV4Auth):
    pass


def wait_for(pred, timeout=10.0, interval=0.1):
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError('condition not met in time')
        time.sleep(interval)


def create_account(org, email, name, timeout=10.0, **kw):
    """CreateAccount (kw: more of its parameters, e.g. Tags) and poll
    DescribeCreateAccountStatus until it is no longer IN_PROGRESS."""
    rid = org.create_account(Email=email, AccountName=name, **kw)['CreateAccountStatus']['Id']

    def done():
        s = org.describe_create_account_status(CreateAccountRequestId=rid)['CreateAccountStatus']
        return s if s['State'] != 'IN_PROGRESS' else None
    return wait_for(done, timeout)


if __name__ == '__main__':
    f = AwsFake(*sys.argv[1:])
    print(f.endpoint, f.access_key, f.secret_key)
    f.stop()
