#include "latency.hpp"

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>
#include <span>

#include "pattern.hpp"

namespace loopback {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kPollSliceMs = 50;

std::string errno_text(const char* what, int err) {
  return std::string(what) + ": " + std::strerror(err);
}

}  // namespace

double nearest_rank(const std::vector<double>& sorted, double p) {
  const double rank = std::ceil(p / 100.0 * static_cast<double>(sorted.size()));
  const size_t index = static_cast<size_t>(std::clamp(rank, 1.0, double(sorted.size()))) - 1;
  return sorted[index];
}

LatencyStats latency_stats(const std::vector<double>& samples_s) {
  LatencyStats stats;
  stats.count = samples_s.size();
  if (samples_s.empty()) {
    return stats;
  }
  std::vector<double> sorted = samples_s;
  std::sort(sorted.begin(), sorted.end());
  stats.min = sorted.front();
  stats.max = sorted.back();
  stats.p50 = nearest_rank(sorted, 50);
  stats.p90 = nearest_rank(sorted, 90);
  stats.p99 = nearest_rank(sorted, 99);
  stats.p999 = nearest_rank(sorted, 99.9);
  stats.mean = std::accumulate(sorted.begin(), sorted.end(), 0.0) / double(sorted.size());
  return stats;
}

LatencyResult run_latency(int fd, const LatencyConfig& config) {
  LatencyResult result;
  result.round_trips_requested = config.round_trips;
  result.message_bytes = std::max<size_t>(config.message_bytes, 1);
  const size_t size = result.message_bytes;
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0 && (flags & O_NONBLOCK) == 0) {
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  }
  std::vector<uint8_t> message(size);
  std::vector<uint8_t> back(size);
  const auto timeout = std::chrono::duration<double>(config.timeout_s);
  const auto interval = std::chrono::duration<double>(config.progress_interval_s);
  Clock::time_point next_progress =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(interval);
  result.samples_s.reserve(static_cast<size_t>(std::min<uint64_t>(config.round_trips, 1 << 20)));

  for (uint64_t trip = 0; trip < config.round_trips; ++trip) {
    if (config.cancel != nullptr && config.cancel->load()) {
      result.cancelled = true;
      break;
    }
    fill_pattern(config.pattern_offset + trip * size, message);
    const Clock::time_point start = Clock::now();
    size_t written = 0;
    size_t got = 0;
    while (got < size && result.error.empty()) {
      if (Clock::now() - start > timeout) {
        result.timed_out = true;
        break;
      }
      if (config.cancel != nullptr && config.cancel->load()) {
        result.cancelled = true;
        break;
      }
      pollfd pfd{fd, static_cast<short>(POLLIN | (written < size ? POLLOUT : 0)), 0};
      const int ready = ::poll(&pfd, 1, kPollSliceMs);
      if (ready < 0 && errno != EINTR) {
        result.error = errno_text("poll", errno);
        break;
      }
      if (ready <= 0) {
        continue;
      }
      if (written < size && (pfd.revents & POLLOUT) != 0) {
        const ssize_t n = ::write(fd, message.data() + written, size - written);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          result.error = errno_text("write", errno);
          break;
        }
        written += n > 0 ? static_cast<size_t>(n) : 0;
      }
      if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        const ssize_t n = ::read(fd, back.data() + got, size - got);
        if (n == 0) {
          result.error = "read: the port hung up (end of file)";
        } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          result.error = errno_text("read", errno);
        }
        got += n > 0 ? static_cast<size_t>(n) : 0;
      }
    }
    if (got < size) {
      break;  // timed out, cancelled or failed: this round trip has no time
    }
    result.samples_s.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    if (back != message) {
      ++result.wrong_round_trips;
      ::tcflush(fd, TCIFLUSH);  // whatever else is in flight belongs to no later message
    }
    if (config.on_progress && Clock::now() >= next_progress) {
      config.on_progress(trip + 1, config.round_trips);
      next_progress = Clock::now() + std::chrono::duration_cast<Clock::duration>(interval);
    }
  }
  if (flags >= 0 && (flags & O_NONBLOCK) == 0) {
    ::fcntl(fd, F_SETFL, flags);
  }
  return result;
}

}  // namespace loopback
