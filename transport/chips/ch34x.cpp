#include "ch34x.hpp"

#include <limits>

namespace transport::chips {

namespace ch34x {
namespace {

// One candidate setting of the baud-rate generator.
struct Candidate {
  uint8_t ps = 0;
  uint8_t fact = 0;
  uint16_t div = 0;
  uint32_t divider = 0;  // clock_divider(ps, fact) * div
};

// |48 MHz / divider - baud| * divider = |48 MHz - baud * divider|: the rate error scaled by
// the divider. For baud < 3 MBd and divider <= 2^20 it stays below 2^42.
uint64_t scaled_error(uint32_t baud, uint32_t divider) {
  const uint64_t product = static_cast<uint64_t>(baud) * divider;
  return product > CH341_CLKRATE ? product - CH341_CLKRATE : CH341_CLKRATE - product;
}

// True when `a` is the better setting for `baud` (see encode_baud for the order).
bool better(const Candidate& a, const Candidate& b, uint32_t baud) {
  if (b.div == 0) {
    return true;
  }
  // error_a / divider_a versus error_b / divider_b, without division: each side < 2^62.
  const uint64_t lhs = scaled_error(baud, a.divider) * b.divider;
  const uint64_t rhs = scaled_error(baud, b.divider) * a.divider;
  if (lhs != rhs) {
    return lhs < rhs;
  }
  if (a.divider != b.divider) {
    return a.divider > b.divider;  // the lower rate
  }
  if (a.ps != b.ps) {
    return a.ps > b.ps;
  }
  return a.fact < b.fact;
}

Candidate make_candidate(uint8_t ps, uint8_t fact, uint16_t div) {
  Candidate c;
  c.ps = ps;
  c.fact = fact;
  c.div = div;
  c.divider = clock_divider(ps, fact) * div;
  return c;
}

// The fastest setting: 48 MHz / (8 * 2) = 3 MBd. Every request at or above 3 MBd is closest
// to it (no setting is faster), which also keeps scaled_error's products small.
constexpr uint32_t kFastestRate = CH341_CLKRATE / (clock_divider(kPrescalerMax, 0) * 2);

Candidate closest_setting(uint32_t baud, bool limited_prescaler) {
  if (baud >= kFastestRate) {
    return make_candidate(kPrescalerMax, 0, kDivisorMinFact0);
  }
  Candidate best;
  for (uint8_t ps = 0; ps <= kPrescalerMax; ++ps) {
    for (uint8_t fact = 0; fact <= 1; ++fact) {
      // ch341.c: "Some devices require a lower base clock if ps < 3."
      if (fact == 1 && limited_prescaler && ps < kPrescalerMax) {
        continue;
      }
      const uint32_t clock = clock_divider(ps, fact);
      const uint16_t low = fact == 1 ? kDivisorMinFact1 : kDivisorMinFact0;
      // The ideal divisor lies between these two; the rate falls as the divisor grows.
      const uint64_t floor_div = CH341_CLKRATE / (static_cast<uint64_t>(clock) * baud);
      const uint64_t around[2] = {floor_div, floor_div + 1};
      for (const uint64_t div : around) {
        const uint64_t clamped = div < low ? low : (div > kDivisorMax ? kDivisorMax : div);
        const Candidate c = make_candidate(ps, fact, static_cast<uint16_t>(clamped));
        if (better(c, best, baud)) {
          best = c;
        }
      }
    }
  }
  return best;
}

}  // namespace

bool is_ch34x(ChipVariant variant) {
  return variant == ChipVariant::ch340 || variant == ChipVariant::ch341a;
}

uint32_t min_baud() {
  const uint32_t divider = clock_divider(0, 0) * kDivisorMax;
  return (CH341_CLKRATE + divider / 2) / divider;
}

uint32_t max_baud(ChipVariant variant) {
  return is_ch34x(variant) ? variant_info(variant).max_baud : 0;
}

BaudEncoding encode_baud(ChipVariant variant, const ChipTraits& traits, uint32_t baud) {
  BaudEncoding result;
  result.requested = baud;
  if (!is_ch34x(variant) || baud == 0) {
    result.status = Status::invalid_argument;
    return result;
  }
  const Candidate c = closest_setting(baud, traits.limited_prescaler);
  result.prescaler = c.ps;
  result.fact = c.fact;
  result.divisor = c.div;
  result.clock_divider = c.divider;
  uint16_t prescaler_register = static_cast<uint16_t>(c.ps | c.fact << kFactShift);
  if (traits.version >= kVersionPrescalerBit7) {
    prescaler_register |= CH341_PRESCALER_NO_BUFFERING;
  }
  // The divisor register holds 256 - div: 0 for div = 256.
  const auto divisor_register = static_cast<uint16_t>((kDivisorMax - c.div) & 0xFF);
  result.w_index = static_cast<uint16_t>(divisor_register << 8 | prescaler_register);
  result.actual_millibaud =
      (static_cast<uint64_t>(CH341_CLKRATE) * 1000 + c.divider / 2) / c.divider;
  result.actual_baud = (CH341_CLKRATE + c.divider / 2) / c.divider;

  // Our policy (docs/architecture.md): outside [min_baud, max_baud] or more than 3 % off is
  // unreachable. |48 MHz / divider - baud| <= baud * 3 % <=> scaled_error * 1000 <= baud * divider
  // * 30.
  const bool in_range = baud >= min_baud() && baud <= max_baud(variant);
  const uint64_t error_x1000 = scaled_error(baud, c.divider) * 1000;
  const uint64_t allowed_x1000 = static_cast<uint64_t>(baud) * c.divider * kBaudTolerancePermille;
  result.status = in_range && error_x1000 <= allowed_x1000 ? Status::ok : Status::baud_unreachable;
  return result;
}

Status encode_lcr(const LineSettings& line, uint8_t version, uint8_t& lcr) {
  uint8_t value = CH341_LCR_ENABLE_RX | CH341_LCR_ENABLE_TX;
  switch (line.data_bits) {
    case 5:
      value |= CH341_LCR_CS5;
      break;
    case 6:
      value |= CH341_LCR_CS6;
      break;
    case 7:
      value |= CH341_LCR_CS7;
      break;
    case 8:
      value |= CH341_LCR_CS8;
      break;
    default:
      return Status::invalid_argument;
  }
  switch (line.parity) {
    case Parity::none:
      break;
    case Parity::odd:
      value |= CH341_LCR_ENABLE_PAR;
      break;
    case Parity::even:
      value |= CH341_LCR_ENABLE_PAR | CH341_LCR_PAR_EVEN;
      break;
    case Parity::mark:
      value |= CH341_LCR_ENABLE_PAR | CH341_LCR_MARK_SPACE;
      break;
    case Parity::space:
      value |= CH341_LCR_ENABLE_PAR | CH341_LCR_MARK_SPACE | CH341_LCR_PAR_EVEN;
      break;
    default:
      return Status::invalid_argument;
  }
  switch (line.stop_bits) {
    case StopBits::one:
      break;
    case StopBits::two:
      value |= CH341_LCR_STOP_BITS_2;
      break;
    case StopBits::one_and_half:
      return Status::unsupported;  // CH340DS1 / CH341DS1: 1 or 2 stop bits
    default:
      return Status::invalid_argument;
  }
  if (version < kVersionLcr && value != kLcr8N1) {
    return Status::unsupported;
  }
  lcr = value;
  return Status::ok;
}

ModemStatus modem_from_status(uint8_t inverted) {
  const uint8_t lines = static_cast<uint8_t>(~inverted & CH341_BITS_MODEM_STAT);
  ModemStatus modem;
  modem.cts = (lines & CH341_BIT_CTS) != 0;
  modem.dsr = (lines & CH341_BIT_DSR) != 0;
  modem.ri = (lines & CH341_BIT_RI) != 0;
  modem.dcd = (lines & CH341_BIT_DCD) != 0;
  return modem;
}

uint16_t modem_control_value(ModemControl lines) {
  const unsigned control = (lines.dtr ? CH341_BIT_DTR : 0u) | (lines.rts ? CH341_BIT_RTS : 0u);
  return static_cast<uint16_t>(~control & 0xFFFFu);
}

}  // namespace ch34x

using namespace ch34x;

Status Ch34x::configure(const PortConfig& config) {
  *this = Ch34x{};
  if (!is_ch34x(config.variant) || config.bulk_in_max_packet == 0 ||
      config.port_index >= variant_info(config.variant).port_count) {
    return Status::invalid_argument;
  }
  config_ = config;
  configured_ = true;
  return Status::ok;
}

const char* Ch34x::name() const {
  return configured_ ? variant_info(config_.variant).name : "ch34x";
}

Capabilities Ch34x::capabilities() const {
  if (!configured_) {
    return Capabilities{};
  }
  Capabilities caps;
  caps.flags = capability::kRtsCts | capability::kModemStatusPoll | capability::kLineErrors |
               capability::kCts;
  caps.flags |= traits_.limited_prescaler ? capability::kBreakEmulated : capability::kBreak;
  // Before open() the version is unknown: describe a current part (>= 0x30).
  if (!opened_ || traits_.version >= kVersionLcr) {
    caps.flags |= capability::kMarkSpace | capability::kDataBits5_6;
  }
  caps.min_baud = min_baud();
  caps.max_baud = max_baud(config_.variant);
  return caps;
}

Status Ch34x::write_registers(ControlSink& sink, uint16_t registers, uint16_t values) {
  ControlRequest setup;
  setup.bmRequestType = kRequestTypeOut;
  setup.bRequest = CH341_REQ_WRITE_REG;
  setup.wValue = registers;
  setup.wIndex = values;
  return control_out(sink, setup);
}

Status Ch34x::read_registers(ControlSink& sink, uint16_t registers, uint8_t (&values)[2]) {
  ControlRequest setup;
  setup.bmRequestType = kRequestTypeIn;
  setup.bRequest = CH341_REQ_READ_REG;
  setup.wValue = registers;
  setup.wIndex = 0;
  setup.wLength = kRegisterPairLength;
  return control_in_exact(sink, setup, values);
}

Status Ch34x::open(ControlSink& sink) {
  if (!configured_) {
    return Status::not_open;
  }
  opened_ = false;
  traits_ = ChipTraits{};
  line_ = LineSettings{};
  lcr_ = kLcr8N1;
  break_on_ = false;
  emulated_break_on_ = false;
  flow_on_ = false;

  ControlRequest version;
  version.bmRequestType = kRequestTypeIn;
  version.bRequest = CH341_REQ_READ_VERSION;
  version.wLength = kVersionLength;
  uint8_t answer[kVersionLength] = {};
  Status status = control_in_exact(sink, version, answer);
  if (status != Status::ok) {
    return status;
  }
  ControlRequest init;
  init.bmRequestType = kRequestTypeOut;
  init.bRequest = CH341_REQ_SERIAL_INIT;
  status = control_out(sink, init);
  if (status != Status::ok) {
    return status;
  }
  uint8_t break_register[2] = {};
  status = read_registers(sink, kBreakProbeRegisters, break_register);
  bool limited = false;
  if (status == Status::stall) {
    limited = true;  // ch341.c ch341_detect_quirks: "break control not supported"
  } else if (status != Status::ok) {
    return status;
  }
  traits_.version = answer[0];
  traits_.limited_prescaler = limited;
  opened_ = true;
  return Status::ok;
}

Status Ch34x::close(ControlSink& sink) {
  if (!configured_) {
    return Status::not_open;
  }
  Status flow = Status::ok;
  if (flow_on_) {
    flow = write_registers(sink, kFlowRegisters, kFlowNone);
    if (flow == Status::ok) {
      flow_on_ = false;
    }
  }
  ControlRequest setup;
  setup.bmRequestType = kRequestTypeOut;
  setup.bRequest = CH341_REQ_MODEM_CTRL;
  setup.wValue = modem_control_value(ModemControl{false, false});
  const Status lines = control_out(sink, setup);
  return flow != Status::ok ? flow : lines;
}

Status Ch34x::program_line(ControlSink& sink, uint16_t baud_registers, uint8_t lcr) {
  Status status = write_registers(sink, kBaudRegisters, baud_registers);
  if (status != Status::ok || traits_.version < kVersionLcr) {
    return status;
  }
  // LCR2 (the high byte) is 0 on these versions (ch341.c).
  const uint8_t value = break_on_ ? static_cast<uint8_t>(lcr & ~CH341_LCR_ENABLE_TX) : lcr;
  return write_registers(sink, kLcrRegisters, value);
}

Status Ch34x::set_line(ControlSink& sink, const LineSettings& line, uint32_t& actual_baud) {
  if (!opened_) {
    return Status::not_open;
  }
  if (emulated_break_on_) {
    return Status::busy;  // the NUL of the emulated break is on its way at the lowest rate
  }
  uint8_t lcr = 0;
  Status status = encode_lcr(line, traits_.version, lcr);
  if (status != Status::ok) {
    return status;
  }
  const BaudEncoding baud = encode_baud(config_.variant, traits_, line.baud);
  if (baud.status != Status::ok) {
    return baud.status;
  }
  status = program_line(sink, baud.w_index, lcr);
  if (status != Status::ok) {
    return status;
  }
  line_ = line;
  lcr_ = lcr;
  actual_baud = baud.actual_baud;
  return Status::ok;
}

Status Ch34x::set_modem_control(ControlSink& sink, ModemControl lines) {
  if (!configured_) {
    return Status::not_open;
  }
  ControlRequest setup;
  setup.bmRequestType = kRequestTypeOut;
  setup.bRequest = CH341_REQ_MODEM_CTRL;
  setup.wValue = modem_control_value(lines);
  return control_out(sink, setup);
}

Status Ch34x::set_flow_control(ControlSink& sink, const FlowControl& flow) {
  if (!configured_) {
    return Status::not_open;
  }
  constexpr uint8_t kKnown = flow::kRtsCts | flow::kDtrDsr | flow::kXonXoffOut | flow::kXonXoffIn;
  if ((flow.modes & ~kKnown) != 0) {
    return Status::invalid_argument;
  }
  if ((flow.modes & ~flow::kRtsCts) != 0) {
    return Status::unsupported;
  }
  const bool on = flow.modes == flow::kRtsCts;
  const Status status = write_registers(sink, kFlowRegisters, on ? kFlowRtsCts : kFlowNone);
  if (status == Status::ok) {
    flow_on_ = on;
  }
  return status;
}

Status Ch34x::set_break(ControlSink& sink, bool on) {
  if (!opened_) {
    return Status::not_open;
  }
  if (traits_.limited_prescaler) {
    return Status::unsupported;
  }
  uint8_t registers[2] = {};  // {break register, LCR}
  Status status = read_registers(sink, kBreakRegisters, registers);
  if (status != Status::ok) {
    return status;
  }
  if (on) {
    registers[0] = static_cast<uint8_t>(registers[0] & ~CH341_NBREAK_BITS);
    registers[1] = static_cast<uint8_t>(registers[1] & ~CH341_LCR_ENABLE_TX);
  } else {
    registers[0] = static_cast<uint8_t>(registers[0] | CH341_NBREAK_BITS);
    registers[1] = static_cast<uint8_t>(registers[1] | CH341_LCR_ENABLE_TX);
  }
  status = write_registers(sink, kBreakRegisters,
                           static_cast<uint16_t>(registers[1] << 8 | registers[0]));
  if (status == Status::ok) {
    break_on_ = on;
  }
  return status;
}

Status Ch34x::get_modem_status(ControlSink& sink, ModemStatus& status) {
  if (!configured_) {
    return Status::not_open;
  }
  uint8_t registers[2] = {};
  const Status result = read_registers(sink, kStatusRegisters, registers);
  if (result == Status::ok) {
    status = modem_from_status(registers[0]);
  }
  return result;
}

uint32_t Ch34x::decode_rx(std::span<uint8_t> transfer, RxReport& report) {
  if (transfer.empty()) {
    return 0;
  }
  if (!configured_ || transfer.size() > std::numeric_limits<uint32_t>::max()) {
    ++report.malformed;
    return 0;
  }
  return static_cast<uint32_t>(transfer.size());
}

Status Ch34x::decode_interrupt(std::span<const uint8_t> packet, RxReport& report) {
  if (!configured_) {
    return Status::not_open;
  }
  if (packet.size() < kStatusPacketLength) {
    ++report.malformed;
    return Status::malformed;
  }
  report.modem_valid = true;
  report.modem = modem_from_status(packet[kStatusModemByte]);
  const uint8_t type = packet[kStatusTypeByte];
  if ((type & CH341_CTT_O) != 0) {
    ++report.errors.overrun;
  }
  if ((type & CH341_CTT_F) == CH341_CTT_F) {
    ++report.errors.framing;
  } else if ((type & CH341_CTT_P) != 0) {
    ++report.errors.parity;
  }
  return Status::ok;
}

Status Ch34x::begin_emulated_break(ControlSink& sink, std::span<const uint8_t>& fill) {
  static constexpr uint8_t kNul[1] = {0x00};
  if (!opened_) {
    return Status::not_open;
  }
  if (!traits_.limited_prescaler) {
    return Status::unsupported;
  }
  // The slowest setting, ps 0, fact 0, div 256 (divisor register 0): 45.78 Bd, the longest
  // space one character can make (ch341.c programs CH341_MIN_BPS).
  const uint16_t slowest =
      traits_.version >= kVersionPrescalerBit7 ? CH341_PRESCALER_NO_BUFFERING : 0;
  const Status status = program_line(sink, slowest, kLcr8N1);
  if (status == Status::ok) {
    fill = kNul;
    emulated_break_on_ = true;
  }
  return status;
}

Status Ch34x::end_emulated_break(ControlSink& sink) {
  if (!opened_) {
    return Status::not_open;
  }
  if (!traits_.limited_prescaler) {
    return Status::unsupported;
  }
  // The line in force was encodable when it was set (or is the 9600 8N1 Linux assumes).
  const uint16_t rate = encode_baud(config_.variant, traits_, line_.baud).w_index;
  const Status status = program_line(sink, rate, lcr_);
  if (status == Status::ok) {
    emulated_break_on_ = false;
  }
  return status;
}

uint32_t Ch34x::emulated_break_space_us() {
  const uint64_t divider = clock_divider(0, 0) * kDivisorMax;  // the slowest setting
  return static_cast<uint32_t>((kEmulatedBreakSpaceBits * divider * 1'000'000 + CH341_CLKRATE - 1) /
                               CH341_CLKRATE);
}

uint32_t Ch34x::emulated_break_hold_us() {
  const uint64_t divider = clock_divider(0, 0) * kDivisorMax;
  return static_cast<uint32_t>((kEmulatedBreakHoldBits * divider * 1'000'000 + CH341_CLKRATE - 1) /
                               CH341_CLKRATE);
}

}  // namespace transport::chips
