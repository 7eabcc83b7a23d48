// Prolific PL2303 USB-UART family: H (legacy), HX, HXD, TA, TB and the G series (Linux's
// "HXN": GC, GB, GT, GL, GE, GS, GR).
//
// Protocol facts: Linux drivers/usb/serial/pl2303.c (type detection, vendor init, baud
// encoders, flow-control registers, interrupt status) and usb-serial-for-android
// ProlificSerialDriver (purge registers). Constants: pl2303_regs.hpp.
// Where the usual drivers go wrong, this class does not:
//   - a rate the chip cannot make within 3 % is refused, never clamped to the type's maximum
//     and never sent as a direct value the chip does not know (it would run at 9600);
//   - a divisor is the closest one to the request, and the rate it gives is reported;
//   - an unchanged line coding is not sent again (the chips lose bytes on a redundant
//     SET_LINE);
//   - every line error of the interrupt notifications is counted.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "../chip_protocol.hpp"
#include "../control.hpp"
#include "../descriptors.hpp"
#include "../device_table.hpp"
#include "../line.hpp"
#include "../status.hpp"
#include "pl2303_regs.hpp"

namespace transport::chips {

namespace pl2303 {

// True for the variants this family drives.
bool is_pl2303(ChipVariant variant);

// The type as the device descriptor shows it (Linux pl2303_detect_type, >= v5.13):
//   bDeviceClass 0x02, or bMaxPacketSize0 other than 64: H;
//   bcdUSB 1.01 / 1.10: bcdDevice 0x0400 HXD, anything else HX;
//   bcdUSB 2.00: bcdDevice 0x0300 TA, 0x0500 TB (both only if the type probe at open
//   answers, else G series); 0x0100, 0x0105, 0x0305, 0x0400, 0x0405, 0x0505, 0x0600,
//   0x0605, 0x0700, 0x0705 G series.
// ok, or unsupported for any other combination (refused, never guessed).
Status detect_variant(const usb::DeviceDescriptor& device, ChipVariant& variant);

// TA and TB share their descriptors with G-series parts (GT, GE); open() tells them apart.
bool confirmed_at_open(ChipVariant variant);

enum class BaudMode : uint8_t {
  direct,       // the rate itself in bytes 0-3
  divisor,      // standard: 384 MHz / (mantissa * 4^exponent)
  alt_divisor,  // TA/TB: 384 MHz / (mantissa * 2^exponent)
};

// Result of encoding one rate for one type. `status` is ok, invalid_argument (rate 0, a
// variant of another family) or baud_unreachable. With ok, `field` holds bytes 0-3 of the
// line coding; a baud_unreachable result must never be sent.
struct BaudEncoding {
  Status status = Status::invalid_argument;
  uint32_t requested = 0;
  BaudMode mode = BaudMode::direct;
  std::array<uint8_t, 4> field{};
  uint32_t mantissa = 0;  // divisor modes
  uint32_t exponent = 0;
  uint64_t divisor = 0;           // mantissa * 4^exponent or * 2^exponent; 0 when direct
  uint64_t actual_millibaud = 0;  // the rate the chip runs at, milli-bit/s, rounded
  uint32_t actual_baud = 0;       // the same, bit/s, rounded
};

// Encodes `baud` for `variant` under our policy:
//   - the G series (no divisors): the rate directly, within [min_baud, max_baud];
//   - other types: directly when it is one of kDirectRates and at most the type's maximum;
//     otherwise the valid divisor (standard or alternative encoding) whose rate is closest
//     to the request, never faster than the type's maximum (ties: the smaller exponent);
//   - baud_unreachable above max_baud, below min_baud, or when the closest divisor is more
//     than 3 % off (compared on the exact rational rate); never a fallback rate.
BaudEncoding encode_baud(ChipVariant variant, uint32_t baud);

// Slowest rate of the type: the rate of its largest divisor, rounded (standard encoding
// 384 MHz / (511 * 4^7) = 45.87 -> 46; alternative 384 MHz / (2047 * 2^15) = 5.72 -> 6);
// the G series, which has no divisor, 75 (the slowest rate of the direct table and of the
// datasheets' advertised range). 0 for a variant of another family.
uint32_t min_baud(ChipVariant variant);
// Linux's max_baud_rate of the type (device_table.cpp). 0 for another family.
uint32_t max_baud(ChipVariant variant);

// The 7-byte line coding for `line`. invalid_argument for data bits outside 5..8 or an
// out-of-range parity / stop-bits value; otherwise the status of encode_baud.
Status encode_line(ChipVariant variant, const LineSettings& line,
                   std::array<uint8_t, kLineLength>& coding, uint32_t& actual_baud);

// Modem lines and line errors from the UART state byte of a notification. Errors are one
// event per notification for the byte(s) they flag, with Linux's priority break > parity >
// framing (a break also shows a framing error); overrun is counted on its own.
ModemStatus modem_from_uart_state(uint8_t state);
LineErrors errors_from_uart_state(uint8_t state);

}  // namespace pl2303

class Pl2303 final : public ChipProtocol {
 public:
  Pl2303() = default;

