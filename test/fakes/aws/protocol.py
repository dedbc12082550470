"""Wire-level helpers for the AWS stand-in: SigV4 verification with botocore's
signer, request decoding per protocol (driven by botocore's service models)
and response / error encoding per protocol.

Independent of the project's C code; only the standard library and botocore.
"""

import base64
import calendar
import datetime
import functools
import hashlib
import json
import re
import threading
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape

import botocore.session
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.validate import ParamValidator

_SESSION = botocore.session.get_session()
_MODELS = {}

# signing name (credential scope service) -> botocore model name
SIGNING_TO_MODEL = {
    'organizations': 'organizations',
    'sts': 'sts',
    'iam': 'iam',
    'support': 'support',
    'ec2': 'ec2',
    'servicequotas': 'service-quotas',
    'account': 'account',
    's3': 's3',
    'route53': 'route53',
}

UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD'

# real S3 root element names where they differ from <Operation>Result
S3_ROOTS = {'ListBuckets': 'ListAllMyBucketsResult', 'ListObjectsV2': 'ListBucketResult',
            'ListObjects': 'ListBucketResult', 'DeleteObjects': 'DeleteResult'}


# botocore's session loads its components lazily and is not thread-safe:
# the first concurrent requests of a service (one server thread per
# connection) raced in it (KeyError 'data_loader', answered 500).
_LOAD_LOCK = threading.Lock()


def model(name):
    m = _MODELS.get(name)
    if m is None:
        with _LOAD_LOCK:
            m = _MODELS.get(name)
            if m is None:
                m = _MODELS[name] = _SESSION.get_service_model(name)
    return m


_SERIALIZERS = {}


def serializer(protocol):
    from botocore.serialize import create_serializer
    sz = _SERIALIZERS.get(protocol)
    if sz is None:
        with _LOAD_LOCK:
            sz = _SERIALIZERS.get(protocol)
            if sz is None:
                sz = _SERIALIZERS[protocol] = create_serializer(protocol, include_validation=False)
    return sz


def protocol_of(service):
    return model(service).protocol


def new_request_id():
    return str(uuid.uuid4())


class ApiError(Exception):
    """An AWS error to be encoded in the service's protocol."""

    def __init__(self, code, message, status=400, extra=None, sender=True):
        super().__init__(f'{code}: {message}')
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra or {}
        self.sender = sender


# --------------------------------------------------------------------------
# SigV4 verification


class _Verifier:
    """Mix-in: sign exactly the headers the client listed in SignedHeaders."""

    signed_list = ()
    presigned = False

    def headers_to_sign(self, request):
        from botocore.awsrequest import HTTPHeaders
        hm = HTTPHeaders()
        for name in self.signed_list:
            for v in request.headers.get_all(name) or []:
                hm[name] = v
        return hm

    def payload(self, request):
        if self.presigned and self._service_name == 's3':
            return UNSIGNED_PAYLOAD
        return super().payload(request)


class _V4(_Verifier, SigV4Auth):
    pass


class _S3V4(_Verifier, S3SigV4Auth):
    pass


def parse_authorization(value):
    """Parse 'AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...'."""
    if not value or not value.startswith('AWS4-HMAC-SHA256'):
        return None
    out = {}
    for part in value[len('AWS4-HMAC-SHA256'):].split(','):
        k, _, v = part.strip().partition('=')
        out[k] = v
    if not {'Credential', 'SignedHeaders', 'Signature'} <= out.keys():
        return None
    cred = out['Credential'].split('/')
    if len(cred) != 5 or cred[4] != 'aws4_request':
        return None
    return {
        'access_key': cred[0], 'date': cred[1], 'region': cred[2], 'service': cred[3],
        'signed_headers': [h for h in out['SignedHeaders'].split(';') if h],
        'signature': out['Signature'],
    }


