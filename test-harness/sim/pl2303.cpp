#include "sim/pl2303.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace sim::pl2303 {

namespace {

// The simulated parts. Descriptor fields follow Linux's type rules (pl2303_detect_type):
// the H has an 8-byte endpoint 0 and USB 1.1; the HX USB 1.1 and bcdDevice 0x0300 (the
// HXD datasheet's descriptor has bcdUSB 1.10, bMaxPacketSize0 64, 067B:2303); the TA is
// USB 2.0 with bcdDevice 0x0300, the TB USB 2.0 with 0x0500 on PID 0x2304; the G series is
// represented by a PL2303GC (PID 0x23A3, bcdDevice 0x0100). The H's bcdDevice 0x0202 is our
// choice (Linux does not look at it). Maxima: pl2303.c pl2303_type_data.
constexpr Variant kVariants[] = {
    {"pl2303-h", 0x0110, 8, 0x2303, 0x0202, 1'228'800, Divisors::standard, true},
    {"pl2303-hx", 0x0110, 64, 0x2303, 0x0300, 6'000'000, Divisors::standard, false},
    {"pl2303-ta", 0x0200, 64, 0x2303, 0x0300, 6'000'000, Divisors::alternative, false},
    {"pl2303-tb", 0x0200, 64, 0x2304, 0x0500, 12'000'000, Divisors::alternative, false},
    {"pl2303-hxn", 0x0200, 64, 0x23A3, 0x0100, 12'000'000, Divisors::none, false},
};

// The rates a type with divisors knows as direct values (pl2303.c baud_sup[]); any other
// direct value runs the UART at 9600 (pl2303.c comment; usb-serial-for-android hardware test).
constexpr uint32_t kDirectRates[] = {
    75,     150,    300,    600,     1200,    1800,    2400,    3600,   4800,
    7200,   9600,   14400,  19200,   28800,   38400,   57600,   115200, 230400,
    460800, 614400, 921600, 1228800, 2457600, 3000000, 6000000,
};
constexpr uint32_t kFallbackBaud = 9600;
constexpr double kDivisorBaseline = 384'000'000.0;  // 12 MHz * 32

// The vendor init sequence (pl2303.c pl2303_startup): reads of 0x8484 / 0x8383, writes of
// 0x0404, register 0 = 1, register 1 = 0, register 2 = 0x24 (H) or 0x44.
struct InitStep {
  bool read;
  uint16_t value;
  uint16_t index;
};
constexpr InitStep kInit[] = {
    {true, 0x8484, 0},  {false, 0x0404, 0}, {true, 0x8484, 0},  {true, 0x8383, 0},
    {true, 0x8484, 0},  {false, 0x0404, 1}, {true, 0x8484, 0},  {true, 0x8383, 0},
    {false, 0x0000, 1}, {false, 0x0001, 0}, {false, 0x0002, 0},  // index: per type
};
constexpr size_t kInitSteps = std::size(kInit);

// Registers (old map: read wValue = register | 0x80; G series: the register number).
constexpr uint8_t kRegisterReadFlag = 0x80;
constexpr uint8_t kOldFlowRegister = 0x00;
constexpr uint8_t kOldFlowMask = 0xF0;
constexpr uint8_t kResetDownstream = 0x08;  // host -> line
constexpr uint8_t kResetUpstream = 0x09;    // line -> host
constexpr uint8_t kHxnResetRegister = 0x07;
constexpr uint8_t kHxnResetDownstream = 0x01;
constexpr uint8_t kHxnResetUpstream = 0x02;
constexpr uint8_t kHxnFlowRegister = 0x0A;
constexpr uint8_t kHxnFlowMask = 0x1C;
constexpr uint8_t kHxnFlowNone = 0x1C;  // also our choice of power-up value
constexpr uint8_t kHxnFlowRtsCts = 0x18;
constexpr uint8_t kHxnFlowXonXoff = 0x0C;
constexpr uint16_t kTypeProbe = 0x8080;

constexpr uint16_t kBulkMaxPacket = 64;  // full speed
// A 10-byte notification per packet (our choice; the reference layout is 10 bytes).
constexpr uint16_t kInterruptMaxPacket = 10;
constexpr size_t kFifoSize = 256;  // our choice: no datasheet depth at hand
constexpr size_t kMaxQueuedNotifications = 64;

uint32_t get32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

}  // namespace

