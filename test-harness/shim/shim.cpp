// libusbserial-shim.so: the client side of a harness port, loaded with
// LD_PRELOAD (usbserial-run does that).
//
// A pty carries bytes, the rate, CSTOPB and the flow-control flags. For the rest
// of what a serial port does, the calls a client makes on a harness port are
// carried to the bridge that owns the pty (tty/client_protocol.hpp) and its
// answer comes back as the call's result:
//   termios   tcsetattr / TCSETS* / TCSETS2*: the driver programs the line first;
//             a refusal is EINVAL with nothing changed, and says why on stderr.
//             tcgetattr / TCGETS*: data bits and parity as programmed.
//   modem     TIOCMGET / TIOCMSET / TIOCMBIS / TIOCMBIC, TIOCMIWAIT, TIOCGICOUNT
//   break     TIOCSBRK / TIOCCBRK, TCSBRK 0 / TCSBRKP / tcsendbreak
//   drain     tcdrain / TCSBRK 1: returns when the driver's TX path is empty
//   queues    TIOCINQ (FIONREAD) / TIOCOUTQ count what the bridge holds too
//   flush     tcflush / TCFLSH: the chip's FIFOs are purged before it returns
//   access    TIOCEXCL / TIOCNXCL; an open of a port in exclusive use is EBUSY
//   close     waits until what was written has gone out (the bridge's closing
//             wait bounds it, 30 s by default)
// Which descriptors are harness ports: those whose file is a pty slave (Unix98
// majors 136-143) served by a bridge on the abstract socket named after it,
// whose peer runs as the pty's owner (or root). Every other descriptor, and
// every other call, goes straight to the C library.
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/serial.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "tty/client_protocol.hpp"

