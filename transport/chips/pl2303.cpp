#include "pl2303.hpp"

#include <algorithm>
#include <limits>

namespace transport::chips {

namespace pl2303 {
namespace {

constexpr uint8_t kMaxPacket0 = 64;  // every type after the H has a 64-byte endpoint 0
constexpr uint8_t kDeviceClassComm = 0x02;

// bcdUSB 2.00 parts by bcdDevice (Linux pl2303_detect_type, >= v5.13; the G-series names
// are the kernel's comments). TA and TB are confirmed by the type probe at open.
struct Revision {
  uint16_t bcd_device;
  ChipVariant variant;
};
constexpr std::array<Revision, 12> kUsb2Revisions = {{
    {0x0100, ChipVariant::pl2303_hxn},  // GC
    {0x0105, ChipVariant::pl2303_hxn},
    {0x0300, ChipVariant::pl2303_ta},  // TA, or GT if the probe is refused
    {0x0305, ChipVariant::pl2303_hxn},
    {0x0400, ChipVariant::pl2303_hxn},  // GL
    {0x0405, ChipVariant::pl2303_hxn},
    {0x0500, ChipVariant::pl2303_tb},  // TB, or GE if the probe is refused
    {0x0505, ChipVariant::pl2303_hxn},
    {0x0600, ChipVariant::pl2303_hxn},  // GS
    {0x0605, ChipVariant::pl2303_hxn},
    {0x0700, ChipVariant::pl2303_hxn},  // GR
    {0x0705, ChipVariant::pl2303_hxn},
}};
constexpr uint16_t kBcdUsb101 = 0x0101;  // "USB 1.0.1? Let's assume they meant 1.1" (pl2303.c)
constexpr uint16_t kBcdUsb110 = 0x0110;
constexpr uint16_t kBcdUsb200 = 0x0200;
constexpr uint16_t kBcdDeviceHxd = 0x0400;  // on bcdUSB 1.1 (HXD datasheet device descriptor)

bool has_divisors(ChipVariant variant) {
  return variant != ChipVariant::pl2303_hxn;
}

bool uses_alt_divisors(ChipVariant variant) {
  return variant == ChipVariant::pl2303_ta || variant == ChipVariant::pl2303_tb;
}

bool is_direct_rate(uint32_t baud) {
  return std::find(kDirectRates.begin(), kDirectRates.end(), baud) != kDirectRates.end();
}

// The G series has no divisor to bound its slowest rate: 75, the slowest of the direct table
// and of Prolific's advertised ranges.
constexpr uint32_t kHxnMinBaud = 75;

// Rate of a divisor, milli-bit/s, rounded.
constexpr uint64_t millibaud(uint64_t divisor) {
  return (uint64_t{kDivisorBaseline} * 1000 + divisor / 2) / divisor;
}

constexpr uint64_t largest_divisor(bool alt) {
  return alt ? uint64_t{kAltMantissaMax} << kAltExponentMax
             : uint64_t{kStandardMantissaMax} << (2 * kStandardExponentMax);
}

void put_le32(std::array<uint8_t, 4>& field, uint32_t value) {
  for (size_t i = 0; i < field.size(); ++i) {
    field[i] = static_cast<uint8_t>(value >> (8 * i));
  }
}

// Bytes 0-3 for a divisor (pl2303.c pl2303_encode_baud_rate_divisor{,_alt}).
std::array<uint8_t, 4> pack_divisor(bool alt, uint32_t mantissa, uint32_t exponent) {
  std::array<uint8_t, 4> field{};
  field[0] = static_cast<uint8_t>(mantissa & 0xFFu);
  if (alt) {
    field[1] = static_cast<uint8_t>(((exponent & ~1u) << 4) | (mantissa >> 8));
    field[2] = static_cast<uint8_t>(exponent & 1u);
  } else {
    field[1] = static_cast<uint8_t>((exponent << 1) | (mantissa >> 8));
    field[2] = 0;
  }
  field[3] = kDivisorFlag;
  return field;
}

}  // namespace

bool is_pl2303(ChipVariant variant) {
  switch (variant) {
    case ChipVariant::pl2303_h:
    case ChipVariant::pl2303_hx:
    case ChipVariant::pl2303_hxd:
    case ChipVariant::pl2303_ta:
    case ChipVariant::pl2303_tb:
    case ChipVariant::pl2303_hxn:
      return true;
    default:
      return false;
  }
}

Status detect_variant(const usb::DeviceDescriptor& device, ChipVariant& variant) {
  // Legacy PL2303H, "type 0" (class 0x02) and "type 1" (another endpoint-0 size).
  if (device.device_class == kDeviceClassComm || device.max_packet_size0 != kMaxPacket0) {
    variant = ChipVariant::pl2303_h;
    return Status::ok;
  }
  if (device.bcd_usb == kBcdUsb101 || device.bcd_usb == kBcdUsb110) {
    variant = device.bcd_device == kBcdDeviceHxd ? ChipVariant::pl2303_hxd : ChipVariant::pl2303_hx;
    return Status::ok;
  }
  if (device.bcd_usb == kBcdUsb200) {
    for (const Revision& revision : kUsb2Revisions) {
      if (revision.bcd_device == device.bcd_device) {
        variant = revision.variant;
        return Status::ok;
      }
    }
  }
  return Status::unsupported;
}

bool confirmed_at_open(ChipVariant variant) {
  return uses_alt_divisors(variant);
}

uint32_t min_baud(ChipVariant variant) {
  if (!is_pl2303(variant)) {
    return 0;
  }
  if (!has_divisors(variant)) {
    return kHxnMinBaud;
  }
  return static_cast<uint32_t>((millibaud(largest_divisor(uses_alt_divisors(variant))) + 500) /
                               1000);
}

uint32_t max_baud(ChipVariant variant) {
  return is_pl2303(variant) ? variant_info(variant).max_baud : 0;
}

BaudEncoding encode_baud(ChipVariant variant, uint32_t baud) {
  BaudEncoding result;
  result.requested = baud;
  if (!is_pl2303(variant) || baud == 0) {
    result.status = Status::invalid_argument;
    return result;
  }
  const uint32_t max = max_baud(variant);
  if (baud > max || baud < min_baud(variant)) {
    result.status = Status::baud_unreachable;
    return result;
  }
  if (!has_divisors(variant) || is_direct_rate(baud)) {
    result.mode = BaudMode::direct;
    put_le32(result.field, baud);
    result.actual_millibaud = uint64_t{baud} * 1000;
    result.actual_baud = baud;
    result.status = Status::ok;
    return result;
  }

  // Every exponent, with the two mantissas around the ideal one; the closest rate wins and
  // ties keep the smaller exponent (the finer mantissa). A divisor faster than the type's
  // maximum is not valid for it. Rates are compared exactly (a millibaud is too coarse at a
  // few bit/s): divisor d is off by |baseline - baud * d| / d, so e1 / d1 < e2 / d2 is tested
  // as e1 * d2 < e2 * d1. No product overflows: a mantissa at or below the ideal one keeps
  // the error below baud * scale <= baseline (< 2^29) with d < 2^27; a mantissa clamped up to
  // 1 has d = scale <= 2^15 and an error below baud * scale < 2^39.
  const bool alt = uses_alt_divisors(variant);
  const uint32_t mantissa_max = alt ? kAltMantissaMax : kStandardMantissaMax;
  const uint32_t exponent_max = alt ? kAltExponentMax : kStandardExponentMax;
  const uint32_t shift_per_step = alt ? 1 : 2;
  uint64_t best_error = 0;  // |baseline - baud * divisor| of result.divisor
  for (uint32_t exponent = 0; exponent <= exponent_max; ++exponent) {
    const uint64_t scale = uint64_t{1} << (exponent * shift_per_step);
    const uint64_t ideal = kDivisorBaseline / (uint64_t{baud} * scale);
    for (uint64_t candidate = ideal; candidate <= ideal + 1; ++candidate) {
      const uint64_t mantissa = std::clamp<uint64_t>(candidate, 1, mantissa_max);
      const uint64_t divisor = mantissa * scale;
      if (uint64_t{kDivisorBaseline} > uint64_t{max} * divisor) {
        continue;  // faster than the type can run
      }
      const uint64_t product = uint64_t{baud} * divisor;
      const uint64_t error = product > kDivisorBaseline ? product - kDivisorBaseline
                                                        : uint64_t{kDivisorBaseline} - product;
      if (result.divisor == 0 || error * result.divisor < best_error * divisor) {
        best_error = error;
        result.mantissa = static_cast<uint32_t>(mantissa);
        result.exponent = exponent;
        result.divisor = divisor;
      }
    }
  }
  result.mode = alt ? BaudMode::alt_divisor : BaudMode::divisor;
  result.field = pack_divisor(alt, result.mantissa, result.exponent);
  result.actual_millibaud = millibaud(result.divisor);
  result.actual_baud = static_cast<uint32_t>((result.actual_millibaud + 500) / 1000);
  // Our policy: more than 3 % off the exact rate 384 MHz / divisor is unreachable:
  // |baseline - baud * divisor| * 1000 <= baud * divisor * permille (both below 2^50).
  const uint64_t product = uint64_t{baud} * result.divisor;
  result.status =
      best_error * 1000 <= product * kBaudTolerancePermille ? Status::ok : Status::baud_unreachable;
  return result;
}

Status encode_line(ChipVariant variant, const LineSettings& line,
                   std::array<uint8_t, kLineLength>& coding, uint32_t& actual_baud) {
  if (line.data_bits < 5 || line.data_bits > 8) {
    return Status::invalid_argument;
  }
  uint8_t stop = 0;
  switch (line.stop_bits) {
    case StopBits::one:
      stop = 0;
      break;
    case StopBits::one_and_half:
      stop = 1;
      break;
    case StopBits::two:
      stop = 2;
      break;
    default:
      return Status::invalid_argument;
  }
  uint8_t parity = 0;
  switch (line.parity) {
    case Parity::none:
      parity = 0;
      break;
    case Parity::odd:
      parity = 1;
      break;
    case Parity::even:
      parity = 2;
      break;
    case Parity::mark:
      parity = 3;
      break;
    case Parity::space:
      parity = 4;
      break;
    default:
      return Status::invalid_argument;
  }
  const BaudEncoding baud = encode_baud(variant, line.baud);
  if (baud.status != Status::ok) {
    return baud.status;
  }
  std::copy(baud.field.begin(), baud.field.end(), coding.begin());
  coding[kLineStopBitsOffset] = stop;
  coding[kLineParityOffset] = parity;
  coding[kLineDataBitsOffset] = line.data_bits;
  actual_baud = baud.actual_baud;
  return Status::ok;
}

ModemStatus modem_from_uart_state(uint8_t state) {
  ModemStatus modem;
  modem.cts = (state & UART_CTS) != 0;
  modem.dsr = (state & UART_DSR) != 0;
  modem.ri = (state & UART_RING) != 0;
  modem.dcd = (state & UART_DCD) != 0;
  return modem;
}

LineErrors errors_from_uart_state(uint8_t state) {
  LineErrors errors;
  if ((state & UART_BREAK_ERROR) != 0) {
    ++errors.brk;
  } else if ((state & UART_PARITY_ERROR) != 0) {
    ++errors.parity;
  } else if ((state & UART_FRAME_ERROR) != 0) {
    ++errors.framing;
  }
  if ((state & UART_OVERRUN_ERROR) != 0) {
    ++errors.overrun;
  }
  return errors;
}

}  // namespace pl2303

using namespace pl2303;

Status Pl2303::configure(const PortConfig& config) {
  configured_ = false;
  config_ = PortConfig{};
  variant_ = ChipVariant::pl2303_hx;
  initialised_ = false;
  coding_valid_ = false;
  reset_notification();
  if (!is_pl2303(config.variant) || config.port_index != 0 || config.bulk_in_max_packet == 0 ||
      config.interrupt_max_packet == 0) {
    return Status::invalid_argument;
  }
  config_ = config;
  variant_ = config.variant;
  configured_ = true;
  return Status::ok;
}

const char* Pl2303::name() const {
  return configured_ ? variant_info(variant_).name : "pl2303";
}

Capabilities Pl2303::capabilities() const {
  if (!configured_) {
    return Capabilities{};
  }
  Capabilities caps;
  // No latency timer, no DTR/DSR handshake and no modem-status request are known for any
  // type; the modem lines arrive on the interrupt endpoint.
  caps.flags = capability::kBreak | capability::kRtsCts | capability::kPurge |
               capability::kLineErrors | capability::kMarkSpace | capability::kDataBits5_6 |
               capability::kStopBits1_5 | capability::kCts;
  if (variant_ != ChipVariant::pl2303_h) {
    caps.flags |= capability::kXonXoff;  // pl2303.c: no_autoxonxoff on the H
  }
  caps.min_baud = min_baud(variant_);
  caps.max_baud = max_baud(variant_);
  return caps;
}

Status Pl2303::vendor_read(ControlSink& sink, uint16_t value, uint8_t& out) {
  ControlRequest setup;
  setup.bmRequestType = VENDOR_READ_REQUEST_TYPE;
  setup.bRequest = is_hxn() ? VENDOR_READ_NREQUEST : VENDOR_READ_REQUEST;
  setup.wValue = value;
  setup.wIndex = 0;
  setup.wLength = 1;
  uint8_t answer[1] = {};
  const Status status = control_in_exact(sink, setup, answer);
  if (status == Status::ok) {
    out = answer[0];
  }
  return status;
}

Status Pl2303::vendor_write(ControlSink& sink, uint16_t value, uint16_t index) {
  ControlRequest setup;
  setup.bmRequestType = VENDOR_WRITE_REQUEST_TYPE;
  setup.bRequest = is_hxn() ? VENDOR_WRITE_NREQUEST : VENDOR_WRITE_REQUEST;
  setup.wValue = value;
  setup.wIndex = index;
  setup.wLength = 0;
  return control_out(sink, setup);
}

Status Pl2303::update_register(ControlSink& sink, uint16_t reg, uint8_t mask, uint8_t value) {
  // pl2303.c pl2303_update_reg: the old map reads register | 0x80, the HXN map the register.
  uint8_t current = 0;
  const Status status =
      vendor_read(sink, is_hxn() ? reg : static_cast<uint16_t>(reg | kRegisterReadFlag), current);
  if (status != Status::ok) {
    return status;
  }
  const auto updated = static_cast<uint8_t>((current & ~mask) | (value & mask));
  return vendor_write(sink, reg, updated);
}

Status Pl2303::flow_off(ControlSink& sink) {
  return is_hxn() ? update_register(sink, PL2303_HXN_FLOWCTRL_REG, PL2303_HXN_FLOWCTRL_MASK,
                                    PL2303_HXN_FLOWCTRL_NONE)
                  : update_register(sink, kFlowControlRegister, PL2303_FLOWCTRL_MASK, kFlowNone);
}

Status Pl2303::class_out(ControlSink& sink, uint8_t request, uint16_t value) {
  ControlRequest setup;
  setup.bmRequestType = kClassRequestTypeOut;
  setup.bRequest = request;
  setup.wValue = value;
  setup.wIndex = 0;
  setup.wLength = 0;
  return control_out(sink, setup);
}

Status Pl2303::probe_and_init(ControlSink& sink) {
  if (confirmed_at_open(variant_)) {
    // pl2303.c pl2303_supports_hx_status: a TA/TB answers; a GT/GE refuses the old request.
    uint8_t ignored = 0;
    const Status probe = vendor_read(sink, PL2303_READ_TYPE_HX_STATUS, ignored);
    if (probe == Status::stall) {
      variant_ = ChipVariant::pl2303_hxn;
    } else if (probe != Status::ok) {
      return probe;  // neither answer nor refusal: the type stays undecided, the open fails
    }
  }
  if (is_hxn()) {
    return Status::ok;  // the G series needs no init sequence
  }
  for (const InitStep& step : kInitSequence) {
    uint8_t ignored = 0;
    const Status status = step.read ? vendor_read(sink, step.value, ignored)
                                    : vendor_write(sink, step.value, step.index);
    if (status != Status::ok) {
      return status;
    }
  }
  return vendor_write(
      sink, kInitRegister2,
      variant_ == ChipVariant::pl2303_h ? kInitRegister2Legacy : kInitRegister2Value);
}

Status Pl2303::open(ControlSink& sink) {
  if (!configured_) {
    return Status::not_open;
  }
  coding_valid_ = false;
  reset_notification();
  if (!initialised_) {
    const Status status = probe_and_init(sink);
    if (status != Status::ok) {
      return status;
    }
    initialised_ = true;
  }
  if (is_hxn()) {
    const Status status =
        vendor_write(sink, PL2303_HXN_RESET_REG,
                     PL2303_HXN_RESET_UPSTREAM_PIPE | PL2303_HXN_RESET_DOWNSTREAM_PIPE);
    return status == Status::ok ? flow_off(sink) : status;
  }
  if (variant_ == ChipVariant::pl2303_h) {
    return Status::ok;
  }
  const Status status = vendor_write(sink, kResetDownstreamRegister, 0);
  return status == Status::ok ? vendor_write(sink, kResetUpstreamRegister, 0) : status;
}

Status Pl2303::close(ControlSink& sink) {
  if (!configured_) {
    return Status::not_open;
  }
  const Status flow = flow_off(sink);
  const Status lines = class_out(sink, SET_CONTROL_REQUEST, 0);
  const Status brk = class_out(sink, BREAK_REQUEST, BREAK_OFF);
  if (flow != Status::ok) {
    return flow;
  }
  return lines != Status::ok ? lines : brk;
}

Status Pl2303::set_line(ControlSink& sink, const LineSettings& line, uint32_t& actual_baud) {
  if (!configured_) {
    return Status::not_open;
  }
  std::array<uint8_t, kLineLength> coding{};
  uint32_t actual = 0;
  const Status encoded = encode_line(variant_, line, coding, actual);
  if (encoded != Status::ok) {
    return encoded;
  }
  if (coding_valid_ && coding == coding_) {
    // Linux pl2303_set_termios: "Some PL2303 are known to lose bytes if you change serial
    // settings even to the same values as before."
    actual_baud = coding_actual_baud_;
    return Status::ok;
  }
  coding_valid_ = false;  // until the chip has taken the new coding, its state is unknown
  ControlRequest setup;
  setup.bmRequestType = kClassRequestTypeOut;
  setup.bRequest = SET_LINE_REQUEST;
  setup.wValue = 0;
  setup.wIndex = 0;
  setup.wLength = kLineLength;
  const Status status = control_out(sink, setup, coding);
  if (status != Status::ok) {
    return status;
  }
  coding_ = coding;
  coding_valid_ = true;
  coding_actual_baud_ = actual;
  actual_baud = actual;
  return Status::ok;
}

Status Pl2303::set_modem_control(ControlSink& sink, ModemControl lines) {
  if (!configured_) {
    return Status::not_open;
  }
  return class_out(
      sink, SET_CONTROL_REQUEST,
      static_cast<uint16_t>((lines.dtr ? CONTROL_DTR : 0u) | (lines.rts ? CONTROL_RTS : 0u)));
}

Status Pl2303::set_flow_control(ControlSink& sink, const FlowControl& flow) {
  if (!configured_) {
    return Status::not_open;
  }
  constexpr uint8_t kKnown = flow::kRtsCts | flow::kDtrDsr | flow::kXonXoffOut | flow::kXonXoffIn;
  if ((flow.modes & ~kKnown) != 0) {
    return Status::invalid_argument;
  }
  const bool rts_cts = (flow.modes & flow::kRtsCts) != 0;
  const bool xon_xoff = (flow.modes & (flow::kXonXoffOut | flow::kXonXoffIn)) != 0;
  if ((flow.modes & flow::kDtrDsr) != 0 || (rts_cts && xon_xoff)) {
    return Status::unsupported;
  }
  if (xon_xoff && (variant_ == ChipVariant::pl2303_h || flow.xon != kXon || flow.xoff != kXoff)) {
    return Status::unsupported;
  }
  if (is_hxn()) {
    const uint8_t mode = rts_cts    ? PL2303_HXN_FLOWCTRL_RTS_CTS
                         : xon_xoff ? PL2303_HXN_FLOWCTRL_XON_XOFF
                                    : PL2303_HXN_FLOWCTRL_NONE;
    return update_register(sink, PL2303_HXN_FLOWCTRL_REG, PL2303_HXN_FLOWCTRL_MASK, mode);
  }
  uint8_t mode = kFlowNone;
  if (rts_cts) {
    mode = variant_ == ChipVariant::pl2303_h ? kFlowRtsCtsLegacy : kFlowRtsCts;
  } else if (xon_xoff) {
    mode = kFlowXonXoff;
  }
  return update_register(sink, kFlowControlRegister, PL2303_FLOWCTRL_MASK, mode);
}

Status Pl2303::set_break(ControlSink& sink, bool on) {
  if (!configured_) {
    return Status::not_open;
  }
  return class_out(sink, BREAK_REQUEST, on ? BREAK_ON : BREAK_OFF);
}

Status Pl2303::purge(ControlSink& sink, bool tx, bool rx) {
  if (!configured_) {
    return Status::not_open;
  }
  if (!tx && !rx) {
    return Status::ok;
  }
  if (is_hxn()) {
    return vendor_write(sink, PL2303_HXN_RESET_REG,
                        static_cast<uint16_t>((tx ? PL2303_HXN_RESET_DOWNSTREAM_PIPE : 0u) |
                                              (rx ? PL2303_HXN_RESET_UPSTREAM_PIPE : 0u)));
  }
  if (tx) {
    const Status status = vendor_write(sink, kResetDownstreamRegister, 0);
    if (status != Status::ok) {
      return status;
    }
  }
  return rx ? vendor_write(sink, kResetUpstreamRegister, 0) : Status::ok;
}

uint32_t Pl2303::decode_rx(std::span<uint8_t> transfer, RxReport& report) {
  if (transfer.empty()) {
    return 0;
  }
  if (!configured_ || transfer.size() > std::numeric_limits<uint32_t>::max()) {
    ++report.malformed;
    return 0;
  }
  return static_cast<uint32_t>(transfer.size());
}

Status Pl2303::decode_interrupt(std::span<const uint8_t> transfer, RxReport& report) {
  if (!configured_) {
    ++report.malformed;
    return Status::malformed;
  }
  for (size_t i = 0; i < transfer.size(); ++i) {
    const uint8_t byte = transfer[i];
    if ((held_ == 0 && byte != kNotificationRequestType) ||
        (held_ == 1 && byte != kNotificationSerialState)) {
      ++report.malformed;
      reset_notification();
      return Status::malformed;  // the rest of this transfer is not trusted either
    }
    notification_[held_++] = byte;
    if (held_ == notification_.size()) {
      const uint8_t state = notification_[UART_STATE_INDEX];
      report.modem_valid = true;
      report.modem = modem_from_uart_state(state);
      report.errors += errors_from_uart_state(state);
      reset_notification();
    }
  }
  if (held_ != 0) {
    // A notification continues in the next transfer only if this one ended on a full packet
    // of an endpoint too small for a whole notification (USB 2.0 §5.7.3: a short packet ends
    // a transfer).
    const size_t packet = config_.interrupt_max_packet;
    if (packet >= kNotificationLength || transfer.size() % packet != 0) {
      ++report.malformed;
      reset_notification();
      return Status::malformed;
    }
  }
  return Status::ok;
}

}  // namespace transport::chips
