// Line settings, modem lines, flow control and the reports a chip produces
// while decoding what the device sends. Plain values, no behaviour.
#pragma once

#include <cstdint>

namespace transport {

enum class Parity : uint8_t { none, odd, even, mark, space };
enum class StopBits : uint8_t { one, one_and_half, two };

struct LineSettings {
  uint32_t baud = 9600;
  uint8_t data_bits = 8;  // 5..8
  Parity parity = Parity::none;
  StopBits stop_bits = StopBits::one;

  friend constexpr bool operator==(const LineSettings&, const LineSettings&) = default;
};

// Output lines the host drives.
struct ModemControl {
  bool dtr = false;
  bool rts = false;
  friend constexpr bool operator==(const ModemControl&, const ModemControl&) = default;
};

// Input lines the device reports.
struct ModemStatus {
  bool cts = false;
  bool dsr = false;
  bool ri = false;
  bool dcd = false;
  friend constexpr bool operator==(const ModemStatus&, const ModemStatus&) = default;
};

// Flow-control modes; several may be requested, a chip refuses combinations it cannot do.
namespace flow {
inline constexpr uint8_t kNone = 0;
inline constexpr uint8_t kRtsCts = 1 << 0;      // RTS/CTS hardware handshake
inline constexpr uint8_t kDtrDsr = 1 << 1;      // DTR/DSR hardware handshake
inline constexpr uint8_t kXonXoffOut = 1 << 2;  // obey XON/XOFF received from the line (IXON)
inline constexpr uint8_t kXonXoffIn = 1 << 3;   // send XOFF/XON when our buffer fills (IXOFF)
}  // namespace flow

struct FlowControl {
  uint8_t modes = flow::kNone;
  uint8_t xon = 0x11;   // DC1
  uint8_t xoff = 0x13;  // DC3
  friend constexpr bool operator==(const FlowControl&, const FlowControl&) = default;
};

// Line-error events seen in one decoded transfer or notification.
struct LineErrors {
  uint32_t overrun = 0;
  uint32_t parity = 0;
  uint32_t framing = 0;
  uint32_t brk = 0;

  constexpr bool any() const { return (overrun | parity | framing | brk) != 0; }
  constexpr LineErrors& operator+=(const LineErrors& o) {
    overrun += o.overrun;
    parity += o.parity;
    framing += o.framing;
    brk += o.brk;
    return *this;
  }
};

// What decode_rx / decode_interrupt found besides payload.
struct RxReport {
  LineErrors errors;
  bool modem_valid = false;  // `modem` holds the last modem status seen in the input
  ModemStatus modem;
  bool tx_empty_valid = false;  // the chip said whether its transmitter is empty
  bool tx_empty = false;
  uint32_t status_only_packets = 0;  // packets that carried status and no payload
  uint32_t malformed = 0;            // packets or fragments rejected as invalid
};

// What a chip can do, so the dext and the tools can ask before acting.
namespace capability {
inline constexpr uint32_t kBreak = 1u << 0;
inline constexpr uint32_t kRtsCts = 1u << 1;
inline constexpr uint32_t kDtrDsr = 1u << 2;
inline constexpr uint32_t kXonXoff = 1u << 3;
inline constexpr uint32_t kPurge = 1u << 4;
inline constexpr uint32_t kLatencyTimer = 1u << 5;
inline constexpr uint32_t kModemStatusPoll = 1u << 6;
inline constexpr uint32_t kLineErrors = 1u << 7;    // parity/framing/overrun/break reported
inline constexpr uint32_t kMarkSpace = 1u << 8;     // mark and space parity
inline constexpr uint32_t kDataBits5_6 = 1u << 9;   // 5 and 6 data bits
inline constexpr uint32_t kStopBits1_5 = 1u << 10;  // 1.5 stop bits
inline constexpr uint32_t kCts = 1u << 11;          // the chip reports CTS at all
// The device has no modem lines at all (no DTR/RTS outputs, no inputs): a vendor
// bulk pipe. SerialPort then records DTR/RTS without driving them.
inline constexpr uint32_t kNoModemLines = 1u << 12;
// No break register: a break can only be emulated by a timed space condition (one NUL
// character at the chip's lowest rate, written by the data path; its length is fixed).
inline constexpr uint32_t kBreakEmulated = 1u << 13;
}  // namespace capability

struct Capabilities {
  uint32_t flags = 0;
  uint32_t min_baud = 0;
  uint32_t max_baud = 0;
  constexpr bool has(uint32_t flag) const { return (flags & flag) == flag; }
};

}  // namespace transport
