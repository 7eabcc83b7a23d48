#include "sim/cdc_acm.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace sim::cdc {

namespace {

constexpr uint16_t kBulkMaxPacket = 64;  // full speed
constexpr size_t kFifoSize = 1024;       // our choice for a generic MCU bridge
constexpr size_t kMaxQueuedNotifications = 64;

uint32_t get32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

}  // namespace

CdcAcmDevice::CdcAcmDevice(Bus& bus, SimOptions options) : SimDevice(bus, options, UsbSpeed::full) {
  // wMaxPacketSize of a full-speed interrupt endpoint is 1..64 (USB 2.0 §5.7.3).
  const uint8_t notify_mps =
      static_cast<uint8_t>(std::clamp<unsigned>(options.cdc_interrupt_max_packet, 1, 64));
  const uint16_t vid = options.vid.value_or(kDefaultVid);
  const uint16_t pid = options.pid.value_or(kDefaultPid);
  const uint8_t i_serial = options.serial.empty() ? 0 : 3;
  usbdesc::ConfigBuilder config(0x80, 50);  // bus powered, 100 mA
  config.interface(0, 1, 0x02, 0x02, 0x01, 0)
      .raw({5, 0x24, 0x00, 0x10, 0x01})  // Header, bcdCDC 1.10
      .raw({5, 0x24, 0x01, 0x00, 0x01})  // Call Management: bmCapabilities 0, bDataInterface 1
      .raw({4, 0x24, 0x02, 0x06})        // ACM: line coding + serial state (D1), break (D2)
      .raw({5, 0x24, 0x06, 0x00, 0x01})  // Union: control 0, subordinate 1
      .endpoint(kNotifyIn, kEndpointInterrupt, notify_mps, 16)
      .interface(1, 2, 0x0A, 0x00, 0x00, 0)
      .endpoint(kBulkIn, kEndpointBulk, kBulkMaxPacket, 0)
      .endpoint(kBulkOut, kEndpointBulk, kBulkMaxPacket, 0);
  set_descriptors(usbdesc::device(0x0200, 0x02, 0x00, 0x00, 64, vid, pid, 0x0100, 1, 2, i_serial),
                  config.finish(),
                  {"USBSerialBridge", "USBSerialBridge CDC-ACM simulator", options.serial});
  // Power-up line coding: 9600 bit/s, 1 stop bit, no parity, 8 data bits.
  coding_ = {0x80, 0x25, 0x00, 0x00, 0, 0, 8};

  bus.call([&] {
    port_ = std::make_unique<UartPort>(
        bus, UartPort::Config{"cdc-acm", kFifoSize, kFifoSize, options.paced},
        static_cast<UartPort::Client*>(this));
    notify_ = &add_endpoint(kNotifyIn, kEndpointInterrupt, notify_mps);
    in_ = &add_endpoint(kBulkIn, kEndpointBulk, kBulkMaxPacket);
    out_ = &add_endpoint(kBulkOut, kEndpointBulk, kBulkMaxPacket);
    pump_task_ = std::make_unique<Bus::Task>(bus, [this] { pump(); });
    bulk_in_ = std::make_unique<RawBulkIn>(bus, *in_, *port_);
    port_->set_format(LineFormat{});
    port_->chip().baud_encoded = 9600;
  });
}

CdcAcmDevice::~CdcAcmDevice() {
  shutdown();
}

UartPort& CdcAcmDevice::port(size_t index) {
  if (index != 0) {
    throw std::out_of_range("sim::cdc: the CDC-ACM simulator has one port");
  }
  return *port_;
}

void CdcAcmDevice::teardown() {
  bulk_in_.reset();
  bus().cancel(break_timer_);
  pump_task_.reset();
  port_.reset();
}

// ------------------------------------------------------------------ control

IOReturnValue CdcAcmDevice::device_request(const UsbSetup& s, std::span<uint8_t> data,
                                           uint16_t& actual) {
  ++port_->counters().control_requests;
  const IOReturnValue r = handle(s, data, actual);
  if (r == kIOUSBPipeStalled) {
    ++port_->counters().stalled_requests;
    actual = 0;
  }
  return r;
}

