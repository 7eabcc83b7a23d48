#include "matrix.hpp"

#include <poll.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <span>
#include <sstream>
#include <thread>

#include "harness.hpp"
#include "pattern.hpp"
#include "platform.hpp"
#include "tools/common/json_writer.hpp"
#include "tty_port.hpp"

namespace loopback {

namespace {

using Clock = std::chrono::steady_clock;

// The rate both ports open at; every chip of the matrix makes it.
constexpr uint32_t kOpeningRate = 9600;
// A burst lasts about this much line time at the transmitter's rate, from kMinBurst bytes up
// to kMaxBurst: the smallest receive FIFO of the chips (CH34x and PL2303 256 bytes, FT232R 256
// towards the host), so the receiving chip holds a whole burst even if the host reads nothing
// meanwhile. A paced line is real time: at 3 MBd a byte takes 3.3 us, and a bridge kept off the
// CPU for a millisecond would lose bytes at the chip (overrun), which is not what the matrix is
// about.
constexpr double kBurstLineSeconds = 0.02;
constexpr size_t kMinBurst = 16;
constexpr size_t kMaxBurst = 256;
// A garbled burst covers at least this many of the receiver's frames, so its framing errors
// show. A receiver far slower than its transmitter decodes about that many characters however
// long the burst, so its FIFO is in no danger; the cap only bounds the time.
constexpr double kGarbledFrames = 24;
constexpr size_t kMaxGarbledBurst = 65536;
// After the line time: how long a direction must stay silent before its burst is over. Short
// when everything arrived (only extras could follow), long when bytes are missing and expected:
// on a loaded machine a bridge can be off the CPU for more than a second, and bytes that arrive
// after their cell ended would spoil the next one. Only a failing cell waits that long.
constexpr double kSettleSeconds = 0.02;
constexpr double kGarbageQuietSeconds = 0.15;
constexpr double kMissingQuietSeconds = 3.0;
// How far the driver's reported rate may be from the documented one and from the chip's own:
// Statistics ActualBaud is an integer.
constexpr double kRateSlack = 1.0;

double seconds_since(Clock::time_point from) {
  return std::chrono::duration<double>(Clock::now() - from).count();
}

std::string rate_label(uint32_t rate) {
  if (rate >= 1'000'000 && rate % 100'000 == 0) {
    char text[16];
    std::snprintf(text, sizeof text, "%gM", rate / 1e6);
    return text;
  }
  return std::to_string(rate);
}

std::string format_baud(double baud) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", baud);
  return text;
}

// ------------------------------------------------------------------ one burst each way

struct Burst {
  int tx_fd = -1;
  int rx_fd = -1;
  std::vector<uint8_t> data;
  double line_seconds = 0;  // the burst's frames at the transmitter's rate
  double quiet_seconds = kGarbageQuietSeconds;
  // Filled in by exchange():
  size_t written = 0;
  std::optional<Clock::time_point> written_at;
  Clock::time_point last_rx;
  std::vector<uint8_t> got;
  bool done = false;
  bool timed_out = false;
  std::string error;
};

bool burst_over(const Burst& b, Clock::time_point now) {
  if (!b.written_at) {
    return false;
  }
  const Clock::time_point on_the_line =
      *b.written_at +
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(b.line_seconds));
  const Clock::time_point since = std::max(b.last_rx, on_the_line);
  const double silent = std::chrono::duration<double>(now - since).count();
  return silent >= (b.got.size() >= b.data.size() ? kSettleSeconds : b.quiet_seconds);
}

