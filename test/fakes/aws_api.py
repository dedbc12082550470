#!/usr/bin/python3
"""AWS stand-in for the aws-account-operator tests and local quick start.

Run with Debian's interpreter (it needs python3-botocore 1.29):

    /usr/bin/python3 test/fakes/aws_api.py --port 0 [--host 127.0.0.1]
        [--create-account-seconds 2] [--case-resolve-seconds 2]
        [--instance-running-seconds 0.5] [--region-enable-seconds 2]
        [--max-accounts 1000] [--ec2-optin-seconds 0] [--state-file PATH]
        [--management-account-id 123456789012]

On start it prints `port: N`, `management-account: ID`,
`credentials: <access-key-id> <secret>` (an IAM user with AdministratorAccess in the
organization's management account; the organization exists, root only, no OUs) and
finally `ready`, each line flushed.

One HTTP endpoint serves every service (organizations, sts, iam, support, ec2,
servicequotas, account, s3, route53). The service and region come from the SigV4
credential scope (Authorization header, or X-Amz-Credential of a presigned URL).
Every signature is recomputed with botocore's SigV4Auth / S3SigV4Auth using the stored
secret; every request is decoded per protocol and validated against botocore's service
model (the Account API's GetRegionOptStatus and EnableRegion, missing from botocore
1.29, are served by hand at POST /getRegionOptStatus and POST /enableRegion).
Responses and errors use each protocol's real wire shape and are parseable by
botocore. Unsigned requests are only accepted for sts:AssumeRoleWithWebIdentity.

Control API (plain JSON, no signature, under /_fake/):

  GET  /_fake/health                 -> {"ok": true}
  GET  /_fake/state                  accounts, OUs, parents, create requests, IAM users/roles,
                                     buckets, zones, cases, instances, region opt-in
  GET  /_fake/calls                  call log: [{time, service, operation, region, account,
                                     access_key, status, error_code, duration_ms}]
  GET  /_fake/counters               {"operations": {"svc.Op": n}, "create_account_in_flight",
                                     "create_account_peak_in_flight", "create_account_attempted_peak",
                                     "create_account_rejected_concurrent", "throttled",
                                     "injected_errors", "auth_failures", "calls"}
  POST /_fake/reset-log              clears the call log and counters (peak resets to current)
  GET  /_fake/coverage               {"succeeded": ["svc.Op", ...]}: operations answered successfully
                                     at least once since start (not cleared by reset-log)
  POST /_fake/faults                 add a fault rule:
        {"kind": "throttle"|"error"|"5xx"|"latency", "service": regex, "operation": regex,
         "fraction": 0..1 (default 1), "count": N (next N matching calls; default unlimited),
         "latency_ms": ms (latency), "code": str, "status": int, "message": str,
         "extra": {..} (error fields, e.g. {"Reason": "..."})}
     throttle uses the service's real throttling error (TooManyRequestsException 400 for
     Organizations/Service Quotas, ThrottlingException for Support, Throttling for
     STS/IAM/Route 53, RequestLimitExceeded 503 for EC2, SlowDown 503 for S3,
     TooManyRequestsException 429 for Account); 5xx uses the service's internal error.
  POST /_fake/throttle | /_fake/latency | /_fake/5xx | /_fake/error
                                     shorthands for /_fake/faults with that kind
  POST /_fake/faults/clear           remove every fault rule
  POST /_fake/eventual-consistency   {"account_id": ID, "seconds": S}: credentials minted for that
                                     account from now on (access keys, role sessions) are rejected
                                     with InvalidClientTokenId-style errors for their first S seconds
                                     (S = 0 clears)
  POST /_fake/create-account-failures {"reason": "ACCOUNT_LIMIT_EXCEEDED"|..., "count": N,
                                     "email_regex": optional}: the next matching CreateAccount
                                     requests end FAILED with that reason
  POST /_fake/quota-policy           {"default": "approve"|"deny"|"pending",
                                     "overrides": {"ec2/L-1216C47A": "deny"}}
  POST /_fake/web-identity           {"token": "...", "subject": "system:serviceaccount:ns:sa"}:
                                     accept this token (content of the token file) in
                                     AssumeRoleWithWebIdentity
  POST /_fake/expire-credentials     {"access_key_id": ...}: make a session expire now
  POST /_fake/timing                 {"create_account_seconds": .., "case_resolve_seconds": ..,
                                     "instance_running_seconds": .., "region_enable_seconds": ..,
                                     "ec2_optin_seconds": .., "max_accounts": ..}
  POST /_fake/credentials            {"account_id": ID}: create an IAM admin user in that account
                                     and return {"access_key_id", "secret_access_key"}

Concurrent CreateAccount: AWS allows 5 creations in progress per organization. A 6th
CreateAccount while 5 are IN_PROGRESS is accepted but its CreateAccountStatus is FAILED with
FailureReason CONCURRENT_ACCOUNT_MODIFICATION immediately (counted in
create_account_rejected_concurrent); create_account_peak_in_flight never exceeds 5,
create_account_attempted_peak shows how many the client tried to have in flight.

Behaviour notes (real-service semantics the operator must cope with):
  * DescribeCases hides resolved cases unless includeResolvedCases=true (as AWS does).
  * DescribeInstanceStatus lists only running instances unless IncludeAllInstances=true.
  * EC2 calls in an opt-in region that is not ENABLED fail with AuthFailure (401); with
    --ec2-optin-seconds N, RunInstances answers OptInRequired for an account's first N seconds.
  * IAM policy documents are returned URL-encoded; credentials minted by CreateAccessKey,
    AssumeRole, AssumeRoleWithWebIdentity and GetFederationToken work at once (unless an
    eventual-consistency window is configured) and act in their own account.
  * Every member account gets OrganizationAccountAccessRole (AdministratorAccess attached,
    trusting arn:aws:iam::<management>:root, MaxSessionDuration 3600).
  * AssumeRole from role credentials (role chaining) with DurationSeconds > 3600 fails with
    ValidationError "The requested DurationSeconds exceeds the 1 hour session limit for roles
    assumed by role chaining."; above the role's MaxSessionDuration likewise.
  * CreateAccount past --max-accounts (accounts + in-progress) raises ConstraintViolationException
    Reason ACCOUNT_NUMBER_LIMIT_EXCEEDED; duplicate e-mails end FAILED/EMAIL_ALREADY_EXISTS.
  * CloseAccount: PENDING_CLOSURE, then SUSPENDED after --create-account-seconds; 10 % of member
    accounts (floor 10, cap 1000) per 30 days, else ConstraintViolationException
    CLOSE_ACCOUNT_QUOTA_EXCEEDED.
  * EC2 rejects parameters the model does not know (UnknownParameter); JSON services reject
    unknown members (ValidationException); missing required members give ValidationException /
    ValidationError / MissingParameter / InvalidArgument (S3) / InvalidInput (Route 53).
  * Presigned URLs must be SigV4 (botocore: Config(signature_version='s3v4') for S3).
  * The non-S3 canonical URI follows botocore (normalised, then URI-encoded again, as AWS
    specifies); query strings are re-encoded per RFC 3986 before comparison.

Deliberately not implemented: IAM policy evaluation (any credential may call any operation in
its own account; Organizations calls require the management account; AssumeRole checks the
trust policy, ExternalId and session limits), SigV2, S3 aws-chunked streaming uploads,
multipart uploads, object versions, most operations of each service beyond those the
operator uses (they answer the protocol's unknown-operation error), pagination of every list
beyond the tokens documented by each operation.
"""