def expected_signature(method, host, raw_path, raw_query, headers, body, access_key,
                       secret, amz_date, region, service, signed_headers, presigned=False):
    """Compute the signature botocore would produce for this request."""
    if raw_query:
        # AWS canonicalises each query key and value with RFC 3986 encoding; normalise the
        # received (possibly differently escaped) query to that form before botocore sorts it.
        pairs = []
        for pair in raw_query.split('&'):
            k, sep, v = pair.partition('=')
            pairs.append(quote(unquote(k), safe='-_.~') + '=' + quote(unquote(v), safe='-_.~'))
        raw_query = '&'.join(pairs)
    url = 'http://' + host + raw_path + ('?' + raw_query if raw_query else '')
    req = AWSRequest(method=method, url=url, data=body)
    for k, v in headers:
        if k.lower() in signed_headers:
            req.headers[k.lower()] = v
    cls = _S3V4 if service == 's3' else _V4
    auth = cls(Credentials(access_key, secret), service, region)
    auth.signed_list = signed_headers
    auth.presigned = presigned
    req.context['timestamp'] = amz_date
    canonical = auth.canonical_request(req)
    sts = auth.string_to_sign(req, canonical)
    return auth.signature(sts, req)


def parse_amz_date(s):
    try:
        return calendar.timegm(datetime.datetime.strptime(s, '%Y%m%dT%H%M%SZ').timetuple())
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------
# Request decoding


def _scalar(shape, raw):
    t = shape.type_name
    if t in ('integer', 'long'):
        try:
            return int(raw)
        except ValueError:
            return raw
    if t in ('float', 'double'):
        try:
            return float(raw)
        except ValueError:
            return raw
    if t == 'boolean':
        if raw.lower() == 'true':
            return True
        if raw.lower() == 'false':
            return False
        return raw
    if t == 'blob':
        try:
            return base64.b64decode(raw)
        except Exception:
            return raw
    return raw


class _Form:
    def __init__(self, pairs):
        self.d = {}
        self.prefixes = set()
        for k, v in pairs:
            self.d[k] = v
            parts = k.split('.')
            for i in range(1, len(parts)):
                self.prefixes.add('.'.join(parts[:i]))

    def has(self, key):
        return key in self.d or key in self.prefixes


def _qname(shape, default, ec2):
    ser = shape.serialization
    if ec2:
        if 'queryName' in ser:
            return ser['queryName']
        if 'name' in ser:
            return ser['name'][0].upper() + ser['name'][1:]
        return default
    return ser.get('name', default)


_MISSING = object()


def _decode_form(form, shape, prefix, ec2):
    t = shape.type_name
    if t == 'structure':
        out = {}
        for mname, mshape in shape.members.items():
            key = _qname(mshape, mname, ec2)
            key = f'{prefix}.{key}' if prefix else key
            if mshape.type_name == 'list' and not ec2 and mshape.serialization.get('flattened') \
                    and mshape.member.serialization.get('name'):
                key = '.'.join(key.split('.')[:-1] + [_qname(mshape.member, '', ec2)])
                v = _decode_list_items(form, mshape, key, ec2)
            else:
                v = _decode_form(form, mshape, key, ec2)
            if v is not _MISSING:
                out[mname] = v
        if prefix and not out and not form.has(prefix):
            return _MISSING
        return out
    if t == 'list':
        if ec2 or shape.serialization.get('flattened'):
            lp = prefix
        else:
            if form.d.get(prefix) == '':
                return []
            lp = prefix + '.' + shape.member.serialization.get('name', 'member')
        if form.d.get(prefix) == '' and ec2:
            return []
        return _decode_list_items(form, shape, lp, ec2)
    if t == 'map':
        fp = prefix if shape.serialization.get('flattened') else prefix + '.entry'
        if not form.has(fp):
            return _MISSING
        out = {}
        i = 1
        kn = _qname(shape.key, 'key', ec2)
        vn = _qname(shape.value, 'value', ec2)
        while form.has(f'{fp}.{i}'):
            k = _decode_form(form, shape.key, f'{fp}.{i}.{kn}', ec2)
            v = _decode_form(form, shape.value, f'{fp}.{i}.{vn}', ec2)
            if k is not _MISSING:
                out[k] = None if v is _MISSING else v
            i += 1
        return out
    if prefix in form.d:
        return _scalar(shape, form.d[prefix])
    return _MISSING


