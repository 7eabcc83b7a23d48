// Report: everything a run produced, the verdict, and its two renderings (the summary on
// stdout and the --json file), plus the progress line.
//
// A run tests one port, or with --all-ports every port of an adapter; each port has its
// own PortReport with a result per mode (throughput, latency, sweep).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bridge_child.hpp"
#include "latency.hpp"
#include "matrix.hpp"
#include "options.hpp"
#include "soak.hpp"
#include "stream_runner.hpp"

namespace loopback {

enum class Verdict { pass, fail, error };
const char* to_string(Verdict verdict);  // "PASS", "FAIL", "ERROR"

// Exit statuses (also in --help).
inline constexpr int kExitPass = 0;
inline constexpr int kExitFail = 1;   // data error, loss, timeout, bridge failure
inline constexpr int kExitUsage = 2;  // bad option, cannot open the port, bridge missing

// Where the port came from.
enum class PortKind {
  real,       // a TTY that is not a harness port: a kernel driver, or a plain pty
  harness,    // a TTY published by a usbserial-bridge that was already running
  simulated,  // a port of the usbserial-bridge this tool started
};
const char* to_string(PortKind kind);  // "real", "harness", "simulated"

// Where the programmed rate was read.
enum class RateSource {
  none,
  termios,  // the tty's termios (Linux: termios2 c_ospeed, which kernel drivers set to
            // the rate they programmed)
  driver,   // the driver's registry, Statistics ActualBaud, through the bridge's status
};
const char* to_string(RateSource source);  // null for none, "termios", "driver-registry"

struct BridgeInfo {
  std::string path;
  std::vector<std::string> args;
  std::string run_dir;
  std::vector<std::string> ports;
  std::vector<std::string> info;  // informational stdout lines
  std::optional<BridgeExit> exit;
  std::string stderr_tail;
};

// One rate of a sweep.
struct SweepPoint {
  uint32_t requested = 0;
  uint32_t actual = 0;  // the rate programmed; 0 when the rate was not set
  std::string refused;  // non-empty: the driver refused the rate (why); not a failure
  std::string error;    // non-empty: the port could not be set up at this rate
  std::optional<RunResult> run;
};

struct PortReport {
  std::string path;
  uint32_t actual_baud = 0;  // the rate programmed at --baud; 0 until known
  RateSource rate_source = RateSource::none;
  uint32_t baud_after_run = 0;   // the rate read again after the run; 0 if not read
  std::optional<RunResult> run;  // throughput
  std::optional<LatencyResult> latency;
  std::vector<SweepPoint> sweep;
  std::optional<SoakResult> soak;
};

struct Report {
  Options options;
  std::string started_utc;  // ISO 8601, e.g. 2024-05-01T12:00:00Z
  PortKind kind = PortKind::real;
  bool paced = true;              // a UART paces the port: real ports, and bridges run with --paced
  std::vector<PortReport> ports;  // empty until a port was chosen
  std::optional<BridgeInfo> bridge;
  std::optional<MatrixResult> matrix;     // --mode matrix (its own bridges; ports stays empty)
  std::optional<std::string> plot_error;  // --plot was asked for and failed
  Verdict verdict = Verdict::error;
  std::string reason;
  int exit_code = kExitUsage;

  bool has_mode(Mode mode) const;
};

// 8N1 carries 10 bits per byte: the line-rate ceiling in bytes per second.
constexpr double line_rate_bytes_per_second(uint32_t baud) {
  return baud / 10.0;
}

// A measurement this much above the 8N1 line rate shows the port is not paced by a UART
// (a pty, or a simulated port run unpaced); the share of the line rate is then not given.
inline constexpr double kUnpacedEvidence = 1.05;

// The measured share of the line rate in percent, or nullopt when it does not apply: the
// port is not paced, or the figure exceeds the line rate by more than kUnpacedEvidence.
std::optional<double> percent_of_line_rate(const Report& report, uint32_t actual_baud,
                                           double bytes_per_second);

// (actual - requested) / requested in percent.
double rate_error_percent(uint32_t requested, uint32_t actual);

// Fills verdict, reason and exit_code from the ports' results and report.bridge.
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
