// Latency mode: round trips through a port with a loopback plug, one at a time. Each
// round trip writes a message of pattern bytes, waits until all of it is back, checks it,
// and records the time from just before the write to the arrival of its last byte.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace loopback {

struct LatencyConfig {
  uint64_t round_trips = 1000;
  size_t message_bytes = 1;
  double timeout_s = 10;        // for one round trip
  uint64_t pattern_offset = 0;  // message i is pattern bytes offset + i * message_bytes, ...
  double progress_interval_s = 0.25;
  std::function<void(uint64_t done, uint64_t total)> on_progress;
  const std::atomic<bool>* cancel = nullptr;
};

struct LatencyResult {
  uint64_t round_trips_requested = 0;
  size_t message_bytes = 0;
  std::vector<double> samples_s;   // one per completed round trip, in order
  uint64_t wrong_round_trips = 0;  // came back with different bytes (counted in samples_s too)
  bool timed_out = false;          // a message did not come back within the timeout
  bool cancelled = false;
  std::string error;  // a read or write failed
};

// Nearest-rank percentiles (the smallest sample with at least p % of the samples at or
// below it), in seconds. All zero without samples.
struct LatencyStats {
  size_t count = 0;
  double min = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;
};
LatencyStats latency_stats(const std::vector<double>& samples_s);

// The p-th percentile (0 < p <= 100) of `sorted` (ascending, not empty), nearest rank.
double nearest_rank(const std::vector<double>& sorted, double p);

// Runs the round trips on `fd` (switched to O_NONBLOCK for the run). Never throws for
// I/O problems; they are in the result.
LatencyResult run_latency(int fd, const LatencyConfig& config);

}  // namespace loopback
