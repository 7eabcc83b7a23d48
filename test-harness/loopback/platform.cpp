// Platform code (see platform.hpp). Only the Linux branch is compiled in this build; the
// macOS branch is kept here so the whole platform difference is one file.
#include "platform.hpp"

#include <cerrno>
#include <climits>
#include <filesystem>

#if defined(__linux__)
// <asm/termbits.h> defines struct termios2 and BOTHER; it clashes with glibc's <termios.h>,
// which is why this file includes neither <termios.h> nor anything that pulls it in.
#include <asm/ioctls.h>
#include <asm/termbits.h>
#include <sys/ioctl.h>
#elif defined(__APPLE__)
#include <IOKit/serial/ioss.h>
#include <mach-o/dyld.h>
#include <sys/ioctl.h>
#include <termios.h>
#else
#error "usbserial-loopback: no rate code for this platform (Linux and macOS only)"
#endif

namespace loopback {

#if defined(__linux__)

int set_any_rate(int fd, uint32_t baud) {
  struct termios2 tio {};
  if (::ioctl(fd, TCGETS2, &tio) != 0) {
    return errno;
  }
  // BOTHER: the rate is the integer in c_ospeed / c_ispeed. CIBAUD cleared: input rate
  // follows the output rate.
  tio.c_cflag &= ~static_cast<tcflag_t>(CBAUD | CIBAUD);
  tio.c_cflag |= BOTHER;
  tio.c_ospeed = baud;
  tio.c_ispeed = baud;
  if (::ioctl(fd, TCSETS2, &tio) != 0) {
    return errno;
  }
  return 0;
}

int read_rate(int fd, uint32_t* baud) {
  struct termios2 tio {};
  if (::ioctl(fd, TCGETS2, &tio) != 0) {
    return errno;
  }
  *baud = tio.c_ospeed;
  return 0;
}

std::string executable_path() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : self.string();
}

#elif defined(__APPLE__)

int set_any_rate(int fd, uint32_t baud) {
  speed_t speed = baud;
  if (::ioctl(fd, IOSSIOSPEED, &speed) != 0) {
    return errno;
  }
  return 0;
}

int read_rate(int fd, uint32_t* baud) {
  struct termios tio {};
  if (::tcgetattr(fd, &tio) != 0) {
    return errno;
  }
  *baud = static_cast<uint32_t>(::cfgetospeed(&tio));
  return 0;
}

std::string executable_path() {
  char path[PATH_MAX];
  uint32_t size = sizeof path;
  if (::_NSGetExecutablePath(path, &size) != 0) {
    return {};
  }
  std::error_code ec;
  const std::filesystem::path resolved = std::filesystem::canonical(path, ec);
  return ec ? std::string(path) : resolved.string();
}

#endif

}  // namespace loopback
