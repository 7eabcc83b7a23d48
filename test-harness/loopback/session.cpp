#include "session.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "bridge_child.hpp"
#include "harness.hpp"
#include "matrix.hpp"
#include "pattern.hpp"
#include "platform.hpp"
#include "plot.hpp"
#include "shim_runner.hpp"
#include "stream_runner.hpp"
#include "tty_port.hpp"

namespace loopback {

namespace {

constexpr const char* kBridgeName = "usbserial-bridge";
// How long the bridge gets to show that its driver has seen a new rate.
constexpr double kDriverRateTimeoutS = 3;

std::string self_directory() {
  const std::string self = executable_path();
  return self.empty() ? std::string() : std::filesystem::path(self).parent_path().string();
}

bool is_executable_file(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

std::optional<std::string> make_run_dir(std::string* error) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/usbserial-loopback.XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    *error = "cannot create a run directory from " + pattern + ": " + std::strerror(errno);
    return std::nullopt;
  }
  return pattern;
}

void indent_block(std::ostream& out, const std::string& text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      nl = text.size();
    }
    out << "  | " << text.substr(start, nl - start) << "\n";
    start = nl + 1;
  }
}

std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) {
    out += (out.empty() ? "" : " ") + w;
  }
  return out;
}

class ProgressLine {
 public:
  ProgressLine(std::ostream* err, bool enabled) : err_(err), enabled_(enabled) {}
  ~ProgressLine() { clear(); }
  void show(const std::string& text) {
    if (!enabled_) {
      return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    *err_ << "\r" << text << "\x1b[K" << std::flush;
    shown_ = true;
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shown_) {
      *err_ << "\r\x1b[K" << std::flush;
      shown_ = false;
    }
  }

 private:
  std::ostream* err_;
  bool enabled_;
  bool shown_ = false;
  std::mutex mutex_;
};

// One port being measured: its path and, for a harness port, its bridge.
struct Target {
  std::string path;
  std::optional<HarnessPort> harness;
};

// An open, configured port and the rate the driver programmed.
struct OpenPort {
  std::optional<TtyPort> tty;
  uint32_t actual_baud = 0;
  RateSource source = RateSource::none;
};

// Opens `target` at `baud` and learns the programmed rate. On failure *error says why and
// *refused whether the driver refused the rate.
std::optional<OpenPort> open_target(const Target& target, const Options& options, uint32_t baud,
                                    std::string* error, bool* refused) {
  std::optional<TtyPort> tty =
      TtyPort::open(target.path, TtySettings{baud, options.rtscts}, error, refused);
  if (!tty) {
    return std::nullopt;
  }
  if (!target.harness) {
    const uint32_t actual = tty->actual_baud();
    return OpenPort{std::move(tty), actual, RateSource::termios};
  }
  const std::optional<DriverRate> rate =
      read_driver_rate(*target.harness, baud, kDriverRateTimeoutS, error);
  if (!rate) {
    return std::nullopt;
  }
  const double deviation = std::fabs(static_cast<double>(rate->actual) - baud) / baud;
  if (rate->in_force != baud || rate->actual == 0 || deviation > kRateTolerance) {
    *refused = true;
    *error =
        "the driver of " + target.path + " refused " + std::to_string(baud) + " baud" +
        (rate->last_error.empty() || rate->last_error == "ok" ? std::string()
                                                              : " (" + rate->last_error + ")") +
        "; it holds " + std::to_string(rate->in_force) + " baud";
    return std::nullopt;
  }
  return OpenPort{std::move(tty), rate->actual, RateSource::driver};
}

// The rate the driver holds now, read the same way as at the start.
uint32_t rate_now(const Target& target, const OpenPort& open, uint32_t requested) {
  if (!target.harness) {
    return open.tty->current_baud();
  }
  std::string ignored;
  const std::optional<DriverRate> rate =
      read_driver_rate(*target.harness, requested, kDriverRateTimeoutS, &ignored);
  return rate && rate->in_force == requested ? rate->actual : 0;
}