def _decode_list_items(form, shape, lp, ec2):
    if not form.has(lp):
        return _MISSING
    out = []
    i = 1
    while form.has(f'{lp}.{i}'):
        v = _decode_form(form, shape.member, f'{lp}.{i}', ec2)
        out.append(None if v is _MISSING else v)
        i += 1
    return out


def decode_form_params(pairs, input_shape, ec2):
    if input_shape is None:
        return {}
    form = _Form(pairs)
    v = _decode_form(form, input_shape, '', ec2)
    return v if isinstance(v, dict) else {}


def _strip_ns(tag):
    return tag.split('}', 1)[-1]


def decode_xml(shape, elem):
    t = shape.type_name
    if t == 'structure':
        out = {}
        children = list(elem)
        for mname, mshape in shape.members.items():
            loc = mshape.serialization.get('location')
            if loc and loc != 'body':
                continue
            if mshape.serialization.get('xmlAttribute'):
                continue
            name = mshape.serialization.get('name', mname)
            if mshape.type_name == 'list' and mshape.serialization.get('flattened'):
                iname = mshape.member.serialization.get('name', name)
                items = [c for c in children if _strip_ns(c.tag) == iname]
                if items:
                    out[mname] = [decode_xml(mshape.member, c) for c in items]
                continue
            for c in children:
                if _strip_ns(c.tag) == name:
                    out[mname] = decode_xml(mshape, c)
                    break
        return out
    if t == 'list':
        iname = shape.member.serialization.get('name', 'member')
        return [decode_xml(shape.member, c) for c in elem if _strip_ns(c.tag) == iname]
    if t == 'map':
        out = {}
        kn = shape.key.serialization.get('name', 'key')
        vn = shape.value.serialization.get('name', 'value')
        for entry in elem:
            k = v = None
            for c in entry:
                if _strip_ns(c.tag) == kn:
                    k = c.text or ''
                elif _strip_ns(c.tag) == vn:
                    v = decode_xml(shape.value, c)
            if k is not None:
                out[k] = v
        return out
    return _scalar(shape, elem.text or '')


def _compile_uri(template):
    path, _, q = template.partition('?')
    labels = []
    rx = '^'
    for part in re.split(r'(\{[^}]+\})', path):
        if part.startswith('{'):
            name = part[1:-1]
            greedy = name.endswith('+')
            name = name.rstrip('+')
            labels.append(name)
            rx += f'(?P<{name}>.+)' if greedy else f'(?P<{name}>[^/]+)'
        else:
            rx += re.escape(part)
    if path.endswith('/') and path != '/' and rx.endswith('/'):
        rx = rx[:-1] + '/?'  # tolerate a missing trailing slash
    rx += '$'
    qlits = {}
    if q:
        for item in q.split('&'):
            k, _, v = item.partition('=')
            qlits[k] = v
    nlit = len([p for p in re.split(r'\{[^}]+\}', path) if p.strip('/')])
    return re.compile(rx), qlits, nlit


_ROUTES = {}


def _required_headers(op):
    shape = op.input_shape
    if shape is None:
        return []
    return [shape.members[m].serialization.get('name', m).lower() for m in shape.required_members
            if shape.members[m].serialization.get('location') == 'header']


def _required_query(op):
    shape = op.input_shape
    if shape is None:
        return []
    return [shape.members[m].serialization.get('name', m) for m in shape.required_members
            if shape.members[m].serialization.get('location') == 'querystring']


