// TtyPort: one serial port opened for a loopback run.
//
// open() does, in order: open(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC) (O_NONBLOCK so
// the open itself cannot wait for carrier on a port without CLOCAL yet); save the current
// termios; raw mode (cfmakeraw), 8N1, CLOCAL | CREAD, CRTSCTS on or off; the rate through
// cfsetspeed() when a B-constant exists, else set_any_rate() (platform.hpp); read the
// settings back (after kRateSettleMs) and refuse the port when the driver dropped RTS/CTS or
// holds a rate more than 3 % away from the request (docs/architecture.md baud policy: never accept
// a silent fallback); and discard whatever was waiting in both directions (tcflush TCIOFLUSH).
//
// The fd stays non-blocking; the stream runner polls it. The destructor discards unsent
// output (so close() cannot wait on a flow-controlled line), restores the saved termios and
// closes the port.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <termios.h>

#include "fd.hpp"

namespace loopback {

struct TtySettings {
  uint32_t baud = 115200;
  bool rtscts = false;
};

// Wait before reading the rate back. Kernel drivers answer tcsetattr() synchronously, but
// the Linux harness's tty side (a pty watched with TIOCPKT + EXTPROC, docs/architecture.md) hands
// the rate to the driver asynchronously and writes a refusal back into termios a few ms later
// (observed with usbserial-bridge --sim ft232r at 5 Mbaud: termios read 5000000 at once,
// the refused value within 50 ms).
inline constexpr int kRateSettleMs = 100;

// Largest relative difference between the requested rate and the rate the driver reports
// that is accepted (docs/architecture.md: 3 %).
inline constexpr double kRateTolerance = 0.03;

class TtyPort {
 public:
  // Opens and configures `path`. On failure returns nullopt and sets *error to a sentence
  // naming the path and the step that failed; *rate_refused (when given) says whether the
  // failure was the driver refusing the rate (EINVAL, or a rate more than 3 % away read
  // back), rather than the port being unusable.
  static std::optional<TtyPort> open(const std::string& path, const TtySettings& settings,
                                     std::string* error, bool* rate_refused = nullptr);

  TtyPort(TtyPort&& other) noexcept = default;
  TtyPort& operator=(TtyPort&&) = delete;
  TtyPort(const TtyPort&) = delete;
  TtyPort& operator=(const TtyPort&) = delete;
  ~TtyPort();

  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  // The rate the driver reports after configuration.
  uint32_t actual_baud() const { return actual_baud_; }
  // Reads the rate the driver holds now (0 if it cannot be read). A run compares it with
  // actual_baud() at the end, to catch a driver that changed the rate behind its back.
  uint32_t current_baud() const;
  bool rtscts() const { return rtscts_; }

 private:
  TtyPort() = default;

  Fd fd_;
  std::string path_;
  uint32_t actual_baud_ = 0;
  bool rtscts_ = false;
  termios saved_{};
};

// The termios B-constant for `baud`, if this platform has one.
std::optional<speed_t> standard_speed(uint32_t baud);

}  // namespace loopback
