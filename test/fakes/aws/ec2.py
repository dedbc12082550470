"""EC2: regions, images, instance types, instances, volumes, snapshots,
VPC endpoint services.

Handlers take (st, ctx, params) and return the output dict (botocore member
names); they raise protocol.ApiError for service errors. The caller holds the
server lock."""

import time

from .protocol import ApiError
from .registry import op
from .state import (ALL_REGIONS, AMI_OWNER, IMAGE_NAMES, INSTANCE_TYPES, QUOTAS, _det_hex, _hex,
                    match_filters, paginate)


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


def _visible_images(st, ctx):
    """The public catalogue plus the caller's own AMIs in this region."""
    own = [_image_view(i) for i in st.ec2r(ctx.account, ctx.region)['images'].values()]
    return _images(ctx.region) + own


def _image_view(img):
    return {k: v for k, v in img.items() if not k.startswith('_')}


@op('ec2', 'DescribeImages')
def _ec2_images(st, ctx, p):
    _check_region_enabled(st, ctx)
    _dry_run(p)
    imgs = _visible_images(st, ctx)
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


def _offered_types(st, region):
    """Instance types offered in region: t3.micro is missing from the no_t3_regions (timing control)."""
    gone = set(st.cfg.get('no_t3_regions') or []) & {region}
    return {k: v for k, v in INSTANCE_TYPES.items() if not (gone and k == 't3.micro')}


@op('ec2', 'DescribeInstanceTypes')
def _ec2_itypes(st, ctx, p):
    _check_region_enabled(st, ctx)
    _dry_run(p)
    offered = _offered_types(st, ctx.region)
    names = p.get('InstanceTypes') or list(offered)
    for n in names:
        if n not in offered:
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


def _root_kms_key(p):
    """KmsKeyId of the root volume's mapping (/dev/sda1, else the first), None without one."""
    bdms = p.get('BlockDeviceMappings') or []
    root = [b for b in bdms if b.get('DeviceName') == '/dev/sda1'] or bdms[:1]
    return ((root[0].get('Ebs') or {}).get('KmsKeyId')) if root else None


@op('ec2', 'RunInstances')
def _ec2_run(st, ctx, p):
    _check_region_enabled(st, ctx)
    acct = st.d['accounts'].get(ctx.account)
    if acct and st.ec2_optin_seconds and ctx.now - acct.get('_created', 0) < st.ec2_optin_seconds:
        raise ApiError('OptInRequired', 'You are not subscribed to this service. Please go to '
                       'http://aws.amazon.com to subscribe.', 401)
    images = {i['ImageId']: i for i in _visible_images(st, ctx)}
    if p['ImageId'] not in images:
        raise ApiError('InvalidAMIID.NotFound', f'The image id \'[{p["ImageId"]}]\' does not exist')
    itype = p.get('InstanceType') or 'm1.small'
    if itype not in INSTANCE_TYPES:
        raise ApiError('InvalidParameterValue', f'Invalid value \'{itype}\' for InstanceType.')
    if itype not in _offered_types(st, ctx.region):
        az = (p.get('Placement') or {}).get('AvailabilityZone') or _azs(ctx.region)[0]
        raise ApiError('Unsupported', f'Your requested instance type ({itype}) is not supported in your '
                       f'requested Availability Zone ({az}). Please retry your request by not specifying an '
                       f'Availability Zone or choosing {", ".join(x for x in _azs(ctx.region) if x != az)}.')
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
                '_root_kms_key_id': _root_kms_key(p),
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


def _public_snapshots(region):
    """Public snapshots of other accounts (the AMI owner's) that every DescribeSnapshots without
    OwnerIds also returns, as the real service does."""
    sid = 'snap-' + _det_hex(region + 'public-snapshot', 17)
    return {sid: {'SnapshotId': sid, 'VolumeId': 'vol-ffffffff', 'VolumeSize': 10, 'State': 'completed',
                  'StartTime': 1683115200.0, 'Progress': '100%', 'OwnerId': AMI_OWNER,
                  'Description': 'Red Hat public snapshot', 'Encrypted': False, 'StorageTier': 'standard'}}


