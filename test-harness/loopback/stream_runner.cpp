#include "stream_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include <boost/crc.hpp>

#include "pattern.hpp"

namespace loopback {

namespace {

using Clock = std::chrono::steady_clock;

// How often a blocked thread wakes to look at the stop flag.
constexpr int kPollSliceMs = 50;
// Largest single read; the verifier slices it further.
constexpr size_t kReadSize = 64 * 1024;

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// Sets O_NONBLOCK for the run and puts the previous flags back afterwards.
class NonBlocking {
 public:
  explicit NonBlocking(int fd) : fd_(fd), flags_(::fcntl(fd, F_GETFL)) {
    if (flags_ >= 0 && (flags_ & O_NONBLOCK) == 0) {
      ::fcntl(fd_, F_SETFL, flags_ | O_NONBLOCK);
    }
  }
  ~NonBlocking() {
    if (flags_ >= 0 && (flags_ & O_NONBLOCK) == 0) {
      ::fcntl(fd_, F_SETFL, flags_);
    }
  }
  NonBlocking(const NonBlocking&) = delete;
  NonBlocking& operator=(const NonBlocking&) = delete;

 private:
  int fd_;
  int flags_;
};

std::string errno_text(const char* what, int err) {
  return std::string(what) + ": " + std::strerror(err);
}

// State shared by the two threads and the caller.
struct Shared {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> received{0};
  std::mutex mutex;
  std::condition_variable changed;
  int threads_running = 2;

  void request_stop() {
    stop.store(true);
    std::lock_guard<std::mutex> lock(mutex);
    changed.notify_all();
  }
  void thread_done() {
    std::lock_guard<std::mutex> lock(mutex);
    --threads_running;
    changed.notify_all();
  }
};

struct WriterOutcome {
  uint64_t sent = 0;
  uint32_t crc = 0;
  std::string error;
  Clock::time_point last_write;
};

struct ReaderOutcome {
  bool timed_out = false;
  std::string error;
  std::optional<Clock::time_point> first_byte;
  std::optional<Clock::time_point> last_byte;     // last byte within the expected total
  std::optional<Clock::time_point> all_received;  // when the expected total was reached
};

void writer_loop(int fd, const RunConfig& config, Clock::time_point start, Shared& shared,
                 WriterOutcome& out) {
  std::vector<uint8_t> buffer(config.chunk);
  boost::crc_32_type crc;
  uint64_t sent = 0;
  out.last_write = start;
  while (sent < config.total_bytes && !shared.stop.load()) {
    pollfd pfd{fd, POLLOUT, 0};
    const int ready = ::poll(&pfd, 1, kPollSliceMs);
    if (ready < 0 && errno != EINTR) {
      out.error = errno_text("poll for writing", errno);
      break;
    }
    if (ready <= 0) {
      continue;
    }
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(config.chunk, config.total_bytes - sent));
    fill_pattern(config.pattern_offset + sent, std::span<uint8_t>(buffer.data(), n));
    const ssize_t written = ::write(fd, buffer.data(), n);
    if (written < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        continue;
      }
      out.error = errno_text("write", errno);
      break;
    }
    crc.process_bytes(buffer.data(), static_cast<size_t>(written));
    sent += static_cast<uint64_t>(written);
    out.last_write = Clock::now();
    shared.sent.store(sent);
  }
  out.sent = sent;
  out.crc = crc.checksum();
  if (!out.error.empty()) {
    shared.request_stop();  // the port is unusable; the reader would only wait for the timeout
  }
  shared.thread_done();
}

void reader_loop(int fd, const RunConfig& config, Clock::time_point start, Shared& shared,
                 Verifier& verifier, ReaderOutcome& out) {
  std::vector<uint8_t> buffer(kReadSize);
  const auto timeout = std::chrono::duration<double>(config.timeout_s);
  const auto extra_window = std::chrono::duration<double>(config.extra_window_s);
  Clock::time_point last_progress = start;
  while (!shared.stop.load()) {
    const Clock::time_point now = Clock::now();
    std::chrono::duration<double> wait_left;
    if (out.all_received) {
      wait_left = extra_window - (now - *out.all_received);
      if (wait_left.count() <= 0) {
        break;  // everything arrived and nothing more is coming
      }
    } else {
      wait_left = timeout - (now - last_progress);
      if (wait_left.count() <= 0) {
        out.timed_out = true;
        break;
      }
    }
    const int slice_ms = std::clamp(
        static_cast<int>(std::chrono::duration<double, std::milli>(wait_left).count()) + 1, 1,
        kPollSliceMs);
    pollfd pfd{fd, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, slice_ms);
    if (ready < 0 && errno != EINTR) {
      out.error = errno_text("poll for reading", errno);
      break;
    }
    if (ready <= 0) {
      continue;
    }
    const ssize_t got = ::read(fd, buffer.data(), buffer.size());
    if (got < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        continue;
      }
      out.error = errno_text("read", errno);
      break;
    }
    if (got == 0) {
      // A tty returns 0 from a non-blocking read only after a hangup.
      out.error = "read: the port hung up (end of file)";
      break;
    }
    const Clock::time_point arrived = Clock::now();
    const bool was_complete = verifier.received() >= config.total_bytes;
    verifier.feed(std::span<const uint8_t>(buffer.data(), static_cast<size_t>(got)));
    shared.received.store(verifier.received());
    last_progress = arrived;
    if (!out.first_byte) {
      out.first_byte = arrived;
    }
    if (!was_complete) {
      out.last_byte = arrived;
      if (verifier.received() >= config.total_bytes) {
        out.all_received = arrived;
      }
    }
  }
  shared.request_stop();
  shared.thread_done();
}

}  // namespace

