// make_raw: what a client does to a port before streaming bytes through it: raw
// 8N1 at any rate (termios2 with BOTHER), no echo, no line discipline, reads
// that return as soon as one byte is there.
#pragma once

#include <asm/termbits.h>
#include <sys/ioctl.h>

#include <cstdint>

namespace bridge {

inline bool make_raw(int fd, uint32_t baud) {
  termios2 t{};
  if (::ioctl(fd, TCGETS2, &t) != 0) {
    return false;
  }
  t.c_iflag = 0;
  t.c_oflag = 0;
  t.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
  t.c_cflag &= ~(CSIZE | PARENB | CBAUD);
  t.c_cflag |= CS8 | CREAD | CLOCAL | BOTHER;
  t.c_ispeed = t.c_ospeed = baud;
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  return ::ioctl(fd, TCSETS2, &t) == 0;
}

}  // namespace bridge
