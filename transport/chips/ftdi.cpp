#include "ftdi.hpp"

#include <cstring>
#include <limits>

namespace transport::chips {
namespace ftdi {
namespace {

// Smallest bulk-IN wMaxPacketSize we accept: full-speed bulk endpoints are 8..64 bytes
// (USB 2.0 §5.8.3); the FTDI parts report 64 (FS) or 512 (HS) (reference §0).
constexpr uint16_t kMinBulkInPacket = 8;

// Rate (exact) of a divisor: reference * 8 / divisor_eighths.
constexpr uint64_t eighths_numerator(uint32_t reference_hz) {
  return static_cast<uint64_t>(reference_hz) * 8;
}

// The largest valid divisor (in eighths) not above `d8`, or 0 when there is none.
// Valid: 8 (1.0), 12 (1.5), and 16..131071 (2.0..16383.875) (AN232B-05).
constexpr uint32_t valid_at_or_below(uint64_t d8) {
  if (d8 >= kEighthsDivisorMax) {
    return kEighthsDivisorMax;
  }
  if (d8 >= kEighthsDivisorMinRegular) {
    return static_cast<uint32_t>(d8);
  }
  if (d8 >= kEighthsDivisorOneAndHalf) {
    return kEighthsDivisorOneAndHalf;
  }
  if (d8 >= kEighthsDivisorOne) {
    return kEighthsDivisorOne;
  }
  return 0;
}

// The smallest valid divisor (in eighths) not below `d8`, or 0 when there is none.
constexpr uint32_t valid_at_or_above(uint64_t d8) {
  if (d8 <= kEighthsDivisorOne) {
    return kEighthsDivisorOne;
  }
  if (d8 <= kEighthsDivisorOneAndHalf) {
    return kEighthsDivisorOneAndHalf;
  }
  if (d8 <= kEighthsDivisorMinRegular) {
    return kEighthsDivisorMinRegular;
  }
  if (d8 <= kEighthsDivisorMax) {
    return static_cast<uint32_t>(d8);
  }
  return 0;
}

// |reference*8 - baud*d8|: the rate error times d8 (the error itself is this / d8).
// Bounds: baud < 2^32 and d8 < 2^17, so every product fits in 64 bits.
constexpr uint64_t scaled_error(uint64_t numerator, uint32_t baud, uint32_t d8) {
  const uint64_t product = static_cast<uint64_t>(baud) * d8;
  return numerator > product ? numerator - product : product - numerator;
}

// Packs a divisor in eighths into the chip's encoding (AN232B-05; Linux
// ftdi_232bm_baud_base_to_divisor): n in bits 0-13, fraction code in bits 14-16, with the
// two specials 1.0 -> 0 and 1.5 -> 1.
constexpr uint32_t pack_divisor(uint32_t d8) {
  if (d8 == kEighthsDivisorOne) {
    return kEncodedDivisorOne;
  }
  if (d8 == kEighthsDivisorOneAndHalf) {
    return kEncodedDivisorOneAndHalf;
  }
  const uint32_t integer = (d8 >> 3) & kDivisorIntegerMask;
  const uint32_t code = kFractionCode[d8 & 7u];
  return integer | (code << kDivisorFractionShift);
}

// AN232B-05 worked example: 9600 Bd on 3 MHz is divisor 312.5 (2500 eighths) -> 0x4138.
static_assert(pack_divisor(2500) == 0x4138);
static_assert(pack_divisor(kEighthsDivisorOne) == 0 &&
              pack_divisor(kEighthsDivisorOneAndHalf) == 1);
static_assert(pack_divisor(kEighthsDivisorMax) == 0x1FFFF);

}  // namespace

bool is_ftdi(ChipVariant variant) {
  switch (variant) {
    case ChipVariant::ft232bm:
    case ChipVariant::ft232r:
    case ChipVariant::ft_x:
    case ChipVariant::ft2232c:
    case ChipVariant::ft232h:
    case ChipVariant::ft2232h:
    case ChipVariant::ft4232h:
      return true;
    default:  // the variants of other families
      return false;
  }
  return false;
}

bool has_12mhz_reference(ChipVariant variant) {
  return variant == ChipVariant::ft232h || variant == ChipVariant::ft2232h ||
         variant == ChipVariant::ft4232h;
}

uint8_t channel_for(ChipVariant variant, uint8_t port_index) {
  switch (variant) {
    case ChipVariant::ft232bm:
    case ChipVariant::ft232r:
      return 0;
    case ChipVariant::ft_x:
    case ChipVariant::ft232h:
      return 1;
    case ChipVariant::ft2232c:
    case ChipVariant::ft2232h:
    case ChipVariant::ft4232h:
      return static_cast<uint8_t>(1 + port_index);
    default:  // the variants of other families
      return 0;
  }
  return 0;
}

uint32_t min_baud() {
  // Rate of the largest divisor on the 3 MHz reference, rounded to the nearest bit/s.
  const uint64_t numerator = eighths_numerator(kReference3MHz);
  return static_cast<uint32_t>((numerator + kEighthsDivisorMax / 2) / kEighthsDivisorMax);
}

uint32_t max_baud(ChipVariant variant) {
  return is_ftdi(variant) ? variant_info(variant).max_baud : 0;
}

BaudEncoding encode_baud(ChipVariant variant, uint8_t port_index, uint32_t baud) {
  BaudEncoding result;
  result.requested = baud;
  if (!is_ftdi(variant) || port_index >= variant_info(variant).port_count || baud == 0) {
    result.status = Status::invalid_argument;
    return result;
  }

  const bool clock_12mhz = has_12mhz_reference(variant) && baud >= kHighSpeedClockMinBaud;
  const uint32_t reference = clock_12mhz ? kReference12MHz : kReference3MHz;
  const uint64_t numerator = eighths_numerator(reference);

  // The ideal divisor in eighths is numerator / baud; the closest rates come from the valid
  // divisors just below and just above it (the rate falls monotonically with the divisor).
  const uint64_t floor_d8 = numerator / baud;
  const uint64_t ceil_d8 = floor_d8 + (numerator % baud != 0 ? 1 : 0);
  const uint32_t below = valid_at_or_below(floor_d8);
  const uint32_t above = valid_at_or_above(ceil_d8);

  uint32_t d8 = 0;
  if (below == 0) {
    d8 = above;
  } else if (above == 0) {
    d8 = below;
  } else {
    // Compare rate errors err/below and err/above without division. Ties go to the larger
    // divisor, as Linux's round-half-up DIV_ROUND_CLOSEST does.
    const uint64_t lhs = scaled_error(numerator, baud, below) * above;
    const uint64_t rhs = scaled_error(numerator, baud, above) * below;
    d8 = lhs < rhs ? below : above;
  }
  // valid_at_or_above never returns 0 for ceil_d8 <= kEighthsDivisorMax, and when ceil_d8 is
  // larger, floor_d8 >= kEighthsDivisorMax gives a valid `below`; so d8 is never 0 here.
  if (d8 == 0) {
    result.status = Status::baud_unreachable;
    return result;
  }

  result.encoded = pack_divisor(d8) | (clock_12mhz ? kDivisorClock12MHz : 0u);
  result.w_value = static_cast<uint16_t>(result.encoded & 0xFFFFu);
  uint32_t index = result.encoded >> 16;
  const uint8_t channel = channel_for(variant, port_index);
  if (channel != 0) {
    // Linux change_speed: the divisor's high bits move to the high byte when the port has a
    // channel number (required for FT-X fraction codes 4-7 since v5.11, reference §2.4).
    index = (index << 8) | channel;
  }
  result.w_index = static_cast<uint16_t>(index);
  result.reference_hz = reference;
  result.divisor_eighths = d8;
  result.actual_millibaud = (numerator * 1000 + d8 / 2) / d8;
  result.actual_baud = static_cast<uint32_t>((numerator + d8 / 2) / d8);

  // Our policy (docs/architecture.md): outside [min_baud, max_baud] or more than 3 % off is
  // unreachable. The 3 % test uses the exact rate: |numerator/d8 - baud| <= baud * permille / 1000.
  const bool in_range = baud >= min_baud() && baud <= max_baud(variant);
  const uint64_t error_x1000 = scaled_error(numerator, baud, d8) * 1000;
  const uint64_t allowed_x1000 = static_cast<uint64_t>(baud) * d8 * kBaudTolerancePermille;
  result.status = in_range && error_x1000 <= allowed_x1000 ? Status::ok : Status::baud_unreachable;
  return result;
}

Status encode_data(const LineSettings& line, uint16_t& value) {
  if (line.data_bits == 5 || line.data_bits == 6) {
    return Status::unsupported;
  }
  if (line.data_bits != 7 && line.data_bits != 8) {
    return Status::invalid_argument;
  }
  uint16_t parity = 0;
  switch (line.parity) {
    case Parity::none:
      parity = SIO_SET_DATA_PARITY_NONE;
      break;
    case Parity::odd:
      parity = SIO_SET_DATA_PARITY_ODD;
      break;
    case Parity::even:
      parity = SIO_SET_DATA_PARITY_EVEN;
      break;
    case Parity::mark:
      parity = SIO_SET_DATA_PARITY_MARK;
      break;
    case Parity::space:
      parity = SIO_SET_DATA_PARITY_SPACE;
      break;
    default:
      return Status::invalid_argument;
  }
  uint16_t stop = 0;
  switch (line.stop_bits) {
    case StopBits::one:
      stop = SIO_SET_DATA_STOP_BITS_1;
      break;
    case StopBits::one_and_half:
      stop = SIO_SET_DATA_STOP_BITS_15;
      break;
    case StopBits::two:
      stop = SIO_SET_DATA_STOP_BITS_2;
      break;
    default:
      return Status::invalid_argument;
  }
  value = static_cast<uint16_t>(line.data_bits | parity | stop);
  return Status::ok;
}

ModemStatus modem_from_status(uint8_t status0) {
  ModemStatus modem;
  modem.cts = (status0 & FTDI_RS0_CTS) != 0;
  modem.dsr = (status0 & FTDI_RS0_DSR) != 0;
  modem.ri = (status0 & FTDI_RS0_RI) != 0;
  modem.dcd = (status0 & FTDI_RS0_RLSD) != 0;
  return modem;
}

}  // namespace ftdi

using namespace ftdi;

Status Ftdi::configure(const PortConfig& config) {
  configured_ = false;
  config_ = PortConfig{};
  channel_ = 0;
  data_value_ = 8;
  break_on_ = false;
  if (!is_ftdi(config.variant) || config.port_index >= variant_info(config.variant).port_count ||
      config.bulk_in_max_packet < kMinBulkInPacket) {
    return Status::invalid_argument;
  }
  config_ = config;
  channel_ = channel_for(config.variant, config.port_index);
  configured_ = true;
  return Status::ok;
}

const char* Ftdi::name() const {
  return configured_ ? variant_info(config_.variant).name : "ftdi";
}

Capabilities Ftdi::capabilities() const {
  if (!configured_) {
    return Capabilities{};
  }
  Capabilities caps;
  // No kDataBits5_6: SET_DATA takes 7 or 8 (ftdi_sio.h; Linux refuses CS6 and turns CS5 into
  // a "0 data bits" mode switch some smart-card readers use).
  caps.flags = capability::kBreak | capability::kRtsCts | capability::kDtrDsr |
               capability::kXonXoff | capability::kPurge | capability::kLatencyTimer |
               capability::kModemStatusPoll | capability::kLineErrors | capability::kMarkSpace |
               capability::kStopBits1_5 | capability::kCts;
  caps.min_baud = min_baud();
  caps.max_baud = max_baud(config_.variant);
  return caps;
}

Status Ftdi::send(ControlSink& sink, uint8_t request, uint16_t value, uint16_t index_high) {
  ControlRequest setup;
  setup.bmRequestType = kRequestTypeOut;
  setup.bRequest = request;
  setup.wValue = value;
  setup.wIndex = static_cast<uint16_t>(index_high | channel_);
  setup.wLength = 0;
  return control_out(sink, setup);
}

Status Ftdi::open(ControlSink& sink) {
  if (!configured_) {
    return Status::not_open;
  }
  // RESET first (ftdi_sio.c ftdi_open). SET_BITMODE(0): back to the UART function in case a
  // bitbang/MPSSE user left the chip in another mode (libftdi BITMODE_RESET). The event and
  // error characters are disabled so no byte value changes how data is delivered.
  Status status = send(sink, SIO_RESET, SIO_RESET_SIO);
  if (status == Status::ok) {
    status = send(sink, SIO_SET_BITMODE, BITMODE_RESET);
  }
  if (status == Status::ok) {
    status = send(sink, SIO_SET_EVENT_CHAR, kCharDisabled);
  }
  if (status == Status::ok) {
    status = send(sink, SIO_SET_ERROR_CHAR, kCharDisabled);
  }
  return status;
}

Status Ftdi::close(ControlSink& sink) {
  if (!configured_) {
    return Status::not_open;
  }
  // Linux ftdi_dtr_rts(on = false): flow control off, then DTR and RTS low.
  const Status flow = send(sink, SIO_SET_FLOW_CTRL, 0, SIO_DISABLE_FLOW_CTRL);
  const Status lines = send(sink, SIO_MODEM_CTRL, kModemCtrlApplyBoth);
  return flow != Status::ok ? flow : lines;
}

Status Ftdi::set_line(ControlSink& sink, const LineSettings& line, uint32_t& actual_baud) {
  if (!configured_) {
    return Status::not_open;
  }
  uint16_t value = 0;
  Status status = encode_data(line, value);
  if (status != Status::ok) {
    return status;
  }
  const BaudEncoding baud = encode_baud(config_.variant, config_.port_index, line.baud);
  if (baud.status != Status::ok) {
    return baud.status;
  }
  ControlRequest setup;
  setup.bmRequestType = kRequestTypeOut;
  setup.bRequest = SIO_SET_BAUD_RATE;
  setup.wValue = baud.w_value;
  setup.wIndex = baud.w_index;  // divisor bits and channel already merged
  status = control_out(sink, setup);
  if (status != Status::ok) {
    return status;
  }
  // A break in progress stays on: SET_DATA always carries the break bit (ftdi_sio.h).
  status = send(sink, SIO_SET_DATA, static_cast<uint16_t>(value | (break_on_ ? SIO_SET_BREAK : 0)));
  if (status != Status::ok) {
    return status;
  }
  data_value_ = value;
  actual_baud = baud.actual_baud;
  return Status::ok;
}

Status Ftdi::set_modem_control(ControlSink& sink, ModemControl lines) {
  if (!configured_) {
    return Status::not_open;
  }
  const uint16_t value =
      static_cast<uint16_t>(kModemCtrlApplyBoth | (lines.dtr ? SIO_SET_DTR_MASK : 0u) |
                            (lines.rts ? SIO_SET_RTS_MASK : 0u));
  return send(sink, SIO_MODEM_CTRL, value);
}

Status Ftdi::set_flow_control(ControlSink& sink, const FlowControl& flow) {
  if (!configured_) {
    return Status::not_open;
  }
  constexpr uint8_t kKnown = flow::kRtsCts | flow::kDtrDsr | flow::kXonXoffOut | flow::kXonXoffIn;
  if ((flow.modes & ~kKnown) != 0) {
    return Status::invalid_argument;
  }
  const bool rts_cts = (flow.modes & flow::kRtsCts) != 0;
  const bool dtr_dsr = (flow.modes & flow::kDtrDsr) != 0;
  const bool xon_xoff = (flow.modes & (flow::kXonXoffOut | flow::kXonXoffIn)) != 0;
  if (static_cast<int>(rts_cts) + static_cast<int>(dtr_dsr) + static_cast<int>(xon_xoff) > 1) {
    return Status::unsupported;  // the chip runs one handshake at a time (SIO_SET_FLOW_CTRL)
  }
  uint16_t mode = SIO_DISABLE_FLOW_CTRL;
  uint16_t value = 0;
  if (rts_cts) {
    mode = SIO_RTS_CTS_HS;
  } else if (dtr_dsr) {
    mode = SIO_DTR_DSR_HS;
  } else if (xon_xoff) {
    mode = SIO_XON_XOFF_HS;
    value = static_cast<uint16_t>(flow.xon | (flow.xoff << 8));
  }
  return send(sink, SIO_SET_FLOW_CTRL, value, mode);
}

Status Ftdi::set_break(ControlSink& sink, bool on) {
  if (!configured_) {
    return Status::not_open;
  }
  const Status status =
      send(sink, SIO_SET_DATA, static_cast<uint16_t>(data_value_ | (on ? SIO_SET_BREAK : 0)));
  if (status == Status::ok) {
    break_on_ = on;
  }
  return status;
}

Status Ftdi::purge(ControlSink& sink, bool tx, bool rx) {
  if (!configured_) {
    return Status::not_open;
  }
  if (tx) {
    const Status status = send(sink, SIO_RESET, SIO_TCOFLUSH);
    if (status != Status::ok) {
      return status;
    }
  }
  if (rx) {
    return send(sink, SIO_RESET, SIO_TCIFLUSH);
  }
  return Status::ok;
}

Status Ftdi::set_latency(ControlSink& sink, uint8_t milliseconds) {
  if (!configured_) {
    return Status::not_open;
  }
  if (milliseconds < kLatencyMinMs) {
    return Status::invalid_argument;
  }
  return send(sink, SIO_SET_LATENCY_TIMER, milliseconds);
}

Status Ftdi::get_modem_status(ControlSink& sink, ModemStatus& status) {
  if (!configured_) {
    return Status::not_open;
  }
  ControlRequest setup;
  setup.bmRequestType = kRequestTypeIn;
  setup.bRequest = SIO_GET_MODEM_STATUS;
  setup.wValue = 0;
  setup.wIndex = channel_;
  setup.wLength = kModemStatusLength;
  uint8_t answer[kModemStatusLength] = {};
  const Status result = control_in_exact(sink, setup, answer);
  if (result == Status::ok) {
    status = modem_from_status(answer[0]);
  }
  return result;
}

uint32_t Ftdi::decode_rx(std::span<uint8_t> transfer, RxReport& report) {
  if (transfer.empty()) {
    return 0;
  }
  if (!configured_ || transfer.size() > std::numeric_limits<uint32_t>::max()) {
    ++report.malformed;
    return 0;
  }
  const size_t packet = config_.bulk_in_max_packet;  // >= 8, checked by configure()
  uint8_t* const bytes = transfer.data();
  const size_t size = transfer.size();
  size_t out = 0;
  for (size_t offset = 0; offset < size; offset += packet) {
    const size_t chunk = size - offset < packet ? size - offset : packet;
    if (chunk < kStatusHeaderLength) {
      // Only the last chunk of a transfer can be this short: a 1-byte packet has no room
      // for the status header (Linux ftdi_process_packet: "malformed packet").
      ++report.malformed;
      break;
    }
    const uint8_t modem = bytes[offset];
    const uint8_t line = bytes[offset + 1];
    report.modem_valid = true;
    report.modem = modem_from_status(modem);
    report.tx_empty_valid = true;
    report.tx_empty = (line & FTDI_RS_TEMT) != 0;
    const size_t payload = chunk - kStatusHeaderLength;
    if (payload == 0) {
      // Sent at every latency-timer expiry even when idle (reference §2.3). Error bits in a
      // status-only packet are not counted, as current Linux ftdi_process_packet ("break and
      // error status must only be processed for packets with data payload").
      ++report.status_only_packets;
      continue;
    }
    // One event per chunk, with Linux's priority for the flag of the chunk's bytes:
    // break > parity > framing (a break also shows as a framing error); overrun separately.
    if ((line & FTDI_RS_BI) != 0) {
      ++report.errors.brk;
    } else if ((line & FTDI_RS_PE) != 0) {
      ++report.errors.parity;
    } else if ((line & FTDI_RS_FE) != 0) {
      ++report.errors.framing;
    }
    if ((line & FTDI_RS_OE) != 0) {
      ++report.errors.overrun;
    }
    // out <= offset always (every chunk loses 2 bytes), so the move stays inside `transfer`.
    std::memmove(bytes + out, bytes + offset + kStatusHeaderLength, payload);
    out += payload;
  }
  return static_cast<uint32_t>(out);
}

}  // namespace transport::chips