double RunResult::rx_bytes_per_second() const {
  const uint64_t in_range = std::min(verify.received, verify.expected_total);
  return transfer_seconds > 0 ? static_cast<double>(in_range) / transfer_seconds : 0.0;
}

double RunResult::tx_bytes_per_second() const {
  return write_seconds > 0 ? static_cast<double>(bytes_sent) / write_seconds : 0.0;
}

RunResult run_stream(int tx_fd, int rx_fd, const RunConfig& config) {
  RunConfig cfg = config;
  cfg.chunk = std::max<size_t>(cfg.chunk, 1);

  NonBlocking tx_mode(tx_fd);
  std::optional<NonBlocking> rx_mode;
  if (rx_fd != tx_fd) {
    rx_mode.emplace(rx_fd);
  }

  Shared shared;
  Verifier verifier(cfg.total_bytes, cfg.pattern_offset);
  WriterOutcome writer_out;
  ReaderOutcome reader_out;
  const Clock::time_point start = Clock::now();
  std::thread reader(reader_loop, rx_fd, std::cref(cfg), start, std::ref(shared),
                     std::ref(verifier), std::ref(reader_out));
  std::thread writer(writer_loop, tx_fd, std::cref(cfg), start, std::ref(shared),
                     std::ref(writer_out));

  bool cancelled = false;
  const auto interval = std::chrono::duration<double>(std::max(cfg.progress_interval_s, 0.01));
  // The cancel flag may be set by a signal handler, which cannot notify the condition
  // variable; so wait in slices no longer than the poll slice as well.
  const auto slice =
      std::min<std::chrono::duration<double>>(interval, std::chrono::milliseconds(kPollSliceMs));
  Clock::time_point next_progress = start + std::chrono::duration_cast<Clock::duration>(interval);
  {
    std::unique_lock<std::mutex> lock(shared.mutex);
    while (shared.threads_running > 0) {
      shared.changed.wait_for(lock, slice);
      if (cfg.cancel != nullptr && cfg.cancel->load() && !cancelled) {
        cancelled = true;
        shared.stop.store(true);
      }
      const Clock::time_point now = Clock::now();
      if (cfg.on_progress && now >= next_progress && shared.threads_running > 0) {
        const Progress p{shared.sent.load(), shared.received.load(), cfg.total_bytes,
                         seconds_between(start, now)};
        lock.unlock();
        cfg.on_progress(p);
        lock.lock();
        next_progress = now + std::chrono::duration_cast<Clock::duration>(interval);
      }
    }
  }
  writer.join();
  reader.join();
  const Clock::time_point end = Clock::now();

  RunResult result;
  result.bytes_sent = writer_out.sent;
  result.crc32_sent = writer_out.crc;
  result.verify = verifier.finish(writer_out.sent);
  result.timed_out = reader_out.timed_out;
  result.cancelled = cancelled;
  result.write_error = writer_out.error;
  result.read_error = reader_out.error;
  result.elapsed_seconds = seconds_between(start, end);
  result.write_seconds = seconds_between(start, writer_out.last_write);
  if (reader_out.all_received) {
    result.transfer_seconds = seconds_between(start, *reader_out.all_received);
  } else if (reader_out.last_byte) {
    result.transfer_seconds = seconds_between(start, *reader_out.last_byte);
  }
  if (reader_out.first_byte) {
    result.first_byte_seconds = seconds_between(start, *reader_out.first_byte);
  }
  if (cfg.on_progress) {
    cfg.on_progress(Progress{result.bytes_sent, result.verify.received, cfg.total_bytes,
                             result.elapsed_seconds});
  }
  return result;
}

}  // namespace loopback
