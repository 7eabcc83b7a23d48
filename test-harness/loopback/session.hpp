// Session: one whole usbserial-loopback run, everything main() does except parsing the
// command line and installing signal handlers; the end-to-end tests call it directly.
//
//   TTY given:  if it is a harness port (harness.hpp), ask its bridge whether it is paced,
//               which ports share its adapter (--all-ports) and, after each configuration,
//               the rate the driver programmed; then measure and judge.
//   no TTY:     check --sim against `usbserial-bridge --list-chips`, make a fresh run
//               directory, start the bridge (bridge_child.hpp) with `--sim CHIP --run-dir
//               DIR` plus the --bridge-arg values, wait for `ready`, measure its first port
//               (every port with --all-ports), stop the bridge (SIGTERM), judge (a non-zero
//               bridge exit fails the run), remove the run directory.
//   Measuring:  throughput on every port at once (each from its own pattern offset), then
//               latency and the sweep port by port; the port is opened and configured
//               (tty_port.hpp) for each, and closed after it.
//
// Output: the summary (or, with --quiet, the verdict line) on `out`; the progress line,
// notes and setup errors on `err`; the JSON report to --json FILE; the plot to --plot.
#pragma once

#include <atomic>
#include <ostream>
#include <string>

#include "options.hpp"
#include "report.hpp"

namespace loopback {

struct SessionIo {
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  bool progress_tty = false;  // err is a terminal: draw the progress line there
  const std::atomic<bool>* cancel = nullptr;
};

Report run_session(const Options& options, const SessionIo& io);

// The bridge to run: --bridge if given, else usbserial-bridge in `self_dir` (the directory of
// this executable: where `cmake --install` puts both), else in `self_dir`/../bridge (where
// the build tree has it). Empty when none is an executable file; *looked_at then lists the
// places tried.
std::string find_bridge(const Options& options, const std::string& self_dir,
                        std::string* looked_at);

// The chips --sim takes, from the bridge find_bridge() finds (for --help). Empty, with
// *note saying why, when they cannot be listed.
std::vector<std::string> chips_for_help(std::string* note);

// True when the bridge arguments ask for UART pacing (--paced).
bool bridge_args_paced(const std::vector<std::string>& args);

}  // namespace loopback
