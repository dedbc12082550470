/* The transport seam the operations are written against (aws_call,
 * aws_resp, aws_call_start, struct aws_error), owned by transport.h. */
#ifndef PKG_AWS_OPS_SEAM_H
#define PKG_AWS_OPS_SEAM_H

#include "aws/transport.h"

#endif
