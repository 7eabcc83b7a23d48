// hostkit: os_log. Lines go to hostkit's log sink (stderr by default, with the
// level), so a driver's logging runs unchanged on Linux. Format strings use
// Apple's privacy annotations ("%{public}s"); hostkit strips them.
#pragma once

#include <cstdint>

typedef struct hostkit_os_log_s* os_log_t;
#define OS_LOG_DEFAULT ((os_log_t) nullptr)

enum hostkit_os_log_type : uint8_t {
  OS_LOG_TYPE_DEFAULT = 0x00,
  OS_LOG_TYPE_INFO = 0x01,
  OS_LOG_TYPE_DEBUG = 0x02,
  OS_LOG_TYPE_ERROR = 0x10,
  OS_LOG_TYPE_FAULT = 0x11,
};

void hostkit_os_log(os_log_t log, hostkit_os_log_type type, const char* format, ...);

#define os_log(log, ...) hostkit_os_log((log), OS_LOG_TYPE_DEFAULT, __VA_ARGS__)
#define os_log_info(log, ...) hostkit_os_log((log), OS_LOG_TYPE_INFO, __VA_ARGS__)
#define os_log_debug(log, ...) hostkit_os_log((log), OS_LOG_TYPE_DEBUG, __VA_ARGS__)
#define os_log_error(log, ...) hostkit_os_log((log), OS_LOG_TYPE_ERROR, __VA_ARGS__)
#define os_log_fault(log, ...) hostkit_os_log((log), OS_LOG_TYPE_FAULT, __VA_ARGS__)
