"""Run moto's server with three behaviours of AWS that moto 5.2.5 lacks and
the operator depends on (test/e2e/README.md). Everything else is
stock moto; the arguments are moto_server's. Runs under the project
venv's python (hack/venv.sh), never under Debian's:

    .cache/venv/bin/python test/e2e/moto_peer.py -H 127.0.0.1 -p PORT

1. OrganizationAccountAccessRole. CreateAccount in AWS creates this role in
   the new member account, trusted by the management account, with the AWS
   managed policy AdministratorAccess attached (AWS Organizations user
   guide, "Accessing member accounts"). moto creates the role and its
   trust policy but attaches no policy, so under IAM authentication every
   call made with the assumed role's credentials is AccessDenied. We attach
   the policy, nothing more.

2. SigV4 over the body as received. AWS hashes the payload bytes it
   received. moto instead hashes a re-encoding of what it parsed: for a
   query-protocol form body it urlencodes the parsed parameters again (a
   space sent as %20, RFC 3986 and what the operator sends, comes back as
   '+'; botocore and the Go SDK send '+'), and for a request without a body
   on some REST services (Route 53 GET) it hashes a urlencoding of the
   request headers. Either way a correctly signed request fails with
   SignatureDoesNotMatch (botocore's own ListHostedZones included). We keep
   the bytes received (b"" when there are none) and moto's own check hashes
   those; a wrong secret, an unknown key or a changed body still fail.

3. DescribeSnapshots OwnerIds (query parameter Owner.N). AWS returns only
   snapshots of the listed owners ("self" = the caller's account). moto
   ignores the parameter and, in every account, returns the ~1300
   snapshots behind its default public AMIs (owned by Amazon, Red Hat,
   ...); deleting one fails with InvalidSnapshot.InUse, so the claim
   cleanup's "delete my snapshots" could never finish. We apply the owner
   filter to moto's result, nothing more.
"""
import io
import sys
import threading

from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.responses import ActionResult
from moto.ec2.responses.elastic_block_store import ElasticBlockStore
from moto.iam.access_control import IAMRequestBase
from moto.iam.models import iam_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.organizations import models as org_models
from moto.server import main

ADMIN = "arn:%s:iam::aws:policy/AdministratorAccess"
RAW = "aao.raw_body"

# ---- 1. OrganizationAccountAccessRole with AdministratorAccess

_create_account = org_models.OrganizationsBackend.create_account


def create_account(self, **kwargs):
    status = _create_account(self, **kwargs)
    new_id = status["CreateAccountStatus"]["AccountId"]
    role = kwargs.get("RoleName") or "OrganizationAccountAccessRole"
    iam_backends[new_id][self.partition].attach_role_policy(ADMIN % self.partition, role)
    return status


org_models.OrganizationsBackend.create_account = create_account

# ---- 2. signature over the body as received

_dispatch = DomainDispatcherApplication.__call__
_authenticate = ActionAuthenticatorMixin._authenticate_and_authorize_action
_create_aws_request = IAMRequestBase._create_aws_request
_received = threading.local()  # the werkzeug server runs a thread per request


def dispatch(self, environ, start_response):
    # A chunked body has no length up front: leave it to moto (S3 signs
    # its payload hash in a header, which moto uses as is).
    if "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        size = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(size) if size > 0 else b""
        environ["wsgi.input"] = io.BytesIO(raw)
        environ[RAW] = raw
    return _dispatch(self, environ, start_response)


def authenticate(self, iam_request_cls, resource="*"):
    req = getattr(self, "normalized_request", None)
    _received.body = req.environ.get(RAW) if req is not None else None
    try:
        return _authenticate(self, iam_request_cls, resource)
    finally:
        _received.body = None


def create_aws_request(self):
    request = _create_aws_request(self)
    body = getattr(_received, "body", None)
    if body is not None:
        request.data = body
    return request


DomainDispatcherApplication.__call__ = dispatch
ActionAuthenticatorMixin._authenticate_and_authorize_action = authenticate
IAMRequestBase._create_aws_request = create_aws_request

# ---- 3. DescribeSnapshots honours OwnerIds


def describe_snapshots(self):
    snaps = self.ec2_backend.describe_snapshots(
        snapshot_ids=self._get_param("SnapshotIds", []),
        filters=self._filters_from_querystring())
    owners = self._get_param("OwnerIds", [])
    if owners:
        ids = {self.current_account if o == "self" else o for o in owners}
        snaps = [s for s in snaps if s.owner_id in ids]
    return ActionResult({"Snapshots": snaps})


ElasticBlockStore.describe_snapshots = describe_snapshots

if __name__ == "__main__":
    main(sys.argv[1:])
