/* Pieces shared by every plan's step struct. */
#ifndef PKG_CONTROLLERS_COMMON_STEP_H
#define PKG_CONTROLLERS_COMMON_STEP_H

/* A Kubernetes Event the executor records against the reconciled object
 * once the step's action succeeded (upstream records none). reason empty =
 * no event. type is "Normal" or "Warning". Never holds secret material. */
struct plan_event {
  char type[8];
  char reason[64];
  char message[256];
};

void plan_event_set(struct plan_event *ev, const char *type, const char *reason,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define PLAN_SEC 1000ull
#define PLAN_MIN (60ull * PLAN_SEC)

#endif
