#include "encode.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "tools/common/json_writer.hpp"
#include "tools/common/recording_sink.hpp"
#include "transport/chip_protocol.hpp"
#include "transport/chips/ch34x.hpp"
#include "transport/chips/chip_set.hpp"
#include "transport/chips/cp210x.hpp"
#include "transport/chips/ftdi.hpp"
#include "transport/chips/pl2303.hpp"
#include "transport/line.hpp"

namespace usbserialctl {
namespace {

using transport::ChipFamily;
using transport::Status;

// CH34x: the answer of a current part to READ_VERSION (ch341.c: 0x30 and above), which
// gets BIT(7) in the prescaler register and the LCR write. The version decides the
// encoding, so the report states it.
constexpr uint8_t kAssumedCh34xVersion = 0x31;

std::string hex(unsigned value, int digits) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%0*X", digits, value);
  return text;
}

std::string hex_bytes(const std::vector<uint8_t>& bytes) {
  std::string text;
  for (const uint8_t b : bytes) {
    char pair[3];
    std::snprintf(pair, sizeof pair, "%02x", b);
    text += pair;
  }
  return text;
}

// The PortConfig the dext would build for this chip from its descriptors.
transport::PortConfig port_config(const transport::VariantInfo& chip, uint8_t port_index) {
  transport::PortConfig config;
  config.variant = chip.variant;
  config.port_index = port_index;
  if (chip.family == ChipFamily::cdc_acm) {
    // A typical two-interface ACM function: communication interface 0 with a 16-byte
    // interrupt IN, data interface 1 with 64-byte full-speed bulk pipes; bmCapabilities D1
    // (line coding, control line state, SERIAL_STATE: PSTN 1.20 Table 4).
    config.interface_number = 0;
    config.data_interface = 1;
    config.bulk_in_max_packet = 64;
    config.interrupt_max_packet = 16;
    config.acm_capabilities = 0x02;
  } else if (chip.family == ChipFamily::ch34x) {
    // CH34x: one vendor interface, 32-byte bulk pipes and an 8-byte interrupt IN (reference §0,
    // §4.1).
    config.bulk_in_max_packet = 32;
    config.interrupt_max_packet = 8;
  } else if (chip.family == ChipFamily::pl2303) {
    // PL2303: one interface with a 10-byte interrupt IN and 64-byte bulk pipes (PL2303HXD
    // datasheet; Linux pl2303.c).
    config.interface_number = 0;
    config.data_interface = 0;
    config.bulk_in_max_packet = 64;
    config.interrupt_max_packet = 10;
  } else {
    // FTDI: one interface per port (A = 0, B = 1, ...), 64-byte bulk on full-speed parts and
    // 512 on the high-speed H series (reference §0). CP210x: the same interface numbering,
    // 64-byte bulk (CP2105's second port: 32).
    config.interface_number = port_index;
    config.data_interface = port_index;
    config.bulk_in_max_packet = chip.high_speed ? 512 : 64;
    if (chip.variant == transport::ChipVariant::cp2105 && port_index == 1) {
      config.bulk_in_max_packet = 32;
    }
  }
  return config;
}

void write_request(hostutil::JsonWriter& json, const hostutil::RecordedTransfer& t) {
  const transport::ControlRequest& r = t.request;
  json.begin_object();
  json.field("direction", r.is_in() ? "in" : "out");
  json.field("bmRequestType", unsigned{r.bmRequestType});
  json.field("bmRequestType_hex", hex(r.bmRequestType, 2));
  json.field("bRequest", unsigned{r.bRequest});
  json.field("bRequest_hex", hex(r.bRequest, 2));
  json.field("wValue", unsigned{r.wValue});
  json.field("wValue_hex", hex(r.wValue, 4));
  json.field("wIndex", unsigned{r.wIndex});
  json.field("wIndex_hex", hex(r.wIndex, 4));
  json.field("wLength", unsigned{r.wLength});
  json.field("data", hex_bytes(t.data));  // OUT: bytes sent; IN: bytes the fake returned
  json.end_object();
}

double percent_off(double actual, uint32_t requested) {
  return (actual - requested) * 100.0 / requested;
}

// Rounds to 4 decimals so the report does not show binary noise.
double round4(double value) {
  return static_cast<double>(std::llround(value * 1e4)) / 1e4;
}

const char* reason_for(Status status, const transport::VariantInfo& chip) {
  switch (status) {
    case Status::ok:
      return "";
    case Status::baud_unreachable:
      switch (chip.family) {
        case ChipFamily::ftdi:
          return "no divisor gives a rate within 3 % of the request inside the chip's range";
        case ChipFamily::cp210x:
          return "the part makes no rate within 3 % of the request inside the port's range";
        case ChipFamily::ch34x:
          return "no prescaler/divisor gives a rate within 3 % of the request inside the "
                 "chip's range (46 Bd to 2 MBd)";
        case ChipFamily::pl2303:
          return "outside the type's range, or no direct rate or divisor within 3 % of it";
        default:
          return "the device reported a rate more than 3 % away from the request";
      }
    case Status::invalid_argument:
      return "the rate is not a valid request (0 is hang-up)";
    default:
      return "the protocol refused the request";
  }
}

}  // namespace