RunConfig stream_config(const Options& options, const SessionIo& io, uint64_t bytes,
                        size_t port_index) {
  RunConfig config;
  config.total_bytes = bytes;
  config.chunk = options.chunk;
  config.timeout_s = options.timeout_s;
  config.extra_window_s = options.extra_window_s;
  config.cancel = io.cancel;
  config.pattern_offset = port_pattern_offset(port_index);
  return config;
}

// Throughput on every target at once. False on a setup error (set in the report).
bool measure_throughput(const std::vector<Target>& targets, const Options& options,
                        const SessionIo& io, Report& report) {
  std::vector<OpenPort> open;
  open.reserve(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    std::string error;
    bool refused = false;
    std::optional<OpenPort> port = open_target(targets[i], options, options.baud, &error, &refused);
    if (!port) {
      set_setup_error(report, error);
      return false;
    }
    open.push_back(std::move(*port));
    report.ports[i].actual_baud = open[i].actual_baud;
    report.ports[i].rate_source = open[i].source;
  }

  if (!options.quiet) {
    std::string note =
        std::string(kToolName) + ": " + std::to_string(options.bytes) + " bytes through " +
        (targets.size() == 1 ? targets[0].path : std::to_string(targets.size()) + " ports") +
        " at " + std::to_string(open[0].actual_baud) + " baud";
    if (report.paced) {
      const double floor_s =
          static_cast<double>(options.bytes) / line_rate_bytes_per_second(open[0].actual_baud);
      char text[64];
      std::snprintf(text, sizeof text, " (at least %.1f s at the 8N1 line rate)", floor_s);
      note += text;
      if (floor_s > 60) {
        note += "; --bytes makes it shorter";
      }
    }
    *io.err << note << "\n" << std::flush;
  }

  ProgressLine progress(io.err, io.progress_tty && !options.quiet);
  std::mutex progress_mutex;
  std::vector<Progress> latest(targets.size());
  auto on_progress = [&](size_t index, const Progress& p) {
    Progress sum;
    {
      std::lock_guard<std::mutex> lock(progress_mutex);
      latest[index] = p;
      if (index != 0) {
        return;  // the first port's callback draws the line for all of them
      }
      for (const Progress& each : latest) {
        sum.sent += each.sent;
        sum.received += each.received;
        sum.total += each.total;
      }
      sum.seconds = p.seconds;
    }
    progress.show(progress_text(sum));
  };
  std::vector<std::optional<RunResult>> results(targets.size());
  std::vector<std::thread> threads;
  for (size_t i = 1; i < targets.size(); ++i) {
    threads.emplace_back([&, i] {
      RunConfig config = stream_config(options, io, options.bytes, i);
      config.on_progress = [&, i](const Progress& p) { on_progress(i, p); };
      results[i] = run_stream(open[i].tty->fd(), open[i].tty->fd(), config);
    });
  }
  RunConfig config = stream_config(options, io, options.bytes, 0);
  config.on_progress = [&](const Progress& p) { on_progress(0, p); };
  results[0] = run_stream(open[0].tty->fd(), open[0].tty->fd(), config);
  for (std::thread& t : threads) {
    t.join();
  }
  progress.clear();
  for (size_t i = 0; i < targets.size(); ++i) {
    report.ports[i].run = std::move(results[i]);
    report.ports[i].baud_after_run = rate_now(targets[i], open[i], options.baud);
  }
  return true;
}

// Latency, port by port. False on a setup error.
bool measure_latency(const std::vector<Target>& targets, const Options& options,
                     const SessionIo& io, Report& report) {
  ProgressLine progress(io.err, io.progress_tty && !options.quiet);
  for (size_t i = 0; i < targets.size(); ++i) {
    std::string error;
    bool refused = false;
    std::optional<OpenPort> open = open_target(targets[i], options, options.baud, &error, &refused);
    if (!open) {
      set_setup_error(report, error);
      return false;
    }
    report.ports[i].actual_baud = open->actual_baud;
    report.ports[i].rate_source = open->source;
    LatencyConfig config;
    config.round_trips = options.round_trips;
    config.message_bytes = options.message_bytes;
    config.timeout_s = options.timeout_s;
    config.pattern_offset = port_pattern_offset(i);
    config.cancel = io.cancel;
    const std::string label = targets.size() > 1 ? " " + targets[i].path : "";
    config.on_progress = [&](uint64_t done, uint64_t total) {
      progress.show("latency" + label + ": " + std::to_string(done) + " of " +
                    std::to_string(total) + " round trips");
    };
    report.ports[i].latency = run_latency(open->tty->fd(), config);
    progress.clear();
  }
  return true;
}

