// FTDI USB-UART family: FT232BM, FT232R, FT-X, FT2232C/D, FT232H, FT2232H, FT4232H.
//
// Protocol facts: docs/usb-serial-reference.md §2 (restated from Linux
// drivers/usb/serial/ftdi_sio.{c,h}, libftdi and FTDI AN232B-05 / AN232B-04 / AN_120).
// Where Apple's FTDI dext goes wrong (docs/field-notes.md §1.2) this class does not:
//   - rates above 3 MBd work on the H series (12 MHz reference);
//   - an unreachable rate is an error, never a silent 9600 or a snap to 1.5/2/3 MBd, and the
//     actual rate is reported back;
//   - invalid sub-integer divisors (1.125..1.875 other than 1.5) are never programmed;
//   - received 0x11/0x13 bytes are never removed from the data (XON/XOFF is done by the chip);
//   - IXON alone (XON/XOFF on output only) programs the chip's XON/XOFF mode;
//   - DTR/DSR flow control is available.
#pragma once

#include <cstdint>
#include <span>

#include "../chip_protocol.hpp"
#include "../control.hpp"
#include "../device_table.hpp"
#include "../line.hpp"
#include "../status.hpp"
#include "ftdi_regs.hpp"

namespace transport::chips {

namespace ftdi {

// True for the variants this family drives.
bool is_ftdi(ChipVariant variant);

// True for the H series (FT232H, FT2232H, FT4232H): 12 MHz reference above 1200 Bd.
bool has_12mhz_reference(ChipVariant variant);

// The channel selector that goes in the low byte of wIndex (reference §2.1, Linux >= 6.3
// ftdi_determine_type): 0 on FT232BM and FT232R; 1 on FT-X and FT232H (both accept 0 or 1);
// 1 + port_index on FT2232C/D, FT2232H and FT4232H (port A = 1 ... D = 4).
uint8_t channel_for(ChipVariant variant, uint8_t port_index);

// Result of encoding one rate. `status` is ok, invalid_argument (rate 0, a non-FTDI variant,
// a port the variant does not have) or baud_unreachable.
// When status is ok, or baud_unreachable with a closest divisor to show, the divisor fields
// describe the closest valid divisor; a baud_unreachable encoding must never be sent.
struct BaudEncoding {
  Status status = Status::invalid_argument;
  uint32_t requested = 0;         // bit/s
  uint32_t encoded = 0;           // 18-bit encoded divisor (bits 0-13 n, 14-16 code, 17 clock)
  uint16_t w_value = 0;           // SET_BAUD_RATE wValue = encoded & 0xFFFF
  uint16_t w_index = 0;           // SET_BAUD_RATE wIndex, channel merged
  uint32_t reference_hz = 0;      // 3 MHz or 12 MHz; 0 when no divisor was chosen
  uint32_t divisor_eighths = 0;   // divisor * 8; actual = reference_hz * 8 / divisor_eighths
  uint64_t actual_millibaud = 0;  // actual rate in milli-bit/s, rounded to nearest
  uint32_t actual_baud = 0;       // actual rate in bit/s, rounded to nearest

  bool has_divisor() const { return divisor_eighths != 0; }
};

// Encodes `baud` for one port of `variant` under our policy:
//   - reference 3 MHz, or 12 MHz on the H series for rates >= 1200 Bd;
//   - the valid divisor whose rate is closest to the request (ties: the larger divisor);
//   - baud_unreachable when that rate is more than 3 % off (kBaudTolerancePermille, compared
//     on the exact rational rate), when the request is above the variant's maximum, or below
//     min_baud(); never a fallback rate.
BaudEncoding encode_baud(ChipVariant variant, uint8_t port_index, uint32_t baud);

// Smallest rate any FTDI variant reaches: 3 MHz / 16383.875 = 183.107 Bd, rounded (183).
// The H series use the 3 MHz reference at this end too.
uint32_t min_baud();

// Datasheet maximum of the variant (3 MBd or 12 MBd; device_table.hpp variant_info).
uint32_t max_baud(ChipVariant variant);

// SET_DATA wValue for a line setting, without the break bit. unsupported for 5 or 6 data
// bits (the chips only do 7 and 8), invalid_argument for anything else outside 7..8 or an
// out-of-range parity / stop-bits value.
Status encode_data(const LineSettings& line, uint16_t& value);

// Modem lines from status byte 0 (bulk-IN header or SIO_GET_MODEM_STATUS).
ModemStatus modem_from_status(uint8_t status0);

}  // namespace ftdi

class Ftdi final : public ChipProtocol {
 public:
  Ftdi() = default;