namespace {

namespace wire = tty::wire;

// The PD_RS232 values of tty/client_protocol.hpp's Line (transport/serial_constants.hpp).
constexpr uint8_t kParityNone = 1, kParityOdd = 2, kParityEven = 3, kParityMark = 4,
                  kParitySpace = 5;
constexpr uint8_t kHalfStopBitsOne = 2, kHalfStopBitsTwo = 4;
constexpr uint32_t kFlowRfr = 0x004, kFlowTxo = 0x008, kFlowRxo = 0x010, kFlowCts = 0x020,
                   kFlowXany = 0x400;

// struct termios2 of <asm/termbits.h> (which cannot be included with <termios.h>).
struct KernelTermios2 {
  tcflag_t c_iflag, c_oflag, c_cflag, c_lflag;
  cc_t c_line;
  cc_t c_cc[19];
  speed_t c_ispeed, c_ospeed;
};
constexpr unsigned long kTcGets2 = _IOR('T', 0x2A, KernelTermios2);
constexpr unsigned long kTcSets2 = _IOW('T', 0x2B, KernelTermios2);
constexpr unsigned long kTcSetsW2 = _IOW('T', 0x2C, KernelTermios2);
constexpr unsigned long kTcSetsF2 = _IOW('T', 0x2D, KernelTermios2);
constexpr tcflag_t kBother = 0010000;  // <asm/termbits.h> BOTHER: the rate is in c_ospeed

// ------------------------------------------------------------ the C library

template <typename F>
F next(const char* name) {
  return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

struct Real {
  int (*open)(const char*, int, ...) = next<decltype(open)>("open");
  int (*open64)(const char*, int, ...) = next<decltype(open64)>("open64");
  int (*openat)(int, const char*, int, ...) = next<decltype(openat)>("openat");
  int (*openat64)(int, const char*, int, ...) = next<decltype(openat64)>("openat64");
  int (*open_2)(const char*, int) = next<decltype(open_2)>("__open_2");
  int (*open64_2)(const char*, int) = next<decltype(open64_2)>("__open64_2");
  int (*openat_2)(int, const char*, int) = next<decltype(openat_2)>("__openat_2");
  int (*openat64_2)(int, const char*, int) = next<decltype(openat64_2)>("__openat64_2");
  int (*close)(int) = next<decltype(close)>("close");
  int (*ioctl)(int, unsigned long, ...) = next<decltype(ioctl)>("ioctl");
  int (*tcgetattr)(int, struct termios*) = next<decltype(tcgetattr)>("tcgetattr");
  int (*tcsetattr)(int, int, const struct termios*) = next<decltype(tcsetattr)>("tcsetattr");
  int (*tcdrain)(int) = next<decltype(tcdrain)>("tcdrain");
  int (*tcflush)(int, int) = next<decltype(tcflush)>("tcflush");
  int (*tcsendbreak)(int, int) = next<decltype(tcsendbreak)>("tcsendbreak");
};

const Real& real() {
  static const Real functions;
  return functions;
}

// ------------------------------------------------------------ harness ports

struct Port {
  std::mutex mutex;  // one request at a time on `socket`
  int socket = -1;   // the session's connection
  pid_t pid = 0;     // the process that made `socket` (a forked child makes its own)
  dev_t dev = 0, rdev = 0;
  uid_t owner = 0;
  char name[64] = {};
};

enum : uint8_t { kUnknown = 0, kPlain = 1, kHarness = 2 };
constexpr int kMaxFd = 1 << 16;
std::array<std::atomic<uint8_t>, kMaxFd> g_state{};
std::array<std::atomic<Port*>, kMaxFd> g_ports{};
std::mutex g_classify;

bool quiet() {
  static const bool value = std::getenv("USBSERIAL_SHIM_QUIET") != nullptr;
  return value;
}

// What the client's user should know (a refused setting): one line on stderr.
void tell(const Port& port, const char* message) {
  if (quiet() || message[0] == '\0') {
    return;
  }
  char line[320];
  const int n = std::snprintf(line, sizeof line, "usbserial-run: %s: %s\n", port.name, message);
  if (n > 0) {
    (void)!::write(STDERR_FILENO, line, std::min(static_cast<size_t>(n), sizeof line - 1));
  }
}

bool is_pty_slave(const struct stat& st) {
  return S_ISCHR(st.st_mode) && major(st.st_rdev) >= 136 && major(st.st_rdev) <= 143;
}

// A connection to the bridge serving the pty, or -1 (none: not a harness port).
int connect_bridge(dev_t dev, dev_t rdev, uid_t owner) {
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  const std::string name = wire::socket_name(dev, rdev);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path + 1, name.data(), name.size());
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  ucred peer{};
  socklen_t peer_size = sizeof peer;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0 ||
      ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &peer_size) != 0 ||
      (peer.uid != owner && peer.uid != 0) || peer.pid == ::getpid()) {
    // Not served, served by a stranger, or served by this very process (a
    // bridge run under usbserial-run touching its own pty): not a client's port.
    real().close(fd);
    return -1;
  }
  return fd;
}

bool exchange(int fd, const wire::Request& request, wire::Reply& reply) {
  if (::send(fd, &request, sizeof request, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof request)) {
    return false;
  }
  for (;;) {
    const ssize_t n = ::recv(fd, &reply, sizeof reply, 0);
    if (n < 0 && errno == EINTR) {
      continue;  // as a tty's calls restart after a handled signal
    }
    return n == static_cast<ssize_t>(sizeof reply) && reply.magic == wire::kMagic;
  }
}

// Sends `request` on the port's session connection. 0, or -1 with errno.
int call(Port& port, const wire::Request& request, wire::Reply& reply) {
  std::lock_guard lock(port.mutex);
  if (port.pid != ::getpid()) {
    // A forked child: the parent's connection is not ours to share.
    const int fd = connect_bridge(port.dev, port.rdev, port.owner);
    wire::Request open;
    open.op = wire::Op::open;
    if (fd < 0 || !exchange(fd, open, reply)) {
      if (fd >= 0) {
        real().close(fd);
      }
      errno = EIO;
      return -1;
    }
    port.socket = fd;
    port.pid = ::getpid();
  }
  if (!exchange(port.socket, request, reply)) {
    errno = EIO;  // the bridge went away: the port is gone
    return -1;
  }
  if (reply.error != 0) {
    if (request.op == wire::Op::set_line) {
      tell(port, reply.message);
    }
    errno = reply.error;
    return -1;
  }
  return 0;
}

