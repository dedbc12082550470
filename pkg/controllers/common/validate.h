/* Shape checks of names and ids the operator reads from custom resources
 * and writes to Kubernetes or AWS: each rule is the server's own (the
 * Kubernetes API's name rules, the AWS models' lengths and patterns), so
 * bad input is refused with a clear message before a request fails. */
#ifndef PKG_CONTROLLERS_COMMON_VALIDATE_H
#define PKG_CONTROLLERS_COMMON_VALIDATE_H

#include <stdbool.h>

/* Organizations' OrganizationalUnitName: 1..128 characters. */
#define VALIDATE_OU_NAME_MAX 128

/* Kubernetes DNS-1123 subdomain (Secret and most object names): at most
 * 253 characters of [a-z0-9.-], each dot-separated label starting and
 * ending with an alphanumeric. */
bool validate_dns1123_subdomain(const char *s);
/* Kubernetes DNS-1123 label (namespaces): at most 63 of [a-z0-9-],
 * starting and ending with an alphanumeric. */
bool validate_dns1123_label(const char *s);
/* Exactly 12 decimal digits (Organizations' AccountId). */
bool validate_account_id(const char *s);
/* An AWS region name: <2 letters>[-gov|-iso<letter>]-<word>-<digits>,
 * e.g. us-east-1, us-gov-west-1, cn-north-1; at most 31 characters. */
bool validate_region(const char *s);
/* An IAM principal ARN a trust policy can name:
 * arn:<aws|aws-us-gov|aws-cn>:<iam|sts>::<12 digits>:<resource>, the
 * resource non-empty and without whitespace, at most max characters in
 * all. */
bool validate_principal_arn(const char *s, unsigned long max);
/* Organizations' Email: 6..64 characters, local@domain.tld without
 * whitespace or a second '@'. */
bool validate_email(const char *s);
/* A length in 1..max counted in characters of UTF-8 (AWS counts
 * characters, not bytes); false for NULL or invalid UTF-8. */
bool validate_len(const char *s, unsigned long min, unsigned long max);

#endif