// Sends every burst and collects what comes back, all at once from this thread.
void exchange(std::vector<Burst>& bursts, double timeout_s, const std::atomic<bool>* cancel) {
  const Clock::time_point start = Clock::now();
  double longest = 0;
  for (Burst& b : bursts) {
    b.last_rx = start;
    longest = std::max(longest, b.line_seconds);
  }
  std::vector<int> fds;
  for (const Burst& b : bursts) {
    for (const int fd : {b.tx_fd, b.rx_fd}) {
      if (std::find(fds.begin(), fds.end(), fd) == fds.end()) {
        fds.push_back(fd);
      }
    }
  }
  std::vector<uint8_t> buffer(65536);
  for (;;) {
    const Clock::time_point now = Clock::now();
    bool all_done = true;
    for (Burst& b : bursts) {
      b.done = b.done || !b.error.empty() || burst_over(b, now);
      all_done = all_done && b.done;
    }
    if (all_done) {
      return;
    }
    if (seconds_since(start) > longest + timeout_s || (cancel != nullptr && cancel->load())) {
      for (Burst& b : bursts) {
        b.timed_out = !b.done;
      }
      return;
    }
    std::vector<pollfd> polled;
    for (const int fd : fds) {
      short events = 0;
      for (const Burst& b : bursts) {
        if (b.tx_fd == fd && b.written < b.data.size() && b.error.empty()) {
          events |= POLLOUT;
        }
        if (b.rx_fd == fd) {
          events |= POLLIN;
        }
      }
      polled.push_back(pollfd{fd, events, 0});
    }
    if (::poll(polled.data(), polled.size(), 5) < 0 && errno != EINTR) {
      for (Burst& b : bursts) {
        b.error = std::string("poll: ") + std::strerror(errno);
      }
      return;
    }
    for (const pollfd& p : polled) {
      for (Burst& b : bursts) {
        if (b.tx_fd == p.fd && (p.revents & POLLOUT) != 0 && b.written < b.data.size()) {
          const ssize_t n = ::write(p.fd, b.data.data() + b.written, b.data.size() - b.written);
          if (n > 0) {
            b.written += static_cast<size_t>(n);
            if (b.written == b.data.size()) {
              b.written_at = Clock::now();
            }
          } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            b.error = std::string("write: ") + std::strerror(errno);
          }
        }
        if (b.rx_fd == p.fd && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
          const ssize_t n = ::read(p.fd, buffer.data(), buffer.size());
          if (n > 0) {
            b.got.insert(b.got.end(), buffer.begin(), buffer.begin() + n);
            b.last_rx = Clock::now();
          } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            b.error =
                n == 0 ? "read: the port hung up" : std::string("read: ") + std::strerror(errno);
          }
        }
      }
    }
  }
}

// ------------------------------------------------------------------ judging

void judge_side_rates(const MatrixSide& s, uint32_t rate, std::vector<std::string>& problems) {
  const std::string who = s.chip + ": ";
  if (!s.set_error.empty()) {
    problems.push_back(who + "setting " + std::to_string(rate) + " Bd failed: " + s.set_error);
    return;
  }
  if (s.accepted != s.expected_accept) {
    problems.push_back(who + (s.accepted ? "the driver accepted " : "the driver refused ") +
                       std::to_string(rate) + " Bd; the docs say the chip " +
                       (s.expected_accept ? "makes it" : "cannot make it within 3 %"));
  }
  if (s.documented_baud > 0 && std::fabs(s.driver_baud - s.documented_baud) > kRateSlack) {
    problems.push_back(who + "the driver reports " + std::to_string(s.driver_baud) +
                       " Bd; the docs say the chip runs at " + format_baud(s.documented_baud));
  }
  if (s.chip_baud > 0 && std::fabs(s.driver_baud - s.chip_baud) > kRateSlack) {
    problems.push_back(who + "the driver reports " + std::to_string(s.driver_baud) +
                       " Bd, but the chip runs at " + format_baud(s.chip_baud));
  }
}

void judge_flow_outcome(const MatrixCell& cell, const MatrixFlow& flow,
                        std::vector<std::string>& problems) {
  const std::string who = cell.sides[flow.tx].chip + " -> " + cell.sides[flow.rx].chip + ": ";
  if (!flow.io_error.empty()) {
    problems.push_back(who + flow.io_error);
    return;
  }
  if (flow.sent != flow.bytes) {
    problems.push_back(who + "only " + std::to_string(flow.sent) + " of " +
                       std::to_string(flow.bytes) + " bytes could be written");
    return;
  }
  switch (flow.expected) {
    case LinkExpectation::clean:
      if (!flow.intact()) {
        problems.push_back(
            who + "expected intact at " + std::to_string(cell.sides[flow.tx].driver_baud) + " -> " +
            std::to_string(cell.sides[flow.rx].driver_baud) + " Bd, got " +
            std::to_string(flow.received) + " of " + std::to_string(flow.sent) + " bytes, " +
            std::to_string(flow.wrong) + " wrong, " + std::to_string(flow.line_errors()) +
            " line errors" + (flow.timed_out ? " (timed out)" : ""));
      }
      break;
    case LinkExpectation::garbled:
    case LinkExpectation::noise:
      if (flow.intact()) {
        problems.push_back(who + "expected garbage between " +
                           std::to_string(cell.sides[flow.tx].driver_baud) + " and " +
                           std::to_string(cell.sides[flow.rx].driver_baud) +
                           " Bd, but every byte arrived intact");
      } else if (flow.expected == LinkExpectation::garbled &&
                 flow.framing_errors + flow.breaks == 0) {
        problems.push_back(who + "the receiving driver counted no framing error or break (" +
                           std::to_string(flow.received) + " of " + std::to_string(flow.bytes) +
                           " bytes arrived, " + std::to_string(flow.wrong) + " wrong)");
      }
      break;
    case LinkExpectation::marginal:
      break;
  }
}
// ------------------------------------------------------------------ one pair

