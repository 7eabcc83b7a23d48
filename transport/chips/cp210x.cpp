#include "cp210x.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace transport::chips {
namespace cp210x {
namespace {

// Smallest bulk-IN wMaxPacketSize we accept (full-speed bulk: 8..64, USB 2.0 §5.8.3). The
// parts report 64, CP2105's SCI port 32 (reference §0).
constexpr uint16_t kMinBulkInPacket = 8;

// The UARTs we drive and what each can do.
//   Ranges and rate rules: Linux cp210x.c cp210x_init_max_speed and cp210x_change_speed
//     (CP2104, CP2105 ECI and CP2102N use the divider; the others AN205, CP2108 sending
//     1 MBd and up unchanged), the CP2104 and CP2102N data sheets (300 Bd .. 2 / 3 MBd).
//   CP2102/3: AN205 Table 1 tops out at 921600 (a 1 MBd request runs at 921600 there; the
//     data sheet's 1 Mbps needs a reprogrammed table), so 921600 is the highest rate.
//   CP2105 SCI: 2400..921600 (Linux), 8 data bits, parity none/odd/even, 1 stop bit
//     (usb-serial-for-android Cp21xxSerialDriver: "second port of Cp2105 has limited
//     baudRate, dataBits, stopBits, parity").
//   unknown: a single-port part whose number we could not read; the AN205 table to 921600
//     is what every part handles.
constexpr PortProfile kProfiles[] = {
    {Part::unknown, 0, 0, "cp210x", 300, 921'600, RateRule::an205_table, 0, false},
    {Part::cp2102, 0, 0, "cp2102", 300, 921'600, RateRule::an205_table, 0, false},
    {Part::cp2103, 0, 0, "cp2103", 300, 921'600, RateRule::an205_table, 0, false},
    {Part::cp2102n, 0, 0, "cp2102n", 300, 3'000'000, RateRule::divider, 0, false},
    {Part::cp2104, 0, 0, "cp2104", 300, 2'000'000, RateRule::divider, 0, false},
    {Part::cp2105, 0, 0, "cp2105", 300, 2'000'000, RateRule::divider, 0, false},
    {Part::cp2105, 1, 1, "cp2105", 2'400, 921'600, RateRule::an205_table, 0, true},
    {Part::cp2108, 0, 3, "cp2108", 300, 2'000'000, RateRule::an205_table, 1'000'000, false},
};

// Probes run once per part when the port is first opened.
enum class Probe : uint8_t {
  // Some (possibly counterfeit) CP2102 answer a 2-byte GET_PARTNUM with 1 byte; they have no
  // event insertion (Linux cp2102_determine_quirks).
  counterfeit_partnum,
  // CP2102N erratum E104: firmware up to 1.0.4 reads ulXonLimit as ulFlowReplace; Linux
  // (cp210x_determine_quirks) then refuses all flow control, and so do we. A firmware
  // version that cannot be read is treated as affected.
  erratum_e104,
};
struct QuirkProbe {
  Part part;
  Probe probe;
};
constexpr QuirkProbe kQuirkProbes[] = {
    {Part::cp2102, Probe::counterfeit_partnum},
    {Part::cp2102n, Probe::erratum_e104},
};
constexpr uint32_t kE104LastAffectedFirmware = 0x010004;  // 1.0.4

struct PartNumber {
  uint8_t number;
  Part part;
};
constexpr PartNumber kPartNumbers[] = {
    {CP210X_PARTNUM_CP2102, Part::cp2102},         {CP210X_PARTNUM_CP2103, Part::cp2103},
    {CP210X_PARTNUM_CP2104, Part::cp2104},         {CP210X_PARTNUM_CP2105, Part::cp2105},
    {CP210X_PARTNUM_CP2108, Part::cp2108},         {CP210X_PARTNUM_CP2102N_QFN28, Part::cp2102n},
    {CP210X_PARTNUM_CP2102N_QFN24, Part::cp2102n}, {CP210X_PARTNUM_CP2102N_QFN20, Part::cp2102n},
};

Part part_of(ChipVariant variant) {
  switch (variant) {
    case ChipVariant::cp2102:
      return Part::cp2102;
    case ChipVariant::cp2102n:
      return Part::cp2102n;
    case ChipVariant::cp2104:
      return Part::cp2104;
    case ChipVariant::cp2105:
      return Part::cp2105;
    case ChipVariant::cp2108:
      return Part::cp2108;
    default:
      return Part::unknown;
  }
}

// May a port configured for `variant` be driven as `part`? The generic variant takes any
// part; a CP2103 is what a CP2102 entry may hold (same table and limits, AN205).
bool compatible(ChipVariant variant, Part part) {
  const Part expected = part_of(variant);
  return expected == Part::unknown || expected == part ||
         (expected == Part::cp2102 && part == Part::cp2103);
}

// What the chip does with a SET_BAUDRATE value on a divider part (data sheet Equations 1, 2).
struct DividerChoice {
  uint32_t sent;
  uint32_t prescale;
  uint32_t divider;
};
DividerChoice divide(uint32_t value) {
  DividerChoice choice;
  choice.sent = value;
  choice.prescale = value <= kPrescaleLowRateMax ? kPrescaleLow : 1;
  const uint64_t step = 2ull * choice.prescale * value;
  choice.divider = static_cast<uint32_t>((kClockHz + step / 2) / step);  // round half up
  return choice;
}

// |numerator / denominator - baud| * denominator.
uint64_t error_scaled(uint64_t numerator, uint64_t denominator, uint32_t baud) {
  const uint64_t scaled = static_cast<uint64_t>(baud) * denominator;
  return numerator > scaled ? numerator - scaled : scaled - numerator;
}

// True when `a` runs strictly closer to `baud` than `b`.
bool closer(const DividerChoice& a, const DividerChoice& b, uint32_t baud) {
  const uint64_t den_a = 2ull * a.prescale * a.divider;
  const uint64_t den_b = 2ull * b.prescale * b.divider;
  // error_a / den_a < error_b / den_b, cross-multiplied: an error stays below 2^37 (a request
  // above the range meets a denominator of 24 at most) and a denominator below 2^18.
  return error_scaled(kClockHz, den_a, baud) * den_b < error_scaled(kClockHz, den_b, baud) * den_a;
}

// Index of the first escape character in [p, p + n), or n. Eight bytes at a time: a byte of
// w ^ ESC...ESC is zero exactly where w holds the escape (the classic "has zero byte" test).
size_t find_escape(const uint8_t* p, size_t n) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHighs = 0x8080808080808080ull;
  constexpr uint64_t kEscapes = kOnes * CP210X_ESCCHAR;
  size_t i = 0;
  for (; i + sizeof(uint64_t) <= n; i += sizeof(uint64_t)) {
    uint64_t word = 0;
    std::memcpy(&word, p + i, sizeof word);
    const uint64_t x = word ^ kEscapes;
    if (((x - kOnes) & ~x & kHighs) != 0) {
      break;
    }
  }
  while (i < n && p[i] != CP210X_ESCCHAR) {
    ++i;
  }
  return i;
}

uint32_t get32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

void put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v >> 16);
  p[3] = static_cast<uint8_t>(v >> 24);
}

}  // namespace

bool is_cp210x(ChipVariant variant) {
  return variant_info(variant).family == ChipFamily::cp210x;
}

const PortProfile* profile_for(Part part, uint8_t port_index) {
  for (const PortProfile& profile : kProfiles) {
    if (profile.part == part && port_index >= profile.first_port &&
        port_index <= profile.last_port) {
      return &profile;
    }
  }
  return nullptr;
}

const PortProfile* profile_for(ChipVariant variant, uint8_t port_index) {
  if (!is_cp210x(variant) || port_index >= variant_info(variant).port_count) {
    return nullptr;
  }
  return profile_for(part_of(variant), port_index);
}

bool part_from_number(uint8_t number, Part& part) {
  for (const PartNumber& entry : kPartNumbers) {
    if (entry.number == number) {
      part = entry.part;
      return true;
    }
  }
  return false;
}

BaudEncoding encode_baud(const PortProfile& port, uint32_t baud) {
  BaudEncoding result;
  result.requested = baud;
  result.rule = port.rule;
  if (baud == 0) {
    result.status = Status::invalid_argument;
    return result;
  }
  const uint32_t clamped = std::clamp(baud, port.min_baud, port.max_baud);
  result.sent = clamped;
  // The actual rate as numerator / denominator, exactly.
  uint64_t numerator = clamped;
  uint64_t denominator = 1;
  if (port.rule == RateRule::divider) {
    // The chip rounds the divider, not the rate: just below a half-way point the other
    // neighbour may be closer to the request. So the request and the rates of the two
    // neighbouring dividers are tried as the value to send, and the closest result wins
    // (the request on a tie).
    DividerChoice best = divide(clamped);
    for (const int step : {-1, 1}) {
      const int64_t other = static_cast<int64_t>(best.divider) + step;
      if (other < 1) {
        continue;
      }
      const uint64_t den = 2ull * best.prescale * static_cast<uint64_t>(other);
      const auto value = static_cast<uint32_t>(
          std::clamp<uint64_t>((kClockHz + den / 2) / den, port.min_baud, port.max_baud));
      const DividerChoice candidate = divide(value);
      if (closer(candidate, best, baud)) {
        best = candidate;
      }
    }
    result.sent = best.sent;
    result.prescale = best.prescale;
    result.divider = best.divider;
    numerator = kClockHz;
    denominator = 2ull * best.prescale * best.divider;
  } else {
    // The chip maps a request to a table rate by ranges (AN205 Table 1), and a table rate to
    // itself; so the table rate closest to the request is what is sent (Linux sends the
    // rate of the request's range: 4804 Bd would run at 7200). From exact_from up (CP2108),
    // a request runs as sent, which may be closer still.
    uint32_t best_error = std::numeric_limits<uint32_t>::max();
    for (const uint32_t rate : kAn205Rates) {
      if (rate < port.min_baud || rate > port.max_baud) {
        continue;
      }
      const uint32_t error = rate > baud ? rate - baud : baud - rate;
      if (error < best_error) {
        best_error = error;
        result.sent = rate;
      }
    }
    if (port.exact_from != 0) {
      const uint32_t exact = std::clamp(baud, port.exact_from, port.max_baud);
      if ((exact > baud ? exact - baud : baud - exact) < best_error) {
        result.sent = exact;
      }
    }
    numerator = result.sent;
  }
  result.actual_millibaud = (numerator * 1000 + denominator / 2) / denominator;
  result.actual_baud = static_cast<uint32_t>((numerator + denominator / 2) / denominator);
  // |numerator / denominator - baud| <= 3 % of baud, on the exact rate.
  result.status = error_scaled(numerator, denominator, baud) * 1000 <=
                          static_cast<uint64_t>(baud) * denominator * kBaudTolerancePermille
                      ? Status::ok
                      : Status::baud_unreachable;
  return result;
}

BaudEncoding encode_baud(ChipVariant variant, uint8_t port_index, uint32_t baud) {
  const PortProfile* port = profile_for(variant, port_index);
  if (port == nullptr) {
    BaudEncoding result;
    result.requested = baud;
    return result;
  }
  return encode_baud(*port, baud);
}

Status encode_line_ctl(const PortProfile& port, const LineSettings& line, uint16_t& value) {
  if (line.data_bits < 5 || line.data_bits > 8) {
    return Status::invalid_argument;
  }
  uint16_t parity = 0;
  switch (line.parity) {
    case Parity::none:
      parity = BITS_PARITY_NONE;
      break;
    case Parity::odd:
      parity = BITS_PARITY_ODD;
      break;
    case Parity::even:
      parity = BITS_PARITY_EVEN;
      break;
    case Parity::mark:
      parity = BITS_PARITY_MARK;
      break;
    case Parity::space:
      parity = BITS_PARITY_SPACE;
      break;
    default:
      return Status::invalid_argument;
  }
  uint16_t stop = 0;
  switch (line.stop_bits) {
    case StopBits::one:
      stop = BITS_STOP_1;
      break;
    case StopBits::one_and_half:
      stop = BITS_STOP_1_5;
      break;
    case StopBits::two:
      stop = BITS_STOP_2;
      break;
    default:
      return Status::invalid_argument;
  }
  if (port.narrow_format) {
    if (line.data_bits != 8 || parity == BITS_PARITY_MARK || parity == BITS_PARITY_SPACE ||
        stop != BITS_STOP_1) {
      return Status::unsupported;
    }
  } else if (stop == BITS_STOP_1_5 && line.data_bits != 5) {
    return Status::unsupported;
  }
  value = static_cast<uint16_t>(stop | parity | (line.data_bits << kDataBitsShift));
  return Status::ok;
}

ModemStatus modem_from_mdmsts(uint8_t status) {
  ModemStatus modem;
  modem.cts = (status & CONTROL_CTS) != 0;
  modem.dsr = (status & CONTROL_DSR) != 0;
  modem.ri = (status & CONTROL_RING) != 0;
  modem.dcd = (status & CONTROL_DCD) != 0;
  return modem;
}

void count_lsr(uint8_t lsr, LineErrors& errors) {
  // One flag per character, Linux's priority (cp210x_process_lsr): break > parity > framing;
  // an overrun (a character lost before this one) is a separate event.
  if ((lsr & CP210X_LSR_BREAK) != 0) {
    ++errors.brk;
  } else if ((lsr & CP210X_LSR_PARITY) != 0) {
    ++errors.parity;
  } else if ((lsr & CP210X_LSR_FRAME) != 0) {
    ++errors.framing;
  }
  if ((lsr & CP210X_LSR_OVERRUN) != 0) {
    ++errors.overrun;
  }
}

Status parse_comm_status(std::span<const uint8_t> bytes, CommStatus& status) {
  if (bytes.size() < kCommStatusLength) {
    return Status::short_transfer;
  }
  status.errors = get32(bytes.data());
  status.hold_reasons = get32(bytes.data() + 4);
  status.in_queue = get32(bytes.data() + 8);
  status.out_queue = get32(bytes.data() + 12);
  return Status::ok;
}

LineErrors errors_from_comm_status(uint32_t errors) {
  LineErrors out;
  out.brk = (errors & SERIAL_ERROR_BREAK) != 0 ? 1 : 0;
  out.framing = (errors & SERIAL_ERROR_FRAMING) != 0 ? 1 : 0;
  out.overrun = (errors & (SERIAL_ERROR_HW_OVERRUN | SERIAL_ERROR_QUEUE_OVERRUN)) != 0 ? 1 : 0;
  out.parity = (errors & SERIAL_ERROR_PARITY) != 0 ? 1 : 0;
  return out;
}

FlowSettings parse_flow(std::span<const uint8_t, kFlowLength> bytes) {
  FlowSettings flow;
  flow.control_handshake = get32(bytes.data());
  flow.flow_replace = get32(bytes.data() + 4);
  flow.xon_limit = get32(bytes.data() + 8);
  flow.xoff_limit = get32(bytes.data() + 12);
  return flow;
}

void serialize_flow(const FlowSettings& flow, std::span<uint8_t, kFlowLength> bytes) {
  put32(bytes.data(), flow.control_handshake);
  put32(bytes.data() + 4, flow.flow_replace);
  put32(bytes.data() + 8, flow.xon_limit);
  put32(bytes.data() + 12, flow.xoff_limit);
}

FlowSettings apply_flow(const FlowSettings& read, const FlowControl& flow, ModemControl lines) {
  const bool rts_cts = (flow.modes & flow::kRtsCts) != 0;
  const bool dtr_dsr = (flow.modes & flow::kDtrDsr) != 0;
  FlowSettings out = read;
  out.control_handshake &=
      ~(CP210X_SERIAL_DTR_MASK | CP210X_SERIAL_CTS_HANDSHAKE | CP210X_SERIAL_DSR_HANDSHAKE |
        CP210X_SERIAL_DCD_HANDSHAKE | CP210X_SERIAL_DSR_SENSITIVITY);
  if (!lines.dtr) {
    out.control_handshake |= CP210X_SERIAL_DTR_INACTIVE;
  } else {
    out.control_handshake |= dtr_dsr ? CP210X_SERIAL_DTR_FLOW_CTL : CP210X_SERIAL_DTR_ACTIVE;
  }
  if (dtr_dsr) {
    out.control_handshake |= CP210X_SERIAL_DSR_HANDSHAKE;
  }
  if (rts_cts) {
    out.control_handshake |= CP210X_SERIAL_CTS_HANDSHAKE;
  }
  out.flow_replace &=
      ~(CP210X_SERIAL_AUTO_TRANSMIT | CP210X_SERIAL_AUTO_RECEIVE | CP210X_SERIAL_ERROR_CHAR |
        CP210X_SERIAL_NULL_STRIPPING | CP210X_SERIAL_BREAK_CHAR | CP210X_SERIAL_RTS_MASK);
  if (!lines.rts) {
    out.flow_replace |= CP210X_SERIAL_RTS_INACTIVE;
  } else {
    out.flow_replace |= rts_cts ? CP210X_SERIAL_RTS_FLOW_CTL : CP210X_SERIAL_RTS_ACTIVE;
  }
  if ((flow.modes & flow::kXonXoffOut) != 0) {
    out.flow_replace |= CP210X_SERIAL_AUTO_TRANSMIT;
  }
  if ((flow.modes & flow::kXonXoffIn) != 0) {
    out.flow_replace |= CP210X_SERIAL_AUTO_RECEIVE;
    out.xon_limit = kXonXoffLimit;
    out.xoff_limit = kXonXoffLimit;
  }
  return out;
}

}  // namespace cp210x