// A request that may block for long (drain, break, TIOCMIWAIT) goes on a
// connection of its own, so it holds up no other thread's calls.
int call_blocking(Port& port, const wire::Request& request, wire::Reply& reply) {
  const int fd = connect_bridge(port.dev, port.rdev, port.owner);
  if (fd < 0) {
    errno = EIO;
    return -1;
  }
  const bool ok = exchange(fd, request, reply);
  real().close(fd);
  if (!ok) {
    errno = EIO;
    return -1;
  }
  if (reply.error != 0) {
    errno = reply.error;
    return -1;
  }
  if (reply.message[0] != '\0') {
    tell(port, reply.message);
  }
  return 0;
}

void forget(int fd) {
  if (Port* port = g_ports[fd].exchange(nullptr)) {
    if (port->pid == ::getpid()) {
      real().close(port->socket);
    }
    delete port;
  }
  g_state[fd].store(kUnknown);
}

// Looks at a descriptor for the first time. `error` gets the bridge's refusal
// of the session (EBUSY, EIO), if any.
Port* classify(int fd, int* error) {
  std::lock_guard lock(g_classify);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !is_pty_slave(st)) {
    g_state[fd].store(kPlain);
    return nullptr;
  }
  const int socket = connect_bridge(st.st_dev, st.st_rdev, st.st_uid);
  if (socket < 0) {
    g_state[fd].store(kPlain);
    return nullptr;
  }
  auto* port = new Port;
  port->socket = socket;
  port->pid = ::getpid();
  port->dev = st.st_dev;
  port->rdev = st.st_rdev;
  port->owner = st.st_uid;
  wire::Request open;
  open.op = wire::Op::open;
  wire::Reply reply;
  if (!exchange(socket, open, reply) || reply.error != 0) {
    if (error != nullptr) {
      *error = reply.error != 0 ? reply.error : EIO;
    }
    std::snprintf(port->name, sizeof port->name, "%s", reply.name);
    tell(*port, reply.message);
    real().close(socket);
    delete port;
    g_state[fd].store(kPlain);
    return nullptr;
  }
  std::snprintf(port->name, sizeof port->name, "%s", reply.name);
  if ((reply.state & wire::kStateFreshSession) != 0) {
    real().tcflush(fd, TCIFLUSH);  // nothing of an earlier session is read in this one
  }
  g_ports[fd].store(port);
  g_state[fd].store(kHarness);
  return port;
}

// The harness port behind `fd`, or nullptr. The descriptor is checked to be
// the same pty each time: one closed behind our back (fclose, close_range) and
// its number reused must not be taken for the port.
Port* harness_port(int fd) {
  if (fd < 0 || fd >= kMaxFd) {
    return nullptr;
  }
  const uint8_t state = g_state[fd].load();
  if (state == kHarness) {
    Port* port = g_ports[fd].load();
    struct stat st {};
    if (port != nullptr && ::fstat(fd, &st) == 0 && st.st_rdev == port->rdev &&
        st.st_dev == port->dev && S_ISCHR(st.st_mode)) {
      return port;
    }
    forget(fd);
  } else if (state == kPlain) {
    return nullptr;
  }
  return classify(fd, nullptr);
}

