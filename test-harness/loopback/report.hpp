// Report: everything a run produced, the verdict, and its two renderings (the summary on
// stdout and the --json file), plus the progress line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bridge_child.hpp"
#include "options.hpp"
#include "stream_runner.hpp"

namespace loopback {

enum class Verdict { pass, fail, error };
const char* to_string(Verdict verdict);  // "PASS", "FAIL", "ERROR"

// Exit statuses (also in --help).
inline constexpr int kExitPass = 0;
inline constexpr int kExitFail = 1;   // data error, loss, timeout, bridge failure
inline constexpr int kExitUsage = 2;  // bad option, cannot open the port, bridge missing

struct BridgeInfo {
  std::string path;
  std::vector<std::string> args;
  std::string run_dir;
  std::vector<std::string> ports;
  std::vector<std::string> info;  // informational stdout lines
  std::optional<BridgeExit> exit;
  std::string stderr_tail;
};

struct Report {
  Options options;
  std::string started_utc;      // ISO 8601, e.g. 2024-05-01T12:00:00Z
  std::string port_path;        // empty until a port was chosen
  bool simulated = false;       // the port belongs to a bridge this tool started
  bool paced = false;           // simulated and started with --paced (UART timing simulated)
  uint32_t actual_baud = 0;     // the rate the driver reports; 0 until the port was opened
  uint32_t baud_after_run = 0;  // the rate it reports once the run is over; 0 if not read
  std::optional<RunResult> run;
  std::optional<BridgeInfo> bridge;
  Verdict verdict = Verdict::error;
  std::string reason;
  int exit_code = kExitUsage;
};

// 8N1 carries 10 bits per byte: the line-rate ceiling in bytes per second.
constexpr double line_rate_bytes_per_second(uint32_t baud) {
  return baud / 10.0;
}

// True when the line-rate ceiling bounds the measurement: a real port, or a paced simulation.
bool line_rate_applies(const Report& report);

// Fills verdict, reason and exit_code from report.run and report.bridge.
void judge(Report& report);
// A setup error (exit 2): nothing was measured, or the measurement cannot be trusted.
void set_setup_error(Report& report, std::string reason);
// A failure outside the data path (bridge died before ready, ...): exit 1.
void set_failure(Report& report, std::string reason);

std::string summary_text(const Report& report);  // several lines, for stdout
std::string verdict_line(const Report& report);  // "PASS: ..." or "FAIL: ...", one line
std::string report_json(const Report& report);   // the --json document
std::string progress_text(const Progress& progress);

std::string utc_now_iso8601();
std::string hex32(uint32_t value);  // "0x0123abcd"

}  // namespace loopback
