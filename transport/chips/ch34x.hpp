// WCH CH34x USB-UART family: CH340 (and CH340K) and CH341/CH341A in UART mode.
//
// Protocol facts: docs/usb-serial-reference.md §4 (restated from Linux
// drivers/usb/serial/ch341.c, WCH's own Linux driver V1.8 and the CH340/CH341 data sheets);
// constants and their sources: ch34x_regs.hpp. Where we differ from Linux:
//   - the rate search covers every prescaler/divisor pair and takes the closest (Linux's
//     greedy search can land far from a setting it could use: 1 350 000 Bd runs at 1.2 MBd
//     there, where 1 333 333 Bd = 48 MHz / (4 * 9) is 1.2 % away; reference §4.4);
//   - a rate more than 3 % off, below 46 Bd or above the data sheets' 2 MBd is refused
//     (baud_unreachable, nothing sent), where Linux clamps to 46..3 000 000 Bd silently;
//   - a format a chip older than 0x30 cannot be given (anything but 8N1: its line-control
//     registers are unknown) is refused, where Linux leaves the chip at 8N1 silently;
//   - line errors the chip reports on the interrupt pipe are counted (Linux ignores them);
//   - RTS/CTS flow control through register 0x27, as WCH's driver does (Linux has none).
#pragma once

#include <cstdint>
#include <span>

#include "../chip_protocol.hpp"
#include "../control.hpp"
#include "../device_table.hpp"
#include "../line.hpp"
#include "../status.hpp"
#include "ch34x_regs.hpp"

namespace transport::chips {

namespace ch34x {

// True for the variants this family drives.
bool is_ch34x(ChipVariant variant);

// What open() learned about the chip; the encoders depend on it.
struct ChipTraits {
  uint8_t version = 0;             // READ_VERSION byte 0
  bool limited_prescaler = false;  // a clone whose break register STALLs (ch341.c quirks)
};

// Result of encoding one rate. `status` is ok, invalid_argument (rate 0, a non-CH34x variant)
// or baud_unreachable; for baud_unreachable the fields still describe the closest setting
// (never to be sent).
struct BaudEncoding {
  Status status = Status::invalid_argument;
  uint32_t requested = 0;
  uint8_t prescaler = 0;          // ps, 0..3
  uint8_t fact = 0;               // 0 or 1
  uint16_t divisor = 0;           // div, 2..256; 0 when nothing was chosen
  uint32_t clock_divider = 0;     // 2^(12 - 3 ps - fact) * div: rate = 48 MHz / this
  uint16_t w_index = 0;           // WRITE_REG 0x1312 wIndex: (256 - div) << 8 | prescaler reg
  uint64_t actual_millibaud = 0;  // rounded to nearest
  uint32_t actual_baud = 0;       // rounded to nearest

  bool has_divisor() const { return divisor != 0; }
};

// Encodes `baud` under our policy: of every (ps, fact, div) the chip accepts (fact 0 only
// below ps 3 on a limited clone), the one whose rate is closest to the request; ties go to
// the lower rate (as Linux's "next divisor" step does), then to the larger ps, then to
// fact 0 (an even divisor "makes the receiver more tolerant", ch341.c). BIT(7) is set in
// the prescaler register on versions above 0x27. baud_unreachable when the request is below
// min_baud(), above max_baud(variant) or more than 3 % from the closest rate.
BaudEncoding encode_baud(ChipVariant variant, const ChipTraits& traits, uint32_t baud);

// 48 MHz / (4096 * 256) = 45.78 Bd, rounded: 46, as ch341.c's CH341_MIN_BPS.
uint32_t min_baud();
// The data sheets' maximum (device_table.hpp variant_info): 2 MBd.
uint32_t max_baud(ChipVariant variant);

// CH341_REG_LCR for a line setting (receiver and transmitter enabled). invalid_argument for
// data bits outside 5..8 or an out-of-range parity/stop value; unsupported for 1.5 stop bits
// (the chips have 1 or 2), and on a chip older than 0x30 for anything but 8N1.
Status encode_lcr(const LineSettings& line, uint8_t version, uint8_t& lcr);

// The modem inputs from an inverted status byte (CH341_REG_STATUS, interrupt byte 2).
ModemStatus modem_from_status(uint8_t inverted);

// CH341_REQ_MODEM_CTRL wValue for the wanted output levels: ~(DTR << 5 | RTS << 6), 16 bits.
uint16_t modem_control_value(ModemControl lines);

}  // namespace ch34x

class Ch34x final : public ChipProtocol {
 public:
  Ch34x() = default;

