"""The Account API's GetRegionOptStatus and EnableRegion (missing from
botocore 1.29's model, so validated and served by hand).

Handlers take (st, ctx, params) and return the output dict (botocore member
names); they raise protocol.ApiError for service errors. The caller holds the
server lock."""

import re

from .protocol import ApiError
from .registry import op
from .state import ALL_REGIONS


def account_target(st, ctx, p):
    aid = p.get('AccountId')
    if aid is None or aid == ctx.account:
        return ctx.account
    if not re.match(r'^\d{12}$', aid):
        raise ApiError('ValidationException', 'Invalid AccountId.', 400,
                       extra={'reason': 'fieldValidationFailed'})
    if ctx.account != st.mgmt or aid not in st.d['accounts']:
        raise ApiError('AccessDeniedException', 'User is not authorized to perform this operation on the '
                       'specified account.', 403)
    return aid


def validate_region_body(p):
    if not isinstance(p, dict):
        raise ApiError('ValidationException', 'Invalid request body.', 400)
    unknown = set(p) - {'RegionName', 'AccountId'}
    if unknown:
        raise ApiError('ValidationException', f'Unknown parameter(s): {", ".join(sorted(unknown))}', 400)
    rn = p.get('RegionName')
    if not isinstance(rn, str) or not 1 <= len(rn) <= 50:
        raise ApiError('ValidationException', '1 validation error detected: Value null at \'regionName\' '
                       'failed to satisfy constraint: Member must not be null', 400,
                       extra={'reason': 'fieldValidationFailed'})
    if 'AccountId' in p and not isinstance(p['AccountId'], str):
        raise ApiError('ValidationException', 'AccountId must be a string.', 400)
    if rn not in ALL_REGIONS:
        raise ApiError('ValidationException', f'The region {rn} is not a valid region.', 400,
                       extra={'reason': 'invalidRegionOptTarget'})


@op('account', 'GetRegionOptStatus')
def _acct_get_region(st, ctx, p):
    validate_region_body(p)
    acct = account_target(st, ctx, p)
    return {'RegionName': p['RegionName'], 'RegionOptStatus': st.region_status(acct, p['RegionName'])}


@op('account', 'EnableRegion')
def _acct_enable_region(st, ctx, p):
    validate_region_body(p)
    acct = account_target(st, ctx, p)
    cur = st.region_status(acct, p['RegionName'])
    if cur == 'ENABLED_BY_DEFAULT':
        raise ApiError('ValidationException', f'The region {p["RegionName"]} is enabled by default and cannot '
                       'be enabled or disabled.', 400, extra={'reason': 'invalidRegionOptTarget'})
    if cur in ('ENABLING', 'DISABLING'):
        raise ApiError('ConflictException', f'The request failed because the region {p["RegionName"]} is '
                       f'currently {cur.lower()}.', 409)
    if cur == 'ENABLED':
        return {}
    ent = st.d['regions_opt'].setdefault(acct, {})[p['RegionName']] = {
        'status': 'ENABLING', 'at': ctx.now + st.cfg['region_enable_seconds']}
    if p['RegionName'] not in st.cfg.get('stuck_regions', ()):
        st.schedule(ent['at'], 'region', ent)  # a stuck region stays ENABLING
    return {}
