#include "serial_port.hpp"

#include "serial_constants.hpp"

namespace transport {

Status parity_from_pd(uint8_t pd_parity, Parity& out) {
  switch (pd_parity) {
    case pd::kParityDefault:
    case pd::kParityNone:
      out = Parity::none;
      return Status::ok;
    case pd::kParityOdd:
      out = Parity::odd;
      return Status::ok;
    case pd::kParityEven:
      out = Parity::even;
      return Status::ok;
    case pd::kParityMark:
      out = Parity::mark;
      return Status::ok;
    case pd::kParitySpace:
      out = Parity::space;
      return Status::ok;
    default:
      return Status::invalid_argument;  // PD_RS232_PARITY_ANY and unknown codes
  }
}

Status stop_bits_from_half(uint8_t half_stop_bits, StopBits& out) {
  switch (half_stop_bits) {
    case pd::kHalfStopBitsOne:
      out = StopBits::one;
      return Status::ok;
    case pd::kHalfStopBitsOneAndHalf:
      out = StopBits::one_and_half;
      return Status::ok;
    case pd::kHalfStopBitsTwo:
      out = StopBits::two;
      return Status::ok;
    default:
      return Status::invalid_argument;
  }
}

FlowControl flow_from_pd(uint32_t arg, uint8_t xon, uint8_t xoff) {
  FlowControl flow;
  if ((arg & (pd::kFlowRfr | pd::kFlowCts)) != 0) {
    flow.modes |= flow::kRtsCts;
  }
  if ((arg & (pd::kFlowDtr | pd::kFlowDsr)) != 0) {
    flow.modes |= flow::kDtrDsr;
  }
  if ((arg & pd::kFlowTxo) != 0) {
    flow.modes |= flow::kXonXoffOut;
  }
  if ((arg & pd::kFlowRxo) != 0) {
    flow.modes |= flow::kXonXoffIn;
  }
  flow.xon = xon;
  flow.xoff = xoff;
  return flow;
}

Status SerialPort::attach(ChipProtocol& chip, ControlSink& sink, const PortConfig& config) {
  *this = SerialPort{};
  const Status status = chip.configure(config);
  if (status != Status::ok) {
    return status;
  }
  chip_ = &chip;
  sink_ = &sink;
  caps_ = chip.capabilities();
  return Status::ok;
}

Status SerialPort::note(Status status) {
  if (status != Status::ok) {
    ++stats_.control_failures;
    stats_.last_error = status;
    stats_.last_error_site = FaultSite::control;
  }
  return status;
}

bool SerialPort::note_pipe_error(FaultSite site, Status status) {
  if (status == Status::ok || status == Status::aborted) {
    return false;
  }
  stats_.last_error = status;
  stats_.last_error_site = site;
  return true;
}

const char* to_string(FaultSite site) {
  switch (site) {
    case FaultSite::none:
      return "none";
    case FaultSite::control:
      return "control";
    case FaultSite::bulk_in:
      return "bulk-in";
    case FaultSite::bulk_out:
      return "bulk-out";
    case FaultSite::interrupt_in:
      return "interrupt-in";
  }
  return "unknown";
}

Status SerialPort::activate() {
  if (chip_ == nullptr) {
    return Status::not_open;
  }
  Status status = note(chip_->open(*sink_));
  if (status != Status::ok) {
    return status;
  }
  status = apply_settings();
  if (status != Status::ok) {
    // The open fails as a whole: a port half set up (say, at a rate it was never
    // told) must not look open. The close is best effort; the first failure is
    // what the caller hears.
    (void)chip_->close(*sink_);
    return status;
  }
  active_ = true;
  return Status::ok;
}

Status SerialPort::apply_settings() {
  // Also while hung up (B0): the rate and framing stay in force then, only
  // DTR and RTS are dropped (apply_mcr), and the open may have reset the chip.
  if (line_set_) {
    const Status status = apply_line(line_);
    if (status != Status::ok) {
      return status;
    }
  }
  if (caps_.has(capability::kLatencyTimer)) {
    const Status status = note(chip_->set_latency(*sink_, latency_ms_));
    if (status != Status::ok) {
      return status;
    }
  }
  if (flow_.modes != flow::kNone) {
    const Status status = note(chip_->set_flow_control(*sink_, flow_));
    if (status != Status::ok) {
      return status;
    }
  }
  return apply_mcr();
}

Status SerialPort::deactivate() {
  if (!active_) {
    return Status::ok;
  }
  active_ = false;
  return note(chip_->close(*sink_));
}

Status SerialPort::apply_line(const LineSettings& wanted) {
  uint32_t actual = 0;
  stats_.requested_baud = wanted.baud;
  const Status status = note(chip_->set_line(*sink_, wanted, actual));
  if (status == Status::ok) {
    line_ = wanted;
    stats_.actual_baud = actual;
  }
  return status;
}

Status SerialPort::apply_mcr() {
  if (caps_.has(capability::kNoModemLines)) {
    return Status::ok;  // nothing to drive; the request stays recorded in mcr_
  }
  ModemControl lines = mcr_;
  if (hung_up_) {
    lines = ModemControl{false, false};
  }
  return note(chip_->set_modem_control(*sink_, lines));
}

Status SerialPort::program_uart(uint32_t baud, uint8_t data_bits, uint8_t half_stop_bits,
                                uint8_t parity) {
  LineSettings wanted;
  wanted.baud = baud;
  wanted.data_bits = data_bits;
  if (data_bits < 5 || data_bits > 8) {
    return note(Status::invalid_argument);
  }
  Status status = parity_from_pd(parity, wanted.parity);
  if (status == Status::ok) {
    status = stop_bits_from_half(half_stop_bits, wanted.stop_bits);
  }
  if (status != Status::ok) {
    return note(status);
  }
  if (chip_ == nullptr) {
    return Status::not_open;
  }
  if (baud == 0) {
    // B0: hang up. The rate and framing in force stay as they are.
    const bool was_hung_up = hung_up_;
    hung_up_ = true;
    return (active_ && !was_hung_up) ? apply_mcr() : Status::ok;
  }
  if (!active_) {
    hung_up_ = false;
    line_ = wanted;
    line_set_ = true;
    return Status::ok;
  }
  status = apply_line(wanted);
  if (status != Status::ok) {
    return status;  // nothing changes: the previous rate, and a hang-up, stay in force
  }
  line_set_ = true;
  if (hung_up_) {
    hung_up_ = false;
    return apply_mcr();  // leaving B0 raises DTR/RTS again as last programmed
  }
  return Status::ok;
}

Status SerialPort::program_baud(uint32_t baud) {
  const uint8_t half_stops = line_.stop_bits == StopBits::one   ? pd::kHalfStopBitsOne
                             : line_.stop_bits == StopBits::two ? pd::kHalfStopBitsTwo
                                                                : pd::kHalfStopBitsOneAndHalf;
  uint8_t parity = pd::kParityNone;
  switch (line_.parity) {
    case Parity::none:
      parity = pd::kParityNone;
      break;
    case Parity::odd:
      parity = pd::kParityOdd;
      break;
    case Parity::even:
      parity = pd::kParityEven;
      break;
    case Parity::mark:
      parity = pd::kParityMark;
      break;
    case Parity::space:
      parity = pd::kParitySpace;
      break;
  }
  return program_uart(baud, line_.data_bits, half_stops, parity);
}

Status SerialPort::program_mcr(bool dtr, bool rts) {
  if (chip_ == nullptr) {
    return Status::not_open;
  }
  mcr_ = ModemControl{dtr, rts};
  if (!active_) {
    return Status::ok;
  }
  return caps_.has(capability::kNoModemLines) ? Status::unsupported : apply_mcr();
}

Status SerialPort::program_flow(uint32_t arg, uint8_t xon, uint8_t xoff) {
  if (chip_ == nullptr) {
    return Status::not_open;
  }
  const FlowControl wanted = flow_from_pd(arg, xon, xoff);
  if (!active_) {
    flow_ = wanted;
    return Status::ok;
  }
  const Status status = chip_->set_flow_control(*sink_, wanted);
  if (status == Status::unsupported && wanted.modes == flow::kNone) {
    flow_ = wanted;  // a chip without flow control is already "off": not a failure
    return Status::ok;
  }
  if (note(status) == Status::ok) {
    flow_ = wanted;
  }
  return status;
}

Status SerialPort::program_latency(uint32_t milliseconds) {
  if (chip_ == nullptr) {
    return Status::not_open;
  }
  if (milliseconds > 255) {
    return note(Status::invalid_argument);
  }
  const auto ms = static_cast<uint8_t>(milliseconds == 0 ? 1 : milliseconds);
  if (!caps_.has(capability::kLatencyTimer)) {
    return Status::unsupported;
  }
  latency_ms_ = ms;
  return active_ ? note(chip_->set_latency(*sink_, ms)) : Status::ok;
}

Status SerialPort::send_break(bool on) {
  if (chip_ == nullptr || !active_) {
    return Status::not_open;
  }
  return note(chip_->set_break(*sink_, on));
}

Status SerialPort::reset_fifo(bool tx, bool rx) {
  if (chip_ == nullptr) {
    return Status::not_open;
  }
  if (!active_ || !caps_.has(capability::kPurge) || (!tx && !rx)) {
    return Status::ok;
  }
  return note(chip_->purge(*sink_, tx, rx));
}

Status SerialPort::modem_status(ModemStatus& out) {
  if (chip_ == nullptr) {
    return Status::not_open;
  }
  if (caps_.has(capability::kModemStatusPoll)) {
    ModemStatus polled;
    const Status status = note(chip_->get_modem_status(*sink_, polled));
    if (status != Status::ok) {
      return status;
    }
    modem_ = polled;
    modem_known_ = true;
  }
  out = modem_;
  if (!caps_.has(capability::kCts)) {
    out.cts = true;
  }
  return Status::ok;
}

void SerialPort::absorb(const RxReport& report, RxEvents& events) {
  events.errors = report.errors;
  stats_.errors += report.errors;
  stats_.status_only_packets += report.status_only_packets;
  if (report.modem_valid && (!modem_known_ || !(report.modem == modem_))) {
    modem_ = report.modem;
    modem_known_ = true;
    ++stats_.modem_changes;
    events.modem_changed = true;
  }
  events.modem = modem_;
  if (!caps_.has(capability::kCts)) {
    events.modem.cts = true;
  }
}

uint32_t SerialPort::handle_rx(std::span<uint8_t> transfer, RxEvents& events) {
  events = RxEvents{};
  if (chip_ == nullptr) {
    return 0;
  }
  RxReport report;
  const uint32_t payload = chip_->decode_rx(transfer, report);
  ++stats_.rx_transfers;
  stats_.rx_bytes += payload;
  stats_.malformed += report.malformed;
  absorb(report, events);
  return payload;
}

void SerialPort::handle_interrupt(std::span<const uint8_t> packet, RxEvents& events) {
  events = RxEvents{};
  if (chip_ == nullptr) {
    return;
  }
  RxReport report;
  if (chip_->decode_interrupt(packet, report) == Status::unsupported) {
    return;
  }
  ++stats_.interrupt_transfers;
  stats_.malformed_notifications += report.malformed;
  absorb(report, events);
}

}  // namespace transport
