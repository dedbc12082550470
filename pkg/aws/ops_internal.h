/* Shared machinery of the per-service operation files (not for callers).
 *
 * Every operation <f> has a pure encoder and a pure decoder, both tested
 * without a network:
 *   int aws_enc_<f>(const struct aws_<req> *rq, struct aws_wire *w);
 *   int aws_dec_<f>(const char *body, size_t len, struct aws_<res> **out);
 * ops.c generates the async glue from the AWS_OPS table.
 */
#ifndef PKG_AWS_OPS_INTERNAL_H
#define PKG_AWS_OPS_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "aws/api.h"
#include "aws/core/xml.h"
#include "util/buf.h"

#define AWS_WIRE_MAXH 6
#define AWS_BODY_MAX (8 * 1024 * 1024)

/* One encoded request: everything aws_call needs besides service,
 * operation, region and protocol. Owned strings. */
struct aws_wire {
  const char *method; /* static */
  char *path;         /* "/" when unset */
  char *query;        /* canonical-ready "a=b&c=d" or NULL */
  struct buf body;
  struct aws_header headers[AWS_WIRE_MAXH]; /* names static, values owned */
  size_t nheaders;
};

void aws_wire_init(struct aws_wire *w);
void aws_wire_cleanup(struct aws_wire *w);
/* Value is copied. OP_ETOOBIG when the header slots are full. */
int aws_wire_header(struct aws_wire *w, const char *static_name,
                    const char *value);
/* Header value by name (case-sensitive), NULL when absent. */
const char *aws_wire_get_header(const struct aws_wire *w, const char *name);

#define AWS_OPS_DECL(f, op, svc, proto, idem, req, res)                        \
  int aws_enc_##f(const struct aws_##req *rq, struct aws_wire *w);             \
  int aws_dec_##f(const char *body, size_t len, struct aws_##res **out);
AWS_OPS(AWS_OPS_DECL)
#undef AWS_OPS_DECL

/* ---- arrays ----------------------------------------------------------- */

/* Grow *v (elements of size sz, count *n) by one zeroed element, capped at
 * AWS_MAX_ITEMS (OP_ETOOBIG). *slot receives the new element. */
#define AWS_MAX_ITEMS 100000
int aws_arr_push(void **v, size_t *n, size_t sz, void **slot);
void aws_strs_cleanup(struct aws_strs *s);
void aws_rtags_free(struct aws_rtag *t, size_t n);
/* Free and NULL a string; the secret variant wipes first. */
void aws_str_free(char **s);

/* ---- XML decoding --------------------------------------------------------
 * Thin helpers over aws/xml.h (the hardened reader: no DTD, no entities,
 * size and depth caps); every function accepts NULL nodes. */

typedef const struct aws_xml_node *aws_xnode;

/* Parse body; root element must have local name root_name (NULL = any).
 * Returns NULL on malformed or oversized input. Free with aws_xml_free. */
struct aws_xml *aws_ox_parse(const char *body, size_t len,
                             const char *root_name);
/* First element child with local name `name` (NULL = any element). */
aws_xnode aws_ox_child(aws_xnode n, const char *name);
/* Next element sibling with the same local name filter. */
aws_xnode aws_ox_next(aws_xnode n, const char *name);
/* Walk "A/B/C" below n; NULL when any step is missing. */
aws_xnode aws_ox_path(aws_xnode n, const char *path);
/* Text of the node at path below n, as a new string; NULL when absent. */
char *aws_ox_str(aws_xnode n, const char *path);
/* Overwrite the text at path inside the parsed document (secrets: the
 * document's copy would otherwise outlive the wiped result). */
void aws_ox_wipe(aws_xnode n, const char *path);
/* "true" at path (absent = false). */
bool aws_ox_bool(aws_xnode n, const char *path);
/* Integer at path; def when absent; OP_EPARSE via *err when malformed. */
long long aws_ox_int(aws_xnode n, const char *path, long long def, int *err);
/* Query protocol response: parse, require root <opResponse>, and return
 * its <opResult> in *result. OP_EPARSE when either is missing. */
int aws_ox_query_open(const char *body, size_t len, const char *op,
                      struct aws_xml **doc, aws_xnode *result);
/* Tags under list node: <item|member><key|Key>..</><value|Value>..</> */
int aws_ox_tags(aws_xnode list, const char *item, struct aws_rtag **v,
                size_t *n);
/* Strings under list node's `item` children. */
int aws_ox_strs(aws_xnode list, const char *item, struct aws_strs *s);

/* ---- JSON ------------------------------------------------------------- */

/* Parse a JSON object body (an empty body counts as {}). NULL if malformed
 * or not an object. */
json_t *aws_js_parse(const char *body, size_t len);
/* New copy of a string member; NULL when absent or not a string. */
char *aws_js_str(const json_t *o, const char *key);
/* Decode array member key of o element by element with fn into (*v, *n).
 * Absent or null = empty list; not an array, or a non-object element, or
 * fn failing = OP_EPARSE. */
typedef int (*aws_js_item_fn)(const json_t *item, void *elem);
int aws_js_each(const json_t *o, const char *key, size_t sz, aws_js_item_fn fn,
                void **v, size_t *n);
/* Same for XML: every `item` child of list. */
typedef int (*aws_ox_item_fn)(aws_xnode item, void *elem);
int aws_ox_each(aws_xnode list, const char *item, size_t sz, aws_ox_item_fn fn,
                void **v, size_t *n);
/* Serialize body compactly with sorted keys into w->body (steals body). */
int aws_js_body(struct aws_wire *w, json_t *body);
/* Set a string member when s is not NULL. */
void aws_js_set_str(json_t *o, const char *key, const char *s);
json_t *aws_js_tags(const struct aws_tag *tags, size_t n);
json_t *aws_js_strs(const char *const *v, size_t n);

/* Empty results: the body must parse (XML with any root / a JSON object /
 * anything for REST calls without a body). */
int aws_dec_empty_xml(const char *body, size_t len,
                      struct aws_empty_result **out);
int aws_dec_empty_json(const char *body, size_t len,
                       struct aws_empty_result **out);
int aws_dec_empty_any(const char *body, size_t len,
                      struct aws_empty_result **out);

/* ---- Query ------------------------------------------------------------ */

struct aws_query;
/* Move a finished query into w as a form POST body. */
int aws_query_request(struct aws_wire *w, struct aws_query *q);

#endif
