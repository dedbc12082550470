/* Safe XML reading for AWS responses (libxml2 underneath).
 *
 * Parsing never touches the network, never loads a DTD, never substitutes
 * entities, and rejects outright any document carrying a DOCTYPE or an
 * entity declaration (billion laughs, external entities). Documents are
 * capped in size (AWS_XML_MAX_SIZE) and nesting depth (AWS_XML_MAX_DEPTH).
 *
 * Navigation ignores namespaces: names are local names.
 *
 *   struct aws_xml *x;
 *   if (aws_xml_parse(body, len, &x) == 0) {
 *     const struct aws_xml_node *err =
 *       aws_xml_path(aws_xml_root(x), "Error");
 *     const char *code = aws_xml_child_text(err, "Code");
 *     for (n = aws_xml_path(root, "Result/Users/member"); n;
 *          n = aws_xml_next(n)) ...
 *     aws_xml_free(x);
 *   }
 *
 * Every returned pointer is borrowed from the document and valid until
 * aws_xml_free. Every function accepts a NULL node and then returns NULL.
 */
#ifndef PKG_AWS_CORE_XML_H
#define PKG_AWS_CORE_XML_H

#include <stddef.h>

#define AWS_XML_MAX_SIZE ((size_t)8 << 20)
#define AWS_XML_MAX_DEPTH 64

struct aws_xml;
struct aws_xml_node;

/* Returns 0, OP_ETOOBIG (over the size or depth cap), OP_EPARSE
 * (malformed, or DOCTYPE/ENTITY present) or OP_EINVAL. */
int aws_xml_parse(const char *data, size_t len, struct aws_xml **out);
void aws_xml_free(struct aws_xml *x);

const struct aws_xml_node *aws_xml_root(const struct aws_xml *x);
/* Local name of an element. */
const char *aws_xml_name(const struct aws_xml_node *n);
/* First child element with this local name (NULL name: any element). */
const struct aws_xml_node *aws_xml_child(const struct aws_xml_node *n,
                                         const char *name);
/* Next sibling element with the same local name as n (list iteration
 * over `member` / `item`). */
const struct aws_xml_node *aws_xml_next(const struct aws_xml_node *n);
/* Next sibling element of any name. */
const struct aws_xml_node *aws_xml_next_any(const struct aws_xml_node *n);
/* Follow "A/B/C" from n through first children by local name. */
const struct aws_xml_node *aws_xml_path(const struct aws_xml_node *n,
                                        const char *path);
/* The element's text (concatenated text/CDATA children are not merged: the
 * first text child is returned), "" when it has none, NULL for NULL. */
const char *aws_xml_text(const struct aws_xml_node *n);
/* Text of the child (or path) `path` of n, or NULL when absent. */
const char *aws_xml_child_text(const struct aws_xml_node *n, const char *path);
/* Copy the text at path into out[n]. Returns 0, OP_ENOTFOUND or
 * OP_ETOOBIG (out holds the truncated text). */
int aws_xml_copy(const struct aws_xml_node *n, const char *path, char *out,
                 size_t size);
/* Number of child elements named name. */
size_t aws_xml_count(const struct aws_xml_node *n, const char *name);

#endif
