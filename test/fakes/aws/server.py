"""HTTP: the stand-in's shared context (Fake: state, fault rules, call log,
persistence) and the request handler (SigV4 verification, decoding and
validation against botocore's models, dispatch to the service handlers,
encoding of answers and errors). The control API is a mixin (control.py)."""

import json
import os
import random
import re
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

from . import protocol as P
from . import services as S
from .control import Control
from .errors import (INTERNAL, THROTTLE, auth_error, incomplete_signature, unknown_operation,
                     validation_error)
from .protocol import ApiError

SKEW_SECONDS = 300


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
            elif kind in ('truncate', 'oversize', 'hold') and err is None:
                err = Mangle(kind, rule)
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
    def log_call(self, service, op, region, cred, status, code, t0, detail=None):
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
                               'error_code': code, 'duration_ms': round((time.time() - t0) * 1000, 1),
                               'caller_arn': cred['arn'] if cred else None, **(detail or {})})
            if len(self.calls) > 100000:
                del self.calls[:10000]


def _first_kms_key(params):
    for b in params.get('BlockDeviceMappings') or []:
        k = (b.get('Ebs') or {}).get('KmsKeyId')
        if k:
            return k
    return None


_POLICY_OPS = ('AttachRolePolicy', 'AttachUserPolicy', 'DetachRolePolicy', 'DetachUserPolicy', 'GetPolicy',
               'DeletePolicy', 'GetPolicyVersion', 'CreatePolicyVersion', 'ListPolicyVersions',
               'DeletePolicyVersion', 'SetDefaultPolicyVersion')


def call_detail(service, op, params):
    """Request fields the call log keeps so tests can check what a client asked for (ARNs,
    KMS key, instance type). Never a secret: no external ID, token or key material."""
    if service == 'sts' and op in ('AssumeRole', 'AssumeRoleWithWebIdentity'):
        return {'role_arn': params.get('RoleArn'), 'role_session_name': params.get('RoleSessionName')}
    if service == 'iam' and op in _POLICY_OPS:
        return {'policy_arn': params.get('PolicyArn')}
    if service == 'ec2' and op == 'RunInstances':
        return {'kms_key_id': _first_kms_key(params), 'instance_type': params.get('InstanceType'),
                'image_id': params.get('ImageId')}
    return None


class Mangle(Exception):
    """A fault on a successful answer instead of an error: 'truncate' (the body cut
    in the middle: mode 'close' announces the full Content-Length and closes the
    connection halfway, mode 'short' sends half the body as the whole) or
    'oversize' (a Padding field of 'bytes' characters, 50 MiB by default, inside
    the otherwise valid body) or 'hold' (the operation is done and recorded, its
    intact answer sent only after 'hold_ms': a client killed meanwhile never
    learns the outcome)."""

    def __init__(self, kind, rule):
        super().__init__(kind)
        self.kind = kind
        self.mode = rule.get('mode', 'close')
        self.size = int(rule.get('bytes') or 50 * 1024 * 1024)
        self.hold_s = float(rule.get('hold_ms', 0)) / 1000.0

    def body(self, rbody):
        if self.kind == 'truncate':
            return rbody[:len(rbody) // 2]
        pad = b'x' * self.size
        if rbody.lstrip().startswith(b'{'):
            rest = rbody.lstrip()[1:].lstrip()
            return b'{"Padding":"' + pad + (b'",' if not rest.startswith(b'}') else b'"') + rest
        end = rbody.find(b'>', rbody.find(b'<', rbody.find(b'?>') + 1)) + 1
        return rbody[:end] + b'<Padding>' + pad + b'</Padding>' + rbody[end:]


class Handler(Control, BaseHTTPRequestHandler):
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

    def send(self, status, headers, body, mangle=None):
        if status in (204, 304):
            body = b''
        full = len(body)
        if mangle is not None and mangle.kind == 'hold':
            time.sleep(mangle.hold_s)
            mangle = None
        if mangle is not None:
            body = mangle.body(body)
            if mangle.kind == 'oversize' or mangle.mode == 'short':
                full = len(body)
            else:  # the connection ends halfway through the announced body
                self.close_connection = True
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header('Content-Length', str(full))
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
        detail = None
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
            if cred is None or cred.get('valid_after', 0) > now or cred.get('status') != 'Active' \
                    or not S.region_in_partition(region):
                # keys of one partition are unknown in another (GovCloud vs commercial)
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
            detail = call_detail(service, op_name, params)
            latency, ferr = fake.pick_fault(service, op_name)
            if latency:
                time.sleep(latency)
            mangle = ferr if isinstance(ferr, Mangle) else None
            if mangle is not None:
                ferr = None
                with fake.lock:
                    fake.st.counters['injected_errors'] += 1
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
            fake.log_call(service, op_name, region, cred, status, None, t0, detail)
            self.send(status, headers, rbody, mangle)
        except ApiError as e:
            if service is None:
                service = 'sts'
            if e.code in ('InvalidClientTokenId', 'UnrecognizedClientException', 'InvalidAccessKeyId',
                          'AuthFailure', 'SignatureDoesNotMatch', 'InvalidSignatureException', 'ExpiredToken',
                          'ExpiredTokenException', 'RequestTimeTooSkewed', 'RequestExpired', 'InvalidToken'):
                with fake.lock:
                    fake.st.counters['auth_failures'] += 1
            status, headers, rbody = P.encode_error(service, e, rid)
            fake.log_call(service, op_name, region, cred, status, e.code, t0, detail)
            self.send(status, headers, rbody)
        except Exception as e:  # a bug in the fake: answer as an internal error
            traceback.print_exc()
            svc = service or 'sts'
            code, status, msg = INTERNAL[svc]
            status, headers, rbody = P.encode_error(svc, ApiError(code, f'{msg} (fake bug: {e})', status,
                                                                  sender=False), rid)
            fake.log_call(svc, op_name, region, cred, status, code, t0, detail)
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
        detail = None
        try:
            m = P.model('sts')
            op_model = m.operation_model(op_name)
            params = P.decode_form_params(parse_qsl(body.decode('utf-8', 'replace'), keep_blank_values=True),
                                          op_model.input_shape, ec2=False)
            detail = call_detail(service, op_name, params)
            lines = P.validate(params, op_model.input_shape)
            if lines:
                raise validation_error(service, lines)
            latency, ferr = fake.pick_fault(service, op_name)
            if latency:
                time.sleep(latency)
            mangle = ferr if isinstance(ferr, Mangle) else None
            if ferr is not None and mangle is None:
                raise ferr
            with fake.lock:
                now = time.time()
                fake.st.tick(now)
                out = S.HANDLERS[(service, op_name)](fake.st, S.Ctx(service, 'us-east-1', None, now), params)
                fake.save()
            status, headers, rbody = P.encode_response(service, op_model, out, rid)
            fake.log_call(service, op_name, 'us-east-1', None, status, None, t0, detail)
            self.send(status, headers, rbody, mangle)
        except ApiError as e:
            status, headers, rbody = P.encode_error(service, e, rid)
            fake.log_call(service, op_name, 'us-east-1', None, status, e.code, t0, detail)
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
