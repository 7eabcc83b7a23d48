#include "process_sample.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace loopback {

std::optional<ProcessSample> sample_process(pid_t pid) {
#if defined(__linux__)
  if (pid <= 0) {
    return std::nullopt;
  }
  const std::filesystem::path dir = "/proc/" + std::to_string(pid);
  std::ifstream status(dir / "status");
  if (!status) {
    return std::nullopt;
  }
  ProcessSample sample;
  bool rss = false, threads = false;
  for (std::string line; std::getline(status, line);) {
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    if (key == "VmRSS:") {
      rss = static_cast<bool>(fields >> sample.rss_kib);
    } else if (key == "Threads:") {
      threads = static_cast<bool>(fields >> sample.threads);
    }
  }
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir / "fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++sample.open_fds;
  }
  if (!rss || !threads || ec) {
    return std::nullopt;
  }
  return sample;
#else
  (void)pid;
  return std::nullopt;
#endif
}

bool process_runs_asan(pid_t pid) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  for (std::string line; std::getline(maps, line);) {
    if (line.find("/libasan.so") != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace loopback