// After every successful open: a new descriptor, looked at afresh. A port whose
// session the bridge refuses (exclusive use, a refused open) fails the open.
int opened(int fd) {
  if (fd < 0 || fd >= kMaxFd) {
    return fd;
  }
  forget(fd);
  int error = 0;
  classify(fd, &error);
  if (error != 0) {
    real().close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

// ------------------------------------------------------------ termios <-> line

uint32_t speed_value(speed_t code) {
  struct Entry {
    speed_t code;
    uint32_t value;
  };
  static constexpr Entry kSpeeds[] = {{B0, 0},
                                      {B50, 50},
                                      {B75, 75},
                                      {B110, 110},
                                      {B134, 134},
                                      {B150, 150},
                                      {B200, 200},
                                      {B300, 300},
                                      {B600, 600},
                                      {B1200, 1200},
                                      {B1800, 1800},
                                      {B2400, 2400},
                                      {B4800, 4800},
                                      {B9600, 9600},
                                      {B19200, 19200},
                                      {B38400, 38400},
                                      {B57600, 57600},
                                      {B115200, 115200},
                                      {B230400, 230400},
                                      {B460800, 460800},
                                      {B500000, 500000},
                                      {B576000, 576000},
                                      {B921600, 921600},
                                      {B1000000, 1000000},
                                      {B1152000, 1152000},
                                      {B1500000, 1500000},
                                      {B2000000, 2000000},
                                      {B2500000, 2500000},
                                      {B3000000, 3000000},
                                      {B3500000, 3500000},
                                      {B4000000, 4000000}};
  for (const Entry& entry : kSpeeds) {
    if (entry.code == code) {
      return entry.value;
    }
  }
  return 0;
}

wire::Line line_of(tcflag_t iflag, tcflag_t cflag, const cc_t* cc, uint32_t baud) {
  wire::Line line;
  line.baud = baud;
  switch (cflag & CSIZE) {
    case CS5:
      line.data_bits = 5;
      break;
    case CS6:
      line.data_bits = 6;
      break;
    case CS7:
      line.data_bits = 7;
      break;
    default:
      line.data_bits = 8;
  }
  line.half_stop_bits = (cflag & CSTOPB) != 0 ? kHalfStopBitsTwo : kHalfStopBitsOne;
  if ((cflag & PARENB) == 0) {
    line.parity = kParityNone;
  } else if ((cflag & CMSPAR) != 0) {
    line.parity = (cflag & PARODD) != 0 ? kParityMark : kParitySpace;
  } else {
    line.parity = (cflag & PARODD) != 0 ? kParityOdd : kParityEven;
  }
  line.flow = ((cflag & CRTSCTS) != 0 ? kFlowRfr | kFlowCts : 0) |
              ((iflag & IXON) != 0 ? kFlowTxo : 0) | ((iflag & IXOFF) != 0 ? kFlowRxo : 0) |
              ((iflag & IXANY) != 0 ? kFlowXany : 0);
  line.xon = cc[VSTART];
  line.xoff = cc[VSTOP];
  return line;
}

// Data bits, parity and stop bits as programmed (a pty keeps CS8 and no parity).
tcflag_t with_framing(tcflag_t cflag, const wire::Line& line) {
  cflag &= ~(CSIZE | PARENB | PARODD | CMSPAR | CSTOPB);
  cflag |= line.data_bits == 5 ? CS5 : line.data_bits == 6 ? CS6 : line.data_bits == 7 ? CS7 : CS8;
  switch (line.parity) {
    case kParityOdd:
      cflag |= PARENB | PARODD;
      break;
    case kParityEven:
      cflag |= PARENB;
      break;
    case kParityMark:
      cflag |= PARENB | CMSPAR | PARODD;
      break;
    case kParitySpace:
      cflag |= PARENB | CMSPAR;
      break;
    default:
      break;
  }
  if (line.half_stop_bits == kHalfStopBitsTwo) {
    cflag |= CSTOPB;
  }
  return cflag;
}

// What a pty keeps of the framing: CS8, no parity (CSTOPB stays).
tcflag_t pty_framing(tcflag_t cflag) {
  return (cflag & ~(CSIZE | PARENB | PARODD | CMSPAR)) | CS8;
}

// Programs the line a termios asks for. 0, or -1 with errno (EINVAL: refused).
int set_line(Port& port, int when, wire::Line line) {
  wire::Request request;
  wire::Reply reply;
  if (line.baud == 0) {
    // B0 hangs up: DTR and RTS drop, the rate stays.
    request.op = wire::Op::modem_set;
    request.arg = TIOCMBIC;
    request.value = TIOCM_DTR | TIOCM_RTS;
    if (call(port, request, reply) != 0) {
      return -1;
    }
    line.baud = reply.line.baud;
  }
  request = {};
  request.op = wire::Op::set_line;
  request.when = when;
  request.line = line;
  return call(port, request, reply);
}

int get_line(Port& port, wire::Line& line) {
  wire::Request request;
  request.op = wire::Op::get_line;
  wire::Reply reply;
  if (call(port, request, reply) != 0) {
    return -1;
  }
  line = reply.line;
  return 0;
}

int simple(Port& port, wire::Op op, int64_t value, wire::Reply& reply, uint32_t arg = 0) {
  wire::Request request;
  request.op = op;
  request.value = value;
  request.arg = arg;
  return call(port, request, reply);
}

int blocking(Port& port, wire::Op op, int64_t value) {
  wire::Request request;
  request.op = op;
  request.value = value;
  wire::Reply reply;
  return call_blocking(port, request, reply);
}

int break_for(Port& port, int64_t milliseconds) {
  return blocking(port, wire::Op::timed_break, milliseconds);
}

bool carried(unsigned long request) {
  switch (request) {
    case TCGETS:
    case TCSETS:
    case TCSETSW:
    case TCSETSF:
    case kTcGets2:
    case kTcSets2:
    case kTcSetsW2:
    case kTcSetsF2:
    case TCSBRK:
    case TCSBRKP:
    case TIOCSBRK:
    case TIOCCBRK:
    case TIOCMGET:
    case TIOCMSET:
    case TIOCMBIS:
    case TIOCMBIC:
    case TIOCMIWAIT:
    case TIOCGICOUNT:
    case TIOCOUTQ:
    case TIOCINQ:
    case TIOCEXCL:
    case TIOCNXCL:
    case TCFLSH:
      return true;
    default:
      return false;
  }
}

int when_of(unsigned long request) {
  if (request == TCSETSW || request == kTcSetsW2) {
    return TCSADRAIN;
  }
  if (request == TCSETSF || request == kTcSetsF2) {
    return TCSAFLUSH;
  }
  return TCSANOW;
}

int carried_ioctl(int fd, Port& port, unsigned long request, void* arg) {
  wire::Reply reply;
  switch (request) {
    case TCGETS:
    case kTcGets2: {
      wire::Line line;
      if (real().ioctl(fd, request, arg) != 0 || get_line(port, line) != 0) {
        return -1;
      }
      auto* flags = static_cast<tcflag_t*>(arg);  // both structs start with the four flag words
      flags[2] = with_framing(flags[2], line);
      return 0;
    }
    case TCSETS:
    case TCSETSW:
    case TCSETSF: {
      // The old struct termios has no speed fields: a B-code, or the rate in force.
      const auto* t = static_cast<const KernelTermios2*>(arg);
      uint32_t baud = speed_value(t->c_cflag & CBAUD);
      if ((t->c_cflag & CBAUD) == kBother) {
        wire::Line now;
        if (get_line(port, now) != 0) {
          return -1;
        }
        baud = now.baud;
      }
      if (set_line(port, when_of(request), line_of(t->c_iflag, t->c_cflag, t->c_cc, baud)) != 0) {
        return -1;
      }
      return real().ioctl(fd, request, arg);
    }
    case kTcSets2:
    case kTcSetsW2:
    case kTcSetsF2: {
      const auto* t = static_cast<const KernelTermios2*>(arg);
      const uint32_t baud =
          (t->c_cflag & CBAUD) == kBother ? t->c_ospeed : speed_value(t->c_cflag & CBAUD);
      if (set_line(port, when_of(request), line_of(t->c_iflag, t->c_cflag, t->c_cc, baud)) != 0) {
        return -1;
      }
      return real().ioctl(fd, request, arg);
    }
    case TCSBRK:  // 0: a break of 0.25 s after draining; otherwise tcdrain
      if (reinterpret_cast<intptr_t>(arg) == 0) {
        return break_for(port, 250);
      }
      return blocking(port, wire::Op::drain, 0);
    case TCSBRKP: {  // a break of arg tenths of a second (0: 0.25 s)
      const auto tenths = reinterpret_cast<intptr_t>(arg);
      return break_for(port, tenths > 0 ? tenths * 100 : 250);
    }
    case TIOCSBRK:
    case TIOCCBRK:
      return simple(port, wire::Op::set_break, request == TIOCSBRK ? 1 : 0, reply);
    case TIOCMGET:
      if (simple(port, wire::Op::modem_get, 0, reply) != 0) {
        return -1;
      }
      *static_cast<int*>(arg) = static_cast<int>(reply.modem);
      return 0;
    case TIOCMSET:
    case TIOCMBIS:
    case TIOCMBIC:
      return simple(port, wire::Op::modem_set, *static_cast<const int*>(arg), reply,
                    static_cast<uint32_t>(request));
    case TIOCMIWAIT:
      return blocking(port, wire::Op::modem_wait, reinterpret_cast<intptr_t>(arg));
    case TIOCGICOUNT: {
      if (simple(port, wire::Op::counters, 0, reply) != 0) {
        return -1;
      }
      serial_icounter_struct counts{};
      counts.cts = reply.counters.cts;
      counts.dsr = reply.counters.dsr;
      counts.rng = reply.counters.rng;
      counts.dcd = reply.counters.dcd;
      counts.rx = reply.counters.rx;
      counts.tx = reply.counters.tx;
      counts.frame = reply.counters.frame;
      counts.overrun = reply.counters.overrun;
      counts.parity = reply.counters.parity;
      counts.brk = reply.counters.brk;
      counts.buf_overrun = reply.counters.buf_overrun;
      std::memcpy(arg, &counts, sizeof counts);
      return 0;
    }
    case TIOCOUTQ:
      if (simple(port, wire::Op::queues, 0, reply) != 0) {
        return -1;
      }
      *static_cast<int*>(arg) = static_cast<int>(reply.out_queue);
      return 0;
    case TIOCINQ: {
      int in_pty = 0;
      if (real().ioctl(fd, TIOCINQ, &in_pty) != 0 ||
          simple(port, wire::Op::queues, 0, reply) != 0) {
        return -1;
      }
      *static_cast<int*>(arg) = in_pty + static_cast<int>(reply.in_queue);
      return 0;
    }
    case TIOCEXCL:
    case TIOCNXCL:
      if (real().ioctl(fd, request, arg) != 0) {
        return -1;
      }
      return simple(port, wire::Op::exclusive, request == TIOCEXCL ? 1 : 0, reply);
    case TCFLSH:
      if (real().ioctl(fd, request, arg) != 0) {
        return -1;
      }
      return simple(port, wire::Op::flush, reinterpret_cast<intptr_t>(arg), reply);
    default:
      return real().ioctl(fd, request, arg);
  }
}

mode_t mode_argument(int flags, va_list args) {
  return (flags & (O_CREAT | O_TMPFILE)) != 0 ? static_cast<mode_t>(va_arg(args, int)) : 0;
}

}  // namespace

// ------------------------------------------------------------ interposed symbols
// The library is built with hidden visibility; these are the only symbols it exports.

#define SHIM_EXPORT __attribute__((visibility("default")))

extern "C" {

SHIM_EXPORT int open(const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  const mode_t mode = mode_argument(flags, args);
  va_end(args);
  return opened(real().open(path, flags, mode));
}

SHIM_EXPORT int open64(const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  const mode_t mode = mode_argument(flags, args);
  va_end(args);
  return opened(real().open64(path, flags, mode));
}

SHIM_EXPORT int openat(int dir, const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  const mode_t mode = mode_argument(flags, args);
  va_end(args);
  return opened(real().openat(dir, path, flags, mode));
}

SHIM_EXPORT int openat64(int dir, const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  const mode_t mode = mode_argument(flags, args);
  va_end(args);
  return opened(real().openat64(dir, path, flags, mode));
}

// The _FORTIFY_SOURCE entry points.
SHIM_EXPORT int __open_2(const char* path, int flags) {
  return opened(real().open_2(path, flags));
}
SHIM_EXPORT int __open64_2(const char* path, int flags) {
  return opened(real().open64_2(path, flags));
}
SHIM_EXPORT int __openat_2(int dir, const char* path, int flags) {
  return opened(real().openat_2(dir, path, flags));
}
SHIM_EXPORT int __openat64_2(int dir, const char* path, int flags) {
  return opened(real().openat64_2(dir, path, flags));
}

SHIM_EXPORT int close(int fd) {
  if (fd < 0 || fd >= kMaxFd) {
    return real().close(fd);
  }
  if (g_state[fd].load() == kHarness) {
    if (Port* port = harness_port(fd)) {
      // A tty's close waits for its output to go out (bounded by the closing wait).
      wire::Reply reply;
      wire::Request request;
      request.op = wire::Op::close_drain;
      if (call(*port, request, reply) == 0) {
        tell(*port, reply.message);
      }
    }
  }
  const int result = real().close(fd);
  const int saved = errno;
  forget(fd);  // the number may come back as anything
  errno = saved;
  return result;
}

SHIM_EXPORT int ioctl(int fd, unsigned long request, ...) {
  va_list args;
  va_start(args, request);
  void* arg = va_arg(args, void*);
  va_end(args);
  Port* port = carried(request) ? harness_port(fd) : nullptr;
  if (port == nullptr) {
    return real().ioctl(fd, request, arg);
  }
  return carried_ioctl(fd, *port, request, arg);
}

SHIM_EXPORT int tcgetattr(int fd, struct termios* t) {
  const int result = real().tcgetattr(fd, t);
  Port* port = result == 0 ? harness_port(fd) : nullptr;
  if (port == nullptr) {
    return result;
  }
  wire::Line line;
  if (get_line(*port, line) != 0) {
    return -1;
  }
  t->c_cflag = with_framing(t->c_cflag, line);
  return 0;
}

SHIM_EXPORT int tcsetattr(int fd, int when, const struct termios* t) {
  Port* port = harness_port(fd);
  if (port != nullptr) {
    // BOTHER through tcsetattr names no rate (glibc keeps speed codes in
    // c_ospeed); like the kernel's TCSETS, it keeps the rate in force. pyserial
    // sends one for a rate without a B-code, then the rate itself with TCSETS2.
    const speed_t code = cfgetospeed(t);
    uint32_t baud = speed_value(code);
    if (code == kBother) {
      wire::Line now;
      if (get_line(*port, now) != 0) {
        return -1;
      }
      baud = now.baud;
    }
    if (set_line(*port, when, line_of(t->c_iflag, t->c_cflag, t->c_cc, baud)) != 0) {
      return -1;
    }
    // The rest goes to the pty, with the framing a pty holds: glibc reads the
    // termios back and calls it EINVAL when CSIZE or PARENB did not stick.
    struct termios for_pty = *t;
    for_pty.c_cflag = pty_framing(t->c_cflag);
    return real().tcsetattr(fd, when, &for_pty);
  }
  return real().tcsetattr(fd, when, t);
}

SHIM_EXPORT int tcdrain(int fd) {
  Port* port = harness_port(fd);
  return port == nullptr ? real().tcdrain(fd) : blocking(*port, wire::Op::drain, 0);
}

SHIM_EXPORT int tcflush(int fd, int queue) {
  const int result = real().tcflush(fd, queue);
  Port* port = result == 0 ? harness_port(fd) : nullptr;
  if (port == nullptr) {
    return result;
  }
  wire::Reply reply;
  return simple(*port, wire::Op::flush, queue, reply);
}

SHIM_EXPORT int tcsendbreak(int fd, int duration) {
  Port* port = harness_port(fd);
  if (port == nullptr) {
    return real().tcsendbreak(fd, duration);
  }
  // glibc's meaning: duration <= 0 is 0.25 s, else milliseconds rounded up to 0.1 s.
  return break_for(*port, duration <= 0 ? 250 : (duration + 99) / 100 * 100);
}

}  // extern "C"
