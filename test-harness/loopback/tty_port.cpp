#include "tty_port.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "platform.hpp"

namespace loopback {

namespace {

struct SpeedEntry {
  uint32_t baud;
  speed_t speed;
};

// The B-constants of <termios.h>; the higher ones exist on Linux only.
constexpr SpeedEntry kSpeeds[] = {
    {50, B50},           {75, B75},         {110, B110},       {134, B134},     {150, B150},
    {200, B200},         {300, B300},       {600, B600},       {1200, B1200},   {1800, B1800},
    {2400, B2400},       {4800, B4800},     {9600, B9600},     {19200, B19200}, {38400, B38400},
    {57600, B57600},     {115200, B115200}, {230400, B230400},
#ifdef B460800
    {460800, B460800},
#endif
#ifdef B500000
    {500000, B500000},
#endif
#ifdef B576000
    {576000, B576000},
#endif
#ifdef B921600
    {921600, B921600},
#endif
#ifdef B1000000
    {1000000, B1000000},
#endif
#ifdef B1152000
    {1152000, B1152000},
#endif
#ifdef B1500000
    {1500000, B1500000},
#endif
#ifdef B2000000
    {2000000, B2000000},
#endif
#ifdef B2500000
    {2500000, B2500000},
#endif
#ifdef B3000000
    {3000000, B3000000},
#endif
#ifdef B3500000
    {3500000, B3500000},
#endif
#ifdef B4000000
    {4000000, B4000000},
#endif
};

std::string failure(const std::string& path, const char* step, int err) {
  return "cannot " + std::string(step) + " " + path + ": " + std::strerror(err);
}

}  // namespace

std::optional<speed_t> standard_speed(uint32_t baud) {
  for (const SpeedEntry& e : kSpeeds) {
    if (e.baud == baud) {
      return e.speed;
    }
  }
  return std::nullopt;
}

std::optional<TtyPort> TtyPort::open(const std::string& path, const TtySettings& settings,
                                     std::string* error, bool* rate_refused) {
  bool ignored = false;
  bool& refused = rate_refused != nullptr ? *rate_refused : ignored;
  refused = false;
  TtyPort port;
  port.path_ = path;
  port.rtscts_ = settings.rtscts;
  if (settings.baud == 0) {
    *error = "cannot use rate 0 on " + path;
    return std::nullopt;
  }

  port.fd_.reset(::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
  if (!port.fd_.valid()) {
    *error = failure(path, "open", errno);
    return std::nullopt;
  }
  const int fd = port.fd_.get();
  if (!::isatty(fd)) {
    *error = path + " is not a terminal device (a serial port or pty was expected)";
    return std::nullopt;
  }
  if (::tcgetattr(fd, &port.saved_) != 0) {
    *error = failure(path, "read the settings of", errno);
    return std::nullopt;
  }

  termios tio = port.saved_;
  ::cfmakeraw(&tio);
  tio.c_cflag |= CLOCAL | CREAD;
  tio.c_cflag &= ~static_cast<tcflag_t>(CSTOPB);  // 8N1: cfmakeraw sets CS8, clears PARENB
  if (settings.rtscts) {
    tio.c_cflag |= CRTSCTS;
  } else {
    tio.c_cflag &= ~static_cast<tcflag_t>(CRTSCTS);
  }
  tio.c_cc[VMIN] = 1;
  tio.c_cc[VTIME] = 0;
  const std::optional<speed_t> b_constant = standard_speed(settings.baud);
  if (b_constant && ::cfsetspeed(&tio, *b_constant) != 0) {
    *error = failure(path, "encode the rate for", errno);
    return std::nullopt;
  }
  if (::tcsetattr(fd, TCSANOW, &tio) != 0) {
    refused = errno == EINVAL;
    *error = failure(path, "configure", errno);
    return std::nullopt;
  }
  if (!b_constant) {
    if (const int err = set_any_rate(fd, settings.baud); err != 0) {
      refused = err == EINVAL;
      *error = "cannot set " + std::to_string(settings.baud) + " baud on " + path + ": " +
               std::strerror(err);
      return std::nullopt;
    }
  }

  // Read back: tcsetattr() succeeds when any part of the request was applied.
  ::usleep(kRateSettleMs * 1000);
  termios now{};
  if (::tcgetattr(fd, &now) != 0) {
    *error = failure(path, "read back the settings of", errno);
    return std::nullopt;
  }
  if (settings.rtscts && (now.c_cflag & CRTSCTS) != CRTSCTS) {
    *error = "the driver of " + path + " did not accept RTS/CTS flow control (CRTSCTS)";
    return std::nullopt;
  }
  if (const int err = read_rate(fd, &port.actual_baud_); err != 0) {
    *error = failure(path, "read back the rate of", err);
    return std::nullopt;
  }
  const double deviation =
      std::fabs(static_cast<double>(port.actual_baud_) - static_cast<double>(settings.baud)) /
      static_cast<double>(settings.baud);
  if (deviation > kRateTolerance) {
    refused = true;
    *error = "the driver of " + path + " holds " + std::to_string(port.actual_baud_) +
             " baud after " + std::to_string(settings.baud) +
             " baud was requested (more than 3 % away; refusing to test at the wrong rate)";
    return std::nullopt;
  }

  if (::tcflush(fd, TCIOFLUSH) != 0) {
    *error = failure(path, "flush", errno);
    return std::nullopt;
  }
  return port;
}

uint32_t TtyPort::current_baud() const {
  uint32_t baud = 0;
  return read_rate(fd_.get(), &baud) == 0 ? baud : 0;
}

TtyPort::~TtyPort() {
  if (!fd_.valid()) {
    return;
  }
  // Best effort: the run is over, so nothing here can change its result.
  ::tcflush(fd_.get(), TCIOFLUSH);
  ::tcsetattr(fd_.get(), TCSANOW, &saved_);
}

}  // namespace loopback