const Variant* find_variant(std::string_view name) {
  for (const Variant& v : kVariants) {
    if (name == v.name) {
      return &v;
    }
  }
  return nullptr;
}

std::vector<std::string> variant_names() {
  std::vector<std::string> names;
  for (const Variant& v : kVariants) {
    names.emplace_back(v.name);
  }
  return names;
}

Pl2303Device::Pl2303Device(Bus& bus, const Variant& variant, SimOptions options)
    : SimDevice(bus, options, UsbSpeed::full), variant_(variant) {
  const uint16_t vid = options.vid.value_or(kProlificVid);
  const uint16_t pid = options.pid.value_or(variant.pid);
  const uint8_t i_serial = options.serial.empty() ? 0 : 3;
  // HXD datasheet §6: bmAttributes 0xA0 (remote wakeup, bus powered); 100 mA is our choice.
  // The endpoints in the order Linux and the datasheet list them: interrupt first.
  usbdesc::ConfigBuilder config(0xA0, 50);
  config.interface(0, 3, 0xFF, 0x00, 0x00, 0)
      .endpoint(kInterruptIn, kEndpointInterrupt, kInterruptMaxPacket, 1)
      .endpoint(kBulkOut, kEndpointBulk, kBulkMaxPacket, 0)
      .endpoint(kBulkIn, kEndpointBulk, kBulkMaxPacket, 0);
  // Strings: what PL2303 adapters commonly report (not from a document).
  set_descriptors(usbdesc::device(variant.bcd_usb, 0x00, 0x00, 0x00, variant.max_packet0, vid, pid,
                                  variant.bcd_device, 1, 2, i_serial),
                  config.finish(),
                  {"Prolific Technology Inc.", "USB-Serial Controller", options.serial});
  // Power-up line coding 9600 8N1 (our choice).
  coding_ = {0x80, 0x25, 0x00, 0x00, 0, 0, 8};
  registers_[kHxnFlowRegister] = variant.divisors == Divisors::none ? kHxnFlowNone : 0;

  bus.call([&] {
    port_ = std::make_unique<UartPort>(
        bus, UartPort::Config{variant.name, kFifoSize, kFifoSize, options.paced},
        static_cast<UartPort::Client*>(this));
    notify_ = &add_endpoint(kInterruptIn, kEndpointInterrupt, kInterruptMaxPacket);
    out_ = &add_endpoint(kBulkOut, kEndpointBulk, kBulkMaxPacket);
    in_ = &add_endpoint(kBulkIn, kEndpointBulk, kBulkMaxPacket);
    pump_task_ = std::make_unique<Bus::Task>(bus, [this] { pump(); });
    bulk_in_ = std::make_unique<RawBulkIn>(bus, *in_, *port_);
    port_->set_format(LineFormat{});
    port_->chip().baud_encoded = 9600;
  });
}

Pl2303Device::~Pl2303Device() {
  shutdown();
}

UartPort& Pl2303Device::port(size_t index) {
  if (index != 0) {
    throw std::out_of_range("sim::pl2303: a PL2303 has one port");
  }
  return *port_;
}

Pl2303Device::Observed Pl2303Device::observed() const {
  Observed copy;
  bus().call([&] { copy = observed_; });
  return copy;
}

void Pl2303Device::teardown() {
  bulk_in_.reset();
  pump_task_.reset();
  port_.reset();
}

// ------------------------------------------------------------------ control

IOReturnValue Pl2303Device::device_request(const UsbSetup& s, std::span<uint8_t> data,
                                           uint16_t& actual) {
  ++port_->counters().control_requests;
  IOReturnValue r = kIOUSBPipeStalled;
  if (s.bmRequestType == kClassOut || s.bmRequestType == kClassIn) {
    r = class_request(s, data, actual);
  } else if (s.bmRequestType == kVendorOut || s.bmRequestType == kVendorIn) {
    r = vendor_request(s, data, actual);
  }
  if (r == kIOUSBPipeStalled) {
    ++port_->counters().stalled_requests;
    actual = 0;
  }
  return r;
}

