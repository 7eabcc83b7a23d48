// Vendor bulk: a port that is nothing but a bulk IN/OUT pair on a vendor-class
// (0xFF) interface, with no chip protocol behind it: a radio's PEI port, a
// modem's AT channel, a microcontroller's own bulk interface. The device
// speaks a byte stream over the pipes and takes no control requests from us.
//
// What that means for the ChipProtocol operations (decisions, not device facts):
//   - no UART: line settings are checked like any chip's, recorded, and reported
//     as in force at exactly the requested rate; nothing is sent;
//   - no modem lines: set_modem_control is unsupported and capabilities() says
//     kNoModemLines, so SerialPort records DTR/RTS without driving them (the
//     kernel raises DTR on every open, which must not fail) and refuses them
//     once the port is open; no CTS, DSR, DCD or RI to report;
//   - no break, flow control, purge or latency timer (the defaults: unsupported);
//   - bulk IN carries raw payload: decode_rx passes it through;
//   - no interrupt endpoint: decode_interrupt keeps its default (unsupported).
// The family has no constants header: it sends no requests and parses no framing.
#pragma once

#include <cstdint>
#include <span>

#include "../chip_protocol.hpp"
#include "../control.hpp"
#include "../line.hpp"
#include "../status.hpp"

namespace transport::chips {

class VendorBulk final : public ChipProtocol {
 public:
  VendorBulk() = default;

  // invalid_argument unless config.variant is ChipVariant::vendor_bulk and
  // bulk_in_max_packet is non-zero. Forgets the recorded line.
  Status configure(const PortConfig& config) override;

  const char* name() const override;

  // kNoModemLines, and every framing (mark/space, 5-6 data bits, 1.5 stop
  // bits) since all of them are only recorded. min_baud 1, max_baud 0 (no limit).
  Capabilities capabilities() const override;

  // Nothing to send. not_open before configure().
  Status open(ControlSink& sink) override;
  Status close(ControlSink& sink) override;

  // Records `line` and sets actual_baud = line.baud. invalid_argument (nothing
  // recorded) for baud 0, data bits outside 5..8, or a parity or stop-bit value
  // outside its enum. Nothing is sent.
  Status set_line(ControlSink& sink, const LineSettings& line, uint32_t& actual_baud) override;

  // unsupported: the device has no modem lines. Nothing is sent.
  Status set_modem_control(ControlSink& sink, ModemControl lines) override;

  // The payload as it came: returns transfer.size(), reports nothing.
  uint32_t decode_rx(std::span<uint8_t> transfer, RxReport& report) override;

  // The line last accepted by set_line since configure() (9600 8N1 before).
  const LineSettings& line() const { return line_; }

 private:
  bool configured_ = false;
  LineSettings line_{};
};

}  // namespace transport::chips