using namespace cp210x;

Status Cp210x::configure(const PortConfig& config) {
  *this = Cp210x{};
  const PortProfile* profile = profile_for(config.variant, config.port_index);
  if (profile == nullptr || config.bulk_in_max_packet < kMinBulkInPacket) {
    return Status::invalid_argument;
  }
  config_ = config;
  profile_ = profile;
  configured_ = true;
  return Status::ok;
}

const char* Cp210x::name() const {
  return configured_ ? profile_->name : "cp210x";
}

Capabilities Cp210x::capabilities() const {
  if (!configured_) {
    return Capabilities{};
  }
  Capabilities caps;
  caps.flags = capability::kBreak | capability::kPurge | capability::kModemStatusPoll |
               capability::kLineErrors | capability::kCts;
  if (!flow_refused_) {
    caps.flags |= capability::kRtsCts | capability::kDtrDsr | capability::kXonXoff;
  }
  if (!profile_->narrow_format) {
    // 1.5 stop bits with 5 data bits only (encode_line_ctl).
    caps.flags |= capability::kMarkSpace | capability::kDataBits5_6 | capability::kStopBits1_5;
  }
  caps.min_baud = profile_->min_baud;
  caps.max_baud = profile_->max_baud;
  return caps;
}

Status Cp210x::send(ControlSink& sink, uint8_t request, uint16_t value) {
  ControlRequest setup;
  setup.bmRequestType = REQTYPE_HOST_TO_INTERFACE;
  setup.bRequest = request;
  setup.wValue = value;
  setup.wIndex = config_.interface_number;
  return control_out(sink, setup);
}

