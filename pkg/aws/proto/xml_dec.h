/* Decoding XML responses (Query, EC2 and REST-XML protocols): thin helpers
 * over aws/core/xml.h (the hardened reader: no DTD, no entities, size and
 * depth caps). Every function accepts NULL nodes.
 */
#ifndef PKG_AWS_PROTO_XML_DEC_H
#define PKG_AWS_PROTO_XML_DEC_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/core/xml.h"
#include "aws/proto/shapes.h"

typedef const struct aws_xml_node *aws_xnode;

/* Parse body; root element must have local name root_name (NULL = any).
 * Returns NULL on malformed or oversized input. Free with aws_xml_free. */
struct aws_xml *aws_ox_parse_new(const char *body, size_t len,
                                 const char *root_name);
/* First element child with local name `name` (NULL = any element). */
aws_xnode aws_ox_child(aws_xnode n, const char *name);
/* Next element sibling with the same local name filter. */
aws_xnode aws_ox_next(aws_xnode n, const char *name);
/* Walk "A/B/C" below n; NULL when any step is missing. */
aws_xnode aws_ox_path(aws_xnode n, const char *path);
/* Text of the node at path below n, as a new string; NULL when absent. */
char *aws_ox_str_new(aws_xnode n, const char *path);
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
/* Decode every `item` child of list element by element with fn into
 * (*v, *n); fn failing stops with its error. */
typedef int (*aws_ox_item_fn)(aws_xnode item, void *elem);
int aws_ox_each(aws_xnode list, const char *item, size_t sz, aws_ox_item_fn fn,
                void **v, size_t *n);

/* Empty result: the body must parse as XML (any root). */
int aws_dec_empty_xml(const char *body, size_t len,
                      struct aws_empty_result **out);

#endif
