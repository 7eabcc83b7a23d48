#include "session.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "bridge_child.hpp"
#include "platform.hpp"
#include "stream_runner.hpp"
#include "tty_port.hpp"

namespace loopback {

namespace {

constexpr const char* kBridgeName = "usbserial-bridge";

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

class ProgressLine {
 public:
  ProgressLine(std::ostream* err, bool enabled) : err_(err), enabled_(enabled) {}
  void show(const Progress& p) {
    if (!enabled_) {
      return;
    }
    *err_ << "\r" << progress_text(p) << "\x1b[K" << std::flush;
    shown_ = true;
  }
  void clear() {
    if (shown_) {
      *err_ << "\r\x1b[K" << std::flush;
      shown_ = false;
    }
  }

 private:
  std::ostream* err_;
  bool enabled_;
  bool shown_ = false;
};

// Opens the port, streams, and records the result in the report. False on a setup error.
bool measure(const std::string& port_path, const Options& options, const SessionIo& io,
             Report& report) {
  std::string error;
  std::optional<TtyPort> port =
      TtyPort::open(port_path, TtySettings{options.baud, options.rtscts}, &error);
  if (!port) {
    set_setup_error(report, error);
    return false;
  }
  report.actual_baud = port->actual_baud();

  if (!options.quiet) {
    std::string note = std::string(kToolName) + ": " + std::to_string(options.bytes) +
                       " bytes through " + port_path + " at " +
                       std::to_string(port->actual_baud()) + " baud";
    if (line_rate_applies(report)) {
      const double floor_s =
          static_cast<double>(options.bytes) / line_rate_bytes_per_second(port->actual_baud());
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
  RunConfig config;
  config.total_bytes = options.bytes;
  config.chunk = options.chunk;
  config.timeout_s = options.timeout_s;
  config.extra_window_s = options.extra_window_s;
  config.cancel = io.cancel;
  config.on_progress = [&progress](const Progress& p) { progress.show(p); };
  report.run = run_stream(port->fd(), port->fd(), config);
  report.baud_after_run = port->current_baud();
  progress.clear();
  return true;
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
  const std::optional<std::string> run_dir = make_run_dir(&error);
  if (!run_dir) {
    set_setup_error(report, error);
    return;
  }

  report.simulated = true;
  report.paced = bridge_args_paced(options.bridge_args);
  BridgeInfo info;
  info.path = bridge_path;
  info.run_dir = *run_dir;
  info.args = {"--sim", options.sim, "--run-dir", *run_dir};
  info.args.insert(info.args.end(), options.bridge_args.begin(), options.bridge_args.end());

  BridgeChild bridge;
  BridgeConfig config{bridge_path, info.args, options.timeout_s, io.cancel};
  if (!bridge.start(config, &error)) {
    if (bridge.start_error() == BridgeStartError::cannot_run) {
      set_setup_error(report, error);
    } else {
      set_failure(report, error);
    }
  } else {
    info.ports = bridge.ports();
    report.port_path = info.ports.front();
    if (measure(report.port_path, options, io, report)) {
      // judged below, once the bridge's exit status is known
    }
  }
  info.exit = bridge.stop(options.bridge_stop_grace_s);
  info.info = bridge.info_lines();
  info.stderr_tail = bridge.stderr_tail();
  report.bridge = std::move(info);

  std::error_code ec;
  std::filesystem::remove_all(*run_dir, ec);
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
  }
  if (!options.bridge_build_path.empty()) {
    candidates.push_back(options.bridge_build_path);
  }
  looked_at->clear();
  for (const std::string& c : candidates) {
    if (is_executable_file(c)) {
      return c;
    }
    *looked_at += (looked_at->empty() ? "" : ", ") + c;
  }
  if (looked_at->empty()) {
    *looked_at = "nowhere: this program's own directory is unknown";
  }
  return {};
}

Report run_session(const Options& options, const SessionIo& io) {
  Report report;
  report.options = options;
  report.started_utc = utc_now_iso8601();

  // Open the JSON file first: a typo in its path should not cost a whole run.
  std::ofstream json_file;
  if (options.json_path) {
    json_file.open(*options.json_path, std::ios::out | std::ios::trunc);
    if (!json_file) {
      set_setup_error(report, "cannot write the JSON report to " + *options.json_path + ": " +
                                  std::strerror(errno));
      *io.err << kToolName << ": error: " << report.reason << "\n";
      return report;
    }
  }

  if (options.tty) {
    report.port_path = *options.tty;
    measure(*options.tty, options, io, report);
  } else {
    run_with_bridge(options, io, report);
  }
  if (report.run) {
    judge(report);
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
        report.run) {
      *io.out << "bridge stderr (last " << report.bridge->stderr_tail.size() << " bytes):\n";
      indent_block(*io.out, report.bridge->stderr_tail);
    }
  }
  *io.out << std::flush;

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