Status Cp210x::send_data(ControlSink& sink, uint8_t request, std::span<const uint8_t> data) {
  ControlRequest setup;
  setup.bmRequestType = REQTYPE_HOST_TO_INTERFACE;
  setup.bRequest = request;
  setup.wIndex = config_.interface_number;
  setup.wLength = static_cast<uint16_t>(data.size());
  return control_out(sink, setup, data);
}

Status Cp210x::read_interface(ControlSink& sink, uint8_t request, std::span<uint8_t> data) {
  ControlRequest setup;
  setup.bmRequestType = REQTYPE_INTERFACE_TO_HOST;
  setup.bRequest = request;
  setup.wIndex = config_.interface_number;
  setup.wLength = static_cast<uint16_t>(data.size());
  return control_in_exact(sink, setup, data);
}

Status Cp210x::read_vendor(ControlSink& sink, uint16_t selector, std::span<uint8_t> data) {
  ControlRequest setup;
  setup.bmRequestType = REQTYPE_DEVICE_TO_HOST;
  setup.bRequest = CP210X_VENDOR_SPECIFIC;
  setup.wValue = selector;
  setup.wIndex = config_.interface_number;
  setup.wLength = static_cast<uint16_t>(data.size());
  return control_in_exact(sink, setup, data);
}

