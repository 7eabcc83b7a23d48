// clock_gettime_nsec_np comes from <time.h> on a Mac, not from DriverKit's headers.
// EXPECT: 'clock_gettime_nsec_np' was not declared
#include <DriverKit/IOLib.h>
#ifndef HOSTKIT_COMPILE_FAIL
#include <time.h>
#endif

uint64_t now() {
  return clock_gettime_nsec_np(CLOCK_MONOTONIC_RAW);
}
