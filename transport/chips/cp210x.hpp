// Silicon Labs CP210x USB-UART family: CP2102 (and CP2103), CP2102N, CP2104, CP2105, CP2108.
//
// Protocol facts: docs/usb-serial-reference.md §3 (AN571, AN205, the data sheets; Linux
// drivers/usb/serial/cp210x.c as the behavioural reference). What this class does that the
// in-box drivers do not:
//   - the rate the part really runs at is computed per part (AN205 table or the 48 MHz
//     divider) and reported; a rate more than 3 % off is refused and nothing is sent;
//   - event insertion is always on, so every parity, framing, overrun and break event is
//     counted per byte (Linux turns it on only with INPCK);
//   - the UART is not disabled under bytes the chip has not sent yet when the port closes.
//
// One object drives one UART: one vendor interface, wIndex = its interface number.
#pragma once

#include <cstdint>
#include <span>

#include "../chip_protocol.hpp"
#include "../control.hpp"
#include "../device_table.hpp"
#include "../line.hpp"
#include "../status.hpp"
#include "cp210x_regs.hpp"

namespace transport::chips {

namespace cp210x {

// True for the variants this family drives.
bool is_cp210x(ChipVariant variant);

// A part as GET_PARTNUM names it. `unknown`: the part number could not be read or is not one
// we know; the port then runs on the most cautious profile (AN205 table up to 921600).
enum class Part : uint8_t { unknown, cp2102, cp2103, cp2102n, cp2104, cp2105, cp2108 };

// How a UART makes its rate.
enum class RateRule : uint8_t {
  an205_table,  // the chip maps the request to AN205 Table 1 (CP2102/3, CP2105 SCI, CP2108)
  divider,      // 48 MHz / (2 x prescale x divider) (CP2102N, CP2104, CP2105 ECI)
};

// What one UART of one part can do (the table in cp210x.cpp, with its sources).
struct PortProfile {
  Part part;
  uint8_t first_port;  // the rows cover ports first_port..last_port of the part
  uint8_t last_port;
  const char* name;
  uint32_t min_baud;  // lowest and highest rate the UART runs at
  uint32_t max_baud;
  RateRule rule;
  uint32_t exact_from;  // an205_table: requests from here up run as sent (0: none)
  bool narrow_format;   // 8 data bits, no mark/space parity, 1 stop bit only
};

// The profile of `port_index` of `part`, or nullptr when the part has no such port.
const PortProfile* profile_for(Part part, uint8_t port_index);
// The profile a variant starts with (the generic cp210x variant: Part::unknown).
const PortProfile* profile_for(ChipVariant variant, uint8_t port_index);

// GET_PARTNUM byte -> part. false for CP2101 (not driven: 19 fixed rates, 8N1 only) and for
// numbers we do not know.
bool part_from_number(uint8_t number, Part& part);

// Result of encoding one rate. status: ok, invalid_argument (rate 0, not a CP210x port) or
// baud_unreachable. Outside ok, nothing may be sent; the rate fields still describe what the
// chip would have done, for tools.
struct BaudEncoding {
  Status status = Status::invalid_argument;
  uint32_t requested = 0;
  uint32_t sent = 0;  // the SET_BAUDRATE value
  RateRule rule = RateRule::an205_table;
  uint32_t prescale = 0;  // divider rule only
  uint32_t divider = 0;   // divider rule only
  uint64_t actual_millibaud = 0;
  uint32_t actual_baud = 0;  // rounded to the nearest bit/s
};

// Our policy: the chip is never given a rate outside the UART's range (a request outside is
// brought to its nearest end, as Linux clamps), the value sent is the one whose result comes
// closest to the request, and that result must be within 3 % of the request. AN205 rule:
// the closest table rate inside the range (which the chip maps to itself), or on a CP2108
// from 1 MBd the request. Divider rule: the request, or the rate of a neighbouring divider
// when the chip's rounding would land further away.
BaudEncoding encode_baud(const PortProfile& port, uint32_t baud);
BaudEncoding encode_baud(ChipVariant variant, uint8_t port_index, uint32_t baud);

// SET_LINE_CTL wValue. invalid_argument for values outside 5..8 bits / the enums; unsupported
// for what the UART cannot do: 1.5 stop bits with more than 5 data bits (data sheets, "Data
// Formats" table note), and on a narrow-format port anything but 8 data bits, parity none /
// odd / even and 1 stop bit.
Status encode_line_ctl(const PortProfile& port, const LineSettings& line, uint16_t& value);

// Input lines from the GET_MDMSTS byte.
ModemStatus modem_from_mdmsts(uint8_t status);

// Line-status bits of an event (ESC 0x01 / 0x02) added to `errors`, one event per kind;
// break also counts once.
void count_lsr(uint8_t lsr, LineErrors& errors);

// GET_COMM_STATUS, decoded.
struct CommStatus {
  uint32_t errors = 0;        // SERIAL_ERROR_* bits since the last read
  uint32_t hold_reasons = 0;  // why the transmitter waits (bit 3: XOFF received)
  uint32_t in_queue = 0;      // bytes received and not yet sent to the host
  uint32_t out_queue = 0;     // bytes from the host not yet on the line
};
// short_transfer when fewer than 19 bytes came.
Status parse_comm_status(std::span<const uint8_t> bytes, CommStatus& status);
// ulErrors bits as events (both overrun bits count as overrun).
LineErrors errors_from_comm_status(uint32_t errors);

// The SET_FLOW / GET_FLOW structure.
struct FlowSettings {
  uint32_t control_handshake = 0;
  uint32_t flow_replace = 0;
  uint32_t xon_limit = 0;
  uint32_t xoff_limit = 0;
  friend constexpr bool operator==(const FlowSettings&, const FlowSettings&) = default;
};
FlowSettings parse_flow(std::span<const uint8_t, kFlowLength> bytes);
void serialize_flow(const FlowSettings& flow, std::span<uint8_t, kFlowLength> bytes);

// The modify step of the read-modify-write: from what GET_FLOW returned, the structure that
// makes `flow` with the output lines at `lines`. DTR and RTS levels live in this structure
// too (mode 1 = asserted); with a handshake they are "flow control" while asserted.
// Error-character replacement, NUL stripping and break characters are cleared: the chip
// must not change the data. Bits we do not own (XOFF continue, ...) are kept.
FlowSettings apply_flow(const FlowSettings& read, const FlowControl& flow, ModemControl lines);

}  // namespace cp210x

class Cp210x final : public ChipProtocol {
 public:
  Cp210x() = default;