Status Cp210x::detect(ControlSink& sink) {
  uint8_t number = 0;
  const Status read = read_vendor(sink, CP210X_GET_PARTNUM, {&number, kPartNumberLength});
  if (read == Status::ok) {
    Part part = Part::unknown;
    if (number == CP210X_PARTNUM_CP2101) {
      return Status::unsupported;
    }
    if (part_from_number(number, part)) {
      const PortProfile* profile = profile_for(part, config_.port_index);
      if (!compatible(config_.variant, part) || profile == nullptr) {
        return Status::unsupported;  // the chip contradicts the descriptors
      }
      profile_ = profile;
    }
    // An unknown number keeps the profile the descriptors chose.
  } else if (read != Status::stall && read != Status::short_transfer) {
    return read;  // gone, timed out: the open fails
  }
  // A part that refuses the read keeps the descriptors' profile too (Linux goes on with
  // CP210X_PARTNUM_UNKNOWN).

  for (const QuirkProbe& quirk : kQuirkProbes) {
    if (quirk.part != profile_->part) {
      continue;
    }
    switch (quirk.probe) {
      case Probe::counterfeit_partnum: {
        ControlRequest setup;
        setup.bmRequestType = REQTYPE_DEVICE_TO_HOST;
        setup.bRequest = CP210X_VENDOR_SPECIFIC;
        setup.wValue = CP210X_GET_PARTNUM;
        setup.wIndex = config_.interface_number;
        setup.wLength = kPartNumberProbeLength;
        uint8_t answer[kPartNumberProbeLength] = {};
        uint16_t transferred = 0;
        if (sink.control(setup, answer, transferred) == Status::ok && transferred == 1) {
          event_mode_supported_ = false;
        }
        break;
      }
      case Probe::erratum_e104: {
        uint8_t version[kFirmwareVersionLength] = {};
        const Status status = read_vendor(sink, CP210X_GET_FW_VER_2N, version);
        const uint32_t firmware = (static_cast<uint32_t>(version[0]) << 16) |
                                  (static_cast<uint32_t>(version[1]) << 8) | version[2];
        flow_refused_ = status != Status::ok || firmware <= kE104LastAffectedFirmware;
        break;
      }
    }
  }
  detected_ = true;
  return Status::ok;
}

