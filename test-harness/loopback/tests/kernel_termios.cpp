#include "kernel_termios.hpp"

#include <asm/ioctls.h>
#include <asm/termbits.h>
#include <sys/ioctl.h>

namespace loopback_test {

KernelTermios read_kernel_termios(int fd) {
  struct termios2 t {};
  KernelTermios k;
  if (::ioctl(fd, TCGETS2, &t) != 0) {
    return k;
  }
  k.ok = true;
  k.cflag = t.c_cflag;
  k.ospeed = t.c_ospeed;
  k.ispeed = t.c_ispeed;
  k.bother = (t.c_cflag & CBAUD) == BOTHER;
  return k;
}

}  // namespace loopback_test