import argparse
import json
import os
import random
import re
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from aws import protocol as P  # noqa: E402
from aws import services as S  # noqa: E402
from aws.protocol import ApiError  # noqa: E402

SKEW_SECONDS = 300

THROTTLE = {
    'organizations': ('TooManyRequestsException', 400, 'AWS Organizations can\'t complete your request because '
                      'another request is already in progress. Try again later.'),
    'support': ('ThrottlingException', 400, 'Rate exceeded'),
    'service-quotas': ('TooManyRequestsException', 400, 'Rate exceeded'),
    'sts': ('Throttling', 400, 'Rate exceeded'),
    'iam': ('Throttling', 400, 'Rate exceeded'),
    'route53': ('Throttling', 400, 'Rate exceeded'),
    'ec2': ('RequestLimitExceeded', 503, 'Request limit exceeded.'),
    's3': ('SlowDown', 503, 'Please reduce your request rate.'),
    'account': ('TooManyRequestsException', 429, 'Rate exceeded'),
}

INTERNAL = {
    'organizations': ('ServiceException', 500, 'AWS Organizations can\'t complete your request because it '
                      'encountered an internal error. Try again later.'),
    'support': ('InternalServerError', 500, 'An internal server error occurred.'),
    'service-quotas': ('ServiceException', 500, 'Something went wrong.'),
    'sts': ('InternalFailure', 500, 'An internal error occurred.'),
    'iam': ('ServiceFailure', 500, 'The request processing has failed because of an unknown error.'),
    'route53': ('InternalFailure', 500, 'An internal error occurred.'),
    'ec2': ('InternalError', 500, 'An internal error has occurred'),
    's3': ('InternalError', 500, 'We encountered an internal error. Please try again.'),
    'account': ('InternalServerException', 500, 'An internal error occurred.'),
}

