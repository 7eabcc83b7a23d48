// What a process holds, read from /proc/<pid> (Linux): resident memory, threads and open file
// descriptors. The soak samples the bridge with it to show that a long run leaks none of them.
#pragma once

#include <cstdint>
#include <optional>

#include <sys/types.h>

namespace loopback {

struct ProcessSample {
  double seconds = 0;     // since the run started
  uint64_t bytes = 0;     // received by then
  uint64_t rss_kib = 0;   // VmRSS of /proc/<pid>/status
  uint32_t threads = 0;   // Threads of /proc/<pid>/status
  uint32_t open_fds = 0;  // entries of /proc/<pid>/fd
};

// nullopt when the process is gone or /proc cannot be read (or on macOS).
std::optional<ProcessSample> sample_process(pid_t pid);

// True when the process has the AddressSanitizer runtime mapped (GCC links it as a shared
// library). Its quarantine holds freed memory back, so its resident memory grows by design.
bool process_runs_asan(pid_t pid);

}  // namespace loopback
