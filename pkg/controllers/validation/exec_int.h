/* Internal to the AccountValidation executor files. */
#ifndef PKG_CONTROLLERS_VALIDATION_EXEC_INT_H
#define PKG_CONTROLLERS_VALIDATION_EXEC_INT_H

#include "controllers/validation/exec.h"

struct val_exec {
  struct val_exec_deps d;
  struct exec_runner *run;
  time_t start;   /* the first pass starts here (the first reconcile) */
  json_t *ou_ids; /* "base/name" -> OU id */
};

/* One reconcile in flight (base.obj: the owned copy of the Account). */
struct val_job {
  struct exec_job base;
  struct val_step st;
};

#endif
