// hostkit: IOLib allocation helpers and time (reference/driverkit.md §2.8).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "DriverKit/IOReturn.h"

void* IOMalloc(size_t length);
void* IOMallocZero(size_t length);
void IOFree(void* address, size_t length);
void IOSleep(uint64_t milliseconds);
void IODelay(uint64_t microseconds);
void IOLog(const char* format, ...) __attribute__((format(printf, 1, 2)));
uint64_t mach_absolute_time();
uint64_t clock_gettime_nsec_np(int clock_id);
#ifndef CLOCK_MONOTONIC_RAW_APPROX
#define CLOCK_MONOTONIC_RAW_APPROX 5
#endif

// IONew / IONewZero / IOSafeDeleteNULL: typed arrays (value-initialised for IONewZero).
#define IONew(type, count) (new (std::nothrow) type[count])
#define IONewZero(type, count) (new (std::nothrow) type[count]())
#define IOSafeDeleteNULL(ptr, type, count) \
  do {                                     \
    delete[](ptr);                         \
    (ptr) = nullptr;                       \
  } while (0)
