#include "soak.hpp"

#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <random>
#include <span>
#include <sstream>
#include <thread>

#include <boost/crc.hpp>

#include "harness.hpp"
#include "pattern.hpp"
#include "platform.hpp"
#include "report.hpp"
#include "tools/common/json_writer.hpp"
#include "tty_port.hpp"

namespace loopback {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kPollSliceMs = 20;
constexpr size_t kMaxRead = 65536;
constexpr double kExtraWindowSeconds = 0.2;  // reading on after the last byte, for extras
constexpr double kSampleInterval = 0.5;
constexpr uint64_t kMaxWarmup = 64ULL << 20;
constexpr int kChangeGapMinMs = 5, kChangeGapMaxMs = 50;
constexpr int kRtsDropMinMs = 1, kRtsDropMaxMs = 10;
constexpr double kDsrFollowSeconds = 1.0;
constexpr size_t kMaxProblems = 10;  // the first ones are kept; the count is complete

double seconds_since(Clock::time_point from) {
  return std::chrono::duration<double>(Clock::now() - from).count();
}

// 1 .. max, log-uniform: as many chunks of 1-10 bytes as of 1000-10000.
size_t random_size(std::mt19937_64& random, size_t max) {
  std::uniform_real_distribution<double> exponent(0.0, std::log(static_cast<double>(max) + 1));
  return std::clamp<size_t>(static_cast<size_t>(std::exp(exponent(random))), 1, max);
}

struct Shared {
  std::atomic<bool> stop{false};
  std::atomic<bool> all_received{false};
  std::atomic<uint64_t> received{0};
};

struct WriterOutcome {
  uint64_t sent = 0;
  uint32_t crc = 0;
  uint64_t writes = 0;
  size_t smallest = 0;
  size_t largest = 0;
  std::string error;
};

void writer_loop(int fd, const SoakConfig& config, Shared& shared, WriterOutcome& out) {
  std::mt19937_64 random(config.seed);
  std::vector<uint8_t> buffer(config.max_chunk);
  boost::crc_32_type crc;
  uint64_t sent = 0;
  size_t chunk = 0;
  while (sent < config.total_bytes && !shared.stop.load()) {
    if (chunk == 0) {
      chunk = static_cast<size_t>(
          std::min<uint64_t>(random_size(random, config.max_chunk), config.total_bytes - sent));
      fill_pattern(sent, std::span<uint8_t>(buffer.data(), chunk));
    }
    pollfd pfd{fd, POLLOUT, 0};
    if (::poll(&pfd, 1, kPollSliceMs) <= 0) {
      continue;
    }
    const ssize_t n = ::write(fd, buffer.data(), chunk);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        continue;
      }
      out.error = std::string("write: ") + std::strerror(errno);
      shared.stop.store(true);
      break;
    }
    // A short write is a chunk of its own; the rest goes in the next call.
    const size_t done = static_cast<size_t>(n);
    crc.process_bytes(buffer.data(), done);
    out.smallest = out.writes == 0 ? done : std::min(out.smallest, done);
    out.largest = std::max(out.largest, done);
    ++out.writes;
    sent += done;
    std::memmove(buffer.data(), buffer.data() + done, chunk - done);
    chunk -= done;
  }
  out.sent = sent;
  out.crc = crc.checksum();
}

struct ReaderOutcome {
  uint64_t reads = 0;
  bool timed_out = false;
  std::string error;
  std::optional<Clock::time_point> all_received;
};