MSG_INVALID_TOKEN = 'The security token included in the request is invalid.'
MSG_BAD_SIG = ('The request signature we calculated does not match the signature you provided. Check your AWS '
               'Secret Access Key and signing method. Consult the service documentation for details.')
MSG_EXPIRED = 'The security token included in the request is expired'


def auth_error(service, kind, detail=''):
    """kind: unknown | badsig | expired | skew | missing | badtoken."""
    proto = P.protocol_of(service)
    if service == 's3':
        return {
            'unknown': ApiError('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our '
                                'records.', 403),
            'badsig': ApiError('SignatureDoesNotMatch', 'The request signature we calculated does not match the '
                               'signature you provided. Check your key and signing method.', 403),
            'expired': ApiError('ExpiredToken', 'The provided token has expired.', 400),
            'skew': ApiError('RequestTimeTooSkewed', 'The difference between the request time and the current '
                             'time is too large.', 403),
            'missing': ApiError('AccessDenied', 'Access Denied', 403),
            'badtoken': ApiError('InvalidToken', 'The provided token is malformed or otherwise invalid.', 400),
        }[kind]
    if proto == 'ec2':
        return {
            'unknown': ApiError('AuthFailure', 'AWS was not able to validate the provided access credentials', 401),
            'badtoken': ApiError('AuthFailure', 'AWS was not able to validate the provided access credentials', 401),
            'badsig': ApiError('SignatureDoesNotMatch', MSG_BAD_SIG, 403),
            'expired': ApiError('RequestExpired', 'Request has expired.', 400),
            'skew': ApiError('RequestExpired', f'Request has expired. {detail}'.strip(), 400),
            'missing': ApiError('MissingAuthenticationToken', 'Request is missing Authentication Token', 401),
        }[kind]
    if proto in ('query', 'rest-xml'):
        return {
            'unknown': ApiError('InvalidClientTokenId', MSG_INVALID_TOKEN, 403),
            'badtoken': ApiError('InvalidClientTokenId', MSG_INVALID_TOKEN, 403),
            'badsig': ApiError('SignatureDoesNotMatch', MSG_BAD_SIG, 403),
            'expired': ApiError('ExpiredToken', MSG_EXPIRED, 403 if service != 'sts' else 400),
            'skew': ApiError('SignatureDoesNotMatch', f'Signature expired: {detail}', 403),
            'missing': ApiError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403),
        }[kind]
    st = 403 if proto == 'rest-json' else 400
    return {
        'unknown': ApiError('UnrecognizedClientException', MSG_INVALID_TOKEN, st),
        'badtoken': ApiError('UnrecognizedClientException', MSG_INVALID_TOKEN, st),
        'badsig': ApiError('InvalidSignatureException', MSG_BAD_SIG, st),
        'expired': ApiError('ExpiredTokenException', MSG_EXPIRED, st),
        'skew': ApiError('InvalidSignatureException', f'Signature expired: {detail}', st),
        'missing': ApiError('MissingAuthenticationTokenException', 'Missing Authentication Token', st),
    }[kind]


def incomplete_signature(service):
    proto = P.protocol_of(service)
    msg = 'Authorization header requires \'Credential\', \'SignedHeaders\' and \'Signature\' parameters.'
    if service == 's3':
        return ApiError('AuthorizationHeaderMalformed', 'The authorization header is malformed.', 400)
    if proto in ('json', 'rest-json'):
        return ApiError('IncompleteSignatureException', msg, 400 if proto == 'json' else 403)
    return ApiError('IncompleteSignature', msg, 400 if proto != 'ec2' else 401)


