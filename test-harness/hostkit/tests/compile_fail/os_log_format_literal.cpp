// An os_log format must be a string literal.
// EXPECT: error: (could not convert|no matching function|conversion from)
#include <os/log.h>

void log_line(const char* text) {
#ifdef HOSTKIT_COMPILE_FAIL
  os_log(OS_LOG_DEFAULT, text);
#else
  os_log(OS_LOG_DEFAULT, "%{public}s", text);
#endif
}