IOReturnValue Pl2303Device::class_request(const UsbSetup& s, std::span<uint8_t> data,
                                          uint16_t& actual) {
  if (s.wIndex != 0) {
    return kIOUSBPipeStalled;  // the one interface
  }
  UartPort& p = *port_;
  if (s.bmRequestType == kClassIn) {
    if (s.bRequest != GET_LINE_REQUEST) {
      return kIOUSBPipeStalled;
    }
    const size_t n = std::min(data.size(), coding_.size());
    std::copy_n(coding_.begin(), n, data.begin());
    actual = static_cast<uint16_t>(n);
    return kIOReturnSuccess;
  }
  switch (s.bRequest) {
    case SET_LINE_REQUEST: {
      // Stop bits 0/1/2, parity 0..4, data bits 5..8; anything else is refused (our choice:
      // what a real chip does with it is not documented).
      if (data.size() < coding_.size() || data[4] > 2 || data[5] > 4 || data[6] < 5 ||
          data[6] > 8) {
        ++p.counters().invalid_settings;
        p.chip().format_invalid = true;
        return kIOUSBPipeStalled;
      }
      set_line(data.first(coding_.size()));
      actual = static_cast<uint16_t>(coding_.size());
      return kIOReturnSuccess;
    }
    case SET_CONTROL_REQUEST:
      p.set_host_dtr((s.wValue & CONTROL_DTR) != 0);
      p.set_host_rts((s.wValue & CONTROL_RTS) != 0);
      return kIOReturnSuccess;
    case BREAK_REQUEST:
      p.set_break(s.wValue != 0);  // 0xFFFF on, 0 off (pl2303.c BREAK_ON / BREAK_OFF)
      return kIOReturnSuccess;
    default:
      return kIOUSBPipeStalled;
  }
}

void Pl2303Device::set_line(std::span<const uint8_t> c) {
  UartPort& p = *port_;
  const uint32_t field = get32(c.data());
  bool unknown_direct = false;  // the chip silently runs at 9600
  bool garbled = false;         // no defined rate at all
  double baud = 0;
  if (variant_.divisors != Divisors::none && (c[3] & 0x80) != 0) {
    uint64_t divisor = 0;
    if (variant_.divisors == Divisors::standard) {
      const uint64_t mantissa = c[0] | ((c[1] & 0x01u) << 8);
      const unsigned exponent = (c[1] >> 1) & 0x07u;
      divisor = mantissa << (2 * exponent);
    } else {
      const uint64_t mantissa = c[0] | ((c[1] & 0x07u) << 8);
      const unsigned exponent = ((c[1] >> 4) & 0x0Eu) | (c[2] & 0x01u);
      divisor = mantissa << exponent;
    }
    if (divisor == 0) {
      garbled = true;
    } else {
      baud = kDivisorBaseline / static_cast<double>(divisor);
      garbled = baud > variant_.max_baud;  // faster than the part runs
    }
  } else if (variant_.divisors == Divisors::none) {
    baud = field;  // the G series takes any rate directly
    garbled = field == 0 || field > variant_.max_baud;
  } else {
    const bool known = std::find(std::begin(kDirectRates), std::end(kDirectRates), field) !=
                       std::end(kDirectRates);
    if (known && field <= variant_.max_baud) {
      baud = field;
    } else {
      baud = kFallbackBaud;
      unknown_direct = true;
    }
  }
  if (garbled || unknown_direct) {
    ++p.counters().invalid_settings;
  }
  p.chip().baud_encoded = field;
  p.chip().baud_invalid = garbled || unknown_direct;
  p.chip().format_invalid = false;
  std::copy(c.begin(), c.end(), coding_.begin());
  ++observed_.set_line_requests;
  LineFormat f;
  f.baud = garbled ? p.format().baud : baud;
  f.data_bits = c[6];
  f.parity = static_cast<Parity>(c[5]);
  f.stop_bits = static_cast<StopBits>(c[4]);
  p.set_format(f, garbled);
}

