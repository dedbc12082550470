/* What the aws_driver sources share (not for other programs): the driver
 * state, the step machine, the all-ops sequence and the modes. */
#ifndef TEST_E2E_DRIVERS_AWS_DRIVER_DRIVER_INT_H
#define TEST_E2E_DRIVERS_AWS_DRIVER_DRIVER_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "aws/api.h"
#include "aws/core/creds.h"
#include "aws/core/transport.h"
#include "metrics/metrics.h"
#include "util/timeutil.h"

#define MAX_POLLS 300
#define NSVC 4
#define AUTH_CALLS 6

enum mode { M_ALL, M_BURST, M_THROTTLED, M_BAD_SECRET, M_UNKNOWN_KEY };

struct drv;
typedef int (*step_fn)(struct drv *d);
/* After a successful call: 0 to go on, negative to stop. May set
 * d->repeat_ms to run the same step again after that delay. */
typedef int (*after_fn)(struct drv *d, const void *res);

struct burst {
  struct drv *d;
  int i;
  struct aws_create_slot *slot;
  uv_timer_t timer;
  char car[128];
  int polls;
};

struct svc_sends {
  const char *name;
  uint64_t *t;
  size_t n, cap;
};

struct opts {
  enum mode mode;
  int n;
  const char *endpoint, *web_token;
  double rate, burst, min_rate;
  unsigned max_attempts, retry_tokens, cap;
  uint64_t backoff_cap_ms, poll_ms;
};

struct ids { /* what the all-ops sequence carries from call to call */
  char mgmt[16], email[128], car[128], acct[16], root[64], ou[64];
  char user_key[64], role_arn[256], policy_arn[256], policy_v[16];
  char case_id[160], image[64], instance[64], volume[64], snapshot[64];
  char own_image[64];
  char vpce[64], zone[96], bucket[64];
};

struct drv {
  struct opts o;
  uv_loop_t loop;
  struct httpc *http;
  struct aws_client *c;
  struct aws_api *api;
  struct met_registry *met;
  struct aws_creds *mgmt, *member, *user;
  struct aws_target mt, xt;
  uv_timer_t timer;
  bool timer_open, finishing;
  int exit_code;
  /* step machine */
  const step_fn *steps;
  size_t nsteps, cur;
  after_fn after;
  int (*after_raw)(struct drv *d, const char *body, size_t len);
  uint64_t repeat_ms, t_call;
  int polls;
  struct ids id;
  /* counters */
  int calls, ok, failed, auth;
  unsigned attempts, retries, peak_slots;
  struct burst *bursts;
  int bursts_done;
  struct svc_sends sends[NSVC];
};

/* ---- output and the step machine (steps.c) ------------------------------ */

void print_json(json_t *o);
/* One line for a finished call (seed: a raw call around the table). */
void emit(struct drv *d, const char *op, const char *svc, int err,
          const struct aws_error *aerr, bool seed);
void run_steps(struct drv *d);
/* Close everything; the loop then ends (main.c). */
void finish(struct drv *d);

/* on_<field>: the completion of each operation, into the step machine. */
#define DRV_THUNK_DECL(f, op, svc, proto, idem, req, res)                      \
  void on_##f(int err, const struct aws_error *aerr,                           \
              const struct aws_##res *r, void *arg);
AWS_OPS(DRV_THUNK_DECL)
#undef DRV_THUNK_DECL