// The sweep, port by port and rate by rate; every rate gets a freshly opened port.
void measure_sweep(const std::vector<Target>& targets, const Options& options, const SessionIo& io,
                   Report& report) {
  ProgressLine progress(io.err, io.progress_tty && !options.quiet);
  for (size_t i = 0; i < targets.size(); ++i) {
    for (const uint32_t rate : sweep_rates(options)) {
      if (io.cancel != nullptr && io.cancel->load()) {
        return;
      }
      SweepPoint point;
      point.requested = rate;
      std::string error;
      bool refused = false;
      std::optional<OpenPort> open = open_target(targets[i], options, rate, &error, &refused);
      if (!open) {
        (refused ? point.refused : point.error) = error;
        report.ports[i].sweep.push_back(std::move(point));
        continue;
      }
      point.actual = open->actual_baud;
      const uint64_t bytes = sweep_bytes(options, rate);
      RunConfig config = stream_config(options, io, bytes, i);
      const std::string label = targets.size() > 1 ? " " + targets[i].path : "";
      config.on_progress = [&](const Progress& p) {
        progress.show("sweep" + label + " at " + std::to_string(rate) +
                      " baud: " + progress_text(p));
      };
      point.run = run_stream(open->tty->fd(), open->tty->fd(), config);
      progress.clear();
      report.ports[i].sweep.push_back(std::move(point));
    }
  }
}

// The soak on the first target. False on a setup error.
bool measure_soak(const std::vector<Target>& targets, const Options& options, const SessionIo& io,
                  Report& report) {
  const Target& target = targets[0];
  std::string error;
  bool refused = false;
  std::optional<OpenPort> open = open_target(target, options, options.baud, &error, &refused);
  if (!open) {
    set_setup_error(report, error + (refused ? " (the soak runs under RTS/CTS, 8 data bits, at "
                                               "--baud; this driver refused that)"
                                             : ""));
    return false;
  }
  report.ports[0].actual_baud = open->actual_baud;
  report.ports[0].rate_source = open->source;
  SoakConfig config;
  if (target.harness) {
    config.bridge_socket = target.harness->socket_path;
    config.bridge_port = target.harness->callout;
  }
  config.total_bytes = options.bytes;
  config.rates = soak_rates(options);
  config.max_chunk = soak_chunk(options);
  config.seed = options.seed;
  config.timeout_s = options.timeout_s;
  // A harness port's plug is the bridge's, which wires DTR to DSR; a real port's is probed.
  config.check_dsr = target.harness.has_value();
  config.bridge_pid = target.harness ? bridge_pid(target.harness->socket_path) : 0;
  config.cancel = io.cancel;
  if (!options.quiet) {
    *io.err << kToolName << ": soak of " << options.bytes << " bytes through " << target.path
            << " under RTS/CTS, writes of 1.." << config.max_chunk
            << " bytes, line and modem changes every 5-50 ms (seed " << options.seed << ")"
            << (config.bridge_pid > 0
                    ? "; sampling the bridge, pid " + std::to_string(config.bridge_pid)
                    : std::string())
            << "\n"
            << std::flush;
  }
  // A long run shows its progress: on a terminal in place, elsewhere (a CI log) every 10 s.
  ProgressLine progress(io.err, io.progress_tty && !options.quiet);
  auto last_line = std::chrono::steady_clock::now();
  config.on_progress = [&](const std::string& text) {
    if (io.progress_tty) {
      progress.show(text);
    } else if (!options.quiet &&
               std::chrono::steady_clock::now() - last_line >= std::chrono::seconds(10)) {
      last_line = std::chrono::steady_clock::now();
      *io.err << text << "\n" << std::flush;
    }
  };
  report.ports[0].soak = run_soak(open->tty->fd(), config);
  progress.clear();
  return true;
}

