#include "cdc_acm.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "../device_table.hpp"

namespace transport::chips {
namespace {

constexpr uint16_t read_le16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

constexpr uint32_t read_le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

constexpr ControlRequest class_out(uint8_t request, uint16_t value, uint8_t interface,
                                   uint16_t length) {
  return ControlRequest{cdc::kRequestTypeOut, request, value, interface, length};
}

// PSTN 1.20 Table 17 encodings; false for a value outside the enums.
bool char_format_of(StopBits stop_bits, uint8_t& out) {
  switch (stop_bits) {
    case StopBits::one:
      out = cdc::kCharFormat1StopBit;
      return true;
    case StopBits::one_and_half:
      out = cdc::kCharFormat1_5StopBits;
      return true;
    case StopBits::two:
      out = cdc::kCharFormat2StopBits;
      return true;
  }
  return false;
}

bool parity_type_of(Parity parity, uint8_t& out) {
  switch (parity) {
    case Parity::none:
      out = cdc::kParityTypeNone;
      return true;
    case Parity::odd:
      out = cdc::kParityTypeOdd;
      return true;
    case Parity::even:
      out = cdc::kParityTypeEven;
      return true;
    case Parity::mark:
      out = cdc::kParityTypeMark;
      return true;
    case Parity::space:
      out = cdc::kParityTypeSpace;
      return true;
  }
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------
// CdcAcm

Status CdcAcm::configure(const PortConfig& config) {
  *this = CdcAcm{};
  if (config.variant != ChipVariant::cdc_acm || config.bulk_in_max_packet == 0) {
    return Status::invalid_argument;
  }
  config_ = config;
  configured_ = true;
  return Status::ok;
}

const char* CdcAcm::name() const {
  return variant_info(ChipVariant::cdc_acm).name;
}

Capabilities CdcAcm::capabilities() const {
  Capabilities caps;
  caps.flags = capability::kLineErrors | capability::kMarkSpace | capability::kDataBits5_6 |
               capability::kStopBits1_5;
  if ((config_.acm_capabilities & cdc::kAcmCapSendBreak) != 0) {
    caps.flags |= capability::kBreak;
  }
  caps.min_baud = 1;
  caps.max_baud = 0;
  return caps;
}

void CdcAcm::reset_notification() {
  header_length_ = 0;
  data_remaining_ = 0;
  state_length_ = 0;
}

Status CdcAcm::open(ControlSink&) {
  if (!configured_) {
    return Status::not_open;
  }
  coding_valid_ = false;
  coding_actual_baud_ = 0;
  reset_notification();
  return Status::ok;
}

Status CdcAcm::close(ControlSink& sink) {
  return set_modem_control(sink, ModemControl{false, false});
}

Status CdcAcm::set_line(ControlSink& sink, const LineSettings& line, uint32_t& actual_baud) {
  if (!configured_) {
    return Status::not_open;
  }
  uint8_t char_format = 0;
  uint8_t parity_type = 0;
  if (line.baud == 0 || line.data_bits < 5 || line.data_bits > 8 ||
      !char_format_of(line.stop_bits, char_format) || !parity_type_of(line.parity, parity_type)) {
    return Status::invalid_argument;
  }
  std::array<uint8_t, cdc::kLineCodingLength> coding{};
  coding[cdc::kLineCodingRateOffset + 0] = static_cast<uint8_t>(line.baud);
  coding[cdc::kLineCodingRateOffset + 1] = static_cast<uint8_t>(line.baud >> 8);
  coding[cdc::kLineCodingRateOffset + 2] = static_cast<uint8_t>(line.baud >> 16);
  coding[cdc::kLineCodingRateOffset + 3] = static_cast<uint8_t>(line.baud >> 24);
  coding[cdc::kLineCodingCharFormatOffset] = char_format;
  coding[cdc::kLineCodingParityTypeOffset] = parity_type;
  coding[cdc::kLineCodingDataBitsOffset] = line.data_bits;

  // Linux cdc-acm (acm_tty_set_termios) re-sends the line coding only when it
  // changed: some devices drop bytes on every SET_LINE_CODING.
  if (coding_valid_ && coding == coding_) {
    actual_baud = coding_actual_baud_;
    return Status::ok;
  }

  const uint8_t interface = config_.interface_number;
  const std::array<uint8_t, cdc::kLineCodingLength> previous = coding_;
  const bool had_previous = coding_valid_;
  coding_valid_ = false;  // the device's coding is unknown until this request completes

  Status status = control_out(
      sink, class_out(cdc::kSetLineCoding, 0, interface, cdc::kLineCodingLength), coding);
  if (status != Status::ok) {
    return status;
  }

  // Read back what the device runs at. GET_LINE_CODING is optional in practice.
  std::array<uint8_t, cdc::kLineCodingLength> readback{};
  uint16_t transferred = 0;
  const ControlRequest get{cdc::kRequestTypeIn, cdc::kGetLineCoding, 0, interface,
                           cdc::kLineCodingLength};
  status = sink.control(get, readback, transferred);
  uint32_t actual = line.baud;
  if (status == Status::no_device || status == Status::aborted) {
    return status;
  }
  const uint32_t reported = read_le32(readback.data() + cdc::kLineCodingRateOffset);
  // A dwDTERate of 0 is no rate at all: the answer of a stub GET, not a report.
  if (status == Status::ok && transferred == cdc::kLineCodingLength && reported != 0) {
    actual = reported;
    if (!baud_within_tolerance(line.baud, actual)) {
      // Never leave the device silently at a rate nobody asked for: put the
      // last coding that worked back (best effort; the error stands either way).
      if (had_previous &&
          control_out(sink, class_out(cdc::kSetLineCoding, 0, interface, cdc::kLineCodingLength),
                      previous) == Status::ok) {
        coding_ = previous;
        coding_valid_ = true;
      }
      return Status::baud_unreachable;
    }
  }
  coding_ = coding;
  coding_valid_ = true;
  coding_actual_baud_ = actual;
  actual_baud = actual;
  return Status::ok;
}

Status CdcAcm::set_modem_control(ControlSink& sink, ModemControl lines) {
  if (!configured_) {
    return Status::not_open;
  }
  const uint16_t value = static_cast<uint16_t>((lines.dtr ? cdc::kControlLineDtr : 0u) |
                                               (lines.rts ? cdc::kControlLineRts : 0u));
  return control_out(sink,
                     class_out(cdc::kSetControlLineState, value, config_.interface_number, 0));
}

Status CdcAcm::set_break(ControlSink& sink, bool on) {
  if (!configured_) {
    return Status::not_open;
  }
  if ((config_.acm_capabilities & cdc::kAcmCapSendBreak) == 0) {
    return Status::unsupported;
  }
  return control_out(sink, class_out(cdc::kSendBreak, on ? cdc::kBreakUntilCleared : cdc::kBreakOff,
                                     config_.interface_number, 0));
}

uint32_t CdcAcm::decode_rx(std::span<uint8_t> transfer, RxReport&) {
  return static_cast<uint32_t>(
      std::min<size_t>(transfer.size(), std::numeric_limits<uint32_t>::max()));
}

bool CdcAcm::finish_notification(RxReport& report) {
  const uint8_t code = header_[cdc::kNotificationCodeOffset];
  const uint16_t length = read_le16(header_.data() + cdc::kNotificationLengthOffset);
  bool valid = true;
  if (code == cdc::kSerialState) {
    if (length != cdc::kSerialStateLength) {
      valid = false;  // Linux drops SERIAL_STATE with wLength != 2 as well
    } else {
      const uint16_t state = read_le16(state_.data());
      report.modem_valid = true;
      report.modem.cts = false;  // the UART state bitmap has no CTS bit
      report.modem.dcd = (state & cdc::kSerialStateRxCarrier) != 0;
      report.modem.dsr = (state & cdc::kSerialStateTxCarrier) != 0;
      report.modem.ri = (state & cdc::kSerialStateRingSignal) != 0;
      if ((state & cdc::kSerialStateBreak) != 0) {
        ++report.errors.brk;
      }
      if ((state & cdc::kSerialStateFraming) != 0) {
        ++report.errors.framing;
      }
      if ((state & cdc::kSerialStateParity) != 0) {
        ++report.errors.parity;
      }
      if ((state & cdc::kSerialStateOverRun) != 0) {
        ++report.errors.overrun;
      }
    }
  }
  // NETWORK_CONNECTION, RESPONSE_AVAILABLE, CONNECTION_SPEED_CHANGE and codes
  // we do not know: consumed and ignored (Linux only logs them).
  if (!valid) {
    ++report.malformed;
  }
  reset_notification();
  return valid;
}

Status CdcAcm::decode_interrupt(std::span<const uint8_t> transfer, RxReport& report) {
  bool malformed = false;
  size_t i = 0;
  while (i < transfer.size()) {
    if (header_length_ < cdc::kNotificationHeaderLength) {
      const uint8_t byte = transfer[i++];
      if (header_length_ == cdc::kNotificationTypeOffset && byte != cdc::kNotificationRequestType) {
        // Not the start of a notification: drop the rest of this transfer.
        ++report.malformed;
        reset_notification();
        return Status::malformed;
      }
      header_[header_length_++] = byte;
      if (header_length_ < cdc::kNotificationHeaderLength) {
        continue;
      }
      const uint16_t length = read_le16(header_.data() + cdc::kNotificationLengthOffset);
      if (length > cdc::kMaxNotificationDataLength) {
        ++report.malformed;
        reset_notification();
        return Status::malformed;
      }
      data_remaining_ = length;
      state_length_ = 0;
      if (data_remaining_ == 0 && !finish_notification(report)) {
        malformed = true;
      }
      continue;
    }
    // Data stage: keep what SERIAL_STATE needs, count the rest off.
    const size_t take = std::min<size_t>(transfer.size() - i, data_remaining_);
    for (size_t k = 0; k < take && state_length_ < state_.size(); ++k) {
      state_[state_length_++] = transfer[i + k];
    }
    i += take;
    data_remaining_ = static_cast<uint16_t>(data_remaining_ - take);
    if (data_remaining_ == 0 && !finish_notification(report)) {
      malformed = true;
    }
  }
  // A short or zero-length packet ends a transfer, and a notification longer
  // than wMaxPacketSize comes as full packets and then a short or zero-length
  // one (USB 2.0 §5.7.3). A notification still incomplete where a transfer ends
  // short was cut off by the device: its rest will not come, and the next
  // notification must not be read as its data.
  const size_t packet = config_.interrupt_max_packet;
  const bool ended_short = transfer.empty() || (packet != 0 && transfer.size() % packet != 0);
  if (header_length_ != 0 && ended_short) {
    ++report.malformed;
    reset_notification();
    return Status::malformed;
  }
  return malformed ? Status::malformed : Status::ok;
}

// ---------------------------------------------------------------------------
// find_cdc_acm_port

namespace {

size_t index_of(const usb::Interface& itf, const usb::Endpoint* ep) {
  return static_cast<size_t>(ep - itf.endpoints.data());
}

// A communication and data function in one interface: exactly bulk IN, bulk
// OUT and interrupt IN (Linux: bNumEndpoints == 3, then usb_find_common_endpoints).
Status take_single_interface(const usb::Interface& itf, CdcAcmPort& port) {
  if (itf.endpoint_count != 3) {
    return Status::malformed;
  }
  const usb::Endpoint* in = itf.find_endpoint(usb::TransferType::bulk, true);
  const usb::Endpoint* out = itf.find_endpoint(usb::TransferType::bulk, false);
  const usb::Endpoint* notify = itf.find_endpoint(usb::TransferType::interrupt, true);
  if (in == nullptr || out == nullptr || notify == nullptr) {
    return Status::malformed;
  }
  port.control_interface = itf.number;
  port.data_interface = itf.number;
  port.data_in = *in;
  port.data_out = *out;
  port.has_notification = true;
  port.notification = *notify;
  port.fallbacks.out_listed_first = index_of(itf, out) < index_of(itf, in);
  return Status::ok;
}

// A communication interface and a data interface (Linux acm_probe from
// skip_normal_probe on).
Status take_pair(const usb::Interface& control_in, const usb::Interface& data_in,
                 uint8_t matched_interface, CdcAcmPort& port) {
  const usb::Interface* control = &control_in;
  const usb::Interface* data = &data_in;
  if (data->interface_class != usb::kClassCdcData) {
    if (control->interface_class != usb::kClassCdcData) {
      return Status::malformed;
    }
    std::swap(control, data);  // "Your device has switched interfaces" (cdc-acm.c)
    port.fallbacks.swapped_interfaces = true;
  }
  if (control->number != matched_interface) {
    return Status::malformed;  // Linux accepts a pair only when probed on its control interface
  }
  const usb::Endpoint* in = data->find_endpoint(usb::TransferType::bulk, true);
  if (in == nullptr) {
    in = data->find_endpoint(usb::TransferType::interrupt, true);
    port.fallbacks.interrupt_data_in = in != nullptr;
  }
  const usb::Endpoint* out = data->find_endpoint(usb::TransferType::bulk, false);
  if (out == nullptr) {
    out = data->find_endpoint(usb::TransferType::interrupt, false);
    port.fallbacks.interrupt_data_out = out != nullptr;
  }
  if (in == nullptr || out == nullptr) {
    return Status::malformed;
  }
  port.control_interface = control->number;
  port.data_interface = data->number;
  port.data_in = *in;
  port.data_out = *out;
  port.fallbacks.out_listed_first = index_of(*data, out) < index_of(*data, in);
  const usb::Endpoint* notify = control->find_endpoint(usb::TransferType::interrupt, true);
  port.has_notification = notify != nullptr;
  if (notify != nullptr) {
    port.notification = *notify;
  }
  return Status::ok;
}

}  // namespace

Status find_cdc_acm_port(const usb::Configuration& config, uint8_t matched_interface,
                         CdcAcmPort& out) {
  out = CdcAcmPort{};
  const usb::Interface* matched = config.find_interface(matched_interface);
  if (matched == nullptr) {
    return Status::invalid_argument;
  }
  const usb::CdcFunctional& cdc_desc = matched->cdc;
  CdcAcmPort fresh;
  fresh.acm_capabilities = cdc_desc.has_acm ? cdc_desc.acm_capabilities : 0;
  CdcAcmPort port = fresh;
  Status status = Status::malformed;

  if (cdc_desc.has_union) {
    const usb::Interface* control = config.find_interface(cdc_desc.union_control_interface);
    const usb::Interface* data = config.find_interface(cdc_desc.union_subordinate_interface);
    if (control == nullptr || (control->interface_class != usb::kClassCdcControl &&
                               control->interface_class != usb::kClassCdcData)) {
      // "Broken union descriptor, assuming single interface" (cdc-acm.c).
      port.fallbacks.broken_union = true;
      status = take_single_interface(*matched, port);
    } else if (data == nullptr) {
      status = Status::malformed;
    } else if (control == data) {
      // "Control and data interfaces are not separated!" (cdc-acm.c): Linux
      // forces NO_CAP_LINE, i.e. clears D1, and needs exactly three endpoints.
      if (control == matched) {
        port.fallbacks.union_same_interface = true;
        port.acm_capabilities = static_cast<uint8_t>(port.acm_capabilities & ~cdc::kAcmCapLine);
        status = take_single_interface(*matched, port);
      }
    } else {
      status = take_pair(*control, *data, matched_interface, port);
    }
  } else {
    if (cdc_desc.has_call_management &&
        cdc_desc.call_management_data_interface != matched_interface) {
      const usb::Interface* data = config.find_interface(cdc_desc.call_management_data_interface);
      if (data != nullptr) {
        port.fallbacks.call_management = true;
        status = take_pair(*matched, *data, matched_interface, port);
      }
    }
    if (status != Status::ok) {
      // No (usable) data interface named: a "castrated" single interface.
      port = fresh;
      port.fallbacks.single_interface = true;
      status = take_single_interface(*matched, port);
    }
  }
  if (status != Status::ok) {
    return status;
  }
  out = port;
  return Status::ok;
}

PortConfig make_port_config(const CdcAcmPort& port) {
  PortConfig config;
  config.variant = ChipVariant::cdc_acm;
  config.interface_number = port.control_interface;
  config.data_interface = port.data_interface;
  config.port_index = 0;
  config.bulk_in_max_packet = port.data_in.max_packet;
  config.interrupt_max_packet = port.has_notification ? port.notification.max_packet : 0;
  config.acm_capabilities = port.acm_capabilities;
  return config;
}

}  // namespace transport::chips
