"""AWS stand-in for the aws-account-operator tests and local quick start.

Run with Debian's interpreter (it needs python3-botocore 1.29):

    /usr/bin/python3 test/fakes/aws_api.py --port 0 [--host 127.0.0.1]
        [--create-account-seconds 2] [--case-resolve-seconds 2]
        [--instance-running-seconds 0.5] [--region-enable-seconds 2]
        [--max-accounts 1000] [--ec2-optin-seconds 0] [--state-file PATH]
        [--management-account-id 123456789012] [--partition aws|aws-us-gov]

On start it prints `port: N`, `management-account: ID`, `partition: aws|aws-us-gov`,
`credentials: <access-key-id> <secret>` (an IAM user with AdministratorAccess in the
organization's management account; the organization exists, root only, no OUs) and
finally `ready`, each line flushed.

One HTTP endpoint serves every service (organizations, sts, iam, support, ec2,
servicequotas, account, s3, route53). The service and region come from the SigV4
credential scope (Authorization header, or X-Amz-Credential of a presigned URL).
Every signature is recomputed with botocore's SigV4Auth / S3SigV4Auth using the stored
secret; every request is decoded per protocol and validated against botocore's service
model (the Account API's GetRegionOptStatus and EnableRegion, missing from botocore
1.29, are served by hand at POST /getRegionOptStatus and POST /enableRegion).
Responses and errors use each protocol's real wire shape and are parseable by
botocore. Unsigned requests are only accepted for sts:AssumeRoleWithWebIdentity.

Control API (plain JSON, no signature, under /_fake/):

  GET  /_fake/health                 -> {"ok": true}
  GET  /_fake/state                  accounts (each with "standalone": false), standalone_accounts
                                     ([{"Id", "standalone": true}]), OUs, parents, create requests,
                                     IAM users/roles, buckets, zones, cases, region opt-in,
                                     instances {account: {region: {id: {"state", "instance_type",
                                     "image_id", "kms_key_id" (root volume's, null if none)}}}},
                                     images {account: {region: [ami ids the account owns]}}
  GET  /_fake/calls                  call log: [{time, service, operation, region, account,
                                     access_key, caller_arn, status, error_code, duration_ms, ...}]
                                     plus request detail (never an external ID or secret):
                                     sts AssumeRole / AssumeRoleWithWebIdentity: role_arn,
                                     role_session_name; iam Attach/Detach*Policy and policy
                                     operations: policy_arn; ec2 RunInstances: kms_key_id (first
                                     BlockDeviceMappings[].Ebs.KmsKeyId, null if none),
                                     instance_type, image_id
  GET  /_fake/counters               {"operations": {"svc.Op": n}, "create_account_in_flight",
                                     "create_account_peak_in_flight", "create_account_attempted_peak",
                                     "create_account_rejected_concurrent", "throttled",
                                     "injected_errors", "auth_failures", "calls"}
  POST /_fake/reset-log              clears the call log and counters (peak resets to current)
  GET  /_fake/coverage               {"succeeded": ["svc.Op", ...]}: operations answered successfully
                                     at least once since start (not cleared by reset-log)
  POST /_fake/faults                 add a fault rule:
        {"kind": "throttle"|"error"|"5xx"|"latency"|"truncate"|"oversize"|"hold", "service": regex,
         "operation": regex,
         "fraction": 0..1 (default 1), "count": N (next N matching calls; default unlimited),
         "latency_ms": ms (latency), "code": str, "status": int, "message": str,
         "extra": {..} (error fields, e.g. {"Reason": "..."})}
     throttle uses the service's real throttling error (TooManyRequestsException 400 for
     Organizations/Service Quotas, ThrottlingException for Support, Throttling for
     STS/IAM/Route 53, RequestLimitExceeded 503 for EC2, SlowDown 503 for S3,
     TooManyRequestsException 429 for Account); 5xx uses the service's internal error.
     truncate answers the call, then cuts the body in the middle ("mode": "close" (default):
     the full Content-Length is announced and the connection closed halfway; "short": half
     the body sent as the whole); oversize answers with a "Padding" field of "bytes"
     characters (default 50 MiB) inside the otherwise valid body; hold does the call and
     records it, then sends the intact answer only after "hold_ms" (a client killed in
     between never learns the outcome: the crash window after a create).
     Requests are also checked against the models' max/min lengths and patterns (Java
     patterns Python's re cannot compile are skipped), answered with AWS's
     ValidationException text ("Value '...' at 'name' failed to satisfy constraint: ...";
     the value is left out for sensitive shapes).
  POST /_fake/throttle | /_fake/latency | /_fake/5xx | /_fake/error | /_fake/truncate | /_fake/oversize
       | /_fake/hold
                                     shorthands for /_fake/faults with that kind
  POST /_fake/faults/clear           remove every fault rule
  POST /_fake/eventual-consistency   {"account_id": ID, "seconds": S}: credentials minted for that
                                     account from now on (access keys, role sessions) are rejected
                                     with InvalidClientTokenId-style errors for their first S seconds
                                     (S = 0 clears); account_id "*" sets it for every account
                                     without its own, those created later included
  GET  /_fake/issued-secrets         {"secrets": [{"access_key_id", "secret_access_key",
                                     "session_token" (null for access keys), "account", "kind"}]}:
                                     every credential minted so far, for leak scans
  POST /_fake/create-account-failures {"reason": "ACCOUNT_LIMIT_EXCEEDED"|..., "count": N,
                                     "email_regex": optional}: the next matching CreateAccount
                                     requests end FAILED with that reason
  POST /_fake/quota-policy           {"default": "approve"|"deny"|"pending",
                                     "overrides": {"ec2/L-1216C47A": "deny"}}
  POST /_fake/web-identity           {"token": "...", "subject": "system:serviceaccount:ns:sa"}:
                                     accept this token (content of the token file) in
                                     AssumeRoleWithWebIdentity
  POST /_fake/expire-credentials     {"access_key_id": ...}: make a session expire now
  POST /_fake/timing                 {"create_account_seconds": .., "case_resolve_seconds": ..,
                                     "instance_running_seconds": .., "region_enable_seconds": ..,
                                     "ec2_optin_seconds": .., "max_accounts": ..,
                                     "stuck_regions": [..]: EnableRegion leaves these ENABLING
                                     for good, "no_t3_regions": [..]: t3.micro is not offered
                                     there (DescribeInstanceTypes InvalidInstanceType,
                                     RunInstances Unsupported; t2.micro works); [] clears}
  POST /_fake/credentials            {"account_id": ID (12 digits, default the management account),
                                     "user_name": optional}: an IAM user with AdministratorAccess
                                     and a new access key in that account; returns
                                     {"access_key_id", "secret_access_key", "account_id",
                                     "user_name", "standalone"}. An account of the organization
                                     gets user "fake-admin-<hex>" by default. An id the stand-in does
                                     not know creates a standalone customer account (CCS/BYOC, STS
                                     customers): its own IAM, admin user "osdCcsAdmin" by default, no
                                     OrganizationAccountAccessRole, not in the organization (absent
                                     from ListAccounts/DescribeAccount; Organizations calls with its
                                     credentials fail AWSOrganizationsNotInUseException), EC2, IAM,
                                     STS, S3 ... working in it. A malformed id -> 400 {"error"}.
  POST /_fake/seed-accounts          {"count": N (1..10000), "tags": {k: v}}: N ACTIVE accounts of
                                     the organization in its root, as if CreateAccount had
                                     finished (subject to --max-accounts); returns {"account_ids"}
  POST /_fake/seed-image             {"account_id": ID (org or standalone), "region": R (default the
                                     partition's first region), "name": optional}: a snapshot and
                                     an AMI backed by it, owned by that account; returns
                                     {"image_id", "snapshot_id", "account_id", "region", "name"}

Concurrent CreateAccount: AWS allows 5 creations in progress per organization. A 6th
CreateAccount while 5 are IN_PROGRESS is accepted but its CreateAccountStatus is FAILED with
FailureReason CONCURRENT_ACCOUNT_MODIFICATION immediately (counted in
create_account_rejected_concurrent); create_account_peak_in_flight never exceeds 5,
create_account_attempted_peak shows how many the client tried to have in flight.

Behaviour notes (real-service semantics the operator must cope with):
  * DescribeCases hides resolved cases unless includeResolvedCases=true (as AWS does).
  * DescribeInstanceStatus lists only running instances unless IncludeAllInstances=true.
  * EC2 calls in an opt-in region that is not ENABLED fail with AuthFailure (401); with
    --ec2-optin-seconds N, RunInstances answers OptInRequired for an account's first N seconds.
  * IAM policy documents are returned URL-encoded; credentials minted by CreateAccessKey,
    AssumeRole, AssumeRoleWithWebIdentity and GetFederationToken work at once (unless an
    eventual-consistency window is configured) and act in their own account.
  * Every member account gets OrganizationAccountAccessRole (AdministratorAccess attached,
    trusting arn:<partition>:iam::<management>:root, MaxSessionDuration 3600).
  * AssumeRole honours the role's trust policy: principals "*", an account id, an account root
    ARN, a user ARN or a role ARN (with its path; matches that role's sessions), and
    sts:ExternalId conditions (StringEquals exact, StringLike wildcards); a missing or wrong
    external ID or an untrusted caller gets AccessDenied "User: <caller arn> is not authorized
    to perform: sts:AssumeRole on resource: <role arn>" (403).
  * AMIs: CreateImage (snapshots of the instance's volumes), RegisterImage (root device mapping
    must name the account's own snapshot), DeregisterImage; DescribeImages returns the public
    catalogue (owner 309956199498) plus the caller's own AMIs (Owners=["self"] or the account id
    for only those); RunInstances accepts either. DeleteSnapshot of a snapshot backing a
    registered AMI fails InvalidSnapshot.InUse "The snapshot snap-... is currently in use by
    ami-..."; DescribeSnapshots without OwnerIds also returns one public snapshot of
    309956199498 per region (deleting it: UnauthorizedOperation), so clients must check OwnerId
    or pass OwnerIds=["self"].
  * --partition aws-us-gov serves GovCloud: every ARN minted (users, roles, sessions,
    Organizations, AWS managed policies, quotas) is arn:aws-us-gov:...; the regions are
    us-gov-west-1 and us-gov-east-1; a request signed for any other region is refused as an
    unknown key (InvalidClientTokenId / AuthFailure / UnrecognizedClientException), and with
    the default aws partition a request signed for us-gov-* likewise; an ARN of the other
    partition is refused: AssumeRole RoleArn -> ValidationError, Attach*Policy PolicyArn ->
    NoSuchEntity, a trust policy AWS principal -> MalformedPolicyDocument "Invalid principal
    in policy".
  * AssumeRole from role credentials (role chaining) with DurationSeconds > 3600 fails with
    ValidationError "The requested DurationSeconds exceeds the 1 hour session limit for roles
    assumed by role chaining."; above the role's MaxSessionDuration likewise.
  * CreateAccount past --max-accounts (accounts + in-progress) raises ConstraintViolationException
    Reason ACCOUNT_NUMBER_LIMIT_EXCEEDED; duplicate e-mails end FAILED/EMAIL_ALREADY_EXISTS.
  * CloseAccount: PENDING_CLOSURE, then SUSPENDED after --create-account-seconds; 10 % of member
    accounts (floor 10, cap 1000) per 30 days, else ConstraintViolationException
    CLOSE_ACCOUNT_QUOTA_EXCEEDED.
  * EC2 rejects parameters the model does not know (UnknownParameter); JSON services reject
    unknown members (ValidationException); missing required members give ValidationException /
    ValidationError / MissingParameter / InvalidArgument (S3) / InvalidInput (Route 53).
  * Presigned URLs must be SigV4 (botocore: Config(signature_version='s3v4') for S3).
  * The non-S3 canonical URI follows botocore (normalised, then URI-encoded again, as AWS
    specifies); query strings are re-encoded per RFC 3986 before comparison.

Deliberately not implemented: IAM policy evaluation (any credential may call any operation in
its own account; Organizations calls require the management account; AssumeRole checks the
trust policy, ExternalId and session limits), SigV2, S3 aws-chunked streaming uploads,
multipart uploads, object versions, most operations of each service beyond those the
operator uses (they answer the protocol's unknown-operation error), pagination of every list
beyond the tokens documented by each operation.

Layout (test/fakes/aws_api.py is the entry script):
  protocol.py      SigV4 verification, decoding, validation and encoding per protocol
  errors.py        authentication, validation, throttling and internal errors per protocol
  server.py        HTTP handler, shared context (Fake: faults, call log, persistence)
  control.py       the /_fake/ control API (mixin of the handler)
  main.py          command line, start and stop
  services.py      imports every service module, which registers its operations
  registry.py      the operation table and its @op decorator
  state.py         State: every account's resources and time-driven transitions
  organizations.py, sts.py, iam.py, support.py, ec2.py, quotas.py, account.py,
  s3.py, route53.py: one module per AWS service
"""