// Measures every mode the options ask for on `targets`. False on a setup error.
bool measure(const std::vector<Target>& targets, const Options& options, const SessionIo& io,
             Report& report) {
  report.ports.clear();
  for (const Target& target : targets) {
    PortReport port;
    port.path = target.path;
    report.ports.push_back(std::move(port));
  }
  if (report.has_mode(Mode::throughput) && !measure_throughput(targets, options, io, report)) {
    return false;
  }
  if (report.has_mode(Mode::latency) && !measure_latency(targets, options, io, report)) {
    return false;
  }
  if (report.has_mode(Mode::sweep)) {
    measure_sweep(targets, options, io, report);
  }
  if (report.has_mode(Mode::soak)) {
    if (targets[0].harness && !client_shim_loaded()) {
      set_setup_error(report,
                      "--mode soak on a harness port needs the client shim, which carries modem "
                      "lines and parity: run it under usbserial-run");
      return false;
    }
    return measure_soak(targets, options, io, report);
  }
  return true;
}

bool measured_anything(const Report& report) {
  if (report.matrix) {
    return true;
  }
  for (const PortReport& port : report.ports) {
    if (port.run || port.latency || !port.sweep.empty() || port.soak) {
      return true;
    }
  }
  return false;
}

void run_on_tty(const Options& options, const SessionIo& io, Report& report) {
  Target first{*options.tty, find_harness_port(*options.tty)};
  report.kind = first.harness ? PortKind::harness : PortKind::real;
  report.paced = first.harness ? first.harness->paced : true;
  std::vector<Target> targets{first};
  if (options.all_ports) {
    if (!first.harness) {
      report.ports.emplace_back().path = *options.tty;
      set_setup_error(report,
                      "--all-ports needs a simulated adapter or a usbserial-bridge port: which "
                      "ports share a real adapter cannot be told; run once per port");
      return;
    }
    targets.clear();
    for (const std::string& path : first.harness->device_ports) {
      targets.push_back(Target{path, find_harness_port(path)});
    }
  }
  measure(targets, options, io, report);
}

void run_with_bridge(const Options& options, const SessionIo& io, Report& report) {
  std::string looked_at;
  const std::string bridge_path = find_bridge(options, self_directory(), &looked_at);
  if (bridge_path.empty()) {
    set_setup_error(report, std::string(kBridgeName) + " not found (looked at " + looked_at +
                                "); build it, pass --bridge PATH, or give a TTY");
    return;
  }
  std::string error;
  // A misspelt chip is a usage error, found before anything starts. A bridge that cannot
  // list its chips (an old one) gets the name and says itself.
  if (const std::optional<std::vector<std::string>> chips = list_bridge_chips(bridge_path, &error);
      chips && std::find(chips->begin(), chips->end(), options.sim) == chips->end()) {
    set_setup_error(report, "--sim '" + options.sim + "' is not a chip the bridge simulates " +
                                "(known: " + join_words(*chips) + ")");
    return;
  }
  const std::optional<std::string> run_dir = make_run_dir(&error);
  if (!run_dir) {
    set_setup_error(report, error);
    return;
  }

  report.kind = PortKind::simulated;
  report.paced = bridge_args_paced(options.bridge_args);
  BridgeInfo info;
  info.path = bridge_path;
  info.run_dir = *run_dir;
  info.args = {"--sim", options.sim, "--run-dir", *run_dir};
  info.args.insert(info.args.end(), options.bridge_args.begin(), options.bridge_args.end());

  BridgeChild bridge;
  BridgeConfig config{bridge_path, info.args, options.timeout_s, io.cancel};
  if (!bridge.start(config, &error)) {
    const std::optional<BridgeExit> exit = bridge.exit_status();
    // The bridge's own usage errors (exit status 2) are the user's to fix, not a failure.
    if (bridge.start_error() == BridgeStartError::cannot_run ||
        (exit && exit->exited && exit->code == kExitUsage)) {
      set_setup_error(report, error);
    } else {
      set_failure(report, error);
    }
  } else {
    info.ports = bridge.ports();
    std::vector<Target> targets;
    for (const std::string& path : info.ports) {
      targets.push_back(Target{path, find_harness_port(path)});
      if (!options.all_ports) {
        break;
      }
    }
    measure(targets, options, io, report);
  }
  info.exit = bridge.stop(options.bridge_stop_grace_s);
  info.info = bridge.info_lines();
  info.stderr_tail = bridge.stderr_tail();
  report.bridge = std::move(info);

  std::error_code ec;
  std::filesystem::remove_all(*run_dir, ec);
}