Status Cp210x::open(ControlSink& sink) {
  if (!configured_) {
    return Status::not_open;
  }
  Status status = send(sink, CP210X_IFC_ENABLE, UART_ENABLE);
  if (status != Status::ok) {
    return status;
  }
  if (!detected_) {
    status = detect(sink);
  }
  if (status == Status::ok) {
    status = send(sink, CP210X_PURGE, PURGE_ALL);
  }
  flow_ = FlowControl{};
  lines_ = ModemControl{};
  state_ = EventState::data;
  pending_ = LineErrors{};
  event_mode_ = false;
  if (status == Status::ok && event_mode_supported_) {
    const Status events = send(sink, CP210X_EMBED_EVENTS, CP210X_ESCCHAR);
    if (events == Status::ok) {
      event_mode_ = true;
    } else if (events != Status::stall) {
      status = events;  // a refusal leaves the data raw; anything else fails the open
    }
  }
  if (status != Status::ok) {
    (void)send(sink, CP210X_IFC_ENABLE, UART_DISABLE);
  }
  return status;
}

Status Cp210x::close(ControlSink& sink) {
  if (!configured_) {
    return Status::not_open;
  }
  Status first = Status::ok;
  auto keep = [&first](Status status) {
    if (first == Status::ok) {
      first = status;
    }
    return status;
  };
  if (flow_.modes != flow::kNone && !flow_refused_) {
    (void)keep(write_flow(sink, FlowControl{}, ModemControl{}));
  }
  flow_ = FlowControl{};
  (void)keep(send(sink, CP210X_SET_MHS, CONTROL_WRITE_DTR | CONTROL_WRITE_RTS));
  lines_ = ModemControl{};
  // A chip that does not answer GET_COMM_STATUS is closed as Linux closes every CP210x.
  CommStatus comm;
  // [U] Nothing is known to wait for the chip's own buffer before HwDeactivate (Linux's tty
  // layer polls this same status first): while it still holds bytes, the UART stays enabled
  // so that they reach the line; open() purges and enables it again.
  if (get_comm_status(sink, comm) == Status::ok && comm.out_queue > 0) {
    return first;
  }
  (void)keep(send(sink, CP210X_PURGE, PURGE_ALL));
  (void)keep(send(sink, CP210X_IFC_ENABLE, UART_DISABLE));
  event_mode_ = false;  // disabling the interface ends event insertion (AN571)
  return first;
}