/* Start operation f with request rq on target tgt; aft runs on success. */
#define CALL(d, f, tgt, rq, aft)                                               \
  ((d)->after = (aft), (d)->t_call = time_mono_ms(),                           \
   (d)->api->f((d)->api, (tgt), (rq), on_##f, (d)))

/* A call around the table on the member account (EC2 query protocol);
 * after runs on the response body. */
int ec2_raw(struct drv *d, const char *op, const char *body,
            int (*after)(struct drv *, const char *, size_t));
/* Copy the text at path of the response document into out. */
int xml_pick(const char *body, size_t len, const char *path, char *out,
             size_t n);
int copy_id(char *out, size_t n, const char *v);

/* The all-ops sequence: the order the operator follows for one account,
 * from creation to closing. XX(step) for each step; it also declares
 * them (int step(struct drv *d)). */
#define DRV_ALL_OPS(XX)                                                        \
  /* operator start-up: who am I, which organization */                        \
  XX(s_describe_org)                                                           \
  XX(s_caller_identity)                                                        \
  XX(s_federation_token)                                                       \
  /* Account: create, wait, find it in the organization */                     \
  XX(s_create_account)                                                         \
  XX(s_describe_car)                                                           \
  XX(s_list_car)                                                               \
  XX(s_list_accounts)                                                          \
  XX(s_describe_account)                                                       \
  XX(s_list_parents)                                                           \
  XX(s_list_children)                                                          \
  /* OptingInRegions */                                                        \
  XX(s_region_opt)                                                             \
  XX(s_enable_region)                                                          \
  /* IAM bootstrap through OrganizationAccountAccessRole */                    \
  XX(s_assume_role)                                                            \
  XX(s_member_identity)                                                        \
  XX(s_create_user)                                                            \
  XX(s_get_user)                                                               \
  XX(s_list_users)                                                             \
  XX(s_tag_user)                                                               \
  XX(s_list_user_tags)                                                         \
  XX(s_attach_user_policy)                                                     \
  XX(s_list_attached_user)                                                     \
  XX(s_create_access_key)                                                      \
  XX(s_user_identity)                                                          \
  XX(s_list_access_keys)                                                       \
  XX(s_create_role)                                                            \
  XX(s_get_role)                                                               \
  XX(s_list_roles)                                                             \
  XX(s_tag_role)                                                               \
  XX(s_list_role_tags)                                                         \
  XX(s_assume_web)                                                             \
  XX(s_update_trust)                                                           \
  XX(s_attach_role_policy)                                                     \
  XX(s_list_attached_role)                                                     \
  XX(s_put_role_policy)                                                        \
  XX(s_list_role_policies)                                                     \
  XX(s_create_policy)                                                          \
  XX(s_get_policy)                                                             \
  XX(s_list_policies)                                                          \
  XX(s_create_policy_version)                                                  \
  XX(s_get_policy_version)                                                     \
  XX(s_list_policy_versions)                                                   \
  /* InitializingRegions */                                                    \
  XX(s_describe_regions)                                                       \
  XX(s_describe_images)                                                        \
  XX(s_describe_instance_types)                                                \
  XX(s_run_instances)                                                          \
  XX(s_instance_status)                                                        \
  XX(s_wait_running)                                                           \
  XX(s_terminate)                                                              \
  XX(s_wait_terminated)                                                        \
  /* PendingVerification: support case and quotas */                           \
  XX(s_create_case)                                                            \
  XX(s_describe_cases)                                                         \
  XX(s_get_quota)                                                              \
  XX(s_request_quota)                                                          \
  XX(s_quota_history)                                                          \
  /* claim: OU placement and tags */                                           \
  XX(s_create_ou)                                                              \
  XX(s_list_ous)                                                               \
  XX(s_move_account)                                                           \
  XX(s_org_tag)                                                                \
  XX(s_org_list_tags)                                                          \
  XX(s_org_untag)                                                              \
  /* claim deleted: clean the account */                                       \
  XX(s_describe_volumes)                                                       \
  XX(s_seed_snapshot)                                                          \
  XX(s_seed_image)                                                             \
  XX(s_describe_own_images)                                                    \
  XX(s_deregister_image)                                                       \
  XX(s_describe_snapshots)                                                     \
  XX(s_delete_snapshot)                                                        \
  XX(s_delete_volume)                                                          \
  XX(s_seed_vpce)                                                              \
  XX(s_describe_vpce)                                                          \
  XX(s_delete_vpce)                                                            \
  XX(s_create_bucket)                                                          \
  XX(s_put_object)                                                             \
  XX(s_list_buckets)                                                           \
  XX(s_list_objects)                                                           \
  XX(s_delete_objects)                                                         \
  XX(s_delete_bucket)                                                          \
  XX(s_create_zone)                                                            \
  XX(s_list_zones)                                                             \
  XX(s_create_record)                                                          \
  XX(s_list_rrsets)                                                            \
  XX(s_delete_record)                                                          \
  XX(s_delete_zone)                                                            \
  XX(s_delete_access_key)                                                      \
  XX(s_detach_user_policy)                                                     \
  XX(s_delete_user)                                                            \
  XX(s_delete_role_policy)                                                     \
  XX(s_detach_role_policy)                                                     \
  XX(s_delete_role)                                                            \
  XX(s_delete_policy_version)                                                  \
  XX(s_delete_policy)                                                          \
  /* and close it */                                                           \
  XX(s_close_account)

#define DRV_STEP_DECL(step) int step(struct drv *d);
DRV_ALL_OPS(DRV_STEP_DECL)
#undef DRV_STEP_DECL

/* ---- modes ------------------------------------------------------------ */

int start_all_ops(struct drv *d); /* steps.c */
int start_burst(struct drv *d);   /* modes.c */
int start_throttled(struct drv *d);
int start_auth(struct drv *d);
/* The client's attempt hook: counts attempts, retries and sends. */
void on_attempt(void *arg, const struct aws_call *call, unsigned attempt);

#endif