bool parse_port(const std::string& text, uint8_t& port_index) {
  if (text.size() != 1) {
    return false;
  }
  const char c = text[0];
  if (c >= 'A' && c <= 'H') {
    port_index = static_cast<uint8_t>(c - 'A');
  } else if (c >= 'a' && c <= 'h') {
    port_index = static_cast<uint8_t>(c - 'a');
  } else if (c >= '0' && c <= '7') {
    port_index = static_cast<uint8_t>(c - '0');
  } else {
    return false;
  }
  return true;
}

bool parse_baud(const std::string& text, uint32_t& baud) {
  if (text.empty() || text.size() > 10) {
    return false;
  }
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() ||
      value > std::numeric_limits<uint32_t>::max()) {
    return false;
  }
  baud = static_cast<uint32_t>(value);
  return true;
}

EncodeOutcome run_encode(const EncodeRequest& request) {
  EncodeOutcome outcome;
  const transport::VariantInfo& chip = *request.chip;

  transport::chips::ChipSet chips;
  transport::ChipProtocol* protocol = chips.select(chip.family);
  if (protocol == nullptr) {
    outcome.usage_error = true;
    outcome.message = std::string("no protocol for chip ") + chip.name;
    return outcome;
  }
  const Status configured = protocol->configure(port_config(chip, request.port_index));
  if (configured != Status::ok) {
    outcome.usage_error = true;
    outcome.message = std::string(chip.name) + " has no port " +
                      static_cast<char>('A' + request.port_index) + " (it has " +
                      std::to_string(chip.port_count) + ")";
    return outcome;
  }

  hostutil::RecordingSink sink;
  if (chip.family == ChipFamily::ch34x) {
    // The rate registers depend on what open() reads from the chip: answer as a current,
    // genuine part, then report only what set_line sends.
    sink.reply(0xC0, transport::chips::ch34x::CH341_REQ_READ_VERSION, {kAssumedCh34xVersion, 0});
    sink.reply(0xC0, transport::chips::ch34x::CH341_REQ_READ_REG, {0x01, 0x00},
               transport::chips::ch34x::kBreakProbeRegisters);
    if (protocol->open(sink) != Status::ok) {
      outcome.usage_error = true;
      outcome.message = std::string("could not open the simulated ") + chip.name;
      return outcome;
    }
    sink.clear();
  }
  transport::LineSettings line;  // 8N1
  line.baud = request.baud;
  uint32_t actual = 0;
  outcome.status = protocol->set_line(sink, line, actual);

  hostutil::JsonWriter json;
  json.begin_object();
  json.field("command", "encode");
  json.field("chip", chip.name);
  json.field("family", transport::to_string(chip.family));
  json.field("port", std::string(1, static_cast<char>('A' + request.port_index)));
  json.field("port_index", unsigned{request.port_index});
  json.field("requested_baud", request.baud);
  json.field("line", "8N1");
  json.field("status", transport::to_string(outcome.status));

  // The exact rate: FTDI knows it as a rational (reference * 8 / divisor-in-eighths); other
  // protocols report whole bit/s.
  transport::chips::ftdi::BaudEncoding divisor;
  if (chip.family == ChipFamily::ftdi) {
    divisor = transport::chips::ftdi::encode_baud(chip.variant, request.port_index, request.baud);
  }
  const bool have_divisor = chip.family == ChipFamily::ftdi && divisor.has_divisor();
  // CP210x: what the part runs at for the value the encoder chose (AN205 table or divider).
  transport::chips::cp210x::BaudEncoding cp210x_rate;
  if (chip.family == ChipFamily::cp210x) {
    cp210x_rate =
        transport::chips::cp210x::encode_baud(chip.variant, request.port_index, request.baud);
  }
  const bool have_cp210x_rate = chip.family == ChipFamily::cp210x && cp210x_rate.sent != 0;
  // CH34x: 48 MHz / (2^(12 - 3 ps - fact) * div).
  transport::chips::ch34x::BaudEncoding ch34x_setting;
  if (chip.family == ChipFamily::ch34x) {
    ch34x_setting = transport::chips::ch34x::encode_baud(
        chip.variant, transport::chips::ch34x::ChipTraits{kAssumedCh34xVersion, false},
        request.baud);
  }
  const bool have_ch34x_setting = chip.family == ChipFamily::ch34x && ch34x_setting.has_divisor();
  // PL2303: a direct rate, or 384 MHz over a divisor (chips/pl2303_regs.hpp).
  transport::chips::pl2303::BaudEncoding rate_field;
  if (chip.family == ChipFamily::pl2303) {
    rate_field = transport::chips::pl2303::encode_baud(chip.variant, request.baud);
  }
  const bool have_pl2303_divisor = chip.family == ChipFamily::pl2303 && rate_field.divisor != 0;
  double exact = static_cast<double>(actual);
  if (have_divisor) {
    exact = static_cast<double>(divisor.reference_hz) * 8.0 / divisor.divisor_eighths;
  } else if (have_cp210x_rate) {
    exact = static_cast<double>(cp210x_rate.actual_millibaud) / 1000.0;
  } else if (have_ch34x_setting) {
    exact =
        static_cast<double>(transport::chips::ch34x::CH341_CLKRATE) / ch34x_setting.clock_divider;
  } else if (have_pl2303_divisor) {
    exact = transport::chips::pl2303::kDivisorBaseline / static_cast<double>(rate_field.divisor);
  }

  if (outcome.status == Status::ok) {
    json.field("actual_baud", actual);
    json.field("actual_baud_exact", round4(exact));
    json.field("error_percent", round4(percent_off(exact, request.baud)));
  } else {
    json.key("actual_baud").null();
    json.key("actual_baud_exact").null();
    json.key("error_percent").null();
    json.field("reason", reason_for(outcome.status, chip));
  }
  if (have_divisor) {
    // The divisor the FTDI encoder chose (for an unreachable rate: the closest one, not sent).
    json.key("divisor").begin_object();
    json.field("reference_hz", divisor.reference_hz);
    json.field("value", divisor.divisor_eighths / 8.0);
    json.field("encoded", divisor.encoded);
    json.field("encoded_hex", hex(divisor.encoded, 5));
    json.field("rate_baud", round4(exact));
    json.field("error_percent", round4(percent_off(exact, request.baud)));
    json.end_object();
  }
  if (have_cp210x_rate) {
    // The value SET_BAUDRATE carries and how the part turns it into a rate (for an
    // unreachable rate: the closest the port makes, not sent).
    using transport::chips::cp210x::RateRule;
    json.key("cp210x").begin_object();
    json.field("rule", cp210x_rate.rule == RateRule::divider ? "divider" : "an205_table");
    json.field("set_baudrate", cp210x_rate.sent);
    if (cp210x_rate.rule == RateRule::divider) {
      json.field("prescale", cp210x_rate.prescale);
      json.field("divider", cp210x_rate.divider);
    }
    json.field("rate_baud", round4(exact));
    json.field("error_percent", round4(percent_off(exact, request.baud)));
    json.end_object();
  }
  if (have_ch34x_setting) {
    // The setting the CH34x encoder chose (for an unreachable rate: the closest, not sent).
    json.field("chip_version_assumed", hex(kAssumedCh34xVersion, 2));
    json.key("setting").begin_object();
    json.field("prescaler", unsigned{ch34x_setting.prescaler});
    json.field("fact", unsigned{ch34x_setting.fact});
    json.field("divisor", unsigned{ch34x_setting.divisor});
    json.field("clock_divider", ch34x_setting.clock_divider);
    json.field("registers_hex", hex(ch34x_setting.w_index, 4));
    json.field("rate_baud", round4(exact));
    json.field("error_percent", round4(percent_off(exact, request.baud)));
    json.end_object();
  }
  if (chip.family == ChipFamily::pl2303 && rate_field.status == Status::ok) {
    // How the rate goes in bytes 0-3 of SET_LINE.
    using transport::chips::pl2303::BaudMode;
    json.key("rate_field").begin_object();
    json.field("mode", rate_field.mode == BaudMode::direct    ? "direct"
                       : rate_field.mode == BaudMode::divisor ? "divisor"
                                                              : "alt_divisor");
    json.field("bytes", hex_bytes({rate_field.field.begin(), rate_field.field.end()}));
    if (have_pl2303_divisor) {
      json.field("mantissa", rate_field.mantissa);
      json.field("exponent", rate_field.exponent);
      json.field("divisor", rate_field.divisor);
    }
    json.end_object();
  }
  json.key("requests").begin_array();
  for (const hostutil::RecordedTransfer& t : sink.transcript()) {
    write_request(json, t);
  }
  json.end_array();
  json.end_object();
  outcome.json = json.str();
  return outcome;
}

int exit_code(const EncodeOutcome& outcome) {
  if (outcome.usage_error) {
    return 2;
  }
  return outcome.status == Status::ok ? 0 : 1;
}

}  // namespace usbserialctl
