// clang checks os_log formats on a Mac: %u takes 32 bits, a uint64_t needs %llu.
// EXPECT: os_log_format_does_not_match_its_arguments
#include <os/log.h>

#include <stdint.h>

void log_bytes(uint64_t bytes) {
#ifdef HOSTKIT_COMPILE_FAIL
  os_log(OS_LOG_DEFAULT, "moved %u bytes", bytes);
#else
  os_log(OS_LOG_DEFAULT, "moved %llu bytes", bytes);
#endif
}
