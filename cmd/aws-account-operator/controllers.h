/* The operator's controllers, wired to the manager from their
 * descriptors: the one place that knows them all. */
#ifndef CMD_AWS_ACCOUNT_OPERATOR_CONTROLLERS_H
#define CMD_AWS_ACCOUNT_OPERATOR_CONTROLLERS_H

struct cfg;
struct loop;
struct met_registry;
struct mgr;

/* Build the shared executor support and register every controller with
 * the manager (after mgr_new, before mgr_start). A disabled manager
 * registers nothing. 0 or a negative op_err (logged). */
int controllers_register(struct mgr *m, struct loop *loop, const struct cfg *c,
                         struct met_registry *r);

#endif
