// The wire between a port's tty side (BsdClient) and the client shim
// (test-harness/shim, loaded into a program with LD_PRELOAD by usbserial-run).
//
// A pty carries bytes, the baud rate, CSTOPB and the flow-control flags, but not
// data bits, parity, modem lines, break, drain or queue depths. For those, the
// shim talks to the bridge that owns the pty over a SOCK_SEQPACKET socket in the
// abstract namespace, named after the pty itself (its devpts instance and
// device number), so it vanishes with the bridge, even after SIGKILL, and a
// reused pty number can never lead a client to a bridge that does not own it.
//
// One request, one reply, both fixed-size records; a connection carries one
// request at a time. A connection that starts with `open` is a session (it
// takes part in exclusive access and is what the tty side counts as a client
// with the shim); blocking requests (drain, modem_wait, timed_break) are sent
// on connections of their own so they never hold up another thread's calls.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace tty::wire {

inline constexpr uint32_t kMagic = 0x55534231;  // "USB1"; bumped when a record changes

enum class Op : uint32_t {
  open = 1,     // start a session: waits until the port is active; EBUSY when exclusive
  set_line,     // program `line` (tcsetattr): EINVAL and nothing changed when refused
  get_line,     // the line in force
  modem_get,    // TIOCMGET
  modem_set,    // TIOCMSET / TIOCMBIS / TIOCMBIC: `arg` is the ioctl, `value` the bits
  modem_wait,   // TIOCMIWAIT: `value` is the mask; replies on a change
  counters,     // TIOCGICOUNT
  set_break,    // TIOCSBRK (value 1) / TIOCCBRK (value 0)
  timed_break,  // TCSBRK 0 / TCSBRKP / tcsendbreak: drain, then `value` ms of break
  drain,        // tcdrain: replies when the driver's TX path is empty
  close_drain,  // the closing wait of close(): like drain, bounded by the bridge's closing wait
  queues,       // TIOCINQ / TIOCOUTQ: what the tty side and the driver hold
  flush,        // after tcflush: `value` is TCIFLUSH / TCOFLUSH / TCIOFLUSH
  exclusive,    // TIOCEXCL (value 1) / TIOCNXCL (value 0)
};

// The line as the driver has it: HwProgramUART / HwProgramFlowControl arguments.
struct Line {
  uint32_t baud = 0;
  uint8_t data_bits = 8;
  uint8_t half_stop_bits = 2;  // PD: 2 = 1 stop bit, 4 = 2
  uint8_t parity = 1;          // PD_RS232_PARITY_*
  uint8_t reserved = 0;
  uint32_t flow = 0;  // PD_RS232_A_* word
  uint8_t xon = 0x11;
  uint8_t xoff = 0x13;
  uint8_t reserved2[2] = {};
};

// Linux's struct serial_icounter_struct fields, as TIOCGICOUNT reports them.
struct Counters {
  int32_t cts = 0, dsr = 0, rng = 0, dcd = 0;
  int32_t rx = 0, tx = 0;
  int32_t frame = 0, overrun = 0, parity = 0, brk = 0, buf_overrun = 0;
};

struct Request {
  uint32_t magic = kMagic;
  Op op = Op::get_line;
  int32_t when = 0;   // set_line: TCSANOW, TCSADRAIN or TCSAFLUSH
  uint32_t arg = 0;   // modem_set: the ioctl request number
  int64_t value = 0;  // op-specific, see Op
  Line line;          // set_line
};

struct Reply {
  uint32_t magic = kMagic;
  int32_t error = 0;       // 0 or a positive errno
  Line line;               // the line in force after the request
  uint32_t modem = 0;      // TIOCM_* bits: DTR/RTS as programmed, CTS/DSR/RI/CD as last reported
  uint32_t in_queue = 0;   // bytes received and not yet given to the client (ring + driver)
  uint32_t out_queue = 0;  // bytes written and not yet sent (pty + ring + USB)
  Counters counters;
  char name[64] = {};      // the port's name, e.g. "usbserial-SIM1"
  char message[192] = {};  // why a request was refused, in words, for the client's user
  uint32_t state = 0;      // kStateActive, kStateFreshSession
};

inline constexpr uint32_t kStateActive = 1;  // a session has the port open
// In the reply to the `open` that started the session: the slave may still hold
// what the last session left unread, and the shim flushes it before open returns.
inline constexpr uint32_t kStateFreshSession = 2;

// The abstract socket name (without the leading NUL) of the pty whose devpts
// instance is `dev` and device number `rdev`.
inline std::string socket_name(dev_t dev, dev_t rdev) {
  char name[96];
  std::snprintf(name, sizeof name, "usbserial-bridge/tty/%llx/%llx",
                static_cast<unsigned long long>(dev), static_cast<unsigned long long>(rdev));
  return name;
}

}  // namespace tty::wire
