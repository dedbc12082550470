"""EC2: regions, images, instance types, instances, volumes, snapshots,
VPC endpoint services.

Handlers take (st, ctx, params) and return the output dict (botocore member
names); they raise protocol.ApiError for service errors. The caller holds the
server lock."""

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
