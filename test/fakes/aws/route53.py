"""Route 53: hosted zones and record sets.

Handlers take (st, ctx, params) and return the output dict (botocore member
names); they raise protocol.ApiError for service errors. The caller holds the
server lock."""

import random

from .protocol import ApiError
from .registry import op
from .state import _upper_alnum


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
