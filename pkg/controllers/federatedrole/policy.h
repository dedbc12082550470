/* AWSFederatedRole: the custom policy document, checked before any AWS
 * call (pure). What IAM alone knows (unknown actions of a real service,
 * size limits) is left to the CreatePolicy probe (plan.h).
 *
 *   statement syntax  each awsStatements[i] is an object with effect and a
 *                     non-empty action list
 *   effect            "Allow" or "Deny"
 *   action            "*" or service:Action, service letters/digits/-, Action
 *                     letters/digits with * and ? wildcards
 *   resource          "*" or arn:partition:service:region:account:resource
 *                     (at least six colon-separated parts; wildcards fine)
 *   condition         known IAM operators (optionally ForAllValues: /
 *                     ForAnyValue: and IfExists), each a non-empty map of
 *                     condition key -> string value(s)
 *   principal         AWS: "*", a 12-digit account id or an arn:...:iam::
 *                     ARN
 *
 * The message names the statement by index and the field that is wrong:
 * "awsStatements[1].action[0] \"ec2Describe\": not service:Action".
 */
#ifndef PKG_CONTROLLERS_FEDERATEDROLE_POLICY_H
#define PKG_CONTROLLERS_FEDERATEDROLE_POLICY_H

#include <jansson.h>
#include <stddef.h>

/* 0 when spec.awsCustomPolicy (custom) is acceptable, 1 with the reason in
 * msg otherwise. */
int frole_policy_check(const json_t *custom, char *msg, size_t msgsz);

/* The IAM policy document (JSON text, malloc'd) for a checked custom
 * policy: Version 2012-10-17, one Statement per awsStatements entry with
 * Effect, Action, Resource, Condition, Principal as present. NULL = out
 * of memory. */
char *frole_policy_doc_new(const json_t *custom);

#endif
