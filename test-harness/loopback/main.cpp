// usbserial-loopback: streams a verifiable pattern through a serial port with a loopback
// plug (or through a simulated adapter the driver bridge provides) and reports integrity
// and throughput. See `usbserial-loopback --help` and session.hpp.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>

#include "options.hpp"
#include "report.hpp"
#include "session.hpp"
#include "shim_runner.hpp"

namespace {

std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

void on_signal(int) {
  g_interrupted.store(true);
}

}  // namespace

int main(int argc, char** argv) {
  const loopback::ParseResult parsed = loopback::parse_options(argc, argv);
  switch (parsed.action) {
    case loopback::ParseAction::help: {
      std::string note;
      const std::vector<std::string> chips = loopback::chips_for_help(&note);
      std::cout << loopback::help_text(chips, note);
      return 0;
    }
    case loopback::ParseAction::version:
      std::cout << loopback::version_text();
      return 0;
    case loopback::ParseAction::error:
      std::cerr << loopback::kToolName << ": " << parsed.message << "\n"
                << "Try '" << loopback::kToolName << " --help'.\n";
      return loopback::kExitUsage;
    case loopback::ParseAction::run:
      break;
  }

  const loopback::Options& options = parsed.options;
  if (loopback::needs_client_shim(options) && !loopback::client_shim_loaded()) {
    std::string error;
    loopback::rerun_under_shim(argc, argv, &error);  // returns only when it cannot
    std::cerr << loopback::kToolName << ": error: " << error << "\n";
    return loopback::kExitUsage;
  }

  // Ctrl-C or SIGTERM: stop streaming, stop the bridge, still report (as FAIL).
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  loopback::SessionIo io;
  io.out = &std::cout;
  io.err = &std::cerr;
  io.progress_tty = ::isatty(STDERR_FILENO) != 0;
  io.cancel = &g_interrupted;
  const loopback::Report report = loopback::run_session(options, io);
  return report.exit_code;
}
