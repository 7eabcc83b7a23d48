// SerialPort: every decision between the DriverKit Hw* calls and a ChipProtocol.
//
// The dext translates each Hw* method into one call here and reports what
// comes back; nothing in the dext decides. SerialPort
//   - caches what the system programs before the port is active and applies it,
//     in a fixed order, when the chip has been opened (the kernel raises DTR
//     before HwActivate, and an FTDI RESET in the open sequence would undo it);
//   - translates the PD_RS232_* arguments into line settings and flow modes;
//   - enforces the baud policy (an unreachable rate is an error, the previous
//     rate stays in force, the actual rate is reported);
//   - treats baud 0 as hang-up (DTR and RTS low, rate unchanged), as Linux does;
//   - keeps the statistics the dext publishes.
#pragma once

#include <cstdint>
#include <span>

#include "chip_protocol.hpp"
#include "control.hpp"
#include "line.hpp"
#include "status.hpp"

namespace transport {

// FTDI chips hold partial packets for the latency timer; 16 ms is the chip
// default and the cause of the "16 ms lag" users complain about
// (docs/field-notes.md §8 item 5). We program 1 ms unless told otherwise.
inline constexpr uint8_t kDefaultLatencyMs = 1;

// Where an error happened: a control request, or one of the port's pipes.
enum class FaultSite : uint8_t { none, control, bulk_in, bulk_out, interrupt_in };
// "none", "control", "bulk-in", "bulk-out", "interrupt-in". Never null.
const char* to_string(FaultSite site);

struct PortStats {
  uint64_t rx_bytes = 0;  // payload bytes after in-band framing was stripped
  uint64_t rx_transfers = 0;
  LineErrors errors;  // cumulative line errors reported by the chip
  uint32_t modem_changes = 0;
  uint32_t status_only_packets = 0;
  uint32_t malformed = 0;  // bulk-IN packets rejected by the decoder
  uint32_t interrupt_transfers = 0;
  uint32_t malformed_notifications = 0;  // interrupt-IN transfers or notifications rejected
  uint32_t control_failures = 0;
  uint32_t requested_baud = 0;
  uint32_t actual_baud = 0;  // 0 until a rate has been programmed
  Status last_error = Status::ok;
  FaultSite last_error_site = FaultSite::none;
};

// What one RX or interrupt transfer means to the system.
struct RxEvents {
  bool modem_changed = false;  // call SetModemStatus(modem)
  ModemStatus modem;
  LineErrors errors;  // call RxError when errors.any()
};

class SerialPort {
 public:
  // Binds the port to a protocol and a sink (both outlive the port) and
  // configures the protocol. Resets settings to 9600 8N1, DTR/RTS low, no flow.
  Status attach(ChipProtocol& chip, ControlSink& sink, const PortConfig& config);

  // HwActivate: opens the chip, then applies, in this order and stopping at the
  // first failure: the line (if a rate was programmed since attach; also while
  // hung up), the latency timer (chips with kLatencyTimer), flow control (unless
  // none) and modem control (DTR/RTS low while hung up). Returns that status; on
  // a failure after the open the chip is closed again and the port stays inactive.
  Status activate();
  // HwDeactivate: quiets the chip (flow off, DTR/RTS low).
  Status deactivate();
  bool active() const { return active_; }

  // HwProgramUART. half_stop_bits: 2, 3 or 4. parity: a pd::kParity* value.
  // invalid_argument for anything else (nothing sent). Inactive: cached for
  // activate(). baud 0: hang-up (DTR/RTS low, line unchanged). A rate the chip
  // refuses (baud_unreachable, ...) changes nothing: the previous line, actual
  // rate and hang-up state stay. Leaving a hang-up re-applies DTR/RTS.
  Status program_uart(uint32_t baud, uint8_t data_bits, uint8_t half_stop_bits, uint8_t parity);
  // HwProgramBaudRate.
  Status program_baud(uint32_t baud);
  // HwProgramMCR. Inactive: recorded for activate(). On a device without modem
  // lines (capability kNoModemLines) the lines are only ever recorded: activate()
  // goes ahead without them (the kernel raises DTR before every open) and an
  // active port answers unsupported, as Linux's generic usb-serial does (ENOTTY).
  Status program_mcr(bool dtr, bool rts);
  // HwProgramFlowControl: arg is the PD_RS232_A_* word (serial_constants.hpp).
  Status program_flow(uint32_t arg, uint8_t xon, uint8_t xoff);
  // HwProgramLatencyTimer: milliseconds as Apple documents the argument [U: the
  // tty ioctl IOSSDATALAT is in microseconds]. 0 means the shortest (1 ms);
  // above 255 is invalid_argument (no chip timer is that long; likely µs).
  Status program_latency(uint32_t milliseconds);
  // HwSendBreak.
  Status send_break(bool on);
  // HwResetFIFO. A chip without purge has nothing to flush: ok.
  Status reset_fifo(bool tx, bool rx);
  // HwGetModemStatus: polled from the chip when it can be, else the last status
  // the chip reported in-band. A chip that has no CTS input reports CTS asserted
  // (as Linux does for CDC-ACM), so RTS/CTS users are never blocked forever.
  Status modem_status(ModemStatus& out);

  // handleRxPacket: decodes one bulk-IN transfer in place; returns the payload length.
  uint32_t handle_rx(std::span<uint8_t> transfer, RxEvents& events);
  // handleInterruptPacket.
  void handle_interrupt(std::span<const uint8_t> packet, RxEvents& events);
  // A transfer on one of the port's pipes failed with `status` (the owner of
  // the pipes counts it; this keeps it as the last error). ok and aborted (the
  // owner's own Abort) are not errors and change nothing. True when it was one.
  bool note_pipe_error(FaultSite site, Status status);

  const PortStats& stats() const { return stats_; }
  const LineSettings& line() const { return line_; }
  const FlowControl& flow_control() const { return flow_; }
  ModemControl modem_control() const { return mcr_; }
  const ChipProtocol* chip() const { return chip_; }

 private:
  Status apply_settings();  // what activate() sends after the open
  Status apply_line(const LineSettings& wanted);
  Status apply_mcr();
  Status note(Status status);                             // counts failures, remembers the last one
  void absorb(const RxReport& report, RxEvents& events);  // all but report.malformed

  ChipProtocol* chip_ = nullptr;
  ControlSink* sink_ = nullptr;
  Capabilities caps_{};
  bool active_ = false;
  bool hung_up_ = false;   // baud 0 programmed
  bool line_set_ = false;  // a rate has been programmed since attach
  LineSettings line_{};    // in force (or to apply at activate)
  FlowControl flow_{};
  ModemControl mcr_{};
  uint8_t latency_ms_ = kDefaultLatencyMs;
  ModemStatus modem_{};
  bool modem_known_ = false;
  PortStats stats_{};
};

// HwProgramUART argument translation, exposed for the tests and the tools.
Status parity_from_pd(uint8_t pd_parity, Parity& out);
Status stop_bits_from_half(uint8_t half_stop_bits, StopBits& out);
FlowControl flow_from_pd(uint32_t arg, uint8_t xon, uint8_t xoff);

}  // namespace transport
