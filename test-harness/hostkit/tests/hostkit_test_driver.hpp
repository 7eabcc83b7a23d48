// What HostkitTestDriver records, for the tests to read (guarded: the driver
// runs on the driver queue, the tests on their own thread).
#pragma once

#include <mutex>
#include <string>
#include <vector>

namespace hostkit_test {

struct DriverLog {
  std::mutex mutex;
  std::vector<std::string> calls;
  bool strip_first_byte = false;  // handleRxPacket advances the packet pointer by one
  bool point_elsewhere = false;   // handleRxPacket points at the driver's own buffer
  int reset_fifo_super_result = 0;

  void reset() {
    std::lock_guard lock(mutex);
    calls.clear();
    strip_first_byte = false;
    point_elsewhere = false;
    reset_fifo_super_result = 0;
  }
  void record(const std::string& call) {
    std::lock_guard lock(mutex);
    calls.push_back(call);
  }
  bool saw(const std::string& call) {
    std::lock_guard lock(mutex);
    for (const auto& c : calls) {
      if (c == call) {
        return true;
      }
    }
    return false;
  }
};

DriverLog& driver_log();

}  // namespace hostkit_test
