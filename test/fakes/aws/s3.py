"""S3: buckets and objects.

Handlers take (st, ctx, params) and return the output dict (botocore member
names); they raise protocol.ApiError for service errors. The caller holds the
server lock."""

import base64
import hashlib
import re

from .protocol import ApiError
from .registry import op
from .state import _det_hex


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