@op('ec2', 'DescribeSnapshots')
def _ec2_snapshots(st, ctx, p):
    _check_region_enabled(st, ctx)
    _dry_run(p)
    r = st.ec2r(ctx.account, ctx.region)
    owners = p.get('OwnerIds')
    public = _public_snapshots(ctx.region)
    known = dict(public, **r['snapshots'])
    snaps = list(known.values())
    if owners:
        snaps = [x for x in snaps if x['OwnerId'] in owners or ('self' in owners and x['OwnerId'] == ctx.account)]
    for s in p.get('SnapshotIds') or []:
        if s not in known:
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
    sid = p['SnapshotId']
    if sid in _public_snapshots(ctx.region):
        raise ApiError('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403)
    if sid not in r['snapshots']:
        raise ApiError('InvalidSnapshot.NotFound', f'The snapshot \'{sid}\' does not exist.')
    _dry_run(p)
    for img in r['images'].values():
        if sid in _image_snapshots(img):
            raise ApiError('InvalidSnapshot.InUse', f'The snapshot {sid} is currently in use by {img["ImageId"]}')
    del r['snapshots'][sid]
    return {}


# ---------------------------------------------------------------- AMIs owned by an account
def _image_snapshots(img):
    return [b['Ebs']['SnapshotId'] for b in img['BlockDeviceMappings'] if (b.get('Ebs') or {}).get('SnapshotId')]


def _check_image_name(r, name):
    if not 3 <= len(name) <= 128:
        raise ApiError('InvalidAMIName.Malformed', 'AMI names must be between 3 and 128 characters long, and '
                       'may contain letters, numbers, \'(\', \')\', \'.\', \'-\', \'/\' and \'_\'')
    for img in r['images'].values():
        if img['Name'] == name:
            raise ApiError('InvalidAMIName.Duplicate', f'AMI name {name} is already in use by AMI {img["ImageId"]}')


def register_image(st, acct, region, name, bdms, now, arch='x86_64', root='/dev/sda1', desc=None):
    """An AMI owned by acct backed by the snapshots in bdms (each must be the account's own)."""
    r = st.ec2r(acct, region)
    _check_image_name(r, name)
    for b in bdms:
        sid = (b.get('Ebs') or {}).get('SnapshotId')
        if sid and sid not in r['snapshots']:
            raise ApiError('InvalidSnapshot.NotFound', f'The snapshot \'{sid}\' does not exist.')
    iid = 'ami-' + _hex(17)
    out = []
    for b in bdms:
        ebs = dict(b.get('Ebs') or {})
        if ebs.get('SnapshotId'):
            snap = r['snapshots'][ebs['SnapshotId']]
            ebs.setdefault('VolumeSize', snap['VolumeSize'])
            ebs.setdefault('Encrypted', snap['Encrypted'])
        ebs.setdefault('DeleteOnTermination', True)
        ebs.setdefault('VolumeType', 'gp2')
        out.append({'DeviceName': b.get('DeviceName') or root, 'Ebs': ebs})
    img = {'ImageId': iid, 'Name': name, 'OwnerId': acct, 'Architecture': arch, 'State': 'available',
           'Public': False, 'ImageType': 'machine', 'RootDeviceType': 'ebs', 'RootDeviceName': root,
           'CreationDate': time.strftime('%Y-%m-%dT%H:%M:%S.000Z', time.gmtime(now)),
           'VirtualizationType': 'hvm', 'Hypervisor': 'xen', 'EnaSupport': True,
           'PlatformDetails': 'Linux/UNIX', 'UsageOperation': 'RunInstances', 'ImageLocation': f'{acct}/{name}',
           'Description': desc, 'BlockDeviceMappings': out}
    r['images'][iid] = img
    return img


def new_snapshot(st, acct, region, now, volume=None, desc=''):
    """A completed snapshot owned by acct (of volume, or of no volume as a seed)."""
    r = st.ec2r(acct, region)
    sid = 'snap-' + _hex(17)
    v = volume or {'VolumeId': 'vol-ffffffff', 'Size': 10, 'Encrypted': False}
    s = {'SnapshotId': sid, 'VolumeId': v['VolumeId'], 'VolumeSize': v['Size'], 'State': 'completed',
         'StartTime': now, 'Progress': '100%', 'OwnerId': acct, 'Description': desc,
         'Encrypted': v['Encrypted'], 'StorageTier': 'standard'}
    if v.get('KmsKeyId'):
        s['KmsKeyId'] = v['KmsKeyId']
    r['snapshots'][sid] = s
    return s


@op('ec2', 'RegisterImage')
def _ec2_register_image(st, ctx, p):
    _check_region_enabled(st, ctx)
    bdms = p.get('BlockDeviceMappings') or []
    root = p.get('RootDeviceName') or '/dev/sda1'
    if not any((b.get('Ebs') or {}).get('SnapshotId') and b.get('DeviceName') == root for b in bdms):
        raise ApiError('InvalidBlockDeviceMapping', f'The root device name {root} must have a snapshot '
                       'in the block device mapping.')
    _dry_run(p)
    img = register_image(st, ctx.account, ctx.region, p['Name'], bdms, ctx.now, p.get('Architecture') or 'x86_64',
                         root, p.get('Description'))
    return {'ImageId': img['ImageId']}


@op('ec2', 'CreateImage')
def _ec2_create_image(st, ctx, p):
    _check_region_enabled(st, ctx)
    r = _find_instances(st, ctx, [p['InstanceId']])
    inst = r['instances'][p['InstanceId']]
    if inst['State']['Name'] not in ('running', 'stopped', 'pending'):
        raise ApiError('IncorrectInstanceState', f'The instance \'{inst["InstanceId"]}\' is not in a state '
                       'from which it can be imaged.')
    _check_image_name(r, p['Name'])
    _dry_run(p)
    bdms = []
    for b in inst['BlockDeviceMappings']:
        vol = r['volumes'].get(b['Ebs']['VolumeId'])
        if vol is not None:
            snap = new_snapshot(st, ctx.account, ctx.region, ctx.now, vol,
                                f'Created by CreateImage({inst["InstanceId"]})')
            bdms.append({'DeviceName': b['DeviceName'], 'Ebs': {'SnapshotId': snap['SnapshotId']}})
    img = register_image(st, ctx.account, ctx.region, p['Name'], bdms, ctx.now, inst['Architecture'],
                         inst['RootDeviceName'], p.get('Description'))
    return {'ImageId': img['ImageId']}


@op('ec2', 'DeregisterImage')
def _ec2_deregister_image(st, ctx, p):
    _check_region_enabled(st, ctx)
    r = st.ec2r(ctx.account, ctx.region)
    if p['ImageId'] not in r['images']:
        if p['ImageId'] in {i['ImageId'] for i in _images(ctx.region)}:
            raise ApiError('AuthFailure', f'Not authorized for image:{p["ImageId"]}')
        raise ApiError('InvalidAMIID.NotFound', f'The image id \'[{p["ImageId"]}]\' does not exist')
    _dry_run(p)
    del r['images'][p['ImageId']]
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
