/* AccountClaim plan, CCS/BYOC and STS claims (upstream 2.2.3): validation,
 * the BYOC Secret finalizer, an Account CR of our own for the customer's
 * account, the wait for it, Ready; on deletion the Account CR goes first
 * (its finalizer cleans the customer's account), then the BYOC Secret
 * finalizer, then ours. The Account's name derives from the claim's uid,
 * so a crash between creating it and linking it never yields two. */
#include "controllers/accountclaim/plan_int.h"

#include <ctype.h>
#include <string.h>

#include "controllers/account/plan.h"
#include "controllers/common/names.h"
#include "aws/core/endpoints.h"
#include "controllers/common/obj.h"
#include "controllers/common/validate.h"
#include "util/err.h"
#include "util/str.h"

#define POLL_S 30

void claim__ccs_account_name(const json_t *claim, char *out, size_t n)
{
  char sfx[NAMES_SUFFIX_LEN + 1];

  names_suffix_from(obj_uid(claim), sfx);
  if (names_account_name(sfx, out, n) < 0)
    out[0] = '\0';
}

static bool digits(const char *s, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (!isdigit((unsigned char)s[i]))
      return false;
  return true;
}

/* arn:<aws|aws-us-gov|aws-cn>:iam::<12 digits>:role/<path and name>. */
bool claim_role_arn_ok(const char *s)
{
  static const char *const parts[] = { "arn:aws:iam::", "arn:aws-us-gov:iam::",
                                       "arn:aws-cn:iam::" };
  const char *rest = NULL;
  size_t i;

  if (!s)
    return false;
  for (i = 0; i < 3 && !rest; i++)
    if (!strncmp(s, parts[i], strlen(parts[i])))
      rest = s + strlen(parts[i]);
  return rest && strlen(rest) > 18 && digits(rest, 12) &&
         !strncmp(rest + 12, ":role/", 6) && rest[18] != '/';
}

/* A set Secret name the API server would refuse: the message, or NULL. */
static const char *secret_name_bad(const json_t *c, const char *path)
{
  const char *n = obj_str(c, path);

  if (str_empty(n) || validate_dns1123_subdomain(n))
    return NULL;
  return CLAIM_MSG_SECRET_NAME;
}

/* The first rule the claim breaks, or NULL (upstream Validate()). */
const char *claim_ccs_invalid(const json_t *c)
{
  const char *ns = obj_namespace(c);
  const char *cns = obj_str(c, "spec.awsCredentialSecret.namespace");

  if (obj_bool(c, "spec.manualSTSMode")) {
    if (!claim_role_arn_ok(obj_str(c, "spec.stsRoleARN")))
      return "stsRoleARN must be an IAM role ARN "
             "(arn:<partition>:iam::<12-digit account>:role/<name>)";
    if (!str_empty(cns) && !str_eq(cns, ns))
      return "awsCredentialSecret must be in the claim's namespace";
    return secret_name_bad(c, "spec.awsCredentialSecret.name");
  }
  if (str_empty(obj_str(c, "spec.byocSecretRef.name")) ||
      !str_eq(obj_str(c, "spec.byocSecretRef.namespace"), ns))
    return "byocSecretRef must name a Secret in the claim's namespace";
  if (!validate_account_id(obj_str(c, "spec.byocAWSAccountID")))
    return "byocAWSAccountID must be a 12-digit AWS account ID";
  if (str_empty(obj_str(c, "spec.awsCredentialSecret.name")) ||
      !str_eq(cns, ns))
    return "awsCredentialSecret needs a name and the claim's namespace";
  if (secret_name_bad(c, "spec.byocSecretRef.name"))
    return "byocSecretRef.name must be a valid Secret name";
  return secret_name_bad(c, "spec.awsCredentialSecret.name");
}

static bool is_sts(const json_t *c)
{
  return obj_bool(c, "spec.manualSTSMode");
}

/* Status Error with a True condition type, once. */
static void error_once(const struct claim_snap *sn, struct claim_step *s,
                       const char *type, const char *msg)
{
  if (str_eq(obj_str(sn->claim, "status.state"), "Error") &&
      cond_is_true(obj_get(sn->claim, "status.conditions"), type)) {
    claim__done(s, 0, type);
    return;
  }
  claim__status(s, sn, type, type, msg, "Error");
}

static void byoc_finalizer(const struct claim_snap *sn, struct claim_step *s,
                           bool add)
{
  s->action = CLAIM_BYOC_FINALIZER;
  s->byoc_add = add;
  str_copy(s->secret_name, obj_str0(sn->claim, "spec.byocSecretRef.name"),
           sizeof(s->secret_name));
  str_copy(s->secret_namespace, obj_namespace(sn->claim),
           sizeof(s->secret_namespace));
  str_copy(s->why,
           add ? "add BYOC Secret finalizer" : "remove BYOC Secret finalizer",
           sizeof(s->why));
}