def validation_error(service, lines, missing=None):
    proto = P.protocol_of(service)
    n = len(lines)
    if proto == 'ec2':
        if missing:
            return ApiError('MissingParameter', f'The request must contain the parameter {missing}')
        return ApiError('InvalidParameterValue', '; '.join(lines))
    msg = f'{n} validation error{"s" if n != 1 else ""} detected: ' + '; '.join(lines)
    if proto == 'query':
        return ApiError('ValidationError', msg)
    if service == 's3':
        return ApiError('InvalidArgument', msg)
    if service == 'route53':
        return ApiError('InvalidInput', msg)
    return ApiError('ValidationException', msg)


def unknown_operation(service, name, implemented=False):
    proto = P.protocol_of(service)
    why = 'is not implemented by the AWS fake' if implemented else 'is not a valid operation'
    if proto == 'json':
        return ApiError('UnknownOperationException', f'Operation {name} {why}.')
    if proto == 'rest-json':
        return ApiError('UnknownOperationException', f'Operation {name} {why}.', 404)
    if proto in ('query', 'ec2'):
        return ApiError('InvalidAction', f'The action {name} {why} for this web service.')
    if service == 's3':
        return ApiError('NotImplemented', f'A header or operation you provided ({name}) {why}.', 501)
    return ApiError('InvalidAction', f'Operation {name} {why}.', 400)


