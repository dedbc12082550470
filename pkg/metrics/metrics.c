/* Metrics registry and Prometheus text exposition (format 0.0.4).
 *
 * Updates touch one series found by a hash lookup on the encoded label
 * values; nothing is formatted until met_render, which sorts each family's
 * series by label values so the output is deterministic. */
#include "metrics/metrics.h"
#include "metrics/internal.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/map.h"
#include "util/str.h"
#include "util/util.h"

/* One label-value combination. Owned by its family's series map; values
 * (and each string in it) are freed by series_free. */
struct met_series {
  char **values;     /* nlabels strings */
  double value;      /* counter/gauge value; histogram sum */
  uint64_t count;    /* histogram observations */
  uint64_t *buckets; /* histogram: per-bucket (not cumulative) counts */
};

/* Owned by the registry (families list); every pointer member is freed by
 * family_free. */
struct met_family {
  struct met_registry *reg;
  struct met_family *next;
  enum met_type type;
  char *name, *help;
  char **labels; /* nlabels names */
  size_t nlabels;
  char **const_names, **const_values; /* nconst each */
  size_t nconst;
  double *bounds; /* histogram upper bounds, nbounds, +Inf implicit */
  size_t nbounds;
  struct map series; /* encoded label values -> struct met_series */
};

struct collector {
  met_collect_fn fn;
  void *arg;
  bool owned; /* free(arg) with the registry */
  struct collector *next;
};

struct met_registry {
  struct met_family *families, **tail; /* registration order */
  struct collector *collectors, **ctail;
  struct map names; /* family name -> family, for duplicate detection */
};

struct met_registry *met_registry_new(void)
{
  struct met_registry *r = util_xcalloc(1, sizeof(*r));

  r->tail = &r->families;
  r->ctail = &r->collectors;
  map_init(&r->names);
  return r;
}

static void free_strv(char **v, size_t n)
{
  size_t i;

  for (i = 0; v && i < n; i++)
    free(v[i]);
  free(v);
}

static void series_free(void *val, void *arg)
{
  struct met_series *s = val;
  struct met_family *f = arg;

  free_strv(s->values, f->nlabels);
  free(s->buckets);
  free(s);
}

static void family_free(struct met_family *f)
{
  map_cleanup(&f->series, series_free, f);
  free(f->name);
  free(f->help);
  free_strv(f->labels, f->nlabels);
  free_strv(f->const_names, f->nconst);
  free_strv(f->const_values, f->nconst);
  free(f->bounds);
  free(f);
}