  // invalid_argument for a non-FTDI variant, a port_index >= the variant's port count, or a
  // bulk_in_max_packet below 8. Resets the remembered SET_DATA value (8N1) and break state.
  Status configure(const PortConfig& config) override;
  // The variant name ("ft232r", "ft-x", ...); "ftdi" before configure().
  const char* name() const override;
  Capabilities capabilities() const override;

  // RESET(0), SET_BITMODE(UART), SET_EVENT_CHAR(off), SET_ERROR_CHAR(off). Stops at the
  // first failure. Line, latency, flow and modem control are applied by SerialPort after it.
  Status open(ControlSink& sink) override;
  // SET_FLOW_CTRL none, then MODEM_CTRL DTR and RTS low (0x0300). Both are attempted even
  // when the first fails; the first failure is returned.
  Status close(ControlSink& sink) override;
  // SET_BAUD_RATE then SET_DATA. Everything is validated before anything is sent.
  Status set_line(ControlSink& sink, const LineSettings& line, uint32_t& actual_baud) override;
  // MODEM_CTRL 0x0300 | DTR | RTS << 1: both lines in one request.
  Status set_modem_control(ControlSink& sink, ModemControl lines) override;
  // One of none / RTS-CTS / DTR-DSR / XON-XOFF. The chip has a single XON/XOFF mode that
  // pauses its transmitter on XOFF and sends XOFF/XON itself as its buffer fills, so
  // flow::kXonXoffOut and flow::kXonXoffIn (either or both) select it; it cannot do one
  // direction only. Two modes at once is unsupported; unknown mode bits invalid_argument.
  Status set_flow_control(ControlSink& sink, const FlowControl& flow) override;
  // SET_DATA with the remembered value, with or without bit 14.
  Status set_break(ControlSink& sink, bool on) override;
  // RESET 1 (SIO_TCOFLUSH) for tx, RESET 2 (SIO_TCIFLUSH) for rx, tx first. Neither: ok,
  // nothing sent.
  Status purge(ControlSink& sink, bool tx, bool rx) override;
  // SET_LATENCY_TIMER; 0 is invalid_argument.
  Status set_latency(ControlSink& sink, uint8_t milliseconds) override;
  // GET_MODEM_STATUS (2 bytes); short_transfer when the device answers fewer.
  Status get_modem_status(ControlSink& sink, ModemStatus& status) override;
  // Strips the 2 status bytes at the start of every bulk_in_max_packet chunk.
  uint32_t decode_rx(std::span<uint8_t> transfer, RxReport& report) override;

  // The wIndex channel of the configured port (see ftdi::channel_for).
  uint8_t channel() const { return channel_; }
  // The SET_DATA value set_break() builds on (8N1 = 0x0008 until set_line succeeds).
  uint16_t data_value() const { return data_value_; }

 private:
  Status send(ControlSink& sink, uint8_t request, uint16_t value, uint16_t index_high = 0);

  bool configured_ = false;
  PortConfig config_{};
  uint8_t channel_ = 0;
  uint16_t data_value_ = 8;  // 8 data bits, no parity, 1 stop bit: the chip's default format
  bool break_on_ = false;
};

}  // namespace transport::chips
