// ChipProtocol: what one chip family must implement (one file per family under chips/).
//
// A protocol never does I/O: it describes control transfers to a ControlSink
// and decodes, in place, what the device sent. Mandatory operations are pure
// virtual; optional ones default to Status::unsupported, and capabilities()
// says which of them work, so callers can ask before acting.
//
// Threading: single-threaded by contract (DriverKit serialises a driver's calls).
#pragma once

#include <cstdint>
#include <span>

#include "control.hpp"
#include "device_table.hpp"
#include "line.hpp"
#include "status.hpp"

namespace transport {

// Everything a protocol needs to know about the port it drives; filled from the
// device table and the descriptors (never from guesses).
struct PortConfig {
  ChipVariant variant = ChipVariant::cdc_acm;
  uint8_t interface_number = 0;       // interface the port was matched on (CDC: control interface)
  uint8_t data_interface = 0;         // CDC: the paired data interface; others: interface_number
  uint8_t port_index = 0;             // 0-based channel of a multi-port chip (FTDI port A = 0)
  uint16_t bulk_in_max_packet = 0;    // wMaxPacketSize of the bulk IN endpoint
  uint16_t interrupt_max_packet = 0;  // wMaxPacketSize of the interrupt IN endpoint, 0 if none
  uint8_t acm_capabilities = 0;       // CDC ACM functional descriptor bmCapabilities
};

class ChipProtocol {
 public:
  // Binds the protocol to one port. invalid_argument when the config cannot be
  // driven by this family (wrong variant, zero packet size, ...). Resets all state.
  virtual Status configure(const PortConfig& config) = 0;

  // Short lower-case name of the configured variant, e.g. "ft232r".
  virtual const char* name() const = 0;

  virtual Capabilities capabilities() const = 0;

  // The chip's init sequence, run when the port is opened (HwActivate).
  virtual Status open(ControlSink& sink) = 0;

  // Leaves the chip quiet when the port closes: flow control off, DTR/RTS low.
  virtual Status close(ControlSink& sink) = 0;

  // Programs rate and framing. On ok, `actual_baud` is the rate the chip really
  // runs at (rounded to the nearest bit/s). A rate the chip cannot make within
  // kBaudTolerancePercent is baud_unreachable and nothing is sent to the chip.
  virtual Status set_line(ControlSink& sink, const LineSettings& line, uint32_t& actual_baud) = 0;

  virtual Status set_modem_control(ControlSink& sink, ModemControl lines) = 0;

  virtual Status set_flow_control(ControlSink&, const FlowControl&) { return Status::unsupported; }
  virtual Status set_break(ControlSink&, bool) { return Status::unsupported; }
  // Discards what the chip holds: tx = host->line FIFO, rx = line->host FIFO.
  virtual Status purge(ControlSink&, bool, bool) { return Status::unsupported; }
  virtual Status set_latency(ControlSink&, uint8_t) { return Status::unsupported; }
  virtual Status get_modem_status(ControlSink&, ModemStatus&) { return Status::unsupported; }

  // Strips in-band framing from one bulk-IN transfer, in place: the payload is
  // compacted to the front of `transfer` and its length returned. Line errors,
  // modem status and malformed input are added to `report`. Never reads or
  // writes outside `transfer`; any byte pattern is acceptable input.
  virtual uint32_t decode_rx(std::span<uint8_t> transfer, RxReport& report) = 0;

  // Decodes one interrupt-IN transfer (notifications may arrive split across
  // transfers; the protocol keeps what it needs between calls).
  virtual Status decode_interrupt(std::span<const uint8_t>, RxReport&) {
    return Status::unsupported;
  }

 protected:
  ~ChipProtocol() = default;
};

// Our baud policy: a request the chip cannot meet within this tolerance is an error.
inline constexpr uint32_t kBaudTolerancePermille = 30;  // 3 %

// True when |actual - requested| <= 3 % of requested.
constexpr bool baud_within_tolerance(uint32_t requested, uint64_t actual) {
  const uint64_t diff = actual > requested ? actual - requested : requested - actual;
  return diff * 1000 <= static_cast<uint64_t>(requested) * kBaudTolerancePermille;
}

}  // namespace transport
