/* Liveness and readiness checks served as /healthz and /readyz, in the
 * output format of the Kubernetes API server:
 *
 *   200 "ok"                                   every check passed
 *   503 "[+]ping ok\n[-]informers failed: reason withheld\n
 *        readyz check failed\n"                one failed
 *   ?verbose: every check with its reason, then "<x> check passed|failed"
 *
 * The two sets are independent (controller-runtime's AddHealthzCheck and
 * AddReadyzCheck): /healthz runs the liveness checks only, /readyz the
 * readiness checks only. No checks means healthy.
 *
 *   struct health *hl = health_new();
 *   health_add_readiness(hl, "informers-synced", synced_check, ctrl);
 *   health_register(hl, httpd);
 */
#ifndef PKG_HTTP_HEALTH_H
#define PKG_HTTP_HEALTH_H

#include <stddef.h>

struct health;
struct httpd;

/* Return 0 when healthy; otherwise a negative op_err, with an optional
 * short reason written to msg (msgsize bytes, pre-set to ""; when left
 * empty, op_strerror of the result is shown). Runs on the loop at request
 * time: it must be quick and must not block. */
typedef int (*health_check_fn)(void *arg, char *msg, size_t msgsize);

struct health *health_new(void);
/* Free the checks. The httpd routes registered by health_register point at
 * hl: free it only after the httpd is closed. NULL is fine. */
void health_free(struct health *hl);

/* name: [a-z0-9-_.] (copied), unique within its set. Returns 0, OP_EINVAL
 * or OP_EEXIST. */
int health_add_liveness(struct health *hl, const char *name, health_check_fn fn,
                        void *arg);
int health_add_readiness(struct health *hl, const char *name,
                         health_check_fn fn, void *arg);

/* Route /healthz and /readyz of d to hl. Returns 0 or httpd_route's
 * error. */
int health_register(struct health *hl, struct httpd *d);

#endif
