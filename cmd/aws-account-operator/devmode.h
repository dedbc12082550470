/* FORCE_DEV_MODE (upstream: "local" or "cluster" skip real CreateAccount,
 * support cases, quota requests and opt-in, and fake account IDs). This
 * operator has no such mode: the AWS stand-in (test/fakes/aws_api.py)
 * fakes those calls instead, behind --aws-endpoint-url. Since a user who
 * sets FORCE_DEV_MODE expects no real accounts to be created, the daemon
 * refuses to start with it against real AWS, and only warns when an
 * endpoint override is in use (docs/differences.md). */
#ifndef CMD_AWS_ACCOUNT_OPERATOR_DEVMODE_H
#define CMD_AWS_ACCOUNT_OPERATOR_DEVMODE_H

#include <stddef.h>

enum devmode_verdict {
  DEVMODE_OFF,    /* unset or empty: production */
  DEVMODE_WARN,   /* set, with an endpoint override: ignored, say so */
  DEVMODE_REFUSE, /* set, against real AWS: do not start */
};

/* mode: FORCE_DEV_MODE (NULL = unset); endpoint: --aws-endpoint-url (NULL
 * = real AWS). msg gets the line to log or print (empty for OFF). */
enum devmode_verdict devmode_check(const char *mode, const char *endpoint,
                                   char *msg, size_t msgsz);

#endif