void Pl2303Device::track_init(bool read, uint16_t value, uint16_t index) {
  const auto matches = [&](size_t step) {
    const InitStep& e = kInit[step];
    const uint16_t want_index = step + 1 == kInitSteps ? (variant_.legacy ? 0x24 : 0x44) : e.index;
    return e.read == read && e.value == value && (read || want_index == index);
  };
  if (matches(init_step_)) {
    if (++init_step_ == kInitSteps) {
      observed_.initialised = true;
      init_step_ = 0;
    }
  } else {
    init_step_ = matches(0) ? 1 : 0;
  }
}

IOReturnValue Pl2303Device::vendor_request(const UsbSetup& s, std::span<uint8_t> data,
                                           uint16_t& actual) {
  const bool hxn = variant_.divisors == Divisors::none;
  const bool in = s.bmRequestType == kVendorIn;
  if (hxn) {
    // The G series answers only its own requests; the old bRequest 0x01 (the type probe
    // among them) is refused: that is how Linux tells a GT from a TA.
    if (s.bRequest != (in ? VENDOR_READ_NREQUEST : VENDOR_WRITE_NREQUEST) || s.wValue > 0xFF) {
      return kIOUSBPipeStalled;
    }
  } else if (s.bRequest != VENDOR_REQUEST) {
    return kIOUSBPipeStalled;
  }
  if (in) {
    if (data.empty()) {
      return kIOUSBPipeStalled;
    }
    uint8_t reg = static_cast<uint8_t>(s.wValue);
    if (!hxn) {
      if ((s.wValue & kRegisterReadFlag) == 0) {
        return kIOUSBPipeStalled;  // a read names register | 0x80
      }
      reg = static_cast<uint8_t>(s.wValue & 0x7F);
      track_init(true, s.wValue, s.wIndex);
      if (s.wValue == kTypeProbe) {
        ++observed_.type_probes;
      }
    }
    data[0] = registers_[reg];
    actual = 1;
    return kIOReturnSuccess;
  }
  if (!hxn) {
    track_init(false, s.wValue, s.wIndex);
  }
  write_register(static_cast<uint8_t>(s.wValue), static_cast<uint8_t>(s.wIndex));
  return kIOReturnSuccess;
}

void Pl2303Device::write_register(uint8_t reg, uint8_t value) {
  UartPort& p = *port_;
  if (variant_.divisors == Divisors::none) {
    if (reg == kHxnResetRegister) {
      if ((value & kHxnResetDownstream) != 0) {
        p.tx_purge();
      }
      if ((value & kHxnResetUpstream) != 0) {
        p.rx_purge();
      }
      return;  // a command, not a setting
    }
    registers_[reg] = value;
    if (reg == kHxnFlowRegister) {
      apply_flow(value);
    }
    return;
  }
  if (reg == kResetDownstream) {
    p.tx_purge();
    return;
  }
  if (reg == kResetUpstream) {
    p.rx_purge();
    return;
  }
  registers_[reg] = value;
  if (reg == kOldFlowRegister) {
    apply_flow(value);
  }
}

void Pl2303Device::apply_flow(uint8_t value) {
  UartPort& p = *port_;
  uint8_t mode = flow_mode::kNone;
  bool valid = true;
  if (variant_.divisors == Divisors::none) {
    switch (value & kHxnFlowMask) {
      case kHxnFlowNone:
        break;
      case kHxnFlowRtsCts:
        mode = flow_mode::kRtsCts;
        break;
      case kHxnFlowXonXoff:
        mode = flow_mode::kXonXoff;
        break;
      default:
        valid = false;
    }
  } else {
    // Register 0 bits 7..4: 0 none; RTS/CTS 0x40 on the H, 0x60 on later parts; automatic
    // XON/XOFF 0xC0, not on the H (pl2303.c).
    const uint8_t bits = value & kOldFlowMask;
    if (bits == (variant_.legacy ? 0x40 : 0x60)) {
      mode = flow_mode::kRtsCts;
    } else if (bits == 0xC0 && !variant_.legacy) {
      mode = flow_mode::kXonXoff;
    } else {
      valid = bits == 0;
    }
  }
  if (!valid) {
    ++p.counters().invalid_settings;
  }
  observed_.flow_register = value;
  p.set_flow(mode, 0x11, 0x13);  // the chip's XON/XOFF uses DC1/DC3
}

