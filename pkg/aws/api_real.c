/* The real interface table: operations through aws_call_start (kept in its
 * own object so tests can bind the table to a double without linking the
 * transport). */
#include "aws/api.h"

struct aws_api *aws_api_real_new(struct aws_client *c)
{
  return aws_api_new(c, aws_call_start);
}