Status Cp210x::set_line(ControlSink& sink, const LineSettings& line, uint32_t& actual_baud) {
  if (!configured_) {
    return Status::not_open;
  }
  uint16_t line_ctl = 0;
  Status status = encode_line_ctl(*profile_, line, line_ctl);
  if (status != Status::ok) {
    return status;
  }
  const BaudEncoding baud = encode_baud(*profile_, line.baud);
  if (baud.status != Status::ok) {
    return baud.status;
  }
  uint8_t rate[4] = {};
  rate[0] = static_cast<uint8_t>(baud.sent);
  rate[1] = static_cast<uint8_t>(baud.sent >> 8);
  rate[2] = static_cast<uint8_t>(baud.sent >> 16);
  rate[3] = static_cast<uint8_t>(baud.sent >> 24);
  status = send_data(sink, CP210X_SET_BAUDRATE, rate);
  if (status == Status::ok) {
    status = send(sink, CP210X_SET_LINE_CTL, line_ctl);
  }
  if (status == Status::ok) {
    actual_baud = baud.actual_baud;
  }
  return status;
}

bool Cp210x::hardware_handshake() const {
  return (flow_.modes & (flow::kRtsCts | flow::kDtrDsr)) != 0;
}

Status Cp210x::write_flow(ControlSink& sink, const FlowControl& flow, ModemControl lines) {
  uint8_t bytes[kFlowLength] = {};
  Status status = read_interface(sink, CP210X_GET_FLOW, bytes);
  if (status != Status::ok) {
    return status;
  }
  serialize_flow(apply_flow(parse_flow(bytes), flow, lines), bytes);
  return send_data(sink, CP210X_SET_FLOW, bytes);
}

