"""A bound fleet for memory measurements (hack/measure-memory.sh and
test_memory.py): Ready, claimed Accounts, the Ready AccountClaims linked to
them (spec.accountLink <-> spec.claimLink) spread over CLAIM_NS, and one
credentials Secret per claim, with the fields and conditions the controllers
write. Created through the Kubernetes stand-in's POST /fake/bulk-create
("{i}" is the 5-digit index; status goes through the status subresource)."""
import json
import time

G, VER = "aws.managed.openshift.io", "v1alpha1"
OP_NS = "aws-account-operator"
CLAIM_NS = ["claims-%d" % k for k in range(10)]
CHUNK = 500
TS = "2026-11-23T10:00:00Z"
LEASE_NAME = "aws-account-operator-lock"
FIN = ["finalizer.aws.managed.openshift.io"]
LE = {"id": "le-{i}", "name": "Example Customer {i}"}


def cond(typ, reason, msg):
    return {"type": typ, "status": "True", "reason": reason, "message": msg,
            "lastProbeTime": TS, "lastTransitionTime": TS}


def account(cns):
    return {"apiVersion": G + "/" + VER, "kind": "Account",
            "metadata": {"labels": {"aws.managed.openshift.io/legal-entity-id": "le-{i}"},
                         "finalizers": FIN},
            "spec": {"awsAccountID": "1000000{i}", "iamUserSecret": "osd-creds-mgmt-{i}-secret",
                     "claimLink": "claim-{i}", "claimLinkNamespace": cns, "legalEntity": LE,
                     "byoc": False, "manualSTSMode": False, "accountPool": ""}}


ACCOUNT_STATUS = {
    "state": "Ready", "claimed": True, "reused": False, "supportCaseID": "",
    "rotateCredentials": False, "rotateConsoleCredentials": False,
    "conditions": [
        cond("Creating", "Creating", "Attempting to create account"),
        cond("InitializingRegions", "InitializingRegions", "Initializing regions"),
        cond("Ready", "Ready", "Account ready to be claimed"),
        cond("Claimed", "Claimed", "Account claimed by claim-{i}")]}


def claim(cns):
    return {"apiVersion": G + "/" + VER, "kind": "AccountClaim",
            "metadata": {"labels": {"api.openshift.com/id": "cluster-{i}"}, "finalizers": FIN},
            "spec": {"legalEntity": LE, "awsCredentialSecret": {"name": "aws", "namespace": cns},
                     "aws": {"regions": [{"name": "us-east-1"}]},
                     "accountLink": "acc-{i}", "accountOU": "ou-abcd-{i}",
                     "byoc": False, "manualSTSMode": False}}


CLAIM_STATUS = {"state": "Ready", "conditions": [
    cond("Claimed", "AccountClaimed", "Account claimed by claim-{i}")]}

# a claim's credentials: access key id, secret key, user name, console URL
SECRET = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
          "metadata": {"labels": {"aws.managed.openshift.io/claim": "claim-{i}"}},
          "data": {"aws_access_key_id": "QUtJQUlPU0ZPRE5ON0VYQU1QTEU=",
                   "aws_secret_access_key":
                       "d0phbHJYVXRuRkVNSS9LN01ERU5HL2JQeFJmaUNZRVhBTVBMRUtFWQ==",
                   "aws_user_name": "b3NkTWFuYWdlZEFkbWluLXthfQ==",
                   "console_url": "aHR0cHM6Ly8xMDAwMDAwLnNpZ25pbi5hd3MuYW1hem9uLmNvbS9jb25zb2xl"}}


def populate(ok, control, n):
    """Namespaces and n of each kind; ok(method, path, body) and
    control(method, what, body) talk to the stand-in. Returns the compact
    JSON size of one object of each kind as served."""
    for ns in [OP_NS] + CLAIM_NS:
        ok("POST", "/api/v1/namespaces",
           {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    for c, start in enumerate(range(0, n, CHUNK)):
        cns, cnt = CLAIM_NS[c % len(CLAIM_NS)], min(CHUNK, n - start)
        for group, plural, ns, tmpl, status, prefix in (
                (G, "accounts", OP_NS, account(cns), ACCOUNT_STATUS, "acc-"),
                (G, "accountclaims", cns, claim(cns), CLAIM_STATUS, "claim-"),
                ("", "secrets", cns, SECRET, None, "aws-")):
            body = {"group": group, "version": VER if group else "v1", "plural": plural,
                    "namespace": ns, "template": tmpl, "count": cnt, "start": start,
                    "prefix": prefix}
            if status is not None:
                body["status"] = status
            assert control("POST", "bulk-create", body)["created"] == cnt
    if not n:
        return {}
    paths = {"Account": "/apis/%s/%s/namespaces/%s/accounts/acc-00000" % (G, VER, OP_NS),
             "AccountClaim": "/apis/%s/%s/namespaces/%s/accountclaims/claim-00000"
                             % (G, VER, CLAIM_NS[0]),
             "Secret": "/api/v1/namespaces/%s/secrets/aws-00000" % CLAIM_NS[0]}
    return {k: len(json.dumps(ok("GET", p, None), separators=(",", ":")))
            for k, p in paths.items()}


def hold_lease(ok):
    """Another replica leads: the daemon's controllers stay idle and only its
    informers (the cache) run, as in a standby replica."""
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    ok("POST", "/apis/coordination.k8s.io/v1/namespaces/%s/leases" % OP_NS,
       {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": LEASE_NAME},
        "spec": {"holderIdentity": "another-replica", "leaseDurationSeconds": 3600,
                 "acquireTime": now, "renewTime": now, "leaseTransitions": 0}})