IOReturnValue CdcAcmDevice::handle(const UsbSetup& s, std::span<uint8_t> data, uint16_t& actual) {
  // Class requests go to the communication interface, number 0.
  if (s.wIndex != 0) {
    return kIOUSBPipeStalled;
  }
  UartPort& p = *port_;
  if (s.bmRequestType == kRequestTypeIn && s.bRequest == GET_LINE_CODING) {
    const size_t n = std::min(data.size(), coding_.size());
    std::copy_n(coding_.begin(), n, data.begin());
    actual = static_cast<uint16_t>(n);
    return kIOReturnSuccess;
  }
  if (s.bmRequestType != kRequestTypeOut) {
    return kIOUSBPipeStalled;
  }
  switch (s.bRequest) {
    case SET_LINE_CODING: {
      if (data.size() < 7) {
        return kIOUSBPipeStalled;
      }
      const uint32_t rate = get32(data.data());
      const uint8_t char_format = data[4];
      const uint8_t parity = data[5];
      const uint8_t bits = data[6];
      // bCharFormat 0/1/2, bParityType 0..4, bDataBits 5..8 (16 exists in the
      // spec but no UART here does it): anything else is refused with STALL.
      if (rate == 0 || char_format > 2 || parity > 4 || bits < 5 || bits > 8) {
        ++p.counters().invalid_settings;
        p.chip().format_invalid = true;
        return kIOUSBPipeStalled;
      }
      std::copy_n(data.begin(), 7, coding_.begin());
      LineFormat f;
      f.baud = static_cast<double>(rate);  // the UART runs at dwDTERate exactly
      f.data_bits = bits;
      f.parity = static_cast<Parity>(parity);
      f.stop_bits = static_cast<StopBits>(char_format);
      p.chip().baud_encoded = rate;
      p.chip().format_invalid = false;
      p.set_format(f);
      actual = 7;
      return kIOReturnSuccess;
    }
    case SET_CONTROL_LINE_STATE:
      p.set_host_dtr((s.wValue & kControlLineDtr) != 0);
      p.set_host_rts((s.wValue & kControlLineRts) != 0);
      return kIOReturnSuccess;
    case SEND_BREAK: {
      Bus& b = bus();
      b.cancel(break_timer_);
      if (s.wValue == 0) {
        p.set_break(false);
      } else {
        p.set_break(true);
        if (s.wValue != kBreakUntilCleared) {
          break_timer_ = b.schedule_at(b.now() + std::chrono::milliseconds(s.wValue), [this] {
            break_timer_ = 0;
            port_->set_break(false);
          });
        }
      }
      return kIOReturnSuccess;
    }
    default:
      return kIOUSBPipeStalled;
  }
}

// ---------------------------------------------------------------- notifications

uint16_t CdcAcmDevice::line_state() const {
  uint16_t state = 0;
  if (port_->input(ModemInput::dcd)) {
    state |= kSerialStateRxCarrier;
  }
  if (port_->input(ModemInput::dsr)) {
    state |= kSerialStateTxCarrier;
  }
  if (port_->input(ModemInput::ri)) {
    state |= kSerialStateRingSignal;
  }
  return state;
}

void CdcAcmDevice::queue_notification(std::vector<uint8_t> message) {
  if (notifications_.size() >= kMaxQueuedNotifications) {
    // The host is not reading: keep the newest state, drop the oldest
    // (unless its first packets are already out).
    if (notify_offset_ == 0) {
      notifications_.pop_front();
    } else {
      notifications_.erase(notifications_.begin() + 1);
    }
  }
  notifications_.push_back(std::move(message));
}

void CdcAcmDevice::interrupt_injected(std::vector<uint8_t> raw) {
  queue_notification(std::move(raw));
  pump_task_->wake();
}

void CdcAcmDevice::uart_activity(UartPort& port) {
  const uint16_t state = line_state();
  const uint8_t events = port.take_error_events();
  uint16_t bits = 0;
  if ((events & rx_flag::kBreak) != 0) {
    bits |= kSerialStateBreak;
  }
  if ((events & rx_flag::kFraming) != 0) {
    bits |= kSerialStateFraming;
  }
  if ((events & rx_flag::kParity) != 0) {
    bits |= kSerialStateParity;
  }
  if ((events & rx_flag::kOverrun) != 0) {
    bits |= kSerialStateOverRun;
    port.take_overrun();
  }
  if (state != last_state_ || bits != 0) {
    last_state_ = state;
    const uint16_t v = state | bits;
    // bmRequestType 0xA1, SERIAL_STATE, wValue 0, wIndex = interface 0, wLength 2.
    queue_notification({0xA1, SERIAL_STATE, 0, 0, 0, 0, 2, 0, static_cast<uint8_t>(v & 0xFF),
                        static_cast<uint8_t>(v >> 8)});
  }
  pump();
}

// ------------------------------------------------------------------ data path

void CdcAcmDevice::endpoint_activity(Endpoint& /*ep*/) {
  pump_task_->wake();
}

void CdcAcmDevice::uart_tx_space(UartPort& /*port*/) {
  if (!detached() && out_->out_waiting()) {
    pump_out();
  }
}

void CdcAcmDevice::uart_rx_full(UartPort& /*port*/) {
  if (!detached()) {
    pump_in();
  }
}

void CdcAcmDevice::pump() {
  if (detached()) {
    return;
  }
  pump_out();
  pump_in();
  pump_notify();
}

void CdcAcmDevice::pump_out() {
  pump_out_to_uart(*out_, *port_);
}

void CdcAcmDevice::pump_in() {
  bulk_in_->pump();
}

void CdcAcmDevice::pump_notify() {
  const size_t mps = notify_->max_packet();
  while (notify_->in_waiting() && !notifications_.empty()) {
    const std::vector<uint8_t>& msg = notifications_.front();
    const size_t n = std::min(mps, msg.size() - notify_offset_);
    std::vector<uint8_t> chunk(msg.begin() + static_cast<std::ptrdiff_t>(notify_offset_),
                               msg.begin() + static_cast<std::ptrdiff_t>(notify_offset_ + n));
    notify_offset_ += n;
    const bool last = notify_offset_ >= msg.size();
    if (last) {
      notifications_.pop_front();
      notify_offset_ = 0;
    }
    notify_->send_packet(chunk);
    if (last && n == mps && notify_->in_waiting() && notify_->in_filled() > 0) {
      notify_->send_packet({});  // end the transfer that holds this message
    }
  }
}

}  // namespace sim::cdc
