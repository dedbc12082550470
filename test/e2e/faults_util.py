"""What the fault-injection modules (test_faults_*.py) share: the operator's
flags for short timings, filling a pool and serving claims, and the
invariants every scenario ends on (no duplicate AWS account, every claim
Ready with working keys, no Secret without its owner, the governor's and
CreateAccount's limits read from the AWS stand-in's records).

Each check raises AssertionError naming what is wrong (counts, names)."""
import collections
import contextlib
import threading

from awsfake_util import AwsFake
from conftest import CRDS, wait_for
from kubefake_util import KubeFake
from operator_env import FAST_AWS, OrgEnv, StandInEnv, org_root

# The operator's AWS rate governor (pkg/aws/core/transport_client.c: 10
# requests/s per (service, account), bucket of 10) and AWS's limit of
# creations in progress per organization.
GOV_RATE, GOV_BURST = 10.0, 10.0
CREATE_CAP = 5
# A support case poll of 1 s keeps the settle wait after CreateCase short.
FAST_OP = ("--support-case-poll-interval", "1s")
# Upstream's ConfigMap with opt-in regions off (fewer calls per account),
# and Accounts and claims reconciled 20 at a time (upstream's default, 1,
# initialises one account's regions at a time: 70 accounts take minutes).
FAST_CM = {"feature.opt_in_regions": "false", "MaxConcurrentReconciles.account": "20",
           "MaxConcurrentReconciles.accountclaim": "5"}
ACCOUNT_PREFIX = "osd-creds-mgmt-"


def claim_names(n, prefix="c"):
    return ["%s%02d" % (prefix, i) for i in range(n)]


def make_claims(env, names, legal_id="le-faults"):
    for n in names:
        env.make_claim(n, n + "-creds", legal_id)


def claims_not_ready(env, names):
    """{claim: state} of the claims that are not Ready."""
    out = {}
    for n in names:
        st = env.claim_state(n)
        if st != "Ready":
            out[n] = st
    return out


def wait_claims_ready(env, names, timeout):
    last = {}

    def ready():
        last.clear()
        last.update(claims_not_ready(env, names))
        return not last
    try:
        wait_for(ready, timeout=timeout, interval=0.5, what="claims Ready")
    except AssertionError:
        raise AssertionError("%d of %d claims not Ready after %ss: %s; accounts: %s" % (
            len(last), len(names), timeout, last, account_summary(env))) from None


def account_summary(env):
    """state -> count of the Accounts, and why the Failed ones failed, for
    failure messages."""
    accts = env.accounts()
    failed = {}
    for a in accts:
        st = a.get("status") or {}
        if st.get("state") == "Failed":
            conds = st.get("conditions") or [{}]
            failed[a["metadata"]["name"]] = "%s: %s" % (conds[-1].get("reason"),
                                                        conds[-1].get("message"))
    counts = dict(collections.Counter((a.get("status") or {}).get("state") or "-" for a in accts))
    return "%s; failed: %s" % (counts, failed) if failed else str(counts)


def pool_status(env, name="default"):
    return (env.pool(name) or {}).get("status") or {}


def wait_pool_full(env, size, timeout, claimed=None):
    """The pool holds size unclaimed Accounts, all Ready (and, when claimed
    is given, that many claimed ones: a status written before the claims
    also shows a full pool, so a test that then checks the claimed count
    must wait for it too; pool status is written at most once a second)."""
    def full():
        st = pool_status(env)
        return (st.get("unclaimedAccounts") == size and st.get("availableAccounts") == size
                and (claimed is None or st.get("claimedAccounts") == claimed))
    try:
        wait_for(full, timeout=timeout, interval=0.5, what="pool full")
    except AssertionError:
        raise AssertionError("pool not full (%d) after %ss: status %s; accounts %s" % (
            size, timeout, pool_status(env), account_summary(env))) from None


def assert_no_duplicate_accounts(env):
    """Every AWS account the operator created is recorded by exactly one
    Account CR, and no CR records an account that does not exist: the
    number of CreateAccount successes in the organization equals the
    number of Accounts with an id."""
    org = [a for a in env.state()["accounts"] if a["Name"].startswith(ACCOUNT_PREFIX)]
    by_name = collections.Counter(a["Name"] for a in org)
    dup_names = {n: c for n, c in by_name.items() if c > 1}
    assert not dup_names, "AWS accounts created twice for one Account CR: %s" % dup_names
    crs = {a["metadata"]["name"]: a["spec"].get("awsAccountID") for a in env.accounts()}
    ids = collections.Counter(i for i in crs.values() if i)
    shared = {i: c for i, c in ids.items() if c > 1}
    assert not shared, "AWS account ids recorded by several Accounts: %s" % shared
    org_ids = {a["Id"] for a in org}
    orphans = sorted(a["Name"] for a in org if a["Id"] not in ids)
    assert not orphans, "%d AWS accounts no Account records (%d created, %d recorded): %s" % (
        len(orphans), len(org_ids), len(ids), orphans)
    missing = sorted(n for n, i in crs.items() if i and i not in org_ids)
    assert not missing, "Accounts recording an AWS account that does not exist: %s" % missing
    return len(org_ids)