  // invalid_argument for a variant of another family, a port_index other than 0, or a port
  // without a bulk IN or an interrupt IN endpoint (the modem lines and line errors come only
  // from there; Linux refuses such a port too). Forgets the type probe, the init sequence,
  // the cached line coding and any partial notification.
  Status configure(const PortConfig& config) override;
  // The variant name ("pl2303-hx", ...); "pl2303" before configure(). A TA/TB that the open
  // found to be a G-series part says "pl2303-hxn" from then on.
  const char* name() const override;
  Capabilities capabilities() const override;

  // The first open after configure(): a configured TA or TB is probed with the old-style
  // vendor read of 0x8080; a STALL means a G-series part (GT/GE), which is then driven as
  // one. Every type but the G series then gets the vendor init sequence (kInitSequence,
  // register 2 last). Every open: G series: pipe-reset register 7 = 0x03 and flow control
  // off (its power-up flow register is not documented); HX/HXD/TA/TB: registers 8 and 9
  // written with 0; H: nothing (Linux clears the bulk pipes' halt instead, which only the
  // owner of the pipes can do). Stops at the first failure; the cached line coding is
  // forgotten, so the next set_line always sends.
  Status open(ControlSink& sink) override;
  // Flow control off (read-modify-write), SET_CONTROL 0 (DTR and RTS low), BREAK off. All
  // are attempted even when one fails; the first failure is returned.
  Status close(ControlSink& sink) override;
  // SET_LINE with the 7-byte coding, unless it equals the last one the chip accepted since
  // open(): then nothing is sent and the same actual rate is reported. Everything is
  // validated before anything is sent.
  Status set_line(ControlSink& sink, const LineSettings& line, uint32_t& actual_baud) override;
  // SET_CONTROL wValue = DTR | RTS << 1.
  Status set_modem_control(ControlSink& sink, ModemControl lines) override;
  // None, RTS/CTS, or the chip's automatic XON/XOFF (either or both XON/XOFF directions;
  // it uses DC1/DC3 only, so other characters are unsupported; not on the H). DTR/DSR and
  // two modes at once are unsupported; unknown mode bits invalid_argument. A vendor read
  // then a write of the flow register (old map register 0, G series register 0x0A).
  Status set_flow_control(ControlSink& sink, const FlowControl& flow) override;
  // BREAK_REQUEST wValue 0xFFFF (on) or 0 (off).
  Status set_break(ControlSink& sink, bool on) override;
  // Old map: register 8 (tx, host->line) then register 9 (rx) written with 0. G series:
  // register 7 with bit 0 for tx and bit 1 for rx, in one write. Neither: ok, nothing sent.
  Status purge(ControlSink& sink, bool tx, bool rx) override;
  // Bulk IN is raw data: the transfer is the payload, unchanged.
  uint32_t decode_rx(std::span<uint8_t> transfer, RxReport& report) override;
  // Decodes 10-byte notifications (byte 0 0xA1, byte 1 0x20, UART state in byte 8) into the
  // modem lines and line errors. Several may share a transfer. One may be split across
  // transfers only when the endpoint's wMaxPacketSize is below 10 and the fragment filled
  // whole packets (a short packet ends a USB transfer). Counted in report.malformed, with
  // the rest of the transfer dropped: a notification with another header, and one cut
  // short. Returns ok, or malformed when this transfer held anything counted.
  Status decode_interrupt(std::span<const uint8_t> transfer, RxReport& report) override;

  // The type in use: the configured variant, or the G series after a refused probe.
  ChipVariant variant() const { return variant_; }
  // The probe and init sequence have run since configure().
  bool initialised() const { return initialised_; }

 private:
  bool is_hxn() const { return variant_ == ChipVariant::pl2303_hxn; }
  Status vendor_read(ControlSink& sink, uint16_t value, uint8_t& out);
  Status vendor_write(ControlSink& sink, uint16_t value, uint16_t index);
  // Read-modify-write of one register of the type's map.
  Status update_register(ControlSink& sink, uint16_t reg, uint8_t mask, uint8_t value);
  Status flow_off(ControlSink& sink);
  Status probe_and_init(ControlSink& sink);
  Status class_out(ControlSink& sink, uint8_t request, uint16_t value);
  void reset_notification() { held_ = 0; }

  bool configured_ = false;
  PortConfig config_{};
  ChipVariant variant_ = ChipVariant::pl2303_hx;
  bool initialised_ = false;

  // The line coding the chip last accepted since open(), and its actual rate.
  std::array<uint8_t, pl2303::kLineLength> coding_{};
  bool coding_valid_ = false;
  uint32_t coding_actual_baud_ = 0;

  // Notification reassembly.
  std::array<uint8_t, pl2303::kNotificationLength> notification_{};
  uint8_t held_ = 0;
};

}  // namespace transport::chips
