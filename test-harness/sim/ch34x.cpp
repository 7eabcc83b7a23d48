#include "sim/ch34x.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace sim::ch34x {

namespace {

// The simulated parts.
//  - PIDs: Linux ch341.c id_table; 7523H is also the CH340 data sheet's default PID.
//  - Versions: ch341.c says current parts answer 0x30 and above and old ones 0x27; which
//    value a CH340 or a CH341A answers is our choice inside that (0x31 and 0x30).
//  - bcdDevice and product strings: from memory of lsusb output of such adapters (CH340
//    "USB Serial", bcdDevice 2.64; CH341A "USB2.0-Ser!", 3.04), not a document.
constexpr Variant kVariants[] = {
    {"ch340", 0x7523, 0x0264, 0x31, "USB Serial"},
    {"ch341a", 0x5523, 0x0304, 0x30, "USB2.0-Ser!"},
};

// FIFO depths are not in the data sheets ("built-in separate transmit-receive buffer"):
// 256 bytes each way is our choice.
constexpr size_t kFifoSize = 256;
// Bus powered, 98 mA: the CH340 data sheet's default PWR byte 31H (in 2 mA units).
constexpr uint8_t kConfigAttributes = 0x80;
constexpr uint8_t kMaxPower2mA = 0x31;
constexpr auto kFrame = std::chrono::milliseconds(1);  // full-speed USB frame
constexpr size_t kMaxQueuedStatus = 64;

constexpr uint32_t kClock = 48'000'000;
constexpr uint8_t kNotBreak = 0x01;  // register 0x05 bit 0
constexpr uint8_t kLcrRx = 0x80;     // register 0x18
constexpr uint8_t kLcrTx = 0x40;
constexpr uint8_t kLcrMarkSpace = 0x20;
constexpr uint8_t kLcrEven = 0x10;
constexpr uint8_t kLcrParity = 0x08;
constexpr uint8_t kLcrTwoStop = 0x04;
constexpr uint8_t kNoBuffering = 0x80;  // register 0x12 bit 7
constexpr uint8_t kVersionLcr = 0x30;   // the LCR register exists from this version
constexpr uint8_t kControlDtr = 0x20;   // MODEM_CTRL and register 0x06, inverted
constexpr uint8_t kControlRts = 0x40;
// Register 0x07 and byte 3 of a status packet: "normally 0xee" (ch341.c comments).
constexpr uint8_t kStatus2 = 0xEE;
// Interrupt event types (WCH ch341.h CH341_CTT_*).
constexpr uint8_t kEventModem = 0x08;
constexpr uint8_t kEventOverrun = 0x02;
constexpr uint8_t kEventParity = 0x04;
constexpr uint8_t kEventFraming = 0x44;

// Power-up / SERIAL_INIT state: 9600 Bd (ps 2, div 78: 9615 Bd) 8N1 with both directions on.
// What the real chip sets is not documented; Linux programs exactly this after the init.
constexpr uint8_t kInitPrescaler = 0x02;
constexpr uint8_t kInitDivisor = 256 - 78;
constexpr uint8_t kInitLcr = kLcrRx | kLcrTx | 0x03;

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

DivisorDecode decode_divisor(uint8_t prescaler, uint8_t divisor, bool limited_clone) {
  DivisorDecode d;
  d.ps = prescaler & 0x3u;
  d.fact = (prescaler >> 2) & 0x1u;
  d.div = divisor == 0 ? 256u : 256u - divisor;
  const unsigned clock_divider = 1u << (12 - 3 * d.ps - d.fact);
  d.valid = d.div >= (d.fact == 1 ? 9u : 2u) && !(limited_clone && d.fact == 1 && d.ps < 3);
  d.baud = static_cast<double>(kClock) / (static_cast<double>(clock_divider) * d.div);
  return d;
}

bool sends_partial_packets(uint8_t prescaler, uint8_t version) {
  const bool bit7 = (prescaler & kNoBuffering) != 0;
  return version > 0x27 ? bit7 : !bit7;
}

Ch34xDevice::Ch34xDevice(Bus& bus, const Variant& variant, SimOptions options, Quirks quirks)
    : SimDevice(bus, options, UsbSpeed::full),
      variant_(variant),
      quirks_(quirks),
      version_(quirks.version.value_or(variant.version)) {
  const uint16_t vid = options.vid.value_or(kWchVid);
  const uint16_t pid = options.pid.value_or(variant.pid);
  const uint8_t i_serial = options.serial.empty() ? 0 : 3;
  usbdesc::ConfigBuilder config(kConfigAttributes, kMaxPower2mA);
  config.interface(0, 3, 0xFF, 0x01, 0x02, 0)
      .endpoint(kEndpointIn, kEndpointBulk, kBulkMaxPacket, 0)
      .endpoint(kEndpointOut, kEndpointBulk, kBulkMaxPacket, 0)
      .endpoint(kEndpointStatus, kEndpointInterrupt, kStatusMaxPacket, 1);
  // bcdUSB 1.10, vendor class, EP0 8 bytes, no manufacturer string.
  set_descriptors(
      usbdesc::device(0x0110, 0xFF, 0, 0, 8, vid, pid, variant.bcd_device, 0, 2, i_serial),
      config.finish(), {"", variant.product, options.serial});
  packet_.resize(kBulkMaxPacket);

  bus.call([&] {
    port_ = std::make_unique<UartPort>(
        bus, UartPort::Config{variant.name, kFifoSize, kFifoSize, options.paced},
        static_cast<UartPort::Client*>(this));
    status_ = &add_endpoint(kEndpointStatus, kEndpointInterrupt, kStatusMaxPacket);
    in_ = &add_endpoint(kEndpointIn, kEndpointBulk, kBulkMaxPacket);
    out_ = &add_endpoint(kEndpointOut, kEndpointBulk, kBulkMaxPacket);
    pump_task_ = std::make_unique<Bus::Task>(bus, [this] { pump(); });
    regs_[CH341_REG_STATUS2] = kStatus2;
    serial_init();
    last_status_ = status_register();
  });
}

Ch34xDevice::~Ch34xDevice() {
  shutdown();
}

UartPort& Ch34xDevice::port(size_t index) {
  if (index != 0) {
    throw std::out_of_range("sim::ch34x: a CH34x has one port");
  }
  return *port_;
}

void Ch34xDevice::teardown() {
  bus().cancel(frame_timer_);
  pump_task_.reset();
  port_.reset();
}

// ------------------------------------------------------------------ control

IOReturnValue Ch34xDevice::device_request(const UsbSetup& s, std::span<uint8_t> data,
                                          uint16_t& actual) {
  ++port_->counters().control_requests;
  const IOReturnValue r = handle(s, data, actual);
  if (r == kIOUSBPipeStalled) {
    ++port_->counters().stalled_requests;
    actual = 0;
  }
  return r;
}

IOReturnValue Ch34xDevice::handle(const UsbSetup& s, std::span<uint8_t> data, uint16_t& actual) {
  UartPort& p = *port_;
  if (s.bmRequestType == kRequestTypeIn) {
    uint8_t answer[2] = {};
    if (s.bRequest == CH341_REQ_READ_VERSION) {
      answer[0] = version_;
    } else if (s.bRequest == CH341_REQ_READ_REG) {
      const auto a = static_cast<uint8_t>(s.wValue & 0xFF);
      const auto b = static_cast<uint8_t>(s.wValue >> 8);
      if (quirks_.limited_clone && (a == CH341_REG_BREAK || b == CH341_REG_BREAK)) {
        return kIOUSBPipeStalled;  // the clones have no break register (ch341.c quirk probe)
      }
      regs_[CH341_REG_STATUS] = status_register();
      answer[0] = regs_[a];
      answer[1] = regs_[b];
    } else {
      return kIOUSBPipeStalled;
    }
    const size_t n = std::min(data.size(), sizeof answer);
    std::copy_n(answer, n, data.begin());
    actual = static_cast<uint16_t>(n);
    return kIOReturnSuccess;
  }
  if (s.bmRequestType != kRequestTypeOut) {
    return kIOUSBPipeStalled;
  }
  switch (s.bRequest) {
    case CH341_REQ_SERIAL_INIT:
      if (s.wValue == 0 && s.wIndex == 0) {
        serial_init();
      } else {
        ++p.counters().invalid_settings;  // WCH's "line setting" form: not modelled
      }
      return kIOReturnSuccess;
    case CH341_REQ_WRITE_REG: {
      const auto a = static_cast<uint8_t>(s.wValue & 0xFF);
      const auto b = static_cast<uint8_t>(s.wValue >> 8);
      if (quirks_.limited_clone && (a == CH341_REG_BREAK || b == CH341_REG_BREAK)) {
        return kIOUSBPipeStalled;
      }
      write_register(a, static_cast<uint8_t>(s.wIndex & 0xFF));
      write_register(b, static_cast<uint8_t>(s.wIndex >> 8));
      if (a == CH341_REG_PRESCALER || a == CH341_REG_DIVISOR || b == CH341_REG_PRESCALER ||
          b == CH341_REG_DIVISOR) {
        apply_baud();
      }
      if (a == CH341_REG_LCR || b == CH341_REG_LCR) {
        apply_lcr();
      }
      apply_line_state();
      return kIOReturnSuccess;
    }
    case CH341_REQ_MODEM_CTRL:
      // Active low: a 0 bit drives the pin's function on (CH340DS1 pin table: DTR#, RTS#).
      p.set_host_dtr((s.wValue & kControlDtr) == 0);
      p.set_host_rts((s.wValue & kControlRts) == 0);
      return kIOReturnSuccess;
    default:
      return kIOUSBPipeStalled;
  }
}

void Ch34xDevice::write_register(uint8_t address, uint8_t value) {
  UartPort& p = *port_;
  switch (address) {
    case CH341_REG_STATUS:
    case CH341_REG_STATUS2:
      ++p.counters().invalid_settings;  // read-only
      return;
    case CH341_REG_LCR:
      if (version_ < kVersionLcr) {
        // Older chips keep their format elsewhere (ch341.c): not this register.
        ++p.counters().invalid_settings;
        return;
      }
      break;
    case CH341_REG_LCR2:
      if (value != 0) {
        ++p.counters().invalid_settings;  // always 0 on the versions that have it (ch341.c)
      }
      break;
    case CH341_REG_FLOW:
      if (value > 1) {
        ++p.counters().invalid_settings;
        return;
      }
      // WCH's driver: 0x01 turns RTS/CTS on (the chip holds TX while CTS# is high and drops
      // RTS# as its receive buffer fills), 0x00 off.
      p.set_flow(value == 1 ? flow_mode::kRtsCts : flow_mode::kNone, p.xon(), p.xoff());
      break;
    default:
      break;
  }
  regs_[address] = value;
  return;
}

void Ch34xDevice::serial_init() {
  UartPort& p = *port_;
  regs_[CH341_REG_PRESCALER] = kInitPrescaler;
  regs_[CH341_REG_DIVISOR] = kInitDivisor;
  regs_[CH341_REG_LCR] = kInitLcr;
  regs_[CH341_REG_LCR2] = 0;
  regs_[CH341_REG_BREAK] = kNotBreak;
  regs_[CH341_REG_FLOW] = 0;
  p.set_flow(flow_mode::kNone, p.xon(), p.xoff());
  p.set_host_dtr(false);
  p.set_host_rts(false);
  apply_baud();
  // The format: 8N1 whatever the version (an old chip's format registers are not modelled).
  LineFormat f = p.format();
  f.data_bits = 8;
  f.parity = Parity::none;
  f.stop_bits = StopBits::one;
  p.set_format(f, p.garbled());
  p.chip().format_invalid = false;
  apply_line_state();
}

void Ch34xDevice::apply_baud() {
  UartPort& p = *port_;
  const DivisorDecode d =
      decode_divisor(regs_[CH341_REG_PRESCALER], regs_[CH341_REG_DIVISOR], quirks_.limited_clone);
  p.chip().baud_encoded =
      static_cast<uint32_t>(regs_[CH341_REG_DIVISOR] << 8 | regs_[CH341_REG_PRESCALER]);
  p.chip().baud_invalid = !d.valid;
  if (!d.valid) {
    ++p.counters().invalid_settings;
  }
  LineFormat f = p.format();
  f.baud = d.baud;
  p.set_format(f, !d.valid);
}

void Ch34xDevice::apply_lcr() {
  UartPort& p = *port_;
  const uint8_t lcr = regs_[CH341_REG_LCR];
  LineFormat f = p.format();
  f.data_bits = static_cast<uint8_t>(5 + (lcr & 0x03));
  f.stop_bits = (lcr & kLcrTwoStop) != 0 ? StopBits::two : StopBits::one;
  if ((lcr & kLcrParity) == 0) {
    f.parity = Parity::none;
  } else if ((lcr & kLcrMarkSpace) != 0) {
    f.parity = (lcr & kLcrEven) != 0 ? Parity::space : Parity::mark;
  } else {
    f.parity = (lcr & kLcrEven) != 0 ? Parity::even : Parity::odd;
  }
  p.chip().format_invalid = false;
  p.set_format(f, p.garbled());
}

void Ch34xDevice::apply_line_state() {
  UartPort& p = *port_;
  const bool brk = (regs_[CH341_REG_BREAK] & kNotBreak) == 0;
  p.set_break(brk);
  // Our model of the enables (the data sheets do not describe them): the UART runs while the
  // receiver is enabled and the transmitter is enabled or held in break (ch341.c clears TX
  // enable together with NOT-break); anything else stops it in both directions.
  const uint8_t lcr = version_ >= kVersionLcr ? regs_[CH341_REG_LCR] : kInitLcr;
  p.set_uart_enabled((lcr & kLcrRx) != 0 && ((lcr & kLcrTx) != 0 || brk));
}

uint8_t Ch34xDevice::status_register() const {
  // Every pin inverted (active low), bits 4 and 7 read 1: 0xFF with nothing asserted and
  // 0x9F with DTR and RTS on, as ch341.c's comments expect after its init; 0x94 with a
  // loopback plug on DTR/RTS (its "base 0x94").
  const UartPort& p = *port_;
  uint8_t on = 0;
  on |= p.input(ModemInput::cts) ? 0x01 : 0;
  on |= p.input(ModemInput::dsr) ? 0x02 : 0;
  on |= p.input(ModemInput::ri) ? 0x04 : 0;
  on |= p.input(ModemInput::dcd) ? 0x08 : 0;
  on |= p.dtr_out() ? kControlDtr : 0;
  on |= p.rts_out() ? kControlRts : 0;
  return static_cast<uint8_t>(~on);
}

// ---------------------------------------------------------------- status packets

void Ch34xDevice::queue_status(std::vector<uint8_t> packet) {
  if (status_packets_.size() >= kMaxQueuedStatus) {
    status_packets_.pop_front();  // the host is not reading: keep the newest
  }
  status_packets_.push_back(std::move(packet));
}

void Ch34xDevice::interrupt_injected(std::vector<uint8_t> raw) {
  queue_status(std::move(raw));
  pump_task_->wake();
}

void Ch34xDevice::uart_activity(UartPort& port) {
  const uint8_t status = status_register();
  const uint8_t events = port.take_error_events();
  uint8_t type = 0;
  // Only the modem inputs (bits 0-3) are news to the host; it set DTR/RTS itself.
  if (((status ^ last_status_) & 0x0F) != 0) {
    type |= kEventModem;
  }
  if ((events & rx_flag::kOverrun) != 0) {
    type |= kEventOverrun;
    port.take_overrun();
  }
  if ((events & (rx_flag::kFraming | rx_flag::kBreak)) != 0) {
    type |= kEventFraming;  // a break arrives as a NUL with a low stop bit
  } else if ((events & rx_flag::kParity) != 0) {
    type |= kEventParity;
  }
  last_status_ = status;
  if (type != 0) {
    queue_status({type, 0x00, status, kStatus2});
  }
  pump();
}

// ------------------------------------------------------------------ data path

void Ch34xDevice::endpoint_activity(Endpoint& /*ep*/) {
  pump_task_->wake();
}

void Ch34xDevice::uart_tx_space(UartPort& /*port*/) {
  if (!detached() && out_->out_waiting()) {
    pump_out();
  }
}

void Ch34xDevice::uart_rx_full(UartPort& /*port*/) {
  if (!detached()) {
    pump_in();
  }
}

void Ch34xDevice::pump() {
  if (detached()) {
    return;
  }
  pump_out();
  pump_in();
  pump_status();
}

void Ch34xDevice::pump_out() {
  UartPort& p = *port_;
  while (out_->out_waiting()) {
    auto packet = out_->out_packet();
    if (p.uart_enabled()) {
      if (packet.size() > p.tx_space()) {
        return;  // NAK
      }
      p.tx_write(packet);
    }
    p.counters().usb_out_bytes += packet.size();
    out_->consume_out_packet();
  }
}

void Ch34xDevice::pump_in() {
  UartPort& p = *port_;
  const bool partial = sends_partial_packets(regs_[CH341_REG_PRESCALER], version_);
  while (in_->in_waiting()) {
    const size_t level = p.rx_level();
    size_t n = 0;
    if (level >= kBulkMaxPacket) {
      n = kBulkMaxPacket;
    } else if (partial && frame_due_ && level > 0) {
      n = level;  // what waited for a frame goes as a short packet
    } else {
      break;
    }
    p.rx_copy(0, packet_.data(), n);  // raw data: errors go to the status endpoint
    p.rx_consume(n);
    if (in_->send_packet(std::span<const uint8_t>(packet_.data(), n))) {
      p.counters().usb_in_bytes += n;
      ++p.counters().usb_in_packets;
    } else {
      p.counters().usb_in_lost_bytes += n;
    }
  }
  frame_due_ = false;
  if (partial && in_->in_waiting() && p.rx_level() > 0) {
    arm_frame_timer();
  }
}

void Ch34xDevice::arm_frame_timer() {
  if (frame_timer_ != 0) {
    return;
  }
  Bus& b = bus();
  const auto frame_ns = std::chrono::duration_cast<SimDuration>(kFrame).count();
  const SimTime next((b.now().count() / frame_ns + 1) * frame_ns);
  frame_timer_ = b.schedule_at(next, [this] {
    frame_timer_ = 0;
    // A receive timeout: the partial packet goes once a whole frame passed without a new
    // character; while characters keep coming, packets go out full.
    const uint64_t received = port_->counters().rx_line_bytes;
    frame_due_ = received == received_at_last_frame_;
    received_at_last_frame_ = received;
    pump_in();
  });
}

void Ch34xDevice::pump_status() {
  while (status_->in_waiting() && !status_packets_.empty()) {
    std::vector<uint8_t> packet = std::move(status_packets_.front());
    status_packets_.pop_front();
    if (packet.size() > kStatusMaxPacket) {
      packet.resize(kStatusMaxPacket);  // one interrupt packet at most
    }
    status_->send_packet(packet);
  }
}

}  // namespace sim::ch34x
