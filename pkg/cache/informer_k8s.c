/* The production list/watch source: the Kubernetes client. Kept apart from
 * informer.c so that suites using a fake source do not link pkg/k8s. */
#include "cache/informer.h"

static int k8s_src_list(void *src, const struct k8s_gvr *gvr,
                        const struct k8s_list_opts *opts, k8s_list_cb cb,
                        void *arg)
{
  return k8s_list(src, gvr, opts, cb, arg);
}

static int k8s_src_watch_start(void *src, const struct k8s_gvr *gvr,
                               const struct k8s_watch_opts *opts,
                               k8s_watch_event_cb event_cb,
                               k8s_watch_done_cb done_cb, void *arg,
                               struct k8s_watch **out)
{
  return k8s_watch_start(src, gvr, opts, event_cb, done_cb, arg, out);
}

static void k8s_src_watch_stop(void *src, struct k8s_watch *w)
{
  (void)src;
  k8s_watch_stop(w);
}

static const struct inf_source k8s_source = { k8s_src_list, k8s_src_watch_start,
                                              k8s_src_watch_stop };

struct inf *inf_new(uv_loop_t *loop, struct k8s_client *client,
                    const struct inf_opts *opts)
{
  return inf_new_source(loop, &k8s_source, client, opts);
}