Status Cp210x::set_modem_control(ControlSink& sink, ModemControl lines) {
  if (!configured_) {
    return Status::not_open;
  }
  Status status = Status::ok;
  if (hardware_handshake()) {
    status = write_flow(sink, flow_, lines);
  } else {
    const uint16_t value =
        static_cast<uint16_t>(CONTROL_WRITE_DTR | CONTROL_WRITE_RTS |
                              (lines.dtr ? CONTROL_DTR : 0u) | (lines.rts ? CONTROL_RTS : 0u));
    status = send(sink, CP210X_SET_MHS, value);
  }
  if (status == Status::ok) {
    lines_ = lines;
  }
  return status;
}

Status Cp210x::set_flow_control(ControlSink& sink, const FlowControl& flow) {
  if (!configured_) {
    return Status::not_open;
  }
  constexpr uint8_t kKnown = flow::kRtsCts | flow::kDtrDsr | flow::kXonXoffOut | flow::kXonXoffIn;
  if ((flow.modes & ~kKnown) != 0) {
    return Status::invalid_argument;
  }
  if (flow_refused_) {
    return flow.modes == flow::kNone ? Status::ok : Status::unsupported;
  }
  if ((flow.modes & (flow::kXonXoffOut | flow::kXonXoffIn)) != 0) {
    uint8_t chars[kSpecialCharsLength] = {};
    chars[kXonCharOffset] = flow.xon;
    chars[kXoffCharOffset] = flow.xoff;
    const Status status = send_data(sink, CP210X_SET_CHARS, chars);
    if (status != Status::ok) {
      return status;
    }
  }
  const Status status = write_flow(sink, flow, lines_);
  if (status == Status::ok) {
    flow_ = flow;
  }
  return status;
}