struct PairPlan {
  size_t index = 0;
  MatrixChip chips[2];
};

std::string control_socket(const BridgeChild& bridge, const std::string& run_dir) {
  for (const std::string& line : bridge.info_lines()) {
    if (line.rfind("control ", 0) == 0) {
      return line.substr(8);
    }
  }
  return run_dir + "/bridge.sock";
}

const PortStatus* find_port(const std::vector<PortStatus>& ports, const std::string& path) {
  for (const PortStatus& port : ports) {
    if (port.callout == path) {
      return &port;
    }
  }
  return nullptr;
}

size_t burst_size(double tx_baud, double rx_baud, LinkExpectation expected) {
  const double line_bytes = tx_baud / 10 * kBurstLineSeconds;
  size_t size = std::clamp(static_cast<size_t>(line_bytes), kMinBurst, kMaxBurst);
  if (expected != LinkExpectation::clean && rx_baud > 0) {
    const double frames = std::ceil(kGarbledFrames * std::max(1.0, tx_baud / rx_baud));
    size = std::max(size, std::min(static_cast<size_t>(frames), kMaxGarbledBurst));
  }
  return size;
}

class PairRunner {
 public:
  PairRunner(const PairPlan& plan, const MatrixConfig& config) : plan_(plan), config_(config) {
    for (size_t side = 0; side < 2; ++side) {
      pair_.chips[side] = plan.chips[side].chip;
    }
  }

  MatrixPair run() {
    const char* tmp = std::getenv("TMPDIR");
    std::string run_dir =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/usbserial-matrix.XXXXXX";
    if (::mkdtemp(run_dir.data()) == nullptr) {
      pair_.error = "cannot create a run directory from " + run_dir + ": " + std::strerror(errno);
      return std::move(pair_);
    }
    {
      BridgeChild bridge;
      std::vector<std::string> args = {"--sim",   pair_.chips[0], "--sim", pair_.chips[1],
                                       "--paced", "--run-dir",    run_dir};
      args.insert(args.end(), config_.bridge_args.begin(), config_.bridge_args.end());
      std::string error;
      if (!bridge.start(BridgeConfig{config_.bridge_path, args, config_.timeout_s, config_.cancel},
                        &error)) {
        pair_.error = error;
      } else if (bridge.ports().size() != 2) {
        pair_.error = "the bridge published " + std::to_string(bridge.ports().size()) +
                      " ports, not one per adapter";
      } else {
        socket_ = control_socket(bridge, run_dir);
        run_cells(bridge.ports());
      }
      pair_.bridge_exit = bridge.stop();
      pair_.bridge_stderr_tail = bridge.stderr_tail();
    }
    std::error_code ignored;
    std::filesystem::remove_all(run_dir, ignored);
    return std::move(pair_);
  }

 private:
  void run_cells(const std::vector<std::string>& paths) {
    std::optional<TtyPort> ports[2];
    for (size_t side = 0; side < 2; ++side) {
      std::string error;
      paths_[side] = paths[side];
      std::optional<TtyPort> opened =
          TtyPort::open(paths[side], TtySettings{kOpeningRate, false}, &error);
      if (!opened) {
        pair_.error = error;
        return;
      }
      ports[side].emplace(std::move(*opened));
      in_force_[side] = documented_rate(plan_.chips[side].generator, kOpeningRate).actual;
    }
    for (const uint32_t rate : config_.rates) {
      if (config_.cancel != nullptr && config_.cancel->load()) {
        return;
      }
      if (config_.on_progress) {
        config_.on_progress(pair_.chips[0] + " + " + pair_.chips[1] + " at " + rate_label(rate) +
                            " Bd");
      }
      pair_.cells.push_back(run_cell(rate, ports[0]->fd(), ports[1]->fd()));
      if (!pair_.error.empty()) {
        return;
      }
    }
  }