class Fake:
    def __init__(self, cfg):
        self.cfg = cfg
        self.lock = threading.RLock()
        data = None
        if cfg.get('state_file') and os.path.exists(cfg['state_file']):
            with open(cfg['state_file']) as f:
                data = json.load(f)
        self.st = S.State(cfg, data)
        self.faults = []
        self.calls = []
        self.covered = set()          # operations that succeeded at least once (not reset)
        self.rng = random.Random()

    # ---------------------------------------------------------------- persistence
    def save(self):
        path = self.cfg.get('state_file')
        if not path:
            return
        tmp = path + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(self.st.d, f)
        os.replace(tmp, path)

    # ---------------------------------------------------------------- faults
    def pick_fault(self, service, op):
        """Return (latency_seconds, ApiError or None)."""
        with self.lock:
            return self._pick_fault(service, op)

    def _pick_fault(self, service, op):
        latency = 0.0
        err = None
        for rule in list(self.faults):
            if not re.search(rule.get('service') or '.*', service):
                continue
            if not re.search(rule.get('operation') or '.*', op or ''):
                continue
            if rule.get('count') is not None and rule['count'] <= 0:
                continue
            if self.rng.random() >= float(rule.get('fraction', 1.0)):
                continue
            kind = rule.get('kind', 'throttle')
            if kind == 'latency':
                latency += float(rule.get('latency_ms', 0)) / 1000.0
            elif err is None:
                if kind == 'throttle':
                    code, status, msg = THROTTLE[service]
                    err = ApiError(rule.get('code') or code, rule.get('message') or msg,
                                   int(rule.get('status') or status))
                    err.throttle = True
                elif kind == '5xx':
                    code, status, msg = INTERNAL[service]
                    err = ApiError(rule.get('code') or code, rule.get('message') or msg,
                                   int(rule.get('status') or status), sender=False)
                else:
                    err = ApiError(rule.get('code') or 'InternalFailure', rule.get('message') or 'Injected error',
                                   int(rule.get('status') or 400), extra=rule.get('extra'))
            else:
                continue
            if rule.get('count') is not None:
                rule['count'] -= 1
        self.faults = [r for r in self.faults if r.get('count') is None or r['count'] > 0]
        return latency, err

    # ---------------------------------------------------------------- logging
    def log_call(self, service, op, region, cred, status, code, t0):
        with self.lock:
            c = self.st.counters
            c['calls'] += 1
            key = f'{service}.{op}'
            c['operations'][key] = c['operations'].get(key, 0) + 1
            if code is None:
                self.covered.add(key)
            self.calls.append({'time': t0, 'service': service, 'operation': op, 'region': region,
                               'account': cred['account'] if cred else None,
                               'access_key': cred.get('_akid') if cred else None, 'status': status,
                               'error_code': code, 'duration_ms': round((time.time() - t0) * 1000, 1)})
            if len(self.calls) > 100000:
                del self.calls[:10000]


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'AmazonFake'
    disable_nagle_algorithm = True    # headers and body go out in separate writes
    fake = None

    def log_message(self, fmt, *args):
        if os.environ.get('AWS_FAKE_VERBOSE'):
            sys.stderr.write('aws-fake: ' + (fmt % args) + '\n')

    def do_GET(self):
        self.handle_any()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    # ---------------------------------------------------------------- io
    def read_body(self):
        if self.headers.get('Transfer-Encoding', '').lower() == 'chunked':
            out = b''
            while True:
                line = self.rfile.readline().strip()
                n = int(line.split(b';')[0], 16)
                if n == 0:
                    self.rfile.readline()
                    break
                out += self.rfile.read(n)
                self.rfile.readline()
            return out
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n) if n else b''

    def send(self, status, headers, body):
        if status in (204, 304):
            body = b''
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Date', self.date_time_string())
        self.end_headers()
        if self.command != 'HEAD' and body:
            self.wfile.write(body)

    def send_json(self, status, doc):
        self.send(status, {'Content-Type': 'application/json'}, json.dumps(doc, default=str).encode())

    # ---------------------------------------------------------------- main
    def handle_any(self):
        try:
            body = self.read_body()
        except Exception:
            self.send_json(400, {'error': 'bad body'})
            return
        parts = urlsplit(self.path)
        if parts.path.startswith('/_fake/'):
            try:
                self.control(parts, body)
            except Exception as e:
                traceback.print_exc()
                self.send_json(500, {'error': str(e)})
            return
        self.aws(parts, body)

    def aws(self, parts, body):
        fake = self.fake
        t0 = time.time()
        rid = P.new_request_id()
        service = None
        op_name = None
        region = None
        cred = None
        try:
            raw_query = parts.query
            query_pairs = parse_qsl(raw_query, keep_blank_values=True)
            qd = dict(query_pairs)
            hdrs = list(self.headers.items())
            auth = P.parse_authorization(self.headers.get('Authorization'))
            presigned = False
            if auth is None and 'X-Amz-Credential' in qd:
                c = qd['X-Amz-Credential'].split('/')
                if len(c) == 5:
                    auth = {'access_key': c[0], 'date': c[1], 'region': c[2], 'service': c[3],
                            'signed_headers': [h for h in qd.get('X-Amz-SignedHeaders', '').split(';') if h],
                            'signature': qd.get('X-Amz-Signature', '')}
                    presigned = True
            if auth is None and self.headers.get('Authorization'):
                mm = re.search(r'Credential=[^/]*/\d{8}/([^/]+)/([^/,\s]+)/', self.headers['Authorization'])
                service = P.SIGNING_TO_MODEL.get(mm.group(2)) if mm else None
                region = mm.group(1) if mm else None
                if service is None:
                    service = self.guess_unsigned(body)[0]
                    service = 'sts' if service == 'sts-web' else service
                raise incomplete_signature(service)
            if auth is None:
                service, region = self.guess_unsigned(body)
                if service == 'sts-web':
                    service = 'sts'
                    self.dispatch_unsigned(body, rid, t0)
                    return
                raise auth_error(service, 'missing')
            service = P.SIGNING_TO_MODEL.get(auth['service'])
            region = auth['region']
            if service is None:
                self.send_json(400, {'__type': 'UnknownServiceException',
                                     'message': f'service {auth["service"]} is not served by this fake'})
                return
            amz_date = qd.get('X-Amz-Date') if presigned else self.headers.get('X-Amz-Date')
            token = qd.get('X-Amz-Security-Token') if presigned else self.headers.get('X-Amz-Security-Token')
            with fake.lock:
                now = time.time()
                fake.st.tick(now)
                c = fake.st.d['creds'].get(auth['access_key'])
                if c is not None:
                    cred = dict(c)
                    cred['_akid'] = auth['access_key']
            if cred is None or cred.get('valid_after', 0) > now or cred.get('status') != 'Active':
                cred = None
                raise auth_error(service, 'unknown')
            if cred['token'] and token != cred['token'] or (not cred['token'] and token):
                raise auth_error(service, 'badtoken')
            ts = P.parse_amz_date(amz_date)
            if ts is None or auth['date'] != (amz_date or '')[:8]:
                raise auth_error(service, 'badsig')
            if presigned:
                raw_query_signed = '&'.join(p for p in raw_query.split('&')
                                            if not p.startswith('X-Amz-Signature='))
            else:
                raw_query_signed = raw_query
            host = self.headers.get('Host', '')
            expected = P.expected_signature(self.command, host, parts.path, raw_query_signed, hdrs, body,
                                            auth['access_key'], cred['secret'], amz_date, region,
                                            auth['service'], auth['signed_headers'], presigned)
            if expected != auth['signature'] or 'host' not in auth['signed_headers']:
                raise auth_error(service, 'badsig')
            if presigned:
                if now > ts + int(qd.get('X-Amz-Expires') or 0):
                    raise ApiError('AccessDenied', 'Request has expired', 403)
            elif abs(now - ts) > SKEW_SECONDS:
                fmt = lambda t: time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(t))  # noqa: E731
                raise auth_error(service, 'skew', f'{amz_date} is now earlier than {fmt(now - SKEW_SECONDS)} '
                                 f'({fmt(now)} - 5 min.)' if ts < now else
                                 f'{amz_date} is now later than {fmt(now + SKEW_SECONDS)} ({fmt(now)} + 5 min.)')
            if cred['expires'] is not None and now >= cred['expires']:
                raise auth_error(service, 'expired')
            if service == 's3' and not presigned:
                sha = self.headers.get('x-amz-content-sha256')
                if sha is None:
                    raise ApiError('InvalidRequest', 'Missing required header for this request: '
                                   'x-amz-content-sha256', 400)
                if sha != P.UNSIGNED_PAYLOAD and not sha.startswith('STREAMING-') and sha != P.sha256_hex(body):
                    raise ApiError('XAmzContentSHA256Mismatch', 'The provided \'x-amz-content-sha256\' header '
                                   'does not match what was computed.', 400)
            op_name, params, op_model = self.decode(service, parts, query_pairs, hdrs, body)
            latency, ferr = fake.pick_fault(service, op_name)
            if latency:
                time.sleep(latency)
            if ferr is not None:
                with fake.lock:
                    if getattr(ferr, 'throttle', False):
                        fake.st.counters['throttled'] += 1
                    else:
                        fake.st.counters['injected_errors'] += 1
                raise ferr
            handler = S.HANDLERS.get((service, op_name))
            if handler is None:
                raise unknown_operation(service, op_name, implemented=True)
            with fake.lock:
                now = time.time()
                fake.st.tick(now)
                ctx = S.Ctx(service, region, cred, now)
                try:
                    out = handler(fake.st, ctx, params)
                except KeyError as ke:
                    # a member the model leaves optional but the operation needs
                    name = str(ke.args[0]) if ke.args else '?'
                    if name not in (op_model.input_shape.members if op_model is not None and
                                    op_model.input_shape is not None else {}):
                        raise
                    raise validation_error(service, [f'Missing required parameter in input: "{name}"'], name)
                if not re.match(r'^(Describe|List|Get|Head)', op_name):
                    fake.save()
            if op_model is None:
                status, headers, rbody = 200, {'Content-Type': 'application/json', 'x-amzn-RequestId': rid}, \
                    json.dumps(out).encode()
            else:
                status, headers, rbody = P.encode_response(service, op_model, out, rid)
            fake.log_call(service, op_name, region, cred, status, None, t0)
            self.send(status, headers, rbody)
        except ApiError as e:
            if service is None:
                service = 'sts'
            if e.code in ('InvalidClientTokenId', 'UnrecognizedClientException', 'InvalidAccessKeyId',
                          'AuthFailure', 'SignatureDoesNotMatch', 'InvalidSignatureException', 'ExpiredToken',
                          'ExpiredTokenException', 'RequestTimeTooSkewed', 'RequestExpired', 'InvalidToken'):
                with fake.lock:
                    fake.st.counters['auth_failures'] += 1
            status, headers, rbody = P.encode_error(service, e, rid)
            fake.log_call(service, op_name, region, cred, status, e.code, t0)
            self.send(status, headers, rbody)
        except Exception as e:  # a bug in the fake: answer as an internal error
            traceback.print_exc()
            svc = service or 'sts'
            code, status, msg = INTERNAL[svc]
            status, headers, rbody = P.encode_error(svc, ApiError(code, f'{msg} (fake bug: {e})', status,
                                                                  sender=False), rid)
            fake.log_call(svc, op_name, region, cred, status, code, t0)
            self.send(status, headers, rbody)

    def guess_unsigned(self, body):
        if self.headers.get('X-Amz-Target'):
            return 'organizations', None
        ctype = self.headers.get('Content-Type', '')
        if 'x-www-form-urlencoded' in ctype or self.command == 'POST' and body.startswith(b'Action='):
            form = dict(parse_qsl(body.decode('utf-8', 'replace')))
            if form.get('Action') == 'AssumeRoleWithWebIdentity':
                return 'sts-web', None
            if form.get('Version') == '2016-11-15':
                return 'ec2', None
            return 'sts', None
        return 's3', None

    def dispatch_unsigned(self, body, rid, t0):
        fake = self.fake
        service, op_name = 'sts', 'AssumeRoleWithWebIdentity'
        try:
            m = P.model('sts')
            op_model = m.operation_model(op_name)
            params = P.decode_form_params(parse_qsl(body.decode('utf-8', 'replace'), keep_blank_values=True),
                                          op_model.input_shape, ec2=False)
            lines = P.validate(params, op_model.input_shape)
            if lines:
                raise validation_error(service, lines)
            latency, ferr = fake.pick_fault(service, op_name)
            if latency:
                time.sleep(latency)
            if ferr is not None:
                raise ferr
            with fake.lock:
                now = time.time()
                fake.st.tick(now)
                out = S.HANDLERS[(service, op_name)](fake.st, S.Ctx(service, 'us-east-1', None, now), params)
                fake.save()
            status, headers, rbody = P.encode_response(service, op_model, out, rid)
            fake.log_call(service, op_name, 'us-east-1', None, status, None, t0)
            self.send(status, headers, rbody)
        except ApiError as e:
            status, headers, rbody = P.encode_error(service, e, rid)
            fake.log_call(service, op_name, 'us-east-1', None, status, e.code, t0)
            self.send(status, headers, rbody)

    def decode(self, service, parts, query_pairs, hdrs, body):
        m = P.model(service)
        proto = m.protocol
        if proto == 'json':
            target = self.headers.get('X-Amz-Target', '')
            prefix, _, name = target.partition('.')
            if prefix != m.metadata['targetPrefix'] or name not in m.operation_names:
                raise unknown_operation(service, target or '(none)')
            op_model = m.operation_model(name)
            try:
                params = json.loads(body) if body else {}
            except ValueError:
                raise ApiError('SerializationException', 'Start of structure or map found where not expected.')
            if not isinstance(params, dict):
                raise ApiError('SerializationException', 'Start of structure or map found where not expected.')
        elif proto in ('query', 'ec2'):
            pairs = list(query_pairs)
            if body:
                pairs += parse_qsl(body.decode('utf-8', 'replace'), keep_blank_values=True)
            form = dict(pairs)
            name = form.get('Action')
            if not name:
                raise ApiError('MissingAction', 'Missing Action') if proto == 'query' else \
                    ApiError('MissingParameter', 'The request must contain the parameter Action')
            if name not in m.operation_names:
                raise unknown_operation(service, name)
            if form.get('Version') != m.metadata['apiVersion']:
                raise ApiError('InvalidAction' if proto == 'query' else 'NoSuchVersion',
                               f'Could not find operation {name} for version {form.get("Version")}')
            op_model = m.operation_model(name)
            params = P.decode_form_params(pairs, op_model.input_shape, ec2=(proto == 'ec2'))
        else:
            path = parts.path
            if service == 's3':
                path = self.s3_vhost_path(path)
            if service == 'account' and self.command == 'POST' and path in ('/getRegionOptStatus', '/enableRegion'):
                name = 'GetRegionOptStatus' if path == '/getRegionOptStatus' else 'EnableRegion'
                try:
                    params = json.loads(body) if body else {}
                except ValueError:
                    raise ApiError('ValidationException', 'Malformed JSON body', 400)
                S.validate_region_body(params)
                return name, params, None
            op_model, labels = P.match_rest_operation(service, self.command, path, query_pairs,
                                                          {k.lower() for k, _ in hdrs})
            if op_model is None:
                raise unknown_operation(service, f'{self.command} {path}')
            name = op_model.name
            params = P.decode_rest(service, op_model, labels, query_pairs, hdrs, body)
        lines = P.validate(params, op_model.input_shape)
        if lines:
            missing = None
            for ln in lines:
                mm = re.search(r'Missing required parameter in input: "(\w+)"', ln)
                if mm:
                    missing = mm.group(1)
                    break
            raise validation_error(service, lines, missing)
        if proto == 'ec2':
            # re-serialise with botocore's own EC2 serializer: any received key it would not
            # produce is a parameter the model does not know
            known = set(P.serializer('ec2').serialize_to_request(params, op_model)['body'])
            for k, _ in pairs:
                if k not in known and k not in ('Action', 'Version') and not k.startswith('X-Amz-'):
                    raise ApiError('UnknownParameter', f'The parameter {k.split(".")[0]} is not recognized')
        return name, params, op_model

    def s3_vhost_path(self, path):
        host = (self.headers.get('Host') or '').split(':')[0]
        if re.match(r'^[\d.]+$', host) or host in ('localhost', self.server.server_address[0]):
            return path
        mm = re.match(r'^(.+?)\.(s3[.-].*|localhost)$', host)
        if mm and not mm.group(1).startswith('s3'):
            return '/' + mm.group(1) + ('' if path == '/' else path)
        return path

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
            if m == 'POST' and path in ('faults', 'throttle', 'latency', '5xx', 'error'):
                rule = dict(doc)
                if path != 'faults':
                    rule['kind'] = path
                rule.setdefault('kind', 'throttle')
                if rule['kind'] not in ('throttle', 'latency', '5xx', 'error'):
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
                return self.send_json(200, {k: st.cfg.get(k) for k in ('create_account_seconds',
                                                                        'case_resolve_seconds',
                                                                        'instance_running_seconds',
                                                                        'region_enable_seconds', 'max_accounts')})
            if m == 'POST' and path == 'credentials':
                acct = doc.get('account_id') or st.mgmt
                if acct not in st.d['accounts']:
                    return self.send_json(404, {'error': 'unknown account'})
                now = time.time()
                name = doc.get('user_name') or 'fake-admin-' + S._hex(6)
                u = st._iam(acct)['users'].get(name) or st._create_user(acct, name, '/', [], now)
                if f'arn:{S.PARTITION}:iam::aws:policy/AdministratorAccess' not in u['attached']:
                    u['attached'].append(f'arn:{S.PARTITION}:iam::aws:policy/AdministratorAccess')
                akid, secret = st._new_access_key(acct, u, now)
                fake.save()
                return self.send_json(200, {'access_key_id': akid, 'secret_access_key': secret,
                                            'account_id': acct, 'user_name': name})
        self.send_json(404, {'error': f'unknown control path {m} /_fake/{path}'})


