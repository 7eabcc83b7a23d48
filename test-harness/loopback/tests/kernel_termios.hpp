// What the Linux kernel holds for a tty, read with TCGETS2 (struct termios2), for tests that
// check the rate independently of the code under test. Its own file because <asm/termbits.h>
// cannot share a translation unit with glibc's <termios.h>.
#pragma once

#include <cstdint>

namespace loopback_test {

struct KernelTermios {
  bool ok = false;
  uint32_t cflag = 0;
  uint32_t ospeed = 0;
  uint32_t ispeed = 0;
  bool bother = false;  // (c_cflag & CBAUD) == BOTHER: the rate is the integer in c_ospeed
};

KernelTermios read_kernel_termios(int fd);

}  // namespace loopback_test