  MatrixCell run_cell(uint32_t rate, int fd0, int fd1) {
    const Clock::time_point start = Clock::now();
    MatrixCell cell;
    cell.rate = rate;
    const int fds[2] = {fd0, fd1};
    for (size_t side = 0; side < 2; ++side) {
      MatrixSide& s = cell.sides[side];
      s.chip = pair_.chips[side];
      const DocumentedRate documented = documented_rate(plan_.chips[side].generator, rate);
      s.expected_accept = documented.accepted;
      const int err = set_any_rate(fds[side], rate);
      s.accepted = err == 0;
      if (err != 0 && err != EINVAL) {
        s.set_error = std::strerror(err);
      }
      // The documented rate in force: the new one, or the previous one after a refusal. A
      // rate the docs do not know (an acceptance they call a refusal) has none.
      if (s.accepted) {
        in_force_[side] = documented.accepted ? documented.actual : 0;
      }
      s.documented_baud = in_force_[side];
    }
    for (const int fd : fds) {
      ::tcflush(fd, TCIOFLUSH);  // nothing of the previous cell is left in either direction
    }
    std::string error;
    const std::optional<std::vector<PortStatus>> before = read_port_statuses(socket_, &error);
    if (!before) {
      pair_.error = error;
      return cell;
    }
    const PortStatus* status_before[2] = {find_port(*before, paths_[0]),
                                          find_port(*before, paths_[1])};
    if (status_before[0] == nullptr || status_before[1] == nullptr) {
      pair_.error = "the bridge's status does not list both ports";
      return cell;
    }
    for (size_t side = 0; side < 2; ++side) {
      MatrixSide& s = cell.sides[side];
      s.driver_baud = status_before[side]->actual_baud;
      s.chip_baud = status_before[side]->chip_baud;
      judge_side(s, rate, cell.problems);
    }

    std::vector<Burst> bursts(2);
    for (size_t tx = 0; tx < 2; ++tx) {
      const size_t rx = 1 - tx;
      MatrixFlow flow;
      flow.tx = tx;
      flow.rx = rx;
      // The rates the drivers report decide (the docs' rates were compared with them above).
      const double tx_baud = cell.sides[tx].driver_baud;
      const double rx_baud = cell.sides[rx].driver_baud;
      flow.expected = expect_link(tx_baud, rx_baud);
      Burst& b = bursts[tx];
      b.tx_fd = fds[tx];
      b.rx_fd = fds[rx];
      b.data.resize(burst_size(tx_baud, rx_baud, flow.expected));
      const uint64_t offset = (static_cast<uint64_t>(plan_.index) << 40) |
                              (static_cast<uint64_t>(pair_.cells.size()) << 24) |
                              (static_cast<uint64_t>(tx) << 20);
      fill_pattern(offset, std::span<uint8_t>(b.data));
      b.line_seconds = tx_baud > 0 ? static_cast<double>(b.data.size()) * 10 / tx_baud : 0;
      b.quiet_seconds =
          flow.expected == LinkExpectation::clean ? kMissingQuietSeconds : kGarbageQuietSeconds;
      cell.flows.push_back(flow);
    }
    exchange(bursts, config_.timeout_s, config_.cancel);

    const std::optional<std::vector<PortStatus>> after = read_port_statuses(socket_, &error);
    if (!after) {
      pair_.error = error;
      return cell;
    }
    for (MatrixFlow& flow : cell.flows) {
      const Burst& b = bursts[flow.tx];
      flow.bytes = b.data.size();
      flow.sent = b.written;
      flow.received = b.got.size();
      const size_t common = std::min(b.got.size(), b.data.size());
      for (size_t i = 0; i < common; ++i) {
        flow.wrong += b.got[i] != b.data[i] ? 1 : 0;
      }
      flow.lost = b.data.size() > b.got.size() ? b.data.size() - b.got.size() : 0;
      flow.extra = b.got.size() > b.data.size() ? b.got.size() - b.data.size() : 0;
      flow.timed_out = b.timed_out;
      flow.io_error = b.error;
      const PortStatus* rx_before = status_before[flow.rx];
      const PortStatus* rx_after = find_port(*after, paths_[flow.rx]);
      if (rx_after != nullptr) {
        flow.framing_errors = rx_after->framing_errors - rx_before->framing_errors;
        flow.breaks = rx_after->breaks - rx_before->breaks;
        flow.parity_errors = rx_after->parity_errors - rx_before->parity_errors;
        flow.overruns = rx_after->overruns - rx_before->overruns;
      }
      judge_flow(cell, flow, cell.problems);
    }
    cell.seconds = seconds_since(start);
    return cell;
  }

