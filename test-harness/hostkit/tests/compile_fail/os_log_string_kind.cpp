// %s takes a C string; a number in its place is an error, not a crash at run time.
// EXPECT: os_log_format_does_not_match_its_arguments
#include <os/log.h>

void log_status(int status, const char* name) {
#ifdef HOSTKIT_COMPILE_FAIL
  os_log(OS_LOG_DEFAULT, "failed: %{public}s", status);
  (void)name;
#else
  os_log(OS_LOG_DEFAULT, "failed: %{public}s (0x%x)", name, status);
#endif
}
