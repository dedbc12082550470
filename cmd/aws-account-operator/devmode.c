/* FORCE_DEV_MODE (devmode.h). */
#include "cmd/aws-account-operator/devmode.h"

#include "util/str.h"

enum devmode_verdict devmode_check(const char *mode, const char *endpoint,
                                   char *msg, size_t msgsz)
{
  msg[0] = '\0';
  if (str_empty(mode))
    return DEVMODE_OFF;
  if (!str_empty(endpoint)) {
    str_fmt(msg, msgsz,
            "FORCE_DEV_MODE=%s is ignored: this operator has no development "
            "mode; AWS calls go to %s, which stands in for AWS",
            mode, endpoint);
    return DEVMODE_WARN;
  }
  str_fmt(msg, msgsz,
          "FORCE_DEV_MODE=%s asks for upstream's development mode (no real "
          "AWS accounts, support cases or quota requests), which this "
          "operator does not have: started like this it would act on real "
          "AWS. Unset FORCE_DEV_MODE, or point --aws-endpoint-url at the AWS "
          "stand-in (test/fakes/aws_api.py; see docs/differences.md)",
          mode);
  return DEVMODE_REFUSE;
}
