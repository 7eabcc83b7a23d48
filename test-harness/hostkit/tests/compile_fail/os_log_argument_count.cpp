// Every conversion needs its argument, and every argument its conversion.
// EXPECT: os_log_format_does_not_match_its_arguments
#include <os/log.h>

void log_rate(unsigned requested, unsigned actual) {
#ifdef HOSTKIT_COMPILE_FAIL
  os_log(OS_LOG_DEFAULT, "%u Bd requested, %u Bd actual", requested);
  (void)actual;
#else
  os_log(OS_LOG_DEFAULT, "%u Bd requested, %u Bd actual", requested, actual);
#endif
}