def match_rest_operation(service, method, path, query_pairs, header_names=()):
    """Return (operation_model, uri_labels) for a REST request or (None, None)."""
    routes = _ROUTES.get(service)
    if routes is None:
        routes = []
        m = model(service)
        for name in m.operation_names:
            op = m.operation_model(name)
            rx, qlits, nlit = _compile_uri(op.http['requestUri'])
            routes.append((op.http['method'], rx, qlits, nlit, op))
        _ROUTES[service] = routes
    qkeys = {k: v for k, v in query_pairs}
    best = None
    for meth, rx, qlits, nlit, op in routes:
        if meth != method:
            continue
        mt = rx.match(path)
        if not mt:
            continue
        ok = all(k in qkeys and (not v or qkeys[k] == v) for k, v in qlits.items())
        if not ok:
            continue
        req_headers = _required_headers(op)
        if any(h not in header_names for h in req_headers):
            continue
        req_query = _required_query(op)
        if any(q not in qkeys for q in req_query):
            continue
        score = (len(qlits) + len(req_query), len(req_headers), nlit, -len(mt.groupdict()))
        if best is None or score > best[0]:
            best = (score, op, {k: unquote(v) for k, v in mt.groupdict().items()})
    if best is None:
        return None, None
    return best[1], best[2]


def decode_rest(service, op, labels, query_pairs, headers, body):
    shape = op.input_shape
    params = {}
    if shape is None:
        return params
    qd = {}
    for k, v in query_pairs:
        qd.setdefault(k, []).append(v)
    hd = {k.lower(): v for k, v in headers}
    payload = shape.serialization.get('payload')
    body_members = {}
    for mname, mshape in shape.members.items():
        loc = mshape.serialization.get('location')
        lname = mshape.serialization.get('name', mname)
        if loc == 'uri':
            if lname in labels:
                params[mname] = _scalar(mshape, labels[lname])
        elif loc == 'querystring':
            if lname in qd:
                if mshape.type_name == 'list':
                    params[mname] = [_scalar(mshape.member, x) for x in qd[lname]]
                else:
                    params[mname] = _scalar(mshape, qd[lname][0])
        elif loc == 'header':
            if lname.lower() in hd:
                v = hd[lname.lower()]
                if mshape.type_name == 'list':
                    params[mname] = [x.strip() for x in v.split(',')]
                elif mshape.type_name == 'timestamp':
                    params[mname] = v
                else:
                    params[mname] = _scalar(mshape, v)
        elif loc == 'headers':
            pre = lname.lower()
            mp = {k[len(pre):]: v for k, v in hd.items() if k.startswith(pre)}
            if mp:
                params[mname] = mp
        else:
            body_members[mname] = mshape
    proto = model(service).protocol
    if payload:
        pshape = shape.members[payload]
        if pshape.type_name in ('blob', 'string'):
            if body:
                params[payload] = body if pshape.type_name == 'blob' else body.decode('utf-8', 'replace')
            elif pshape.type_name == 'blob' and op.name == 'PutObject':
                params[payload] = b''
        elif body:
            if proto == 'rest-xml':
                try:
                    root = ET.fromstring(body)
                except ET.ParseError:
                    raise ApiError('MalformedXML', 'The XML you provided was not well-formed '
                                   'or did not validate against our published schema')
                params[payload] = decode_xml(pshape, root)
            else:
                try:
                    params[payload] = json.loads(body)
                except ValueError:
                    raise ApiError('SerializationException', 'Malformed JSON body')
    elif body_members and body:
        if proto == 'rest-xml':
            try:
                root = ET.fromstring(body)
            except ET.ParseError:
                raise ApiError('MalformedXML', 'The XML you provided was not well-formed')
            params.update(decode_xml(shape, root))
        else:
            try:
                doc = json.loads(body)
            except ValueError:
                raise ApiError('SerializationException', 'Malformed JSON body')
            if not isinstance(doc, dict):
                raise ApiError('SerializationException', 'JSON body must be an object')
            params.update(doc)
    return params


def validate(params, shape):
    """Return None when valid, else a message in the service style."""
    if shape is None:
        return None
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        msg = report.generate_report()
        lines = [ln for ln in msg.splitlines() if ln.strip() and not ln.startswith('Parameter validation failed')]
        return lines
    lines = []
    _constraints(params, shape, '', lines)
    return lines or None