  // invalid_argument for a non-CP210x variant, a port the variant does not have, or a bulk
  // IN packet below 8 bytes. Forgets the detected part and every setting.
  Status configure(const PortConfig& config) override;
  // The part ("cp2102n", "cp2103", ...) once GET_PARTNUM named it, else the variant's.
  const char* name() const override;
  Capabilities capabilities() const override;

  // IFC_ENABLE(1) before anything else; on the first open after configure() the part is
  // detected (GET_PARTNUM, then the quirk probes of kQuirkProbes); PURGE of both queues;
  // EMBED_EVENTS(0xEC) unless the part cannot (a STALL there is not fatal: line errors then
  // come from GET_COMM_STATUS). A failure after the enable disables the UART again.
  // unsupported when the part is one we do not drive or contradicts the descriptors.
  Status open(ControlSink& sink) override;
  // Flow control off (when it was on), DTR and RTS low, then GET_COMM_STATUS: when the chip
  // still holds bytes to send, the UART is left enabled so that they reach the line (open()
  // purges and enables it again); otherwise PURGE of both queues (a CP2108 may hang without
  // it) and IFC_ENABLE(0). Every step is attempted; the first failure is returned.
  Status close(ControlSink& sink) override;
  // SET_BAUDRATE then SET_LINE_CTL. Everything is validated before anything is sent.
  Status set_line(ControlSink& sink, const LineSettings& line, uint32_t& actual_baud) override;
  // SET_MHS with both levels; while a hardware handshake is on, the levels go through the
  // flow structure instead (GET_FLOW + SET_FLOW), as the chip drives the line itself there.
  Status set_modem_control(ControlSink& sink, ModemControl lines) override;
  // Any combination of RTS/CTS, DTR/DSR, XON/XOFF out (the chip obeys) and in (the chip
  // sends): SET_CHARS when XON/XOFF is wanted, then GET_FLOW + SET_FLOW. Unknown mode bits:
  // invalid_argument. On a CP2102N with erratum E104 every mode but none is unsupported and
  // SET_FLOW is never sent.
  Status set_flow_control(ControlSink& sink, const FlowControl& flow) override;
  Status set_break(ControlSink& sink, bool on) override;
  // One PURGE with the bits of the chosen sides. Neither: ok, nothing sent.
  Status purge(ControlSink& sink, bool tx, bool rx) override;
  // GET_MDMSTS. Without event insertion, also GET_COMM_STATUS: its error bits are reported
  // by the next decode_rx (a refusal there does not fail the poll).
  Status get_modem_status(ControlSink& sink, ModemStatus& status) override;
  // Event insertion on: strips the escapes in place (the state is kept across transfers, so
  // a sequence may be split anywhere) and counts each byte's line errors. Off: the data is
  // raw. Either way, errors polled from GET_COMM_STATUS are added.
  uint32_t decode_rx(std::span<uint8_t> transfer, RxReport& report) override;

  // GET_COMM_STATUS.
  Status get_comm_status(ControlSink& sink, cp210x::CommStatus& status);

  const cp210x::PortProfile* profile() const { return profile_; }
  bool event_mode() const { return event_mode_; }
  // The CP2102N erratum E104 applies: no flow control.
  bool flow_control_refused() const { return flow_refused_; }

 private:
  enum class EventState : uint8_t { data, escape, lsr_then_data, data_after_lsr, lsr, msr };

  Status send(ControlSink& sink, uint8_t request, uint16_t value);
  Status send_data(ControlSink& sink, uint8_t request, std::span<const uint8_t> data);
  Status read_interface(ControlSink& sink, uint8_t request, std::span<uint8_t> data);
  Status read_vendor(ControlSink& sink, uint16_t selector, std::span<uint8_t> data);
  Status detect(ControlSink& sink);
  Status write_flow(ControlSink& sink, const FlowControl& flow, ModemControl lines);
  bool hardware_handshake() const;

  bool configured_ = false;
  PortConfig config_{};
  const cp210x::PortProfile* profile_ = nullptr;
  bool detected_ = false;
  bool event_mode_supported_ = true;
  bool flow_refused_ = false;
  bool event_mode_ = false;
  FlowControl flow_{};
  ModemControl lines_{};
  EventState state_ = EventState::data;
  uint8_t lsr_ = 0;
  LineErrors pending_{};  // from GET_COMM_STATUS, reported by the next decode_rx
};

}  // namespace transport::chips