def main(argv=None):
    ap = argparse.ArgumentParser(description='AWS stand-in for aws-account-operator tests')
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--create-account-seconds', type=float, default=2.0)
    ap.add_argument('--case-resolve-seconds', type=float, default=2.0)
    ap.add_argument('--instance-running-seconds', type=float, default=0.5)
    ap.add_argument('--region-enable-seconds', type=float, default=2.0)
    ap.add_argument('--max-accounts', type=int, default=1000)
    ap.add_argument('--ec2-optin-seconds', type=float, default=0.0)
    ap.add_argument('--management-account-id', default=None)
    ap.add_argument('--state-file', default=None)
    a = ap.parse_args(argv)
    cfg = {'create_account_seconds': a.create_account_seconds, 'case_resolve_seconds': a.case_resolve_seconds,
           'instance_running_seconds': a.instance_running_seconds,
           'region_enable_seconds': a.region_enable_seconds, 'max_accounts': a.max_accounts,
           'ec2_optin_seconds': a.ec2_optin_seconds, 'management_account_id': a.management_account_id,
           'state_file': a.state_file}
    fake = Fake(cfg)
    fake.save()
    handler = type('BoundHandler', (Handler,), {'fake': fake})
    srv = ThreadingHTTPServer((a.host, a.port), handler)
    srv.daemon_threads = True
    boot = fake.st.d['bootstrap']
    print(f'port: {srv.server_address[1]}', flush=True)
    print(f'management-account: {fake.st.mgmt}', flush=True)
    print(f'credentials: {boot["access_key"]} {boot["secret"]}', flush=True)
    print('ready', flush=True)
    import signal
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown, daemon=True).start())
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
        with fake.lock:
            fake.save()


if __name__ == '__main__':
    main()