@functools.lru_cache(maxsize=None)
def _pattern(p):
    """The model's (Java) pattern compiled for a full match; None when Python's re
    cannot express it (e.g. \\p{L}), which is then not checked."""
    try:
        return re.compile(p)
    except re.error:
        return None


def _member_path(prefix, name):
    return (prefix + '.' if prefix else '') + name[:1].lower() + name[1:]


def _constraint_line(shape, path, value, what):
    shown = '' if shape.serialization.get('sensitive') or shape.metadata.get('sensitive') else f" '{value}'"
    return f'Value{shown} at \'{path}\' failed to satisfy constraint: Member must {what}'


def _constraints(value, shape, path, lines):
    """AWS's own checks botocore's validator leaves out: the max (and min) length
    of strings and lists and the pattern of strings, as AWS reports them."""
    t, meta = shape.type_name, shape.metadata
    if t == 'structure' and isinstance(value, dict):
        for name, member in shape.members.items():
            if value.get(name) is not None:
                _constraints(value[name], member, _member_path(path, name), lines)
    elif t == 'list' and isinstance(value, list):
        _length(shape, path, value, len(value), lines)
        for i, item in enumerate(value):
            _constraints(item, shape.member, f'{path}.{i + 1}.member', lines)
    elif t == 'map' and isinstance(value, dict):
        for k, v in value.items():
            _constraints(v, shape.value, f'{path}.{k}', lines)
    elif t == 'string' and isinstance(value, str):
        if not _length(shape, path, value, len(value), lines) and 'pattern' in meta:
            rx = _pattern(meta['pattern'])
            if rx is not None and rx.fullmatch(value) is None:
                lines.append(_constraint_line(shape, path, value,
                                              f'satisfy regular expression pattern: {meta["pattern"]}'))


def _length(shape, path, value, n, lines):
    meta = shape.metadata
    if 'max' in meta and n > meta['max']:
        lines.append(_constraint_line(shape, path, value if shape.type_name == 'string' else '[...]',
                                      f'have length less than or equal to {meta["max"]}'))
        return True
    if 'min' in meta and n < meta['min']:
        lines.append(_constraint_line(shape, path, value if shape.type_name == 'string' else '[...]',
                                      f'have length greater than or equal to {meta["min"]}'))
        return True
    return False


# --------------------------------------------------------------------------
# Response encoding


