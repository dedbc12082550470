"""Figure 6: the calls each step of an account's life makes, per account or
claim, against the minimum the flow needs. The minimum lists, with the
reason for each call, are in docs/benchmarks.md; their counts are here.

Kubernetes writes exclude Events (diagnostics, not part of the flow);
GETs are counted apart (the informers' cache holds every object the plans
read, so a flow needs a GET only for what it does not watch)."""

# The AWS stand-in's regions that an account initialises (one instance
# started and terminated in each, as upstream does).
REGIONS = 17

# step -> (result key, unit key, unit name, minimum per unit)
MINIMUM = {
    "account create -> Ready": ("fill", "created", "account", {
        # CreateAccount (with the owner tags), DescribeCreateAccountStatus,
        # AssumeRole, CreateUser, AttachUserPolicy, CreateAccessKey,
        # CreateRole, AttachRolePolicy, CreateCase, DescribeCases,
        # DescribeRegions; per region DescribeImages, RunInstances,
        # DescribeInstanceStatus, TerminateInstances.
        "aws": 11 + 4 * REGIONS,
        # POST Account (the pool), PUT Account x5 (finalizer and intent;
        # the request id, the crash record of CreateAccount; the account
        # id; IAM Secret name; the region map, the regions' only durable
        # record, read by AccountValidation too), POST Secret, status x4
        # (Creating, PendingVerification, InitializingRegions, Ready),
        # pool status x1.
        "writes": 12, "gets": 0, "status": 5}),
    "claim -> Ready": ("claims", "m", "claim", {
        # CreateOrganizationalUnit (a new legal entity), MoveAccount.
        "aws": 2,
        # PUT claim (finalizer and accountLink), PUT Account (claimLink),
        # POST Secret, PUT claim (spec.accountOU and the copied key id:
        # after the Secret, and the CRD's status subresource keeps it out
        # of the status write), claim status Ready, Account status
        # claimed, pool status; GET of the Account's IAM Secret (not
        # watched).
        "writes": 7, "gets": 1, "status": 3}),
    "claim deleted -> account reused": ("releases", "k", "claim", {
        # At most one AssumeRole (the process's session in the account,
        # shared with the Account controller), then one listing per kind of
        # resource cleaned (the claim's region): S3 buckets, Route53 zones,
        # EC2 snapshots, volumes, images, VPC endpoint services. Revocation
        # on reuse (revoke-credentials-on-reuse, default on): ListAccessKeys,
        # DeleteAccessKey (the tenant's key), CreateAccessKey.
        "aws": 7 + 3,
        # PUT Account (claimLink cleared; released-by-claim, which records
        # the last region too), Account status (reused, rotateCredentials),
        # PUT claim (finalizer removed). Revocation: PUT the IAM Secret
        # (new key), PUT Account (key record naming the release), Account
        # status (rotateCredentials cleared); GET of the IAM Secret (not
        # watched; its other fields are kept).
        "writes": 3 + 3, "gets": 1, "status": 2}),
}


def per_unit(res, key, unit):
    r = res[key]
    n = r[unit] or 1
    kube = r["kube_requests"]
    writes = sum(v for k, v in kube.items() if not k.startswith(("GET ", "POST events")))
    status = sum(v for k, v in kube.items() if k.startswith("PUT") and k.endswith("/status"))
    gets = sum(v for k, v in kube.items() if k.startswith("GET "))
    return {"aws": sum(r["aws_calls"].values()) / n, "writes": writes / n, "gets": gets / n,
            "status": status / n}


LABELS = (("aws", "AWS calls"), ("writes", "Kubernetes writes (no Events)"),
          ("gets", "Kubernetes GETs"), ("status", "status writes (all kinds)"))


def judge(res):
    out = []
    for step, (key, unit, name, mn) in MINIMUM.items():
        if key not in res:
            continue
        got = per_unit(res, key, unit)
        for what, label in LABELS:
            out.append(("%s per %s, %s" % (label, name, step), "%.1f" % got[what],
                        "minimum %d" % mn[what], got[what] <= mn[what]))
    return out
