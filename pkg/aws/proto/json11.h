/* AWS JSON 1.1 (Organizations, Support, Service Quotas) and REST-JSON
 * (Account): request building and response reading.
 *
 * JSON 1.1: POST / with Content-Type application/x-amz-json-1.1 and
 * X-Amz-Target <prefix>.<Operation>; the body is the input shape as a JSON
 * object (members omitted when unset; "{}" for no members).
 */
#ifndef PKG_AWS_PROTO_JSON11_H
#define PKG_AWS_PROTO_JSON11_H

#include <jansson.h>
#include <stddef.h>

#include "aws/proto/shapes.h"

#define AWS_JSON11_CONTENT_TYPE "application/x-amz-json-1.1"

struct aws_wire;

/* Fill w for a JSON 1.1 call; body is stolen (NULL = {}). */
int aws_json11_request(struct aws_wire *w, const char *target_prefix,
                       const char *operation, json_t *body);
/* Fill w for a REST-JSON POST to path with body (stolen). */
int aws_restjson_post(struct aws_wire *w, const char *path, json_t *body);

/* ---- building bodies ---------------------------------------------------- */

/* Serialize body compactly with sorted keys into w->body (steals body). */
int aws_js_body(struct aws_wire *w, json_t *body);
/* Set a string member when s is not NULL. */
void aws_js_set_str(json_t *o, const char *key, const char *s);
json_t *aws_js_tags_new(const struct aws_tag *tags, size_t n);
json_t *aws_js_strs_new(const char *const *v, size_t n);

/* ---- reading responses -------------------------------------------------- */

/* Parse a JSON object body (an empty body counts as {}). NULL if malformed
 * or not an object. */
json_t *aws_js_parse_new(const char *body, size_t len);
/* New copy of a string member; NULL when absent or not a string. */
char *aws_js_str_new(const json_t *o, const char *key);
/* Decode array member key of o element by element with fn into (*v, *n).
 * Absent or null = empty list; not an array, or a non-object element, or
 * fn failing = OP_EPARSE. */
typedef int (*aws_js_item_fn)(const json_t *item, void *elem);
int aws_js_each(const json_t *o, const char *key, size_t sz, aws_js_item_fn fn,
                void **v, size_t *n);
/* Empty result: the body must be a JSON object (or empty). */
int aws_dec_empty_json(const char *body, size_t len,
                       struct aws_empty_result **out);

#endif