Status Cp210x::set_break(ControlSink& sink, bool on) {
  if (!configured_) {
    return Status::not_open;
  }
  return send(sink, CP210X_SET_BREAK, on ? BREAK_ON : BREAK_OFF);
}

Status Cp210x::purge(ControlSink& sink, bool tx, bool rx) {
  if (!configured_) {
    return Status::not_open;
  }
  const uint16_t value = static_cast<uint16_t>((tx ? PURGE_TX : 0u) | (rx ? PURGE_RX : 0u));
  return value == 0 ? Status::ok : send(sink, CP210X_PURGE, value);
}

Status Cp210x::get_comm_status(ControlSink& sink, CommStatus& status) {
  if (!configured_) {
    return Status::not_open;
  }
  uint8_t bytes[kCommStatusLength] = {};
  const Status read = read_interface(sink, CP210X_GET_COMM_STATUS, bytes);
  return read == Status::ok ? parse_comm_status(bytes, status) : read;
}

Status Cp210x::get_modem_status(ControlSink& sink, ModemStatus& status) {
  if (!configured_) {
    return Status::not_open;
  }
  uint8_t answer = 0;
  const Status read = read_interface(sink, CP210X_GET_MDMSTS, {&answer, kModemStatusLength});
  if (read != Status::ok) {
    return read;
  }
  status = modem_from_mdmsts(answer);
  // Without event insertion the error bits are the only word of line errors. A chip that
  // does not answer them still has its lines reported.
  CommStatus comm;
  if (!event_mode_ && get_comm_status(sink, comm) == Status::ok) {
    pending_ += errors_from_comm_status(comm.errors);
  }
  return Status::ok;
}

uint32_t Cp210x::decode_rx(std::span<uint8_t> transfer, RxReport& report) {
  if (!configured_ || transfer.size() > std::numeric_limits<uint32_t>::max()) {
    if (!transfer.empty()) {
      ++report.malformed;
    }
    return 0;
  }
  report.errors += pending_;
  pending_ = LineErrors{};
  if (!event_mode_ || transfer.empty()) {
    return static_cast<uint32_t>(transfer.size());
  }
  uint8_t* const bytes = transfer.data();
  const size_t size = transfer.size();
  size_t out = 0;
  size_t i = 0;
  while (i < size) {
    if (state_ == EventState::data) {
      // The common case: a run of plain data up to the next escape, moved in one go.
      const size_t run = find_escape(bytes + i, size - i);
      if (out != i) {
        std::memmove(bytes + out, bytes + i, run);
      }
      out += run;
      i += run;
      if (i < size) {
        state_ = EventState::escape;
        ++i;
      }
      continue;
    }
    const uint8_t byte = bytes[i++];
    switch (state_) {
      case EventState::escape:
        switch (byte) {
          case kEventEscapedEscape:
            bytes[out++] = CP210X_ESCCHAR;
            state_ = EventState::data;
            break;
          case kEventLsrData:
            state_ = EventState::lsr_then_data;
            break;
          case kEventLsr:
            state_ = EventState::lsr;
            break;
          case kEventMsr:
            state_ = EventState::msr;
            break;
          default:
            ++report.malformed;  // not an event the chip sends: both bytes dropped
            state_ = EventState::data;
            break;
        }
        break;
      case EventState::lsr_then_data:
        lsr_ = byte;
        state_ = EventState::data_after_lsr;
        break;
      case EventState::data_after_lsr:
        bytes[out++] = byte;
        count_lsr(lsr_, report.errors);
        state_ = EventState::data;
        break;
      case EventState::lsr:
        count_lsr(byte, report.errors);
        state_ = EventState::data;
        break;
      case EventState::msr:
        // Modem status layout is not documented (reference §9); the lines are polled.
        state_ = EventState::data;
        break;
      case EventState::data:
        break;
    }
  }
  if (out == 0) {
    ++report.status_only_packets;
  }
  return static_cast<uint32_t>(out);
}

}  // namespace transport::chips
