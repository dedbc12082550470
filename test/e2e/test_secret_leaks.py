"""No secret leaks: a representative full flow (a pool fills, a plain
claim and an STS claim become Ready, the plain claim is deleted and its
account reused), then every secret the peers issued is looked for in
what the operator exposes: its stdout/stderr, every Event, every custom
resource (spec and status), and /metrics. Secrets: every secret access
key and session token the AWS stand-in minted (its /_fake/issued-secrets),
the operator's credentials Secret, the claim Secrets' keys. Each is
looked for as is and base64-encoded (at any alignment inside a longer
base64 text). A self-check first proves the scan finds a planted secret.

Genuine kube-apiserver, AWS stand-in."""
import base64
import json

from conftest import wait_for
from faults_util import (claim_names, fault_env, make_claims, start_fast,
                         wait_claims_ready, wait_pool_full)
from operator_env import GROUP
from test_sts import make_sts_claim, prepare_sts

KINDS = ("accounts", "accountpools", "accountclaims", "awsfederatedroles",
         "awsfederatedaccountaccesses")


def encodings(secret):
    """The secret and the parts of its base64 encoding that appear whatever
    precedes it in a longer base64 text (one per alignment mod 3)."""
    raw = secret.encode()
    out = {"plain": secret}
    for k in range(3):
        enc = base64.b64encode(b"\0" * k + raw).decode()
        # drop the characters mixed with the preceding bytes, and the tail
        # mixed with what follows (or padding)
        start = -(-4 * k // 3)
        out["base64+%d" % k] = enc[start:len(enc) - 4]
        out["base64url+%d" % k] = out["base64+%d" % k].replace("+", "-").replace("/", "_")
    return {how: s for how, s in out.items() if len(s) >= 16}


def scan(texts, secrets):
    """[(where, secret label, encoding)] for every secret found."""
    found = []
    for label, secret in secrets.items():
        for how, needle in encodings(secret).items():
            for where, text in texts.items():
                if needle in text:
                    found.append((where, label, how))
    return found


def test_scan_finds_a_planted_secret():
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    assert scan({"log": "level=info msg=\"key %s\"" % secret}, {"k": secret}) == [
        ("log", "k", "plain")]
    for prefix in (b"", b"a", b"ab"):
        blob = base64.b64encode(prefix + b"{\"aws_secret_access_key\":\"" +
                                secret.encode() + b"\"}").decode()
        hits = scan({"event": "message: data=%s" % blob}, {"k": secret})
        assert hits and all(w == "event" for w, _, _ in hits), (prefix, blob)
    assert scan({"log": "nothing here"}, {"k": secret}) == []


def issued_secrets(env):
    """label -> value for every secret the peers issued."""
    out = {}
    for s in env.aws.control("GET", "issued-secrets")["secrets"]:
        out["aws secret key %s" % s["access_key_id"]] = s["secret_access_key"]
        if s.get("session_token"):
            out["aws session token %s" % s["access_key_id"]] = s["session_token"]
    creds = env.secret_data("aws-account-operator-credentials", env.ns)
    out["operator credentials Secret"] = creds["aws_secret_access_key"]
    for sec in env.items("/api/v1/namespaces/%s/secrets" % env.claim_ns):
        d = sec.get("data") or {}
        if "aws_secret_access_key" in d:
            out["claim Secret %s" % sec["metadata"]["name"]] = base64.b64decode(
                d["aws_secret_access_key"]).decode()
    return out


def exposed_texts(env):
    """where -> text of everything the operator writes or serves."""
    texts = {"operator log %d" % i: op.output() for i, op in enumerate(env.ops)}
    texts["events"] = json.dumps(env.items("/api/v1/events"))
    for kind in KINDS:
        texts[kind] = json.dumps(env.items("%s/%s" % (GROUP, kind)))
    texts["metrics"] = env.metrics()
    return texts


def test_full_flow_leaks_no_secret(tmp_path):
    with fault_env(tmp_path) as env:
        prepare_sts(env)
        start_fast(env)
        env.create_pool(2)
        names = claim_names(1, "plain")
        make_claims(env, names)
        make_sts_claim(env, "sts1")
        wait_claims_ready(env, names + ["sts1"], timeout=150)
        reused = env.claim(names[0])["spec"]["accountLink"]
        env.delete(env.claim_path(names[0]))
        wait_for(lambda: (env.account(reused) or {}).get("status", {}).get("reused"),
                 timeout=120, interval=0.5, what="the claimed account reused")
        wait_pool_full(env, 2, timeout=120)
        secrets = issued_secrets(env)
        texts = exposed_texts(env)
        print("scanned %d secrets in %d texts (%d bytes)" % (
            len(secrets), len(texts), sum(len(t) for t in texts.values())))
        assert any(k.startswith("aws session token") for k in secrets), sorted(secrets)
        assert len(texts["events"]) > 1000 and "accountclaims" in texts
        leaks = scan(texts, secrets)
        assert not leaks, "secrets found (where, which, encoding): %s" % leaks
