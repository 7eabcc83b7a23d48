// hostkit: the Darwin additions to <time.h> that DriverKit code uses.
//
// On a Mac, clock_gettime_nsec_np and the Darwin clock ids
// (CLOCK_MONOTONIC_RAW_APPROX, CLOCK_UPTIME_RAW, ...) are declared by <time.h>,
// not by IOLib.h (the SDK's IOLib.h points there), so a driver must include
// <time.h>. hostkit puts this header first on the include path and chains to the
// C library's own with #include_next. The Darwin-only ids get numbers that glibc
// does not use. As on Darwin, clock_gettime_nsec_np returns 0 and sets errno to
// EINVAL for an id it does not know.
#pragma once

#include_next <time.h>

#include <stdint.h>

#define CLOCK_MONOTONIC_RAW_APPROX 0x10005
#define CLOCK_UPTIME_RAW 0x10008
#define CLOCK_UPTIME_RAW_APPROX 0x10009

#ifdef __cplusplus
extern "C" {
#endif
uint64_t clock_gettime_nsec_np(clockid_t clock_id);
#ifdef __cplusplus
}
#endif