def assert_claims_have_working_keys(env, names):
    """Each claim's Secret holds keys that act as the claim's account."""
    bad = {}
    for n in names:
        c = env.claim(n)
        acct = env.account(c["spec"].get("accountLink") or "") if c else None
        want = acct and acct["spec"].get("awsAccountID")
        try:
            sts = env.aws.client("sts", creds=env.keys(n + "-creds"))
            got = sts.get_caller_identity()["Account"]
        except Exception as e:  # noqa: BLE001 - reported below
            got = "error: %s" % e
        if not want or got != want:
            bad[n] = (want, got)
    assert not bad, "claims whose keys do not act as their account (want, got): %s" % bad


def assert_secrets_owned(env):
    """Every Secret the operator wrote for an Account (<name>-secret in
    its namespace) belongs to an Account that exists, and every claim
    Secret to a claim that exists."""
    accounts = {a["metadata"]["name"] for a in env.accounts()}
    stray = []
    for s in env.items("/api/v1/namespaces/%s/secrets" % env.ns):
        name = s["metadata"]["name"]
        if name.startswith(ACCOUNT_PREFIX) and name.endswith("-secret") and \
                name[:-len("-secret")] not in accounts:
            stray.append(name)
    claims = {c["metadata"]["name"] for c in env.items(
        "/apis/aws.managed.openshift.io/v1alpha1/namespaces/%s/accountclaims" % env.claim_ns)}
    for s in env.items("/api/v1/namespaces/%s/secrets" % env.claim_ns):
        name = s["metadata"]["name"]
        if name.endswith("-creds") and name[:-len("-creds")] not in claims:
            stray.append("%s/%s" % (env.claim_ns, name))
    assert not stray, "Secrets left without their owner: %s" % stray


def max_in_window(times, w):
    """Most timestamps in any half-open window of w seconds."""
    best, lo = 0, 0
    for hi in range(len(times)):
        while times[hi] - times[lo] >= w:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def governor_key(call):
    """The operator's governor key for a logged call: (service, account).
    An AssumeRole is keyed by the account of the role it assumes; every
    other call by the account its credentials act in."""
    arn = call.get("role_arn")
    if call["operation"] == "AssumeRole" and arn:
        return call["service"], arn.split(":")[4]
    return call["service"], call["account"]


def assert_within_governor(calls, windows=(0.5, 1.0, 2.0, 5.0)):
    """No governor key saw more than rate * w + burst requests (+1 for
    arrival jitter on loopback) in any window of w seconds."""
    by_key = collections.defaultdict(list)
    for c in calls:
        by_key[governor_key(c)].append(c["time"])
    over = []
    for key, times in by_key.items():
        times.sort()
        for w in windows:
            n, bound = max_in_window(times, w), GOV_RATE * w + GOV_BURST + 1
            if n > bound:
                over.append((key, w, n, bound))
    assert not over, "governor exceeded (key, window s, requests, bound): %s" % over
    return max(max_in_window(sorted(t), 1.0) for t in by_key.values())


def assert_create_cap(env):
    """The stand-in never had more than CREATE_CAP creations in progress
    and refused none for concurrency."""
    c = env.aws.control("GET", "counters")
    assert c["create_account_attempted_peak"] <= CREATE_CAP and \
        c["create_account_rejected_concurrent"] == 0, (
            "CreateAccount cap exceeded: peak %s attempted, %s refused" % (
                c["create_account_attempted_peak"], c["create_account_rejected_concurrent"]))
    return c


def calls(env):
    return env.aws.control("GET", "calls")["calls"]


@contextlib.contextmanager
def fault_env(tmp, *aws_args, cm=None):
    """A StandInEnv (own genuine kube-apiserver, AWS stand-in with FAST_AWS
    unless aws_args) with the short-timing ConfigMap installed and the
    operator not yet started; operators and peers stopped at the end."""
    env = StandInEnv(tmp, *aws_args)
    try:
        env.install(**dict(FAST_CM, **(cm or {})))
        yield env
    finally:
        env.shutdown()


def start_fast(oe, *extra, **kw):
    """oe's operator with FAST_OP and extra flags (kw: start_operator's)."""
    return oe.start_operator(*FAST_OP, *extra, **kw)


class KubeFakeEnv(StandInEnv):
    """A StandInEnv on the Kubernetes stand-in (its fault controls:
    /fake/fail, /fake/drop-watches) with our CRDs instead of the genuine
    kube-apiserver."""

    def __init__(self, tmp):  # its own peers, not StandInEnv's
        kube = KubeFake(tmp / "kube", crds=CRDS).start()
        try:
            aws = AwsFake(*FAST_AWS)
        except BaseException:
            kube.stop()
            raise
        OrgEnv.__init__(self, kube, aws, org_root(aws))


@contextlib.contextmanager
def kube_fake_env(tmp):
    """KubeFakeEnv with the short-timing ConfigMap installed, the operator
    not yet started; everything stopped at the end."""
    env = KubeFakeEnv(tmp)
    try:
        env.install(**FAST_CM)
        yield env
    finally:
        env.shutdown()


@contextlib.contextmanager
def repeating(period, action):
    """action() every period seconds in a thread while the block runs;
    period may be a function returning the next wait (an irregular fault,
    which a retry on a fixed interval cannot stay in phase with)."""
    stop = threading.Event()
    runs = []
    wait = period if callable(period) else (lambda: period)

    def loop():
        while not stop.wait(wait()):
            action()
            runs.append(1)
    t = threading.Thread(target=loop, daemon=True)
    t.start()
    try:
        yield runs
    finally:
        stop.set()
        t.join()
