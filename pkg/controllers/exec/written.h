/* Read-your-writes for a controller (client-go's MutationCache): the
 * object a successful write returned, kept by kind/namespace/name, is
 * planned from instead of the informer's copy while its resourceVersion
 * is newer (or, at the same resourceVersion, when the answer is the
 * object the write let the server delete: its last finalizer removed). The
 * next step then follows the write at once instead of
 * waiting for the write's own watch event.
 *
 * The server stays the judge: an entry is only a newer view of one
 * object, every write still carries its resourceVersion, and a conflict
 * drops the entry (exec_written_drop). An entry goes when the informer
 * holds that resourceVersion or a newer one, when the informer no longer
 * holds the object (deleted), or after the TTL.
 */
#ifndef PKG_CONTROLLERS_EXEC_WRITTEN_H
#define PKG_CONTROLLERS_EXEC_WRITTEN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct exec_written;

#define EXEC_WRITTEN_TTL_S 30.0

struct exec_written *exec_written_new(double ttl_s);
void exec_written_free(struct exec_written *w);

/* Keep a copy of obj (a write's answer) for kind (e.g. "accounts") as of
 * now (monotonic seconds); 0, OP_EINVAL (no name or resourceVersion) or
 * OP_ENOMEM. */
int exec_written_put(struct exec_written *w, const char *kind,
                     const json_t *obj, double now);
/* The view of the object cached (the informer's, may be NULL = absent)
 * named ns/name: the kept one when its resourceVersion is newer
 * (borrowed, valid until the next put, drop or prune), else cached; an
 * entry the informer caught up with, or whose object is gone, is
 * dropped. w NULL: cached. */
const json_t *exec_written_view(struct exec_written *w, const char *kind,
                                const char *ns, const char *name,
                                const json_t *cached);
/* Forget ns/name of kind (its write conflicted). */
void exec_written_drop(struct exec_written *w, const char *kind, const char *ns,
                       const char *name);
/* Drop the entries older than the TTL at now. */
void exec_written_prune(struct exec_written *w, double now);
size_t exec_written_len(const struct exec_written *w);
/* Each kept object of kind (borrowed) in turn: *iter starts at 0. */
bool exec_written_next(const struct exec_written *w, const char *kind,
                       size_t *iter, const json_t **obj);

/* resourceVersion as an unsigned integer; false when it is not one. */
bool exec_written_rv(const json_t *obj, unsigned long long *out);

#endif
