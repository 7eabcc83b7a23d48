#include "sim/ftdi.hpp"

#include <algorithm>
#include <chrono>

#include "sim/ftdi_baud.hpp"

namespace sim::ftdi {

namespace {

// The simulated parts.
//  - bcdDevice / PID / port count / speed: ftdi_sio.c ftdi_determine_type (>= v6.3)
//    and ftdi_sio_ids.h, as listed in docs/usb-serial-reference.md §2.1.
//  - FIFO depths: pyftdi's table (jonas-schievink/ftdi-protocol README), in FTDI's
//    naming "TX" = chip -> host, "RX" = host -> chip; docs/usb-serial-reference.md §2.1
//    gives the
//    FT232R (TX 256 / RX 128), FT232H (1 KiB), FT2232H (4 KiB), FT4232H (2 KiB) and
//    FT-X (512 B) numbers. FT232BM and FT2232C (TX 128 / RX 384) come only from
//    the pyftdi table; whether the FT2232C figure is per channel is not stated
//    there (we assume per channel).
//  - bMaxPacketSize0 8 and the product strings: an lsusb dump of an FT232R
//    ("FT232R USB UART", bMaxPacketSize0 8); the other parts' default product
//    strings and EP0 sizes are from memory of their lsusb output, not a document.
constexpr Variant kVariants[] = {
    {"ft232bm", 0x0400, 0x6001, 1, false, false, ChannelRule::zero_only, false, 128, 384, 8,
     "USB <-> Serial"},
    {"ft232r", 0x0600, 0x6001, 1, false, false, ChannelRule::zero_only, false, 256, 128, 8,
     "FT232R USB UART"},
    {"ft-x", 0x1000, 0x6015, 1, false, false, ChannelRule::zero_or_one, true, 512, 512, 8,
     "FT230X Basic UART"},
    {"ft2232c", 0x0500, 0x6010, 2, false, false, ChannelRule::one_based, true, 128, 384, 8,
     "Dual RS232"},
    {"ft232h", 0x0900, 0x6014, 1, true, true, ChannelRule::zero_or_one, true, 1024, 1024, 64,
     "Single RS232-HS"},
    {"ft2232h", 0x0700, 0x6010, 2, true, true, ChannelRule::one_based, true, 4096, 4096, 64,
     "Dual RS232-HS"},
    {"ft4232h", 0x0800, 0x6011, 4, true, true, ChannelRule::one_based, true, 2048, 2048, 64,
     "Quad RS232-HS"},
};

// Configuration bmAttributes 0xA0 (bus powered, remote wakeup) and 90 mA, as the
// FT232R lsusb dump shows; used for every part.
constexpr uint8_t kConfigAttributes = 0xA0;
constexpr uint8_t kMaxPower2mA = 45;

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

FtdiDevice::FtdiDevice(Bus& bus, const Variant& variant, SimOptions options)
    : SimDevice(bus, options,
                (variant.high_speed && !options.full_speed_port) ? UsbSpeed::high : UsbSpeed::full),
      variant_(variant) {
  max_packet_ = speed() == UsbSpeed::high ? 512 : 64;
  const uint16_t vid = options.vid.value_or(kFtdiVid);
  const uint16_t pid = options.pid.value_or(variant.pid);
  const uint8_t i_serial = options.serial.empty() ? 0 : 3;
  usbdesc::ConfigBuilder config(kConfigAttributes, kMaxPower2mA);
  for (uint8_t i = 0; i < variant.ports; ++i) {
    const uint8_t in = static_cast<uint8_t>(0x81 + 2 * i);
    const uint8_t out = static_cast<uint8_t>(0x02 + 2 * i);
    config.interface(i, 2, 0xFF, 0xFF, 0xFF, 2)
        .endpoint(in, kEndpointBulk, max_packet_, 0)
        .endpoint(out, kEndpointBulk, max_packet_, 0);
  }
  set_descriptors(usbdesc::device(0x0200, 0, 0, 0, variant.max_packet0, vid, pid,
                                  variant.bcd_device, 1, 2, i_serial),
                  config.finish(), {"FTDI", variant.product, options.serial});
  packet_.resize(max_packet_);

  bus.call([&] {
    for (uint8_t i = 0; i < variant.ports; ++i) {
      auto ch = std::make_unique<Channel>();
      ch->index = i;
      std::string name = std::string(variant.name);
      if (variant.ports > 1) {
        name += ":";
        name += static_cast<char>('A' + i);
      }
      ch->port = std::make_unique<UartPort>(
          bus,
          UartPort::Config{name, variant.usb_to_line_fifo, variant.line_to_usb_fifo, options.paced},
          static_cast<UartPort::Client*>(this));
      ch->in = &add_endpoint(static_cast<uint8_t>(0x81 + 2 * i), kEndpointBulk, max_packet_);
      ch->out = &add_endpoint(static_cast<uint8_t>(0x02 + 2 * i), kEndpointBulk, max_packet_);
      Channel* raw = ch.get();
      ch->pump = std::make_unique<Bus::Task>(bus, [this, raw] { pump(*raw); });
      // Power-up state: 9600 8N1, no flow control, DTR/RTS off, latency 16 ms.
      ch->port->set_format(LineFormat{});
      ch->port->chip().latency_ms = kDefaultLatencyMs;
      ch->port->chip().event_char = 0x0D;
      ch->port->chip().baud_encoded = 0x4138;  // the 9600 divisor
      ch->last_modem = modem_byte(*ch);
      channels_.push_back(std::move(ch));
    }
    for (auto& ch : channels_) {
      restart_latency(*ch);
    }
  });
}

FtdiDevice::~FtdiDevice() {
  shutdown();
}

void FtdiDevice::teardown() {
  for (auto& ch : channels_) {
    bus().cancel(ch->latency_timer);
    ch->pump.reset();
    ch->port.reset();
  }
}

// ------------------------------------------------------------------ control

FtdiDevice::Channel* FtdiDevice::select_channel(const UsbSetup& s) {
  const uint8_t selector = static_cast<uint8_t>(s.wIndex & 0xFF);
  switch (variant_.channels) {
    case ChannelRule::zero_only:
      // SET_BAUDRATE's wIndex holds divisor bits on these parts, not a channel.
      if (s.bRequest == FTDI_SIO_SET_BAUD_RATE || selector == 0) {
        return channels_[0].get();
      }
      return nullptr;
    case ChannelRule::zero_or_one:
      return selector <= 1 ? channels_[0].get() : nullptr;
    case ChannelRule::one_based:
      if (selector >= 1 && selector <= channels_.size()) {
        return channels_[selector - 1u].get();
      }
      return nullptr;
  }
  return nullptr;
}

IOReturnValue FtdiDevice::device_request(const UsbSetup& s, std::span<uint8_t> data,
                                         uint16_t& actual) {
  Channel* ch = nullptr;
  if (s.bmRequestType == kRequestTypeOut || s.bmRequestType == kRequestTypeIn) {
    ch = select_channel(s);
  }
  // A request that selects no channel is counted on the first port.
  PortCounters& counters = (ch != nullptr ? *ch : *channels_[0]).port->counters();
  ++counters.control_requests;
  IOReturnValue r = kIOUSBPipeStalled;
  if (ch != nullptr) {
    r = handle(*ch, s, data, actual);
  }
  if (r == kIOUSBPipeStalled) {
    ++counters.stalled_requests;
    actual = 0;
  }
  return r;
}

IOReturnValue FtdiDevice::handle(Channel& ch, const UsbSetup& s, std::span<uint8_t> data,
                                 uint16_t& actual) {
  UartPort& p = *ch.port;
  const bool in = s.bmRequestType == kRequestTypeIn;
  const bool in_request =
      s.bRequest == FTDI_SIO_GET_MODEM_STATUS || s.bRequest == FTDI_SIO_GET_LATENCY_TIMER;
  if (in != in_request) {
    return kIOUSBPipeStalled;
  }
  switch (s.bRequest) {
    case FTDI_SIO_RESET:
      if (s.wValue == FTDI_SIO_RESET_SIO) {
        reset_port(ch);
      } else if (s.wValue == FTDI_SIO_TCOFLUSH) {
        p.tx_purge();
      } else if (s.wValue == FTDI_SIO_TCIFLUSH) {
        p.rx_purge();
        ch.scan_pos = 0;
      } else {
        return kIOUSBPipeStalled;
      }
      return kIOReturnSuccess;
    case FTDI_SIO_MODEM_CTRL:
      if ((s.wValue & FTDI_SIO_SET_DTR_ENABLE) != 0) {
        p.set_host_dtr((s.wValue & FTDI_SIO_SET_DTR_MASK) != 0);
      }
      if ((s.wValue & FTDI_SIO_SET_RTS_ENABLE) != 0) {
        p.set_host_rts((s.wValue & FTDI_SIO_SET_RTS_MASK) != 0);
      }
      return kIOReturnSuccess;
    case FTDI_SIO_SET_FLOW_CTRL: {
      const uint8_t mode = static_cast<uint8_t>(s.wIndex >> 8);
      const uint8_t known = flow_mode::kRtsCts | flow_mode::kDtrDsr | flow_mode::kXonXoff;
      if ((mode & ~known) != 0) {
        ++p.counters().invalid_settings;
      }
      uint8_t xon = p.xon();
      uint8_t xoff = p.xoff();
      if ((mode & flow_mode::kXonXoff) != 0) {
        xon = static_cast<uint8_t>(s.wValue & 0xFF);
        xoff = static_cast<uint8_t>(s.wValue >> 8);
      }
      p.set_flow(static_cast<uint8_t>(mode & known), xon, xoff);
      return kIOReturnSuccess;
    }
    case FTDI_SIO_SET_BAUD_RATE:
      set_baud(ch, s);
      return kIOReturnSuccess;
    case FTDI_SIO_SET_DATA:
      set_data(ch, s.wValue);
      return kIOReturnSuccess;
    case FTDI_SIO_GET_MODEM_STATUS: {
      const uint8_t status[2] = {modem_byte(ch), line_byte(ch)};
      const size_t n = std::min<size_t>(data.size(), 2);
      std::copy_n(status, n, data.begin());
      actual = static_cast<uint16_t>(n);
      return kIOReturnSuccess;
    }
    case FTDI_SIO_SET_EVENT_CHAR:
      p.chip().event_char = static_cast<uint8_t>(s.wValue & 0xFF);
      p.chip().event_char_enabled = (s.wValue & 0x100) != 0;
      return kIOReturnSuccess;
    case FTDI_SIO_SET_ERROR_CHAR:
      p.chip().error_char = static_cast<uint8_t>(s.wValue & 0xFF);
      p.chip().error_char_enabled = (s.wValue & 0x100) != 0;
      return kIOReturnSuccess;
    case FTDI_SIO_SET_LATENCY_TIMER: {
      // 1..255 ms (docs/usb-serial-reference.md §2.2); 0 is not a valid latency: kept as before.
      const uint8_t ms = static_cast<uint8_t>(s.wValue & 0xFF);
      if (ms == 0) {
        ++p.counters().invalid_settings;
      } else {
        p.chip().latency_ms = ms;
        bus().cancel(ch.latency_timer);  // a shorter latency must not wait for the old timer
        restart_latency(ch);
      }
      return kIOReturnSuccess;
    }
    case FTDI_SIO_GET_LATENCY_TIMER:
      if (!data.empty()) {
        data[0] = p.chip().latency_ms;
        actual = 1;
      }
      return kIOReturnSuccess;
    case FTDI_SIO_SET_BITMODE:
      p.chip().bitmode = static_cast<uint8_t>(s.wValue >> 8);
      p.chip().bitmode_mask = static_cast<uint8_t>(s.wValue & 0xFF);
      // Any mode but 0 (reset to UART) gives the pins to the bit-bang / MPSSE
      // engine: the UART neither sends nor receives.
      p.set_uart_enabled(p.chip().bitmode == 0);
      return kIOReturnSuccess;
    default:
      return kIOUSBPipeStalled;
  }
}

void FtdiDevice::set_baud(Channel& ch, const UsbSetup& s) {
  UartPort& p = *ch.port;
  const uint32_t enc = encoded_divisor(s.wValue, s.wIndex, variant_.baud_bits_in_high_byte);
  const DivisorDecode d = decode_divisor(enc, variant_.clock_12mhz);
  p.chip().baud_encoded = enc;
  p.chip().baud_invalid = !d.valid;
  if (!d.valid) {
    ++p.counters().invalid_settings;
  }
  LineFormat f = p.format();
  f.baud = d.baud;
  p.set_format(f, !d.valid);
}

void FtdiDevice::set_data(Channel& ch, uint16_t value) {
  UartPort& p = *ch.port;
  LineFormat f = p.format();
  bool invalid = false;
  const unsigned bits = value & FTDI_SIO_SET_DATA_BITS_MASK;
  // 7 or 8 data bits (ftdi_sio.h; FT232R datasheet); anything else runs as 8
  // ("genuine chips fall back to 8", reference §2.2).
  if (bits == 7 || bits == 8) {
    f.data_bits = static_cast<uint8_t>(bits);
  } else {
    f.data_bits = 8;
    invalid = true;
  }
  const unsigned parity = (value >> FTDI_SIO_SET_DATA_PARITY_SHIFT) & 0x7u;
  if (parity <= 4) {
    f.parity = static_cast<Parity>(parity);
  } else {
    f.parity = Parity::none;
    invalid = true;
  }
  const unsigned stop = (value >> FTDI_SIO_SET_DATA_STOP_SHIFT) & 0x7u;
  if (stop <= 2) {
    f.stop_bits = static_cast<StopBits>(stop);
  } else {
    f.stop_bits = StopBits::one;
    invalid = true;
  }
  if (invalid) {
    ++p.counters().invalid_settings;
  }
  p.chip().format_invalid = invalid;
  ch.data_word = static_cast<uint16_t>(value & ~FTDI_SIO_SET_BREAK);
  p.set_format(f, p.garbled());
  p.set_break((value & FTDI_SIO_SET_BREAK) != 0);
}

void FtdiDevice::reset_port(Channel& ch) {
  // RESET(0): flow control off, event character (0x0D) disabled, both FIFOs
  // purged, DTR/RTS low; baud rate and data format kept (ftdi_sio.h).
  UartPort& p = *ch.port;
  p.set_flow(flow_mode::kNone, p.xon(), p.xoff());
  p.chip().event_char = 0x0D;
  p.chip().event_char_enabled = false;
  p.chip().error_char_enabled = false;
  p.tx_purge();
  p.rx_purge();
  ch.scan_pos = 0;
  p.set_host_dtr(false);
  p.set_host_rts(false);
}

// ------------------------------------------------------------------ data path

uint8_t FtdiDevice::modem_byte(const Channel& ch) const {
  const UartPort& p = *ch.port;
  uint8_t m = FTDI_RS0_RESERVED;
  if (p.input(ModemInput::cts)) {
    m |= FTDI_RS0_CTS;
  }
  if (p.input(ModemInput::dsr)) {
    m |= FTDI_RS0_DSR;
  }
  if (p.input(ModemInput::ri)) {
    m |= FTDI_RS0_RI;
  }
  if (p.input(ModemInput::dcd)) {
    m |= FTDI_RS0_RLSD;
  }
  return m;
}

uint8_t FtdiDevice::line_byte(const Channel& ch) const {
  const UartPort& p = *ch.port;
  uint8_t l = 0;
  if (p.tx_level() == 0) {
    l |= FTDI_RS_THRE;
  }
  if (p.tx_empty()) {
    l |= FTDI_RS_TEMT;
  }
  return l;
}

void FtdiDevice::endpoint_activity(Endpoint& ep) {
  for (auto& ch : channels_) {
    if (ch->in == &ep || ch->out == &ep) {
      ch->pump->wake();
    }
  }
}

void FtdiDevice::uart_activity(UartPort& port) {
  for (auto& c : channels_) {
    if (c->port.get() != &port) {
      continue;
    }
    Channel& ch = *c;
    // AN232B-04 / docs/usb-serial-reference.md §2.1: the chip sends what it has when a modem
    // line changes, when the event character arrives, or when the latency timer
    // expires. A line error is sent at once too (our choice: so that its flags
    // sit on the last byte of its packet, where ftdi_sio.c looks for them).
    if (modem_byte(ch) != ch.last_modem) {
      ch.flush_armed = true;
    }
    if (port.take_error_events() != 0) {
      ch.flush_armed = true;
    }
    if (port.chip().event_char_enabled && ch.scan_pos < port.rx_level()) {
      const size_t fresh = port.rx_level() - ch.scan_pos;
      if (port.rx_find(ch.scan_pos, fresh, port.chip().event_char) < fresh) {
        ch.flush_armed = true;
      }
    }
    ch.scan_pos = port.rx_level();
    pump(ch);
  }
}

FtdiDevice::Channel* FtdiDevice::channel_of(const UartPort& port) {
  for (auto& c : channels_) {
    if (c->port.get() == &port) {
      return c.get();
    }
  }
  return nullptr;
}

void FtdiDevice::uart_tx_space(UartPort& port) {
  Channel* ch = channel_of(port);
  if (ch != nullptr && !detached() && ch->out->out_waiting()) {
    pump_out(*ch);
  }
}

void FtdiDevice::uart_rx_full(UartPort& port) {
  Channel* ch = channel_of(port);
  if (ch != nullptr && !detached()) {
    pump_in(*ch);
  }
}

void FtdiDevice::pump(Channel& ch) {
  if (detached()) {
    return;
  }
  pump_out(ch);
  pump_in(ch);
}

void FtdiDevice::pump_out(Channel& ch) {
  UartPort& p = *ch.port;
  Endpoint& ep = *ch.out;
  while (ep.out_waiting()) {
    auto packet = ep.out_packet();
    if (p.uart_enabled()) {
      if (packet.size() > p.tx_space()) {
        return;  // NAK until the UART has made room for the whole packet
      }
      p.tx_write(packet);
    }
    p.counters().usb_out_bytes += packet.size();
    ep.consume_out_packet();
  }
}

void FtdiDevice::pump_in(Channel& ch) {
  UartPort& p = *ch.port;
  Endpoint& ep = *ch.in;
  const size_t payload = static_cast<size_t>(ep.max_packet()) - 2;
  while (ep.in_waiting()) {
    const size_t level = std::min(p.rx_level(), payload);
    size_t n = p.rx_clean_run(0, level);
    const bool error = n < level;
    if (error) {
      ++n;  // an errored byte ends its packet
    }
    if (n < payload && !ch.flush_armed && !error) {
      return;  // wait for a full packet, the latency timer or an event
    }
    send_packet(ch, n);
    if (n < payload) {
      ch.flush_armed = false;  // a short packet ends the flush
    }
  }
}

void FtdiDevice::send_packet(Channel& ch, size_t n) {
  UartPort& p = *ch.port;
  uint8_t line = line_byte(ch);
  if (p.take_overrun()) {
    line |= FTDI_RS_OE;
  }
  p.rx_copy(0, packet_.data() + 2, n);
  const size_t clean = p.rx_clean_run(0, n);
  for (size_t i = clean; i < n; ++i) {
    const UartPort::RxEntry e = p.rx_at(i);
    uint8_t value = e.value;
    if ((e.flags & rx_flag::kFraming) != 0) {
      line |= FTDI_RS_FE;
    }
    if ((e.flags & rx_flag::kParity) != 0) {
      line |= FTDI_RS_PE;
      if (p.chip().error_char_enabled) {
        value = p.chip().error_char;  // SET_ERROR_CHAR: replacement for parity errors
      }
    }
    if ((e.flags & rx_flag::kBreak) != 0) {
      line |= FTDI_RS_BI;
    }
    packet_[2 + i] = value;
  }
  packet_[0] = modem_byte(ch);
  packet_[1] = line;
  ch.last_modem = packet_[0];
  p.rx_consume(n);
  ch.scan_pos -= std::min(ch.scan_pos, n);
  restart_latency(ch);
  if (ch.in->send_packet(std::span<const uint8_t>(packet_.data(), 2 + n))) {
    p.counters().usb_in_bytes += n;
    ++p.counters().usb_in_packets;
  } else {
    p.counters().usb_in_lost_bytes += n;
  }
}

// The latency timer restarts with every packet sent. Per packet only its
// deadline moves; the armed timer, when it comes, re-arms for a deadline that
// moved past it, so it expires exactly `latency_ms` after the last packet.
void FtdiDevice::restart_latency(Channel& ch) {
  Bus& b = bus();
  ch.latency_deadline = b.now() + std::chrono::milliseconds(ch.port->chip().latency_ms);
  if (ch.latency_timer == 0) {
    arm_latency(ch);
  }
}

void FtdiDevice::arm_latency(Channel& ch) {
  Channel* raw = &ch;
  ch.latency_timer = bus().schedule_at(ch.latency_deadline, [this, raw] {
    raw->latency_timer = 0;
    if (bus().now() < raw->latency_deadline) {
      arm_latency(*raw);
      return;
    }
    raw->flush_armed = true;
    pump_in(*raw);
  });
}

}  // namespace sim::ftdi
