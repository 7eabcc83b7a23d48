// BridgeChild: runs usbserial-bridge (the simulated adapter) as a child process.
//
// The bridge's stdout contract: zero or more informational lines, then one line
// `port <absolute path of the tty>` per port, then a line `ready`. It runs until SIGINT or
// SIGTERM and then stops cleanly (exit status 0).
//
// The child gets its own process group, so a Ctrl-C on the terminal reaches only this tool,
// which then stops the bridge itself and can still report. On Linux the child also gets
// PR_SET_PDEATHSIG = SIGTERM, so it does not outlive a loopback tool that is killed. (Linux
// ties that signal to the thread that forked, so call start() from a thread that outlives
// the bridge; the tool and the tests call it from their main thread.)
// After `ready` a thread keeps draining the child's stdout and stderr, so a chatty bridge
// never blocks on a full pipe; the informational lines and the last kStderrKeep bytes of
// stderr are kept for the report.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fd.hpp"

namespace loopback {

inline constexpr size_t kStderrKeep = 16 * 1024;

struct BridgeConfig {
  std::string path;
  std::vector<std::string> args;  // argv[1..]
  double ready_timeout_s = 10;
  const std::atomic<bool>* cancel = nullptr;
};

enum class BridgeStartError {
  none,
  cannot_run,  // exec failed: missing, not executable, bad interpreter
  died,        // exited before `ready`
  not_ready,   // still running, but no `ready` within the timeout
  protocol,    // a malformed `port` line, or `ready` without any port
  cancelled,   // the cancel flag was set while waiting
};

struct BridgeExit {
  bool exited = false;  // true: `code` is valid; false: killed by `signal`
  int code = 0;
  int signal = 0;
  bool killed_after_grace = false;  // did not exit within the grace after SIGTERM
  double grace_s = 0;

  bool clean() const { return exited && code == 0 && !killed_after_grace; }
  // "exited with status 0", "killed by signal 9 (SIGKILL) after ignoring SIGTERM for 5 s", ...
  std::string describe() const;
};

class BridgeChild {
 public:
  BridgeChild() = default;
  BridgeChild(const BridgeChild&) = delete;
  BridgeChild& operator=(const BridgeChild&) = delete;
  ~BridgeChild();  // stops a bridge still running (grace 5 s)

  // Starts the bridge and waits for `ready`. On failure the child is stopped, *error is a
  // sentence saying what happened, and start_error() says which kind it was.
  bool start(const BridgeConfig& config, std::string* error);

  BridgeStartError start_error() const { return start_error_; }
  pid_t pid() const { return pid_; }
  const std::vector<std::string>& ports() const { return ports_; }
  std::vector<std::string> info_lines() const;
  std::string stderr_tail() const;

  // SIGTERM, then up to grace_s for the exit, then SIGKILL to its process group. Returns
  // how it ended; repeated calls return the same answer. nullopt if it never started.
  std::optional<BridgeExit> stop(double grace_s = 5);
  std::optional<BridgeExit> exit_status() const { return exit_; }

 private:
  void append_stderr(const char* data, size_t n);
  void take_stdout(const char* data, size_t n, bool* ready, std::string* error);
  void handle_line(const std::string& line, bool* ready, std::string* error);
  void drain_loop();
  void drain_now();
  bool reap(bool block);
  void fail_start(BridgeStartError kind, std::string message, std::string* error);

  pid_t pid_ = -1;
  Fd out_;
  Fd err_;
  BridgeStartError start_error_ = BridgeStartError::none;
  std::vector<std::string> ports_;
  std::optional<BridgeExit> exit_;
  std::thread drain_;
  std::atomic<bool> drain_stop_{false};

  mutable std::mutex mutex_;  // guards the fields below once the drain thread runs
  std::string stdout_partial_;
  std::vector<std::string> info_;
  std::string stderr_;
};

}  // namespace loopback