void run_matrix_session(const Options& options, const SessionIo& io, Report& report) {
  report.kind = PortKind::simulated;
  report.paced = true;
  std::string looked_at;
  const std::string bridge_path = find_bridge(options, self_directory(), &looked_at);
  if (bridge_path.empty()) {
    set_setup_error(report, std::string(kBridgeName) + " not found (looked at " + looked_at +
                                "); build it, or pass --bridge PATH");
    return;
  }
  if (!client_shim_loaded()) {
    set_setup_error(report,
                    "--mode matrix needs the client shim, so that a refused rate fails "
                    "tcsetattr: run it under usbserial-run");
    return;
  }
  MatrixConfig config;
  config.chips = matrix_chips(options);
  config.rates = matrix_rates(options);
  config.jobs = options.jobs;
  config.bridge_path = bridge_path;
  config.bridge_args = options.bridge_args;
  config.timeout_s = options.timeout_s;
  config.cancel = io.cancel;
  const size_t n = config.chips.size();
  if (!options.quiet) {
    *io.err << kToolName << ": null-modem matrix of " << n << " chips (" << n * (n + 1) / 2
            << " bridges, " << options.jobs << " at a time) at " << config.rates.size()
            << " rates, paced\n"
            << std::flush;
  }
  ProgressLine progress(io.err, io.progress_tty && !options.quiet);
  config.on_progress = [&](const std::string& text) { progress.show(text); };
  if (!options.quiet) {
    config.on_pair_done = [&](const std::string& text) {
      progress.clear();
      *io.err << text << "\n" << std::flush;
    };
  }
  report.matrix = run_matrix(config);
}

PlotData plot_data(const Report& report) {
  PlotData data;
  data.title = std::string(kToolName) + ": " +
               (report.kind == PortKind::simulated ? "simulated " + report.options.sim
                                                   : report.options.tty.value_or("")) +
               (report.paced ? "" : " (unpaced)");
  data.line_rate = report.paced;
  for (const PortReport& port : report.ports) {
    const std::string name = std::filesystem::path(port.path).filename().string();
    PlotSeries series{name, {}};
    for (const SweepPoint& point : port.sweep) {
      if (point.run && point.actual != 0) {
        series.points.emplace_back(point.actual, point.run->rx_bytes_per_second() / 1e6);
      }
    }
    if (port.sweep.empty() && port.run && port.actual_baud != 0) {
      series.points.emplace_back(port.actual_baud, port.run->rx_bytes_per_second() / 1e6);
    }
    if (!series.points.empty()) {
      data.throughput.push_back(std::move(series));
    }
    if (port.latency && !port.latency->samples_s.empty()) {
      std::vector<double> ms;
      for (const double s : port.latency->samples_s) {
        ms.push_back(s * 1e3);
      }
      data.latency_ms.emplace_back(name, std::move(ms));
    }
  }
  return data;
}

}  // namespace

bool bridge_args_paced(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "--paced" || a.rfind("--paced=", 0) == 0) {
      return true;
    }
  }
  return false;
}

