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


def _send(conn, method, path, body=None):
    h = {"Accept": "application/json", "Content-Type": "application/json"}
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
    r = conn.getresponse()
    data = json.loads(r.read() or b"null")
    assert 200 <= r.status < 300, (method, path, r.status, data)
    return data


class Sampler:
    """The minimal round trips, set up once on scratch objects; each
    sample() times one of each. The reference is a block of samples back
    to back before the claims; one sample before each claim (see
    bench_pool.claims) says what the same round trips cost after an idle
    gap, as a claim meets them (info: on a shared VM slower than the block,
    and the block itself drifts by 1.5 x from one run to the next)."""

    def __init__(self, kube, aws, root):
        ns = "bench-scratch"
        kube.req("POST", "/api/v1/namespaces", {"metadata": {"name": ns}})
        self.c = c = kube.conn(timeout=30)
        self.ns, self.root = ns, root
        self.acct = _send(c, "POST", "%s/namespaces/%s/accounts" % (GROUP, ns), {
            "apiVersion": "aws.managed.openshift.io/v1alpha1", "kind": "Account",
            "metadata": {"name": "scratch"},
            "spec": {"awsAccountID": "", "iamUserSecret": "", "claimLink": "", "byoc": False,
                     "legalEntity": {"id": "", "name": ""}}})
        self.path = "%s/namespaces/%s/accounts/scratch" % (GROUP, ns)
        _send(c, "POST", "/api/v1/namespaces/%s/secrets" % ns, {
            "metadata": {"name": "keys"}, "data": {"k": "dg=="}})
        self.org = aws.client("organizations", config=NO_RETRY)
        self.member = aws.control("POST", "seed-accounts", {"count": 1})["account_ids"][0]
        # the timed OUs go under one scratch OU: the organization's root,
        # which the operator reads, gains one child, not one per sample
        self.parent = self.org.create_organizational_unit(
            ParentId=root, Name="bench-scratch")["OrganizationalUnit"]["Id"]
        self.at = root  # the member account's parent
        self.taken = 0  # samples ever taken (reset() keeps it)
        self.times = {k: [] for k in ("PUT custom resource", "GET Secret", "POST Secret",
                                      "CreateOrganizationalUnit", "MoveAccount")}

    def _put(self):
        self.acct["spec"]["claimLink"] = uuid.uuid4().hex[:8]
        self.acct["metadata"]["resourceVersion"] = _send(self.c, "PUT", self.path, self.acct)[
            "metadata"]["resourceVersion"]

    def _get(self):
        _send(self.c, "GET", "/api/v1/namespaces/%s/secrets/keys" % self.ns)

    def _post(self):
        _send(self.c, "POST", "/api/v1/namespaces/%s/secrets" % self.ns, {
            "metadata": {"name": "s-" + uuid.uuid4().hex[:10]}, "data": {"k": "dg=="}})

    def _create_ou(self):
        self.ou = self.org.create_organizational_unit(
            ParentId=self.parent, Name="bench-" + uuid.uuid4().hex[:10])[
                "OrganizationalUnit"]["Id"]

    def _move(self):
        # into the OU this sample created: never where the account is
        self.org.move_account(AccountId=self.member, SourceParentId=self.at,
                              DestinationParentId=self.ou)
        self.at = self.ou

    def aws_calls(self):
        """The AWS stand-in's calls made by sample() so far, per
        "service.Operation" (a window that holds samples subtracts them)."""
        return {"organizations.CreateOrganizationalUnit": self.taken,
                "organizations.MoveAccount": self.taken}

    def sample(self):
        for name, fn in (("PUT custom resource", self._put), ("GET Secret", self._get),
                         ("POST Secret", self._post),
                         ("CreateOrganizationalUnit", self._create_ou),
                         ("MoveAccount", self._move)):
            t = time.perf_counter()
            fn()
            self.times[name].append(time.perf_counter() - t)
        self.taken += 1

    def result(self):
        """(sum of the minimal round trips in seconds, each one's median,
        samples taken)."""
        m = {k: median(v) for k, v in self.times.items()}
        parts = {"PUT AccountClaim": m["PUT custom resource"],
                 "PUT Account": m["PUT custom resource"],
                 "CreateOrganizationalUnit": m["CreateOrganizationalUnit"],
                 "MoveAccount": m["MoveAccount"], "GET Secret": m["GET Secret"],
                 "POST Secret": m["POST Secret"]}
        return sum(parts.values()), parts, len(self.times["MoveAccount"])

    def reset(self):
        for v in self.times.values():
            del v[:]

    def close(self):
        self.c.close()
