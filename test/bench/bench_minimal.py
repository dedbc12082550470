"""The reference of figure 1: the round trips a claim cannot avoid before its
Secret exists, each timed with a plain client against the same peers in the
same run (median of `reps`), on scratch objects the operator does not watch
(a namespace of its own for the Account; the OU and a seeded account in the
AWS stand-in's organization).

The minimum, in the order the claim flow needs it:
  1. PUT AccountClaim    finalizer and spec.accountLink in one write (the
                         finalizer must exist before any outside effect)
  2. PUT Account         spec.claimLink: the reservation, conflict-checked by
                         resourceVersion so two claims cannot take one account
  3. CreateOrganizationalUnit  base/<legalEntity.id> (a new legal entity)
  4. MoveAccount         the account into that OU
  5. GET Secret          the account's IAM keys (the operator caches only its
                         own credentials Secret)
  6. POST Secret         the claim's Secret
Timed as: an Account PUT stands for both 1 and 2 (same kind of custom
resource write)."""
import json
import time
import uuid

import bench_util  # noqa: F401 - puts test/e2e/ on sys.path

from awsfake_util import NO_RETRY
from bench_util import median

GROUP = "/apis/aws.managed.openshift.io/v1alpha1"


def _timed(fn, reps):
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return median(out)


def _send(conn, method, path, body=None):
    h = {"Accept": "application/json", "Content-Type": "application/json"}
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
    r = conn.getresponse()
    data = json.loads(r.read() or b"null")
    assert 200 <= r.status < 300, (method, path, r.status, data)
    return data


def kube_round_trips(kube, reps=20):
    ns = "bench-scratch"
    kube.req("POST", "/api/v1/namespaces", {"metadata": {"name": ns}})
    c = kube.conn(timeout=30)
    acct = _send(c, "POST", "%s/namespaces/%s/accounts" % (GROUP, ns), {
        "apiVersion": "aws.managed.openshift.io/v1alpha1", "kind": "Account",
        "metadata": {"name": "scratch"},
        "spec": {"awsAccountID": "", "iamUserSecret": "", "claimLink": "", "byoc": False,
                 "legalEntity": {"id": "", "name": ""}}})
    path = "%s/namespaces/%s/accounts/scratch" % (GROUP, ns)

    def put():
        acct["spec"]["claimLink"] = uuid.uuid4().hex[:8]
        acct["metadata"]["resourceVersion"] = _send(c, "PUT", path, acct)[
            "metadata"]["resourceVersion"]
    _send(c, "POST", "/api/v1/namespaces/%s/secrets" % ns, {
        "metadata": {"name": "keys"}, "data": {"k": "dg=="}})

    def post_secret():
        _send(c, "POST", "/api/v1/namespaces/%s/secrets" % ns, {
            "metadata": {"name": "s-" + uuid.uuid4().hex[:10]}, "data": {"k": "dg=="}})
    out = {"PUT custom resource": _timed(put, reps),
           "GET Secret": _timed(lambda: _send(c, "GET", "/api/v1/namespaces/%s/secrets/keys"
                                              % ns), reps),
           "POST Secret": _timed(post_secret, reps)}
    c.close()
    return out


def aws_round_trips(aws, root, reps=20):
    org = aws.client("organizations", config=NO_RETRY)
    acct = aws.control("POST", "seed-accounts", {"count": 1})["account_ids"][0]
    ous = []

    def create_ou():
        ous.append(org.create_organizational_unit(
            ParentId=root, Name="bench-" + uuid.uuid4().hex[:10])["OrganizationalUnit"]["Id"])
    t_ou = _timed(create_ou, reps)
    where = [root]

    def move():
        dst = ous[len(where) % len(ous)]
        org.move_account(AccountId=acct, SourceParentId=where[-1], DestinationParentId=dst)
        where.append(dst)
    return {"CreateOrganizationalUnit": t_ou, "MoveAccount": _timed(move, reps)}


def claim_minimum(kube, aws, root, reps=20):
    """(sum of the minimal round trips in seconds, each one's median)."""
    k = kube_round_trips(kube, reps)
    a = aws_round_trips(aws, root, reps)
    parts = {"PUT AccountClaim": k["PUT custom resource"],
             "PUT Account": k["PUT custom resource"],
             "CreateOrganizationalUnit": a["CreateOrganizationalUnit"],
             "MoveAccount": a["MoveAccount"], "GET Secret": k["GET Secret"],
             "POST Secret": k["POST Secret"]}
    return sum(parts.values()), parts
