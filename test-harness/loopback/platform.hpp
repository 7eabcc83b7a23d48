// The platform-specific code of usbserial-loopback, all of it; everything else is POSIX.
// Only the Linux half is compiled in this build.
//
// Serial rates (the rest of the port setup, open, raw mode, flow control, is plain termios in
// tty_port.cpp):
//   Linux: termios2 with BOTHER through TCSETS2 takes any integer rate, and TCGETS2 reads
//          back the rate the driver holds in c_ospeed (usb-serial drivers write the rate
//          they actually programmed there, tty_encode_baud_rate()).
//   macOS: the IOSSIOSPEED ioctl (<IOKit/serial/ioss.h>) takes any integer rate; speed_t is
//          the rate itself, so cfgetospeed() reads it back.
#pragma once

#include <cstdint>
#include <string>

namespace loopback {

// Programs `baud` on an open, already configured tty (call after tcsetattr, which would
// otherwise overwrite it). Returns 0 or an errno value.
int set_any_rate(int fd, uint32_t baud);

// The output rate the tty now holds. Returns 0 or an errno value.
int read_rate(int fd, uint32_t* baud);

// The absolute path of the running executable (Linux: /proc/self/exe; macOS:
// _NSGetExecutablePath), or empty if it cannot be found.
std::string executable_path();

}  // namespace loopback