  // invalid_argument for a non-CH34x variant, a port other than 0 or a zero
  // bulk_in_max_packet (the chips have 32-byte bulk endpoints; the value is taken from the
  // descriptors, not assumed). Forgets what open() learned.
  Status configure(const PortConfig& config) override;
  // "ch340" or "ch341a"; "ch34x" before configure().
  const char* name() const override;
  // Before open(): what a current part can do. After it, by version and quirk: mark/space
  // and 5/6 data bits only from version 0x30; kBreak on chips with a break register,
  // kBreakEmulated on limited clones. Always: RTS/CTS, modem status polling, CTS, line
  // errors (from the interrupt pipe). No purge, latency timer, DTR/DSR or XON/XOFF.
  Capabilities capabilities() const override;

  // READ_VERSION, SERIAL_INIT, then the quirk probe: READ_REG of the break register, whose
  // STALL marks a limited clone (not an error). Stops at the first failure. The line,
  // flow and modem control are programmed by SerialPort after it (SERIAL_INIT drops
  // DTR/RTS: Linux commit "fix baud rate and line-control handling").
  Status open(ControlSink& sink) override;
  // RTS/CTS off (only when set_flow_control turned it on), then DTR and RTS low. Both are
  // attempted; the first failure is returned.
  Status close(ControlSink& sink) override;
  // WRITE_REG 0x1312 (rate), then on version >= 0x30 WRITE_REG 0x2518 (LCR, LCR2 = 0).
  // not_open before open() (the version decides both); busy during an emulated break.
  // Everything is validated first. While a break is on, the LCR is written with the
  // transmitter still disabled.
  Status set_line(ControlSink& sink, const LineSettings& line, uint32_t& actual_baud) override;
  // MODEM_CTRL with the inverted control byte.
  Status set_modem_control(ControlSink& sink, ModemControl lines) override;
  // none or RTS/CTS (WRITE_REG 0x2727 = 0x0000 / 0x0101, WCH's driver). DTR/DSR and
  // XON/XOFF: unsupported; unknown mode bits: invalid_argument. Nothing sent on refusal.
  Status set_flow_control(ControlSink& sink, const FlowControl& flow) override;
  // READ_REG 0x1805 (break register, LCR), then WRITE_REG 0x1805 with NOT-break and LCR
  // TX-enable cleared (on) or set (off), as ch341.c ch341_break_ctl. On a limited clone:
  // unsupported, nothing sent (the break there needs the data path: see begin_emulated_break).
  Status set_break(ControlSink& sink, bool on) override;
  // READ_REG 0x0706; short_transfer when the chip answers fewer than 2 bytes.
  Status get_modem_status(ControlSink& sink, ModemStatus& status) override;
  // Bulk IN carries raw data (line errors arrive on the interrupt pipe): nothing to strip.
  uint32_t decode_rx(std::span<uint8_t> transfer, RxReport& report) override;
  // One status packet: modem inputs from byte 2 (every packet, as ch341.c), line errors
  // from byte 0 (WCH's CH341_CTT_*: overrun; framing; else parity). Packets shorter than 4
  // bytes are counted malformed and ignored (a status packet is 4 bytes and always fits one
  // 8-byte interrupt packet, so a shorter one is not a fragment to keep); bytes after the
  // fourth are ignored, as in ch341.c.
  Status decode_interrupt(std::span<const uint8_t> packet, RxReport& report) override;

  // The emulated break of a limited clone, for a data path that can write to bulk OUT
  // (ch341.c ch341_simulate_break). begin: programs the slowest setting (45.78 Bd), 8N1, and
  // hands back the one NUL the caller must then send; its start and data bits are a space of
  // emulated_break_space_us(). end: programs the line in force again (9600 8N1 if none was
  // set since open); the caller must not call it before emulated_break_hold_us() after the
  // NUL went out, or the NUL is cut short. unsupported on a chip with a break register (use
  // set_break), not_open before open().
  Status begin_emulated_break(ControlSink& sink, std::span<const uint8_t>& fill);
  Status end_emulated_break(ControlSink& sink);
  static uint32_t emulated_break_space_us();
  static uint32_t emulated_break_hold_us();

  const ch34x::ChipTraits& traits() const { return traits_; }
  bool opened() const { return opened_; }

 private:
  Status write_registers(ControlSink& sink, uint16_t registers, uint16_t values);
  Status read_registers(ControlSink& sink, uint16_t registers, uint8_t (&values)[2]);
  // WRITE_REG 0x1312, then (version >= 0x30) WRITE_REG 0x2518.
  Status program_line(ControlSink& sink, uint16_t baud_registers, uint8_t lcr);

  bool configured_ = false;
  bool opened_ = false;
  PortConfig config_{};
  ch34x::ChipTraits traits_{};
  LineSettings line_{};           // the line in force (what end_emulated_break restores)
  uint8_t lcr_ = ch34x::kLcr8N1;  // its LCR
  bool break_on_ = false;
  bool emulated_break_on_ = false;
  bool flow_on_ = false;
};

}  // namespace transport::chips