  const PairPlan& plan_;
  const MatrixConfig& config_;
  MatrixPair pair_;
  std::string socket_;
  std::string paths_[2];
  double in_force_[2] = {0, 0};
};

bool refused(const MatrixSide& side) {
  return !side.accepted && side.set_error.empty();
}

}  // namespace

void judge_side(MatrixSide& s, uint32_t rate, std::vector<std::string>& problems) {
  const size_t before = problems.size();
  judge_side_rates(s, rate, problems);
  s.unexpected = problems.size() != before;
}

void judge_flow(const MatrixCell& cell, MatrixFlow& flow, std::vector<std::string>& problems) {
  const size_t before = problems.size();
  judge_flow_outcome(cell, flow, problems);
  flow.unexpected = problems.size() != before;
}

MatrixResult run_matrix(const MatrixConfig& config) {
  const Clock::time_point start = Clock::now();
  MatrixResult result;
  result.chips = config.chips;
  result.rates = config.rates;
  std::vector<PairPlan> plans;
  for (size_t i = 0; i < config.chips.size(); ++i) {
    for (size_t j = i; j < config.chips.size(); ++j) {
      const std::optional<MatrixChip> a = find_matrix_chip(config.chips[i]);
      const std::optional<MatrixChip> b = find_matrix_chip(config.chips[j]);
      if (a && b) {
        plans.push_back(PairPlan{plans.size(), {*a, *b}});
      }
    }
  }
  result.pairs.resize(plans.size());
  std::atomic<size_t> next{0};
  std::atomic<size_t> finished{0};
  std::mutex report_mutex;
  auto worker = [&] {
    for (;;) {
      const size_t index = next.fetch_add(1);
      if (index >= plans.size() || (config.cancel != nullptr && config.cancel->load())) {
        return;
      }
      MatrixConfig mine = config;
      mine.on_progress = [&, index](const std::string& what) {
        if (config.on_progress) {
          std::lock_guard<std::mutex> lock(report_mutex);
          config.on_progress("matrix: " + std::to_string(finished.load()) + " of " +
                             std::to_string(plans.size()) + " pairs done; " + what);
        }
      };
      MatrixPair pair = PairRunner(plans[index], mine).run();
      std::lock_guard<std::mutex> lock(report_mutex);
      size_t problems = 0;
      for (const MatrixCell& cell : pair.cells) {
        problems += cell.problems.size();
      }
      ++finished;
      if (config.on_pair_done) {
        config.on_pair_done("matrix: " + pair.chips[0] + " + " + pair.chips[1] + ": " +
                            std::to_string(pair.cells.size()) + " rates, " +
                            (pair.error.empty() ? std::to_string(problems) + " unexpected"
                                                : "stopped: " + pair.error) +
                            " (" + std::to_string(finished.load()) + " of " +
                            std::to_string(plans.size()) + ")");
      }
      result.pairs[index] = std::move(pair);
    }
  };
  std::vector<std::thread> workers;
  const unsigned jobs = std::clamp<unsigned>(config.jobs, 1, 64);
  for (unsigned i = 1; i < jobs && i < plans.size(); ++i) {
    workers.emplace_back(worker);
  }
  worker();
  for (std::thread& t : workers) {
    t.join();
  }
  result.cancelled = config.cancel != nullptr && config.cancel->load();
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

std::vector<std::string> matrix_problems(const MatrixResult& result) {
  std::vector<std::string> problems;
  if (result.cancelled) {
    problems.push_back("interrupted");
  }
  for (const MatrixPair& pair : result.pairs) {
    const std::string name = pair.chips[0] + " + " + pair.chips[1];
    if (pair.chips[0].empty()) {
      continue;  // never started (interrupted)
    }
    if (!pair.error.empty()) {
      problems.push_back(name + ": " + pair.error);
    } else if (pair.cells.size() != result.rates.size() && !result.cancelled) {
      problems.push_back(name + ": only " + std::to_string(pair.cells.size()) + " of " +
                         std::to_string(result.rates.size()) + " rates ran");
    }
    for (const MatrixCell& cell : pair.cells) {
      for (const std::string& p : cell.problems) {
        problems.push_back(name + " at " + std::to_string(cell.rate) + " Bd: " + p);
      }
    }
    if (pair.bridge_exit && !pair.bridge_exit->clean()) {
      problems.push_back(name + ": the bridge " + pair.bridge_exit->describe() +
                         (pair.bridge_stderr_tail.empty()
                              ? " (it wrote nothing on stderr)"
                              : "; its stderr ends with: " + pair.bridge_stderr_tail));
    }
  }
  return problems;
}

std::string matrix_cell_text(const MatrixCell& cell, const MatrixFlow& flow) {
  const bool tx_refused = refused(cell.sides[flow.tx]);
  const bool rx_refused = refused(cell.sides[flow.rx]);
  std::string text = tx_refused && rx_refused ? "B:" : tx_refused ? "T:" : rx_refused ? "R:" : "";
  if (flow.intact()) {
    text += "pass";
  } else if (flow.framing_errors + flow.breaks != 0) {
    text += "FE " + std::to_string(flow.framing_errors + flow.breaks);
  } else {
    text += "bad";
  }
  const bool unexpected =
      flow.unexpected || cell.sides[flow.tx].unexpected || cell.sides[flow.rx].unexpected;
  return text + (unexpected ? "!" : "");
}

std::string matrix_text(const MatrixResult& result) {
  std::ostringstream out;
  constexpr int kColumn = 9;
  auto header = [&](const char* first, int width) {
    char label[64];
    std::snprintf(label, sizeof label, "%-*s", width, first);
    out << label;
    for (const uint32_t rate : result.rates) {
      char column[32];
      std::snprintf(column, sizeof column, " %*s", kColumn, rate_label(rate).c_str());
      out << column;
    }
    out << "\n";
  };
  // Outcome per (transmitter, receiver): from the pair that holds both, whichever order.
  out << "null-modem matrix, paced, 8N1 (rows: transmitter -> receiver; columns: rate)\n";
  header("", 24);
  for (const std::string& tx : result.chips) {
    for (const std::string& rx : result.chips) {
      char label[64];
      std::snprintf(label, sizeof label, "%-24s", (tx + " -> " + rx).c_str());
      out << label;
      for (size_t r = 0; r < result.rates.size(); ++r) {
        std::string text = "-";
        for (const MatrixPair& pair : result.pairs) {
          if (r >= pair.cells.size()) {
            continue;
          }
          const MatrixCell& cell = pair.cells[r];
          std::vector<std::string> texts;
          for (const MatrixFlow& flow : cell.flows) {
            if (cell.sides[flow.tx].chip == tx && cell.sides[flow.rx].chip == rx) {
              texts.push_back(matrix_cell_text(cell, flow));
            }
          }
          if (texts.empty()) {
            continue;
          }
          // A chip paired with itself sends both ways; say both when they differ.
          text = texts.size() == 2 && texts[0] != texts[1] ? texts[0] + "/" + texts[1] : texts[0];
          break;
        }
        char column[32];
        std::snprintf(column, sizeof column, " %*s", kColumn, text.c_str());
        out << column;
      }
      out << "\n";
    }
  }
  out << "pass: intact, no line error; FE n: garbled, n framing errors and breaks counted by the\n"
         "receiving driver; bad: garbled, none counted; T: / R: / B: the transmitter / receiver /\n"
         "both refused the rate at tcsetattr and kept the previous one; !: not as expected\n\n";

  out << "rate each driver programmed (Statistics ActualBaud; refused: kept the previous rate)\n";
  header("", 24);
  for (const std::string& chip : result.chips) {
    char label[64];
    std::snprintf(label, sizeof label, "%-24s", chip.c_str());
    out << label;
    for (size_t r = 0; r < result.rates.size(); ++r) {
      std::string text = "-";
      for (const MatrixPair& pair : result.pairs) {
        if (r < pair.cells.size()) {
          for (const MatrixSide& side : pair.cells[r].sides) {
            if (side.chip == chip) {
              text = refused(side) ? "refused" : std::to_string(side.driver_baud);
            }
          }
        }
        if (text != "-") {
          break;
        }
      }
      char column[32];
      std::snprintf(column, sizeof column, " %*s", kColumn, text.c_str());
      out << column;
    }
    out << "\n";
  }
  size_t directions = 0, intact = 0, framing = 0, unexpected = 0, refusals = 0;
  for (const MatrixPair& pair : result.pairs) {
    for (const MatrixCell& cell : pair.cells) {
      for (const MatrixFlow& flow : cell.flows) {
        ++directions;
        intact += flow.intact() ? 1 : 0;
        framing += !flow.intact() && flow.framing_errors + flow.breaks != 0 ? 1 : 0;
        unexpected += matrix_cell_text(cell, flow).back() == '!' ? 1 : 0;
      }
      for (const MatrixSide& side : cell.sides) {
        refusals += refused(side) ? 1 : 0;
      }
    }
  }
  char line[256];
  std::snprintf(line, sizeof line,
                "%zu bridges, %zu directions: %zu intact, %zu with framing errors, %zu not as "
                "expected; %zu refusals at tcsetattr; %.1f s\n",
                result.pairs.size(), directions, intact, framing, unexpected, refusals,
                result.seconds);
  out << "\n" << line;
  return out.str();
}

void write_matrix_json(hostutil::JsonWriter& json, const MatrixResult& result) {
  json.begin_object();
  json.key("chips").begin_array();
  for (const std::string& chip : result.chips) {
    json.value(chip);
  }
  json.end_array();
  json.key("rates").begin_array();
  for (const uint32_t rate : result.rates) {
    json.value(rate);
  }
  json.end_array();
  json.field("seconds", result.seconds);
  json.field("cancelled", result.cancelled);
  json.key("pairs").begin_array();
  for (const MatrixPair& pair : result.pairs) {
    json.begin_object();
    json.key("chips").begin_array().value(pair.chips[0]).value(pair.chips[1]).end_array();
    json.key("error");
    if (pair.error.empty()) {
      json.null();
    } else {
      json.value(pair.error);
    }
    json.key("bridge_exit");
    if (pair.bridge_exit) {
      json.value(pair.bridge_exit->describe());
    } else {
      json.null();
    }
    json.field("bridge_clean", pair.bridge_exit && pair.bridge_exit->clean());
    json.field("bridge_stderr_tail", pair.bridge_stderr_tail);
    json.key("cells").begin_array();
    for (const MatrixCell& cell : pair.cells) {
      json.begin_object();
      json.field("rate", cell.rate);
      json.field("seconds", cell.seconds);
      json.key("sides").begin_array();
      for (const MatrixSide& side : cell.sides) {
        json.begin_object();
        json.field("chip", side.chip);
        json.field("expected_accept", side.expected_accept);
        json.field("accepted", side.accepted);
        json.key("set_error");
        if (side.set_error.empty()) {
          json.null();
        } else {
          json.value(side.set_error);
        }
        json.field("documented_baud", side.documented_baud);
        json.field("driver_baud", side.driver_baud);
        json.field("chip_baud", side.chip_baud);
        json.field("unexpected", side.unexpected);
        json.end_object();
      }
      json.end_array();
      json.key("flows").begin_array();
      for (const MatrixFlow& flow : cell.flows) {
        json.begin_object();
        json.field("tx", cell.sides[flow.tx].chip);
        json.field("rx", cell.sides[flow.rx].chip);
        json.field("expected", to_string(flow.expected));
        json.field("outcome", matrix_cell_text(cell, flow));
        json.field("intact", flow.intact());
        json.field("unexpected", flow.unexpected);
        json.field("bytes", flow.bytes);
        json.field("sent", flow.sent);
        json.field("received", flow.received);
        json.field("wrong", flow.wrong);
        json.field("lost", flow.lost);
        json.field("extra", flow.extra);
        json.field("framing_errors", flow.framing_errors);
        json.field("breaks", flow.breaks);
        json.field("parity_errors", flow.parity_errors);
        json.field("overruns", flow.overruns);
        json.field("timed_out", flow.timed_out);
        json.end_object();
      }
      json.end_array();
      json.key("problems").begin_array();
      for (const std::string& problem : cell.problems) {
        json.value(problem);
      }
      json.end_array();
      json.end_object();
    }
    json.end_array();
    json.end_object();
  }
  json.end_array();
  json.end_object();
}

}  // namespace loopback