// ---------------------------------------------------------------- notifications

uint8_t Pl2303Device::modem_state() const {
  uint8_t state = 0;
  if (port_->input(ModemInput::dcd)) {
    state |= UART_DCD;
  }
  if (port_->input(ModemInput::dsr)) {
    state |= UART_DSR;
  }
  if (port_->input(ModemInput::ri)) {
    state |= UART_RING;
  }
  if (port_->input(ModemInput::cts)) {
    state |= UART_CTS;
  }
  return state;
}

void Pl2303Device::queue_notification(std::vector<uint8_t> message) {
  if (notifications_.size() >= kMaxQueuedNotifications) {
    notifications_.pop_front();  // the host is not reading: keep the newest
  }
  notifications_.push_back(std::move(message));
}

void Pl2303Device::interrupt_injected(std::vector<uint8_t> raw) {
  queue_notification(std::move(raw));
  pump_task_->wake();
}

void Pl2303Device::uart_activity(UartPort& port) {
  const uint8_t modem = modem_state();
  const uint8_t events = port.take_error_events();
  uint8_t errors = 0;
  if ((events & rx_flag::kBreak) != 0) {
    errors |= UART_BREAK_ERROR;
  }
  if ((events & rx_flag::kFraming) != 0) {
    errors |= UART_FRAME_ERROR;
  }
  if ((events & rx_flag::kParity) != 0) {
    errors |= UART_PARITY_ERROR;
  }
  if ((events & rx_flag::kOverrun) != 0) {
    errors |= UART_OVERRUN_ERROR;
    port.take_overrun();
  }
  if (modem != last_modem_ || errors != 0) {
    last_modem_ = modem;
    // 0xA1, SERIAL_STATE (0x20), wValue 0, wIndex 0, wLength 2, UART state, 0.
    queue_notification({0xA1, 0x20, 0, 0, 0, 0, 2, 0, static_cast<uint8_t>(modem | errors), 0});
  }
  pump();
}

// ------------------------------------------------------------------ data path

void Pl2303Device::endpoint_activity(Endpoint& /*ep*/) {
  pump_task_->wake();
}

void Pl2303Device::uart_tx_space(UartPort& /*port*/) {
  if (!detached() && out_->out_waiting()) {
    pump_out();
  }
}

void Pl2303Device::uart_rx_full(UartPort& /*port*/) {
  if (!detached()) {
    pump_in();
  }
}

void Pl2303Device::pump() {
  if (detached()) {
    return;
  }
  pump_out();
  pump_in();
  pump_notify();
}

void Pl2303Device::pump_out() {
  pump_out_to_uart(*out_, *port_);
}

void Pl2303Device::pump_in() {
  bulk_in_->pump();
}

void Pl2303Device::pump_notify() {
  // Each notification ends its transfer; an injected message longer than a packet is sent
  // as several packets.
  while (notify_->in_waiting() && !notifications_.empty()) {
    std::vector<uint8_t>& msg = notifications_.front();
    const size_t n = std::min<size_t>(notify_->max_packet(), msg.size());
    notify_->send_packet(std::span<const uint8_t>(msg.data(), n));
    if (n < msg.size()) {
      msg.erase(msg.begin(), msg.begin() + static_cast<std::ptrdiff_t>(n));
      continue;
    }
    notifications_.pop_front();
    if (n == notify_->max_packet() && notify_->in_waiting() && notify_->in_filled() > 0) {
      notify_->send_packet({});  // a host buffer larger than a packet: end the transfer here
    }
  }
}

}  // namespace sim::pl2303
