/* The operator's controllers (controllers.h). To add a controller, write
 * its descriptor (controllers/exec/runner.h) and list it here. */
#include <stddef.h>

#include "cmd/aws-account-operator/controllers.h"
#include "controllers/account/exec.h"
#include "controllers/accountclaim/exec.h"
#include "controllers/accountpool/exec.h"
#include "controllers/exec/exec.h"
#include "controllers/exec/runner.h"
#include "log/log.h"
#include "util/err.h"

static const struct exec_desc *const controllers[] = {
  &acct_desc,
  &pool_desc,
  &claim_desc,
};

int controllers_register(struct mgr *m, struct loop *loop, const struct cfg *c,
                         struct met_registry *r)
{
  struct exec_shared *s;
  size_t i;
  int rc = exec_shared_new(m, loop, c, r, &s);

  for (i = 0; !rc && s && i < sizeof(controllers) / sizeof(controllers[0]); i++)
    rc = exec_shared_add(s, controllers[i]);
  if (!rc)
    rc = exec_shared_start(s);
  if (rc)
    log_error("main", "registering the controllers failed: %s",
              op_strerror(rc));
  return rc;
}
