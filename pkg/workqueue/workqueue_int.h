/* Between the queue and the gate (gate.c); not for other modules. */
#ifndef PKG_WORKQUEUE_WORKQUEUE_INT_H
#define PKG_WORKQUEUE_WORKQUEUE_INT_H

#include "workqueue/workqueue.h"

/* The gate opened (released, expired or closed): pull again if keys wait. */
void wq__gate_opened(struct wq *q);
/* The gate closes: the queue yields to it no more. */
void wq__gate_detach(struct wq *q);
/* Registration of a yielding queue (wq_set_gate). */
int wq_gate_add(struct wq_gate *g, struct wq *q);
void wq_gate_remove(struct wq_gate *g, struct wq *q);

#endif
