// Session: one whole usbserial-loopback run, everything main() does except parsing the
// command line and installing signal handlers; the end-to-end tests call it directly.
//
//   TTY given:  open and configure it (tty_port.hpp), stream (stream_runner.hpp), judge.
//   no TTY:     make a fresh run directory, start the bridge (bridge_child.hpp) with
//               `--sim CHIP --run-dir DIR` plus the --bridge-arg values, wait for `ready`,
//               use the first port, stream, close the port, stop the bridge (SIGTERM), judge
//               (a non-zero bridge exit fails the run), remove the run directory.
//
// Output: the summary (or, with --quiet, the verdict line) on `out`; the progress line,
// notes and setup errors on `err`; the JSON report to --json FILE.
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
// this executable), else the build tree's (options.bridge_build_path). Empty when none is an
// executable file; *looked_at then lists the places tried.
std::string find_bridge(const Options& options, const std::string& self_dir,
                        std::string* looked_at);

// True when the bridge arguments ask for UART pacing (--paced).
bool bridge_args_paced(const std::vector<std::string>& args);

}  // namespace loopback