/* The customer's account id: byocAWSAccountID, else (STS) the role's. */
static void customer_account(const json_t *c, char out[16])
{
  const char *id = obj_str(c, "spec.byocAWSAccountID");
  const char *arn = obj_str(c, "spec.stsRoleARN");
  const char *p = arn ? strstr(arn, ":iam::") : NULL;

  if (!str_empty(id))
    str_copy(out, id, 16);
  else if (p && strlen(p) >= 18)
    str_fmt(out, 16, "%.12s", p + 6);
  else
    out[0] = '\0';
}

static json_t *account_new(const struct claim_snap *sn, const char *name)
{
  const json_t *c = sn->claim;
  char sfx[NAMES_SUFFIX_LEN + 1], id[16];
  json_t *a;

  names_suffix_from(obj_uid(c), sfx);
  customer_account(c, id);
  /* No namespace: the executor POSTs into the operator's. */
  a = json_pack("{s:s, s:s, s:{s:s, s:{s:s}, s:[s]}, s:{s:b, s:s, "
                "s:s, s:s, s:s, s:b}}",
                "apiVersion", OBJ_API_VERSION, "kind", "Account", "metadata",
                "name", name, "labels", OBJ_LABEL_IAM_USER_ID, sfx,
                "finalizers", OBJ_FINALIZER, "spec", "byoc", 1, "awsAccountID",
                id, "iamUserSecret", "", "claimLink", obj_name(c),
                "claimLinkNamespace", obj_namespace(c), "manualSTSMode",
                is_sts(c));
  if (a && obj_get(c, "spec.legalEntity"))
    obj_set_new(a, "spec.legalEntity",
                obj_copy_new(obj_get(c, "spec.legalEntity")));
  return a;
}

/* The message of the Account's last True condition (why it failed). */
static const char *failure_message(const json_t *a)
{
  const json_t *v;
  const char *m = NULL;
  size_t i;

  json_array_foreach(obj_get(a, "status.conditions"), i, v)
  {
    if (str_eq(obj_str(v, "status"), "True") &&
        !str_empty(obj_str(v, "message")))
      m = obj_str(v, "message");
  }
  return m ? m : obj_str0(a, "status.state");
}

/* No accountLink yet: create our Account, then link it. */
static int plan_account(const struct claim_snap *sn, struct claim_step *s)
{
  const json_t *a;
  char name[64];

  claim__ccs_account_name(sn->claim, name, sizeof(name));
  str_copy(s->account_name, name, sizeof(s->account_name));
  a = claim__account(sn, name);
  if (a && !(str_eq(obj_str(a, "spec.claimLink"), obj_name(sn->claim)) &&
             str_eq(obj_str(a, "spec.claimLinkNamespace"),
                    obj_namespace(sn->claim)))) {
    /* A 6-character suffix can collide: never take another's Account. */
    error_once(sn, s, "InternalError",
               "the Account name derived from this "
               "claim is taken by another claim");
    return 0;
  }
  if (a) {
    s->action = CLAIM_UPDATE;
    s->object_new = obj_copy_new(sn->claim);
    obj_set_str(s->object_new, "spec.accountLink", name);
    str_copy(s->why, "link claim to its BYOC account", sizeof(s->why));
    plan_event_set(&s->event, "Normal", "AccountLinked", "Account %s linked",
                   name);
    return 0;
  }
  s->action = CLAIM_CREATE_ACCOUNT;
  s->object_new = account_new(sn, name);
  str_copy(s->why, "create the BYOC Account", sizeof(s->why));
  plan_event_set(&s->event, "Normal", "AccountCreated",
                 "Account %s created for the customer's AWS account", name);
  return s->object_new ? 0 : OP_ENOMEM;
}

static void support_role_arn(const struct claim_snap *sn, const json_t *a,
                             char *out, size_t n)
{
  char sfx[8], res[64];

  if (!str_empty(obj_label(a, OBJ_LABEL_IAM_USER_ID)))
    str_copy(sfx, obj_label(a, OBJ_LABEL_IAM_USER_ID), sizeof(sfx));
  else
    names_suffix_from(obj_uid(a), sfx);
  str_fmt(res, sizeof(res), "role/ManagedOpenShift-Support-%s", sfx);
  /* BYOC Accounts carry their id from creation; without one, "" */
  if (aws_arn_fmt(out, n, opcfg_partition(sn->cfg), "iam",
                  obj_str0(a, "spec.awsAccountID"), res))
    out[0] = 0;
}

/* The Account is Ready: claim Ready, then (non-STS) supportRoleARN and the
 * credentials Secret. */
static int plan_ready(const struct claim_snap *sn, const json_t *a,
                      struct claim_step *s)
{
  const struct claim_obs *w = claim__obs(sn, CLAIM_WRITE_SECRET);
  char arn[256];

