/* Shapes that several services' requests and results share: tags, string
 * lists, the empty result, tag listings, and the pagination helpers.
 *
 * Strings in results are owned (char *) and NULL when AWS omitted the
 * field; request strings are borrowed. Each result type has
 * aws_<type>_free(), which frees the whole object (NULL is fine).
 */
#ifndef PKG_AWS_PROTO_SHAPES_H
#define PKG_AWS_PROTO_SHAPES_H

#include <stdbool.h>
#include <stddef.h>

struct aws_tag { /* request-side tag (borrowed strings) */
  const char *key;
  const char *value;
};
struct aws_rtag { /* result-side tag (owned strings) */
  char *key;
  char *value;
};
struct aws_strs { /* owned list of owned strings */
  char **v;
  size_t n;
};
struct aws_empty_result {
  char unused;
};
struct aws_tags_result { /* tags with a JSON NextToken or an IAM marker */
  struct aws_rtag *v;
  size_t n;
  bool is_truncated;
  char *next_token; /* NextToken or Marker */
};

/* Declares aws_<res>_free for each entry of a service's result list. */
#define AWS_RESULT_FREE_DECL(res) void aws_##res##_free(struct aws_##res *r);

/* The result types above. */
#define AWS_RESULTS_SHARED(XX)                                                 \
  XX(empty_result)                                                             \
  XX(tags_result)
AWS_RESULTS_SHARED(AWS_RESULT_FREE_DECL)

/* ---- pagination -------------------------------------------------------
 * Each helper points the next request at the page after the result and
 * returns true, or returns false on the last page. The request borrows
 * strings from the result: start the next call inside the callback
 * (requests are encoded before the call returns) or copy them. */

/* JSON NextToken / EC2 nextToken (NULL or "" = last page). */
bool aws_page_next_token(const char *res_next_token, const char **req_token);
/* IAM Marker/IsTruncated. */
bool aws_page_next_marker(bool is_truncated, const char *res_marker,
                          const char **req_marker);

#endif