def _iso(ts):
    if isinstance(ts, str):
        return ts
    dt = datetime.datetime.utcfromtimestamp(float(ts))
    return dt.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (dt.microsecond // 1000)


def _http_date(ts):
    from email.utils import formatdate
    return formatdate(float(ts), usegmt=True)


def to_json(shape, value):
    """Filter/convert a Python value to the JSON wire form of shape."""
    if value is None:
        return None
    t = shape.type_name
    if t == 'structure':
        out = {}
        for mname, mshape in shape.members.items():
            if mname in value and value[mname] is not None:
                loc = mshape.serialization.get('location')
                if loc in ('header', 'headers', 'statusCode'):
                    continue
                out[mshape.serialization.get('name', mname)] = to_json(mshape, value[mname])
        return out
    if t == 'list':
        return [to_json(shape.member, v) for v in value]
    if t == 'map':
        return {k: to_json(shape.value, v) for k, v in value.items()}
    if t == 'timestamp':
        if isinstance(value, str):
            return value
        fmt = shape.serialization.get('timestampFormat')
        if fmt == 'iso8601':
            return _iso(value)
        return round(float(value), 3)
    if t == 'blob':
        return base64.b64encode(value if isinstance(value, bytes) else value.encode()).decode()
    return value


def _xml_scalar(shape, value):
    t = shape.type_name
    if t == 'boolean':
        return 'true' if value else 'false'
    if t == 'timestamp':
        return _iso(value)
    if t == 'blob':
        return base64.b64encode(value if isinstance(value, bytes) else value.encode()).decode()
    return escape(str(value))


def to_xml(shape, value, name):
    t = shape.type_name
    if t == 'structure':
        return f'<{name}>' + xml_members(shape, value) + f'</{name}>'
    if t == 'list':
        iname = shape.member.serialization.get('name', 'member')
        return f'<{name}>' + ''.join(to_xml(shape.member, v, iname) for v in value) + f'</{name}>'
    if t == 'map':
        kn = shape.key.serialization.get('name', 'key')
        vn = shape.value.serialization.get('name', 'value')
        return f'<{name}>' + ''.join(
            f'<entry><{kn}>{escape(str(k))}</{kn}>' + to_xml(shape.value, v, vn) + '</entry>'
            for k, v in value.items()) + f'</{name}>'
    return f'<{name}>{_xml_scalar(shape, value)}</{name}>'


def xml_members(shape, value):
    parts = []
    for mname, mshape in shape.members.items():
        if mname not in value or value[mname] is None:
            continue
        loc = mshape.serialization.get('location')
        if loc in ('header', 'headers', 'statusCode'):
            continue
        if mshape.serialization.get('xmlAttribute'):
            continue
        name = mshape.serialization.get('name', mname)
        v = value[mname]
        if mshape.type_name == 'list' and mshape.serialization.get('flattened'):
            iname = mshape.member.serialization.get('name', name)
            parts.extend(to_xml(mshape.member, x, iname) for x in v)
        else:
            parts.append(to_xml(mshape, v, name))
    return ''.join(parts)


def encode_response(service, op, output, request_id):
    """Return (status, headers, body bytes) for a successful call."""
    m = model(service)
    proto = m.protocol
    shape = op.output_shape
    output = output or {}
    headers = {}
    status = op.http.get('responseCode', 200)
    if proto == 'json':
        headers['Content-Type'] = 'application/x-amz-json-1.1'
        headers['x-amzn-RequestId'] = request_id
        body = json.dumps(to_json(shape, output) if shape else {}).encode()
        return status, headers, body
    if proto == 'query':
        headers['Content-Type'] = 'text/xml'
        headers['x-amzn-RequestId'] = request_id
        ns = m.metadata.get('xmlNamespace', '')
        inner = ''
        if shape is not None:
            wrapper = shape.serialization.get('resultWrapper', f'{op.name}Result')
            inner = f'<{wrapper}>' + xml_members(shape, output) + f'</{wrapper}>'
        body = (f'<{op.name}Response xmlns="{ns}">{inner}<ResponseMetadata><RequestId>{request_id}'
                f'</RequestId></ResponseMetadata></{op.name}Response>')
        return status, headers, body.encode()
    if proto == 'ec2':
        headers['Content-Type'] = 'text/xml;charset=UTF-8'
        headers['x-amzn-RequestId'] = request_id
        inner = xml_members(shape, output) if shape is not None else ''
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<{op.name}Response '
                f'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>{request_id}</requestId>'
                f'{inner}</{op.name}Response>')
        return status, headers, body.encode()
    # REST protocols
    if service == 's3':
        headers['x-amz-request-id'] = request_id
        headers['x-amz-id-2'] = base64.b64encode(request_id.encode()).decode()
    else:
        headers['x-amzn-RequestId'] = request_id
    body = b''
    if shape is not None:
        for mname, mshape in shape.members.items():
            loc = mshape.serialization.get('location')
            if mname in output and output[mname] is not None:
                if loc == 'header':
                    if mshape.serialization.get('name', mname).lower() == 'content-length':
                        continue
                    v = output[mname]
                    if mshape.type_name == 'timestamp':
                        v = _http_date(v)
                    headers[mshape.serialization.get('name', mname)] = str(v)
                elif loc == 'statusCode':
                    status = int(output[mname])
        payload = shape.serialization.get('payload')
        if payload:
            pshape = shape.members[payload]
            pv = output.get(payload)
            if pv is not None:
                if pshape.type_name in ('blob', 'string'):
                    body = pv if isinstance(pv, bytes) else pv.encode()
                elif proto == 'rest-xml':
                    name = pshape.serialization.get('name', payload)
                    body = to_xml(pshape, pv, name).encode()
                else:
                    body = json.dumps(to_json(pshape, pv)).encode()
        elif proto == 'rest-xml':
            has_body = any(mshape.serialization.get('location') in (None, 'body') and mname in output
                           for mname, mshape in shape.members.items())
            if has_body and status != 204:
                root = shape.serialization.get('name') or S3_ROOTS.get(op.name) or (
                    f'{op.name}Response' if service == 'route53' else f'{op.name}Result')
                ns = m.metadata.get('xmlNamespace') or (
                    'https://route53.amazonaws.com/doc/2013-04-01/' if service == 'route53'
                    else 'http://s3.amazonaws.com/doc/2006-03-01/')
                body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{ns}">'
                        + xml_members(shape, output) + f'</{root}>').encode()
        else:
            body = json.dumps(to_json(shape, output)).encode()
    if proto == 'rest-xml' and body and 'Content-Type' not in headers:
        headers['Content-Type'] = 'application/xml'
    if proto == 'rest-json':
        headers['Content-Type'] = 'application/json'
    return status, headers, body