std::string find_bridge(const Options& options, const std::string& self_dir,
                        std::string* looked_at) {
  if (options.bridge_path) {
    return *options.bridge_path;  // exec reports it clearly if it is not runnable
  }
  std::vector<std::string> candidates;
  if (!self_dir.empty()) {
    candidates.push_back(self_dir + "/" + kBridgeName);
    candidates.push_back(self_dir + "/../bridge/" + kBridgeName);
  }
  looked_at->clear();
  for (const std::string& c : candidates) {
    if (is_executable_file(c)) {
      return std::filesystem::path(c).lexically_normal().string();
    }
    *looked_at += (looked_at->empty() ? "" : ", ") + c;
  }
  if (looked_at->empty()) {
    *looked_at = "nowhere: this program's own directory is unknown";
  }
  return {};
}

std::vector<std::string> chips_for_help(std::string* note) {
  Options defaults;
  std::string looked_at;
  const std::string bridge = find_bridge(defaults, self_directory(), &looked_at);
  if (bridge.empty()) {
    *note = "unknown, " + std::string(kBridgeName) + " not found (looked at " + looked_at + ")";
    return {};
  }
  std::string error;
  std::optional<std::vector<std::string>> chips = list_bridge_chips(bridge, &error);
  if (!chips) {
    *note = "unknown (" + error + ")";
    return {};
  }
  return *chips;
}

Report run_session(const Options& options, const SessionIo& io) {
  Report report;
  report.options = options;
  report.started_utc = utc_now_iso8601();
  auto fail_early = [&](std::string reason) {
    set_setup_error(report, std::move(reason));
    *io.err << kToolName << ": error: " << report.reason << "\n";
    return report;
  };

  // Open the JSON file first: a typo in its path should not cost a whole run. Likewise the
  // plotter is looked for before anything is measured.
  std::ofstream json_file;
  if (options.json_path) {
    json_file.open(*options.json_path, std::ios::out | std::ios::trunc);
    if (!json_file) {
      return fail_early("cannot write the JSON report to " + *options.json_path + ": " +
                        std::strerror(errno));
    }
  }
  std::string gnuplot;
  if (options.plot_path) {
    gnuplot = find_gnuplot();
    if (gnuplot.empty()) {
      return fail_early(
          "--plot needs gnuplot, which is not installed (Debian: apt-get install "
          "gnuplot-nox); run without --plot, or install it");
    }
  }

  if (report.has_mode(Mode::matrix)) {
    run_matrix_session(options, io, report);
  } else if (options.tty) {
    run_on_tty(options, io, report);
  } else {
    run_with_bridge(options, io, report);
  }
  // A setup error (a reason already given) stands, even after an earlier mode measured.
  if (measured_anything(report) && report.reason.empty()) {
    judge(report);
  }

  bool plot_failed = false;
  if (options.plot_path && measured_anything(report)) {
    std::string error;
    if (!draw_plot(gnuplot, plot_data(report), *options.plot_path, &error)) {
      report.plot_error = error;
      plot_failed = true;
    }
  }

  if (report.verdict == Verdict::error) {
    *io.err << kToolName << ": error: " << report.reason << "\n";
    // A port the bridge published but that could not be set up: its log says why.
    if (report.bridge && !report.bridge->stderr_tail.empty() && !options.quiet) {
      *io.err << "bridge stderr (last " << report.bridge->stderr_tail.size() << " bytes):\n";
      indent_block(*io.err, report.bridge->stderr_tail);
    }
  } else if (options.quiet) {
    *io.out << verdict_line(report);
  } else {
    *io.out << summary_text(report);
    if (report.verdict == Verdict::fail && report.bridge && !report.bridge->stderr_tail.empty() &&
        measured_anything(report)) {
      *io.out << "bridge stderr (last " << report.bridge->stderr_tail.size() << " bytes):\n";
      indent_block(*io.out, report.bridge->stderr_tail);
    }
  }
  *io.out << std::flush;
  if (plot_failed) {
    *io.err << kToolName << ": error: " << *report.plot_error << "\n";
    report.exit_code = kExitUsage;
  }

  if (json_file.is_open()) {
    json_file << report_json(report);
    json_file.close();
    if (!json_file) {
      *io.err << kToolName << ": error: writing the JSON report to " << *options.json_path
              << " failed\n";
      report.exit_code = kExitUsage;
    }
  }
  return report;
}

}  // namespace loopback