void reader_loop(int fd, const SoakConfig& config, Shared& shared, Verifier& verifier,
                 ReaderOutcome& out) {
  std::mt19937_64 random(config.seed ^ 0x5EED5EED5EED5EEDULL);
  std::vector<uint8_t> buffer(kMaxRead);
  Clock::time_point last_progress = Clock::now();
  while (!shared.stop.load()) {
    const Clock::time_point now = Clock::now();
    if (out.all_received) {
      if (std::chrono::duration<double>(now - *out.all_received).count() >= kExtraWindowSeconds) {
        break;
      }
    } else if (std::chrono::duration<double>(now - last_progress).count() >= config.timeout_s) {
      out.timed_out = true;
      break;
    }
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, kPollSliceMs) <= 0) {
      continue;
    }
    const ssize_t n = ::read(fd, buffer.data(), random_size(random, kMaxRead));
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        continue;
      }
      out.error = std::string("read: ") + std::strerror(errno);
      break;
    }
    if (n == 0) {
      out.error = "read: the port hung up (end of file)";
      break;
    }
    ++out.reads;
    verifier.feed(std::span<const uint8_t>(buffer.data(), static_cast<size_t>(n)));
    shared.received.store(verifier.received());
    last_progress = Clock::now();
    if (!out.all_received && verifier.received() >= config.total_bytes) {
      out.all_received = last_progress;
      shared.all_received.store(true);
    }
  }
  shared.stop.store(true);
}

// ------------------------------------------------------------------ the changes

class Changer {
 public:
  Changer(int fd, const SoakConfig& config, SoakChanges& changes)
      : fd_(fd), config_(config), changes_(changes), random_(config.seed * 0x9E3779B97F4A7C15ULL) {}

  bool check_dsr = true;
  uint64_t problem_count() const { return problem_count_; }

  // Whether DSR follows DTR off and on: what a plug that wires them does.
  bool probe_dsr() {
    const int bit = TIOCM_DTR;
    return ::ioctl(fd_, TIOCMBIC, &bit) == 0 && dsr_follows(false) &&
           ::ioctl(fd_, TIOCMBIS, &bit) == 0 && dsr_follows(true);
  }