def encode_error(service, err, request_id):
    """Return (status, headers, body) for an ApiError in the service's protocol."""
    proto = protocol_of(service) if service in SIGNING_TO_MODEL.values() else 'json'
    headers = {}
    status = err.status
    if proto == 'json':
        headers['Content-Type'] = 'application/x-amz-json-1.1'
        headers['x-amzn-RequestId'] = request_id
        doc = {'__type': err.code, 'message': err.message}
        doc.update(err.extra)
        return status, headers, json.dumps(doc).encode()
    if proto == 'rest-json':
        headers['Content-Type'] = 'application/json'
        headers['x-amzn-RequestId'] = request_id
        headers['x-amzn-ErrorType'] = f'{err.code}:http://internal.amazon.com/coral/com.amazonaws.account/'
        doc = {'message': err.message}
        doc.update(err.extra)
        return status, headers, json.dumps(doc).encode()
    if proto == 'query' or service == 'route53':
        headers['Content-Type'] = 'text/xml'
        headers['x-amzn-RequestId'] = request_id
        ns = ' xmlns="https://route53.amazonaws.com/doc/2013-04-01/"' if service == 'route53' else \
            f' xmlns="{model(service).metadata.get("xmlNamespace", "")}"'
        typ = 'Sender' if err.sender else 'Receiver'
        body = (f'<ErrorResponse{ns}><Error><Type>{typ}</Type><Code>{escape(err.code)}</Code>'
                f'<Message>{escape(err.message)}</Message></Error><RequestId>{request_id}</RequestId>'
                f'</ErrorResponse>')
        return status, headers, body.encode()
    if proto == 'ec2':
        headers['Content-Type'] = 'text/xml;charset=UTF-8'
        headers['x-amzn-RequestId'] = request_id
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{escape(err.code)}'
                f'</Code><Message>{escape(err.message)}</Message></Error></Errors>'
                f'<RequestID>{request_id}</RequestID></Response>')
        return status, headers, body.encode()
    # s3
    headers['Content-Type'] = 'application/xml'
    headers['x-amz-request-id'] = request_id
    headers['x-amz-id-2'] = base64.b64encode(request_id.encode()).decode()
    extra = ''.join(f'<{k}>{escape(str(v))}</{k}>' for k, v in err.extra.items())
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(err.code)}</Code>'
            f'<Message>{escape(err.message)}</Message>{extra}<RequestId>{request_id}</RequestId>'
            f'<HostId>{headers["x-amz-id-2"]}</HostId></Error>')
    return status, headers, body.encode()


def sha256_hex(b):
    return hashlib.sha256(b).hexdigest()