void met_registry_free(struct met_registry *r)
{
  struct met_family *f, *fn;
  struct collector *c, *cn;

  if (!r)
    return;
  for (f = r->families; f; f = fn) {
    fn = f->next;
    family_free(f);
  }
  for (c = r->collectors; c; c = cn) {
    cn = c->next;
    if (c->owned)
      free(c->arg);
    free(c);
  }
  map_cleanup(&r->names, NULL, NULL);
  free(r);
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metric names (colon allowed), the same
 * without colons for label names. */
static bool valid_name(const char *s, bool colon)
{
  const char *p;

  if (!s || !*s || (*s >= '0' && *s <= '9'))
    return false;
  for (p = s; *p; p++) {
    char c = *p;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || (colon && c == ':');
    if (!ok)
      return false;
  }
  return true;
}

static void check_label_name(const struct met_family *f, const char *name)
{
  size_t i;

  if (!valid_name(name, false) || strncmp(name, "__", 2) == 0)
    util_fatal("metrics: %s: invalid label name '%s'", f->name,
               name ? name : "(null)");
  if (f->type == MET_HISTOGRAM && strcmp(name, "le") == 0)
    util_fatal("metrics: %s: label 'le' is reserved", f->name);
  for (i = 0; i < f->nlabels; i++)
    if (f->labels[i] && strcmp(f->labels[i], name) == 0)
      util_fatal("metrics: %s: duplicate label '%s'", f->name, name);
  for (i = 0; i < f->nconst; i++)
    if (strcmp(f->const_names[i], name) == 0)
      util_fatal("metrics: %s: duplicate label '%s'", f->name, name);
}

static struct met_family *family_new(struct met_registry *r, enum met_type t,
                                     const char *name, const char *help,
                                     const char *const *labels)
{
  struct met_family *f;
  size_t n = 0, i;

  if (!valid_name(name, true))
    util_fatal("metrics: invalid metric name '%s'", name ? name : "(null)");
  if (map_has(&r->names, name))
    util_fatal("metrics: duplicate metric '%s'", name);
  f = util_xcalloc(1, sizeof(*f));
  f->reg = r;
  f->type = t;
  f->name = util_xstrdup(name);
  f->help = util_xstrdup(help ? help : "");
  map_init(&f->series);
  while (labels && labels[n])
    n++;
  f->labels = util_xcalloc(n + 1, sizeof(*f->labels));
  for (i = 0; i < n; i++) {
    check_label_name(f, labels[i]);
    f->labels[i] = util_xstrdup(labels[i]);
    f->nlabels = i + 1;
  }
  map_put(&r->names, name, f, NULL);
  *r->tail = f;
  r->tail = &f->next;
  return f;
}

/* A family without labels has exactly one series, present from the start
 * (it reads 0 before the first update, as in the Go client). */
static struct met_series *series_get(struct met_family *f,
                                     const char *const *values, bool create);

static void ensure_unlabelled(struct met_family *f)
{
  if (f->nlabels == 0)
    series_get(f, NULL, true);
}

struct met_family *met_counter(struct met_registry *r, const char *name,
                               const char *help, const char *const *labels)
{
  struct met_family *f = family_new(r, MET_COUNTER, name, help, labels);

  ensure_unlabelled(f);
  return f;
}

struct met_family *met_gauge(struct met_registry *r, const char *name,
                             const char *help, const char *const *labels)
{
  struct met_family *f = family_new(r, MET_GAUGE, name, help, labels);

  ensure_unlabelled(f);
  return f;
}

struct met_family *met_histogram(struct met_registry *r, const char *name,
                                 const char *help, const double *buckets,
                                 size_t nbuckets, const char *const *labels)
{
  struct met_family *f = family_new(r, MET_HISTOGRAM, name, help, labels);
  size_t i;

  /* A trailing +Inf given by the caller is the implicit one. */
  if (nbuckets && isinf(buckets[nbuckets - 1]) && buckets[nbuckets - 1] > 0)
    nbuckets--;
  for (i = 0; i < nbuckets; i++) {
    if (isnan(buckets[i]) || (i && !(buckets[i] > buckets[i - 1])))
      util_fatal("metrics: %s: buckets must be strictly increasing", name);
  }
  f->bounds = util_xcalloc(nbuckets ? nbuckets : 1, sizeof(double));
  if (nbuckets)
    memcpy(f->bounds, buckets, nbuckets * sizeof(double));
  f->nbounds = nbuckets;
  ensure_unlabelled(f);
  return f;
}

void met_family_const_label(struct met_family *f, const char *name,
                            const char *value)
{
  size_t n = f->nconst;

  check_label_name(f, name);
  /* Existing series were keyed without it; allowing it late would mean
   * some series print it and some do not. The unlabelled series of a
   * label-less family is the exception: it carries no label values. */
  if (map_len(&f->series) > (f->nlabels == 0 ? 1u : 0u))
    util_fatal("metrics: %s: const label after first use", f->name);
  f->const_names = util_xrealloc(f->const_names, (n + 1) * sizeof(char *));
  f->const_values = util_xrealloc(f->const_values, (n + 1) * sizeof(char *));
  f->const_names[n] = util_xstrdup(name);
  f->const_values[n] = util_xstrdup(value ? value : "");
  f->nconst = n + 1;
}

/* Encode label values unambiguously ("<len>:<value>" each) as a map key. */
static void series_key(const struct met_family *f, const char *const *values,
                       struct buf *key)
{
  size_t i, n = 0;

  while (values && values[n])
    n++;
  if (n != f->nlabels)
    util_fatal("metrics: %s: %zu label values for %zu labels", f->name, n,
               f->nlabels);
  buf_init(key, SIZE_MAX / 2);
  for (i = 0; i < n; i++) {
    buf_printf(key, "%zu:", strlen(values[i]));
    buf_append_str(key, values[i]);
  }
}

static struct met_series *series_get(struct met_family *f,
                                     const char *const *values, bool create)
{
  struct met_series *s;
  struct buf key;
  size_t i;

  series_key(f, values, &key);
  s = map_get(&f->series, buf_str(&key));
  if (!s && create) {
    s = util_xcalloc(1, sizeof(*s));
    s->values = util_xcalloc(f->nlabels + 1, sizeof(char *));
    for (i = 0; i < f->nlabels; i++)
      s->values[i] = util_xstrdup(values[i]);
    if (f->type == MET_HISTOGRAM)
      s->buckets = util_xcalloc(f->nbounds + 1, sizeof(uint64_t));
    map_put(&f->series, buf_str(&key), s, NULL);
  }
  buf_cleanup(&key);
  return s;
}

static void need_type(const struct met_family *f, bool ok, const char *op)
{
  if (!ok)
    util_fatal("metrics: %s: %s not allowed on this type", f->name, op);
}

void met_inc(struct met_family *f, const char *const *values)
{
  met_add(f, values, 1.0);
}

/* A negative add on a counter is ignored: counters only go up, and a
 * scrape-visible decrease would read as a process restart. */
void met_add(struct met_family *f, const char *const *values, double v)
{
  need_type(f, f->type != MET_HISTOGRAM, "add");
  if (f->type == MET_COUNTER && !(v >= 0))
    return;
  series_get(f, values, true)->value += v;
}

/* Allowed on counters too: scrape-time collectors copy totals kept
 * elsewhere (process_cpu_seconds_total). */
void met_set(struct met_family *f, const char *const *values, double v)
{
  need_type(f, f->type != MET_HISTOGRAM, "set");
  series_get(f, values, true)->value = v;
}

void met_observe(struct met_family *f, const char *const *values, double v)
{
  struct met_series *s;
  size_t i;

  need_type(f, f->type == MET_HISTOGRAM, "observe");
  s = series_get(f, values, true);
  for (i = 0; i < f->nbounds && !(v <= f->bounds[i]); i++)
    ;
  s->buckets[i]++; /* i == nbounds is the +Inf bucket */
  s->count++;
  s->value += v;
}

double met_value(struct met_family *f, const char *const *values)
{
  struct met_series *s = series_get(f, values, false);

  if (!s)
    return 0;
  return f->type == MET_HISTOGRAM ? (double)s->count : s->value;
}

void met_family_reset(struct met_family *f)
{
  map_cleanup(&f->series, series_free, f);
  ensure_unlabelled(f);
}

void met_series_remove(struct met_family *f, const char *const *values)
{
  struct met_series *s;
  struct buf key;

  series_key(f, values, &key);
  s = map_del(&f->series, buf_str(&key));
  buf_cleanup(&key);
  if (s)
    series_free(s, f);
  ensure_unlabelled(f);
}

void met_count(struct met_family *f, const char *const *values, double delta)
{
  struct met_series *s;

  need_type(f, f->type == MET_GAUGE, "count");
  s = series_get(f, values, true);
  s->value += delta;
  if (s->value <= 0)
    met_series_remove(f, values);
}

static void add_collector(struct met_registry *r, met_collect_fn fn, void *arg,
                          bool owned)
{
  struct collector *c = util_xcalloc(1, sizeof(*c));

  c->fn = fn;
  c->arg = arg;
  c->owned = owned;
  *r->ctail = c;
  r->ctail = &c->next;
}

void met_add_collector(struct met_registry *r, met_collect_fn fn, void *arg)
{
  add_collector(r, fn, arg, false);
}

void met__add_collector_owned(struct met_registry *r, met_collect_fn fn,
                              void *arg)
{
  add_collector(r, fn, arg, true);
}

void met_buckets_exponential(double start, double factor, size_t n, double *out)
{
  size_t i;

  if (!(start > 0) || !(factor > 1))
    util_fatal("metrics: exponential buckets need start > 0, factor > 1");
  for (i = 0; i < n; i++) {
    out[i] = start;
    start *= factor;
  }
}

void met_buckets_linear(double start, double width, size_t n, double *out)
{
  size_t i;

  if (!(width > 0))
    util_fatal("metrics: linear buckets need width > 0");
  for (i = 0; i < n; i++)
    out[i] = start + (double)i * width;
}

/* ---- rendering --------------------------------------------------------- */

/* Shortest text that reads back as the same double; integers print
 * without exponent (Prometheus parses both, people read the former). */
static void fmt_double(double v, char out[40])
{
  int prec;

  if (isnan(v)) {
    str_copy(out, "NaN", 40);
    return;
  }
  if (isinf(v)) {
    str_copy(out, v > 0 ? "+Inf" : "-Inf", 40);
    return;
  }
  if (v == 0) {
    str_copy(out, "0", 40); /* also -0 */
    return;
  }
  if (v == trunc(v) && fabs(v) < 1e15) {
    str_fmt(out, 40, "%.0f", v);
    return;
  }
  for (prec = 15; prec < 17; prec++) {
    str_fmt(out, 40, "%.*g", prec, v);
    if (strtod(out, NULL) == v)
      return;
  }
  str_fmt(out, 40, "%.17g", v);
}

/* Escape backslash and newline (HELP), plus the double quote (label
 * values). */
static int append_escaped(struct buf *out, const char *s, bool quote)
{
  int rc = 0;

  for (; *s && rc == 0; s++) {
    if (*s == '\\')
      rc = buf_append_str(out, "\\\\");
    else if (*s == '\n')
      rc = buf_append_str(out, "\\n");
    else if (quote && *s == '"')
      rc = buf_append_str(out, "\\\"");
    else
      rc = buf_append_char(out, *s);
  }
  return rc;
}

static int append_label(struct buf *out, bool *first, const char *name,
                        const char *value)
{
  int rc = buf_printf(out, "%s%s=\"", *first ? "{" : ",", name);

  *first = false;
  if (rc == 0)
    rc = append_escaped(out, value, true);
  return rc ? rc : buf_append_char(out, '"');
}

/* name{const...,labels...[,le="x"]} value\n */
static int render_sample(struct buf *out, const struct met_family *f,
                         const struct met_series *s, const char *suffix,
                         const char *le, double v)
{
  bool first = true;
  char num[40];
  size_t i;
  int rc = buf_printf(out, "%s%s", f->name, suffix);

  for (i = 0; rc == 0 && i < f->nconst; i++)
    rc = append_label(out, &first, f->const_names[i], f->const_values[i]);
  for (i = 0; rc == 0 && i < f->nlabels; i++)
    rc = append_label(out, &first, f->labels[i], s->values[i]);
  if (rc == 0 && le)
    rc = append_label(out, &first, "le", le);
  if (rc == 0 && !first)
    rc = buf_append_char(out, '}');
  fmt_double(v, num);
  return rc ? rc : buf_printf(out, " %s\n", num);
}

static int render_histogram(struct buf *out, const struct met_family *f,
                            const struct met_series *s)
{
  uint64_t cum = 0;
  char le[40];
  size_t i;
  int rc = 0;

  for (i = 0; rc == 0 && i <= f->nbounds; i++) {
    cum += s->buckets[i];
    if (i < f->nbounds)
      fmt_double(f->bounds[i], le);
    else
      str_copy(le, "+Inf", sizeof(le));
    rc = render_sample(out, f, s, "_bucket", le, (double)cum);
  }
  if (rc == 0)
    rc = render_sample(out, f, s, "_sum", NULL, s->value);
  if (rc == 0)
    rc = render_sample(out, f, s, "_count", NULL, (double)s->count);
  return rc;
}

static size_t sort_nlabels; /* qsort has no context argument */

static int cmp_series(const void *a, const void *b)
{
  const struct met_series *x = *(const struct met_series *const *)a;
  const struct met_series *y = *(const struct met_series *const *)b;
  size_t i;
  int c;

  for (i = 0; i < sort_nlabels; i++) {
    c = strcmp(x->values[i], y->values[i]);
    if (c)
      return c;
  }
  return 0;
}

static const char *type_name(enum met_type t)
{
  return t == MET_COUNTER ? "counter" : t == MET_GAUGE ? "gauge" : "histogram";
}

static int render_family(struct buf *out, const struct met_family *f)
{
  size_t n = map_len(&f->series), i = 0, it = 0;
  struct met_series **v;
  const char *k;
  void *val;
  int rc;

  if (n == 0)
    return 0; /* a labelled family with no series prints nothing */
  v = util_xcalloc(n, sizeof(*v));
  while (map_next(&f->series, &it, &k, &val))
    v[i++] = val;
  sort_nlabels = f->nlabels;
  qsort(v, n, sizeof(*v), cmp_series);
  rc = 0;
  if (*f->help) { /* an empty HELP line says nothing */
    rc = buf_printf(out, "# HELP %s ", f->name);
    if (rc == 0)
      rc = append_escaped(out, f->help, false);
    if (rc == 0)
      rc = buf_append_char(out, '\n');
  }
  if (rc == 0)
    rc = buf_printf(out, "# TYPE %s %s\n", f->name, type_name(f->type));
  for (i = 0; rc == 0 && i < n; i++) {
    if (f->type == MET_HISTOGRAM)
      rc = render_histogram(out, f, v[i]);
    else
      rc = render_sample(out, f, v[i], "", NULL, v[i]->value);
  }
  free(v);
  return rc;
}

int met_render(struct met_registry *r, struct buf *out)
{
  struct met_family *f;
  struct collector *c;
  int rc = 0;

  for (c = r->collectors; c; c = c->next)
    c->fn(r, c->arg);
  for (f = r->families; f && rc == 0; f = f->next)
    rc = render_family(out, f);
  return rc;
}