  // Waits until DSR shows `on`; false after kDsrFollowSeconds.
  bool dsr_follows(bool on) const {
    const Clock::time_point start = Clock::now();
    for (;;) {
      int lines = 0;
      if (::ioctl(fd_, TIOCMGET, &lines) == 0 && ((lines & TIOCM_DSR) != 0) == on) {
        return true;
      }
      if (seconds_since(start) > kDsrFollowSeconds) {
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  // One random change.
  void change() {
    const int action = std::uniform_int_distribution<int>(0, 9)(random_);
    if (action < 4 && !config_.rates.empty()) {
      change_line();
    } else if (action < 8) {
      toggle_dtr();
    } else {
      pulse_rts();
    }
  }

  std::chrono::milliseconds next_gap() {
    return std::chrono::milliseconds(
        std::uniform_int_distribution<int>(kChangeGapMinMs, kChangeGapMaxMs)(random_));
  }

 private:
  void problem(std::string text) {
    if (changes_.problems.size() < kMaxProblems) {
      changes_.problems.push_back(std::move(text));
    }
    ++problem_count_;
  }

  void change_line() {
    const uint32_t rate =
        config_.rates[std::uniform_int_distribution<size_t>(0, config_.rates.size() - 1)(random_)];
    termios tio{};
    if (::tcgetattr(fd_, &tio) != 0) {
      problem(std::string("tcgetattr: ") + std::strerror(errno));
      return;
    }
    tcflag_t parity = 0;
    switch (std::uniform_int_distribution<int>(0, 4)(random_)) {
      case 1:
        parity = PARENB | PARODD;
        break;
      case 2:
        parity = PARENB;
        break;
#if defined(CMSPAR)
      case 3:
        parity = PARENB | PARODD | CMSPAR;  // mark
        break;
      case 4:
        parity = PARENB | CMSPAR;  // space
        break;
#endif
      default:
        break;
    }
    const tcflag_t stop = std::uniform_int_distribution<int>(0, 1)(random_) != 0 ? CSTOPB : 0;
    tcflag_t mask = PARENB | PARODD | CSTOPB | CSIZE;
#if defined(CMSPAR)
    mask |= CMSPAR;
#endif
    tio.c_cflag = (tio.c_cflag & ~mask) | parity | stop | CS8 | CRTSCTS | CLOCAL | CREAD;
    // As pyserial does: the framing with tcsetattr, then any integer rate.
    const std::optional<speed_t> b_constant = standard_speed(rate);
    if (b_constant) {
      ::cfsetspeed(&tio, *b_constant);
    }
    int err = ::tcsetattr(fd_, TCSANOW, &tio) == 0 ? 0 : errno;
    if (err == 0 && !b_constant) {
      err = set_any_rate(fd_, rate);
    }
    if (err == EINVAL) {
      ++changes_.line_refused;
      return;
    }
    if (err != 0) {
      problem("setting the line failed: " + std::string(std::strerror(err)));
      return;
    }
    ++changes_.line;
    termios now{};
    if (::tcgetattr(fd_, &now) != 0 ||
        (now.c_cflag & (mask | CRTSCTS)) != ((parity | stop | CS8 | CRTSCTS) & (mask | CRTSCTS))) {
      problem("the line did not read back as set (c_cflag " + std::to_string(now.c_cflag) + ", " +
              std::to_string(rate) + " Bd)");
    }
    if (!config_.bridge_socket.empty()) {
      check_chip_line(rate, parity_name(parity), stop != 0 ? "2" : "1");
    }
  }

  static const char* parity_name(tcflag_t parity) {
    if ((parity & PARENB) == 0) {
      return "none";
    }
#if defined(CMSPAR)
    if ((parity & CMSPAR) != 0) {
      return (parity & PARODD) != 0 ? "mark" : "space";
    }
#endif
    return (parity & PARODD) != 0 ? "odd" : "even";
  }

  // The simulated chip runs what was set: the rate within the driver's 3 %, the framing exactly.
  void check_chip_line(uint32_t rate, const std::string& parity, const std::string& stop_bits) {
    std::string error;
    const std::optional<std::vector<PortStatus>> ports =
        read_port_statuses(config_.bridge_socket, &error);
    if (!ports) {
      problem("cannot ask the bridge for the chip's line: " + error);
      return;
    }
    for (const PortStatus& port : *ports) {
      if (port.callout != config_.bridge_port) {
        continue;
      }
      if (std::fabs(port.chip_baud - rate) > kRateTolerance * rate || port.chip_data_bits != 8 ||
          port.chip_parity != parity || port.chip_stop_bits != stop_bits) {
        char text[200];
        std::snprintf(text, sizeof text,
                      "the chip runs %.0f Bd %u data bits, parity %s, %s stop bits after %u Bd, "
                      "8 data bits, parity %s, %s stop bits were set",
                      port.chip_baud, port.chip_data_bits, port.chip_parity.c_str(),
                      port.chip_stop_bits.c_str(), rate, parity.c_str(), stop_bits.c_str());
        problem(text);
      }
      return;
    }
    problem("the bridge no longer lists " + config_.bridge_port);
  }

  void toggle_dtr() {
    dtr_on_ = !dtr_on_;
    const int bit = TIOCM_DTR;
    if (::ioctl(fd_, dtr_on_ ? TIOCMBIS : TIOCMBIC, &bit) != 0) {
      problem(std::string("setting DTR failed: ") + std::strerror(errno));
      return;
    }
    ++changes_.dtr;
    if (check_dsr && !dsr_follows(dtr_on_)) {
      problem(std::string("DSR did not follow DTR ") + (dtr_on_ ? "on" : "off") + " within 1 s");
    }
  }

  void pulse_rts() {
    const int bit = TIOCM_RTS;
    if (::ioctl(fd_, TIOCMBIC, &bit) != 0) {
      problem(std::string("dropping RTS failed: ") + std::strerror(errno));
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(
        std::uniform_int_distribution<int>(kRtsDropMinMs, kRtsDropMaxMs)(random_)));
    if (::ioctl(fd_, TIOCMBIS, &bit) != 0) {
      problem(std::string("raising RTS failed: ") + std::strerror(errno));
      return;
    }
    ++changes_.rts;
  }

  int fd_;
  const SoakConfig& config_;
  SoakChanges& changes_;
  std::mt19937_64 random_;
  bool dtr_on_ = true;
  uint64_t problem_count_ = 0;
};

std::string mib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", static_cast<double>(bytes) / (1 << 20));
  return text;
}

std::string sample_text(const ProcessSample& s) {
  return mib(s.rss_kib * 1024) + " MiB RSS, " + std::to_string(s.open_fds) + " fds, " +
         std::to_string(s.threads) + " threads";
}

}  // namespace

double SoakResult::bytes_per_second() const {
  const uint64_t in_range = std::min(verify.received, verify.expected_total);
  return seconds > 0 ? static_cast<double>(in_range) / seconds : 0.0;
}

SoakResult run_soak(int fd, const SoakConfig& config) {
  SoakConfig cfg = config;
  cfg.max_chunk = std::max<size_t>(cfg.max_chunk, 1);
  SoakResult result;
  result.bridge_pid = cfg.bridge_pid;
  result.rss_slack_kib = cfg.rss_slack_kib;
  result.bridge_asan = cfg.bridge_pid > 0 && process_runs_asan(cfg.bridge_pid);

  Changer changer(fd, cfg, result.changes);
  // DTR and RTS up, as a port opens; a real port's plug may not wire DTR to DSR.
  for (const int bit : {TIOCM_DTR, TIOCM_RTS}) {
    ::ioctl(fd, TIOCMBIS, &bit);
  }
  changer.check_dsr = cfg.check_dsr || changer.probe_dsr();
  result.dsr_checked = changer.check_dsr;

  Shared shared;
  Verifier verifier(cfg.total_bytes, 0);
  WriterOutcome writer_out;
  ReaderOutcome reader_out;
  const uint64_t warm_bytes = std::min(cfg.total_bytes / 8, kMaxWarmup);
  const Clock::time_point start = Clock::now();
  std::thread reader(reader_loop, fd, std::cref(cfg), std::ref(shared), std::ref(verifier),
                     std::ref(reader_out));
  std::thread writer(writer_loop, fd, std::cref(cfg), std::ref(shared), std::ref(writer_out));

  Clock::time_point next_change = start + changer.next_gap();
  Clock::time_point next_sample = start;
  auto sample = [&] {
    if (std::optional<ProcessSample> s = sample_process(cfg.bridge_pid)) {
      s->seconds = seconds_since(start);
      s->bytes = shared.received.load();
      result.samples.push_back(*s);
      if (!result.warm && s->bytes >= warm_bytes) {
        result.warm = *s;
      }
    }
  };
  while (!shared.stop.load()) {
    if (cfg.cancel != nullptr && cfg.cancel->load()) {
      result.cancelled = true;
      shared.stop.store(true);
      break;
    }
    const Clock::time_point now = Clock::now();
    if (now >= next_sample) {
      sample();
      next_sample = now + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(kSampleInterval));
      if (cfg.on_progress) {
        const uint64_t got = shared.received.load();
        const double seconds = seconds_since(start);
        char text[160];
        std::snprintf(text, sizeof text, "soak: %s of %s MiB (%.0f%%), %.1f MB/s, ",
                      mib(got).c_str(), mib(cfg.total_bytes).c_str(),
                      100.0 * static_cast<double>(got) / static_cast<double>(cfg.total_bytes),
                      seconds > 0 ? static_cast<double>(got) / seconds / 1e6 : 0.0);
        std::string line = text + std::to_string(result.changes.line) + " line (" +
                           std::to_string(result.changes.line_refused) + " refused), " +
                           std::to_string(result.changes.dtr + result.changes.rts) +
                           " modem changes";
        if (!result.samples.empty()) {
          line += "; bridge " + sample_text(result.samples.back());
        }
        cfg.on_progress(line);
      }
    }
    if (now >= next_change && !shared.all_received.load()) {
      changer.change();
      next_change = Clock::now() + changer.next_gap();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  writer.join();
  reader.join();
  if (!result.cancelled) {
    sample();  // the end, port still open
    if (!result.samples.empty()) {
      result.end = result.samples.back();
    }
  }
  if (const uint64_t hidden = changer.problem_count() - result.changes.problems.size()) {
    result.changes.problems.push_back("and " + std::to_string(hidden) + " more");
  }

  result.bytes_sent = writer_out.sent;
  result.crc32_sent = writer_out.crc;
  result.writes = writer_out.writes;
  result.smallest_write = writer_out.smallest;
  result.largest_write = writer_out.largest;
  result.write_error = writer_out.error;
  result.reads = reader_out.reads;
  result.read_error = reader_out.error;
  result.timed_out = reader_out.timed_out;
  result.verify = verifier.finish(writer_out.sent);
  if (reader_out.all_received) {
    result.seconds = std::chrono::duration<double>(*reader_out.all_received - start).count();
  } else {
    result.seconds = seconds_since(start);
  }
  return result;
}

std::vector<std::string> soak_problems(const SoakResult& r) {
  std::vector<std::string> problems;
  const VerifyResult& v = r.verify;
  if (r.cancelled) {
    problems.push_back("interrupted after " + std::to_string(v.received) + " bytes");
  }
  for (const std::string* error : {&r.write_error, &r.read_error}) {
    if (!error->empty()) {
      problems.push_back(*error);
    }
  }
  if (r.timed_out) {
    problems.push_back("timeout: the stream stopped after " + std::to_string(v.received) +
                       " bytes");
  }
  if (v.wrong != 0 && v.first_error) {
    problems.push_back(std::to_string(v.wrong) + " wrong bytes, the first at offset " +
                       std::to_string(v.first_error->offset));
  }
  if (v.lost != 0 && !r.cancelled) {
    problems.push_back(std::to_string(v.lost) + " bytes lost");
  }
  if (v.extra != 0) {
    problems.push_back(std::to_string(v.extra) + " extra bytes");
  }
  if (r.bytes_sent < v.expected_total && !r.cancelled && r.write_error.empty()) {
    problems.push_back("only " + std::to_string(r.bytes_sent) + " of " +
                       std::to_string(v.expected_total) + " bytes could be written");
  }
  for (const std::string& p : r.changes.problems) {
    problems.push_back(p);
  }
  if (r.bridge_pid > 0 && !r.cancelled) {
    if (!r.warm || !r.end) {
      problems.push_back("the bridge (pid " + std::to_string(r.bridge_pid) +
                         ") could not be sampled after the warm-up and at the end");
    } else {
      if (r.end->open_fds != r.warm->open_fds) {
        problems.push_back("the bridge's open descriptors went from " +
                           std::to_string(r.warm->open_fds) + " to " +
                           std::to_string(r.end->open_fds));
      }
      if (r.end->threads != r.warm->threads) {
        problems.push_back("the bridge's threads went from " + std::to_string(r.warm->threads) +
                           " to " + std::to_string(r.end->threads));
      }
      if (!r.bridge_asan && r.end->rss_kib > r.warm->rss_kib + r.rss_slack_kib) {
        problems.push_back("the bridge's resident memory grew from " +
                           std::to_string(r.warm->rss_kib) + " KiB to " +
                           std::to_string(r.end->rss_kib) + " KiB (more than " +
                           std::to_string(r.rss_slack_kib) + " KiB)");
      }
    }
  }
  return problems;
}

std::string soak_text(const SoakResult& r) {
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof line,
                "soak        %llu of %llu bytes back intact in %.1f s, %.2f MB/s each way; "
                "%llu writes of %zu..%zu bytes, %llu reads\n",
                static_cast<unsigned long long>(r.verify.verified),
                static_cast<unsigned long long>(r.verify.expected_total), r.seconds,
                r.bytes_per_second() / 1e6, static_cast<unsigned long long>(r.writes),
                r.smallest_write, r.largest_write, static_cast<unsigned long long>(r.reads));
  out << line;
  out << "changes     " << r.changes.line << " line settings (" << r.changes.line_refused
      << " more refused), " << r.changes.dtr << " DTR toggles ("
      << (r.dsr_checked ? "DSR followed each" : "DSR not wired, not checked") << "), "
      << r.changes.rts << " RTS drops\n";
  out << "errors      " << r.verify.wrong << " wrong, " << r.verify.lost << " lost, "
      << r.verify.extra << " extra\n";
  if (r.bridge_pid > 0) {
    out << "bridge      pid " << r.bridge_pid;
    if (!r.samples.empty()) {
      out << "; start " << sample_text(r.samples.front());
    }
    if (r.warm) {
      out << "; after warm-up " << sample_text(*r.warm);
    }
    if (r.end) {
      out << "; end " << sample_text(*r.end);
    }
    if (r.bridge_asan) {
      out << "; memory not judged: AddressSanitizer's quarantine holds freed memory (LeakSanitizer "
             "checks at exit)";
    }
    out << "\n";
  }
  return out.str();
}

void write_soak_json(hostutil::JsonWriter& json, const SoakResult& r) {
  auto sample = [&json](const ProcessSample& s) {
    json.begin_object();
    json.field("seconds", s.seconds);
    json.field("bytes", s.bytes);
    json.field("rss_kib", s.rss_kib);
    json.field("threads", static_cast<uint64_t>(s.threads));
    json.field("open_fds", static_cast<uint64_t>(s.open_fds));
    json.end_object();
  };
  json.begin_object();
  json.field("bytes_requested", r.verify.expected_total);
  json.field("bytes_sent", r.bytes_sent);
  json.field("bytes_received", r.verify.received);
  json.field("bytes_verified", r.verify.verified);
  json.field("wrong_bytes", r.verify.wrong);
  json.field("lost_bytes", r.verify.lost);
  json.field("extra_bytes", r.verify.extra);
  json.field("crc32_sent", hex32(r.crc32_sent));
  json.field("crc32_received", hex32(r.verify.crc32));
  json.field("seconds", r.seconds);
  json.field("mb_per_s", r.bytes_per_second() / 1e6);
  json.field("writes", r.writes);
  json.field("reads", r.reads);
  json.field("smallest_write", static_cast<uint64_t>(r.smallest_write));
  json.field("largest_write", static_cast<uint64_t>(r.largest_write));
  json.field("timed_out", r.timed_out);
  json.field("cancelled", r.cancelled);
  json.field("line_changes", r.changes.line);
  json.field("line_changes_refused", r.changes.line_refused);
  json.field("dtr_toggles", r.changes.dtr);
  json.field("rts_drops", r.changes.rts);
  json.field("dsr_checked", r.dsr_checked);
  json.key("change_problems").begin_array();
  for (const std::string& p : r.changes.problems) {
    json.value(p);
  }
  json.end_array();
  json.key("bridge_pid");
  if (r.bridge_pid > 0) {
    json.value(static_cast<int64_t>(r.bridge_pid));
  } else {
    json.null();
  }
  json.field("rss_slack_kib", r.rss_slack_kib);
  json.field("bridge_asan", r.bridge_asan);
  json.key("warm");
  if (r.warm) {
    sample(*r.warm);
  } else {
    json.null();
  }
  json.key("end");
  if (r.end) {
    sample(*r.end);
  } else {
    json.null();
  }
  json.key("samples").begin_array();
  for (const ProcessSample& s : r.samples) {
    sample(s);
  }
  json.end_array();
  json.end_object();
}

}  // namespace loopback