  if (!str_eq(obj_str(sn->claim, "status.state"), "Ready")) {
    claim__status(s, sn, "Claimed", "AccountClaimed", "BYOC account ready",
                  "Ready");
    return 0;
  }
  if (is_sts(sn->claim)) {
    claim__done(s, 0, "STS claim ready");
    return 0;
  }
  if (str_empty(obj_str(sn->claim, "spec.supportRoleARN"))) {
    support_role_arn(sn, a, arn, sizeof(arn));
    s->action = CLAIM_UPDATE;
    s->object_new = obj_copy_new(sn->claim);
    obj_set_str(s->object_new, "spec.supportRoleARN", arn);
    str_copy(s->why, "record supportRoleARN", sizeof(s->why));
    return 0;
  }
  if (!claim__secret_known(sn, s))
    return 0;
  if (sn->secret_exists) {
    claim__done(s, 0, "CCS claim ready");
  } else if (w && w->result == 0) {
    claim__done(s, 5 * PLAN_SEC, "waiting for the Secret");
  } else if (str_empty(obj_str(a, "spec.iamUserSecret"))) {
    claim__done(s, POLL_S * PLAN_SEC, "account has no IAM Secret yet");
  } else {
    s->action = CLAIM_WRITE_SECRET;
    str_copy(s->account_name, obj_name(a), sizeof(s->account_name));
    str_copy(s->src_secret, obj_str0(a, "spec.iamUserSecret"),
             sizeof(s->src_secret));
    claim__secret_dest(sn, s);
    str_copy(s->why, "write credentials Secret", sizeof(s->why));
  }
  return 0;
}

static int plan_live(const struct claim_snap *sn, struct claim_step *s)
{
  const json_t *c = sn->claim, *a;
  const char *bad = claim_ccs_invalid(c);
  const char *link = obj_str(c, "spec.accountLink");
  char msg[256];

  if (!sn->cfg) {
    claim__done(s, POLL_S * PLAN_SEC, "operator configmap missing or invalid");
    return 0;
  }
  if (bad && str_empty(link)) {
    error_once(sn, s, "InvalidAccountClaim", bad);
    return 0;
  }
  if (opcfg_is_payer(sn->cfg, obj_str(c, "spec.byocAWSAccountID"))) {
    claim__done(s, 0, "payer account: never acted on");
    return 0;
  }
  if (str_empty(obj_str(c, "status.state"))) {
    claim__status(s, sn, "Unclaimed", "AccountClaimed",
                  "Attempting to claim account", "Pending");
    return 0;
  }
  if (!is_sts(c) && !sn->byoc_secret_exists) {
    claim__done(s, POLL_S * PLAN_SEC, "BYOC Secret not found");
    return 0;
  }
  if (!is_sts(c) && !sn->byoc_secret_finalized) {
    byoc_finalizer(sn, s, true);
    return 0;
  }
  if (str_empty(link))
    return plan_account(sn, s);
  a = claim__account(sn, link);
  if (!a) {
    claim__done(s, POLL_S * PLAN_SEC, "linked account not in cache");
    return 0;
  }
  if (acct_state_failed(obj_str(a, "status.state"))) {
    str_fmt(msg, sizeof(msg), "BYOC account %s failed: %s", obj_name(a),
            failure_message(a));
    error_once(sn, s, "CCSAccountClaimFailed", msg);
    return 0;
  }
  if (!str_eq(obj_str(a, "status.state"), ACCT_ST_READY)) {
    claim__done(s, POLL_S * PLAN_SEC, "waiting for the BYOC account");
    return 0;
  }
  return plan_ready(sn, a, s);
}

/* Account CR first (its finalizer cleans up), then the BYOC Secret
 * finalizer, then ours. Also an Account created but never linked. */
static int plan_delete(const struct claim_snap *sn, struct claim_step *s)
{
  const json_t *c = sn->claim, *a;
  const char *link = obj_str(c, "spec.accountLink");
  char name[64];

  if (!obj_has_finalizer(c, OBJ_FINALIZER)) {
    claim__done(s, 0, "deleting, no finalizer of ours");
    return 0;
  }
  if (obj_finalizer_count(c) > 1) {
    claim__done(s, 0, "waiting for other finalizers");
    return 0;
  }
  if (!str_empty(link))
    str_copy(name, link, sizeof(name));
  else
    claim__ccs_account_name(c, name, sizeof(name));
  a = claim__account(sn, name);
  if (a && str_eq(obj_str(a, "spec.claimLink"), obj_name(c)) &&
      str_eq(obj_str(a, "spec.claimLinkNamespace"), obj_namespace(c))) {
    if (obj_deleting(a)) {
      claim__done(s, POLL_S * PLAN_SEC, "waiting for the Account to go");
      return 0;
    }
    s->action = CLAIM_ACCOUNT_DELETE;
    str_copy(s->account_name, name, sizeof(s->account_name));
    str_copy(s->why, "delete the BYOC Account", sizeof(s->why));
    plan_event_set(&s->event, "Normal", "AccountDeleted",
                   "Account %s deleted with its claim", name);
    return 0;
  }
  if (!is_sts(c) && sn->byoc_secret_exists && sn->byoc_secret_finalized) {
    byoc_finalizer(sn, s, false);
    return 0;
  }
  claim__remove_finalizer(sn, s, "CCS/STS claim released");
  return 0;
}

int claim__plan_ccs(const struct claim_snap *sn, struct claim_step *s)
{
  if (obj_deleting(sn->claim))
    return plan_delete(sn, s);
  return plan_live(sn, s);
}
