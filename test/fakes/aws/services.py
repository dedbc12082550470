"""Service behaviour of the AWS stand-in: one State object holding every
account's resources (state.py), and one module per AWS service with one
handler per implemented operation, registered with @op in registry.HANDLERS.
Importing this module registers every service's operations.

Handlers take (st, ctx, params) and return the output dict (botocore member
names); they raise protocol.ApiError for service errors. All times are epoch
floats. Callers hold the server lock while calling into State.
"""

# Each service module registers its operations when imported.
from . import organizations, sts, iam, support, ec2, quotas, account, s3, route53  # noqa: F401
from .account import validate_region_body  # noqa: F401 - used by the server
from .protocol import ApiError  # noqa: F401 - used by the control API
from .registry import HANDLERS, op  # noqa: F401 - the operation table
from .state import Ctx, State, _hex, region_in_partition  # noqa: F401 - used by the server
