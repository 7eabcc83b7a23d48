#include "sim/cp210x.hpp"

#include <algorithm>
#include <chrono>

namespace sim::cp210x {

namespace {

// The UARTs.
//  - Rate rules and ranges: AN205 Table 1 (CP2102/3: 57..1 053 257 defined), the CP2104 and
//    CP2102N data sheets (300 bps to 2 / 3 Mbps, the 48 MHz divider), Linux cp210x.c for
//    CP2105 (ECI as CP2104; SCI 2400..921600 on the AN205 table) and CP2108 (AN205 below
//    1 MBd, 2 MBd top); usb-serial-for-android for the SCI port's STALL on a rate outside
//    its range, its 32-byte endpoints and its narrow formats.
//  - Buffers: CP2102 and CP2104 data sheets (576-byte receive, 640-byte transmit buffer);
//    CP2102N: a 512-byte receive FIFO (the data sheet's RTS watermarks, 448 off / 384 on,
//    "at least 128 free bytes"), 512 to transmit (our choice); CP2105 and CP2108: 256 and
//    512 each way (our choice: the sizes are not in our sources).
constexpr UartSpec kCp2102Uart{RateRule::an205_table, 57, 1'053'257, 0, false, false, 64, 576, 640};
constexpr UartSpec kCp2104Uart{RateRule::divider, 300, 2'000'000, 0, false, false, 64, 576, 640};
constexpr UartSpec kCp2102nUart{RateRule::divider, 300, 3'000'000, 0, false, false, 64, 512, 512};
constexpr UartSpec kCp2105Eci{RateRule::divider, 300, 2'000'000, 0, false, false, 64, 256, 256};
constexpr UartSpec kCp2105Sci{RateRule::an205_table, 2'400, 921'600, 0, true, true, 32, 256, 256};
constexpr UartSpec kCp2108Uart{
    RateRule::an205_table, 57, 2'000'000, 1'000'000, false, false, 64, 512, 512};

// PIDs: Linux cp210x.c id_table (0xEA60 single-port parts, 0xEA70 CP2105, 0xEA71 CP2108).
// Part numbers: Linux CP210X_PARTNUM_* (the CP2102N is the QFN28 package here). Product
// strings: Silicon Labs' defaults as the CP2102 ioreg fixture shows them; those of the other
// parts follow the same pattern (our choice). Firmware: the CP2102N reports 1.0.8 (after the
// E104 fix), CP2105 / CP2108 1.0.0 (our choices); the others have no version read.
constexpr Variant kVariants[] = {
    {"cp2102", 0xEA60, 0x02, 1, "CP2102 USB to UART Bridge Controller", {0, 0, 0}, {kCp2102Uart}},
    {"cp2102n",
     0xEA60,
     0x20,
     1,
     "CP2102N USB to UART Bridge Controller",
     {1, 0, 8},
     {kCp2102nUart}},
    {"cp2104", 0xEA60, 0x04, 1, "CP2104 USB to UART Bridge Controller", {0, 0, 0}, {kCp2104Uart}},
    {"cp2105",
     0xEA70,
     0x05,
     2,
     "CP2105 Dual USB to UART Bridge Controller",
     {1, 0, 0},
     {kCp2105Eci, kCp2105Sci}},
    {"cp2108",
     0xEA71,
     0x08,
     4,
     "CP2108 Quad USB to UART Bridge Controller",
     {1, 0, 0},
     {kCp2108Uart, kCp2108Uart, kCp2108Uart, kCp2108Uart}},
};

// Configuration: bus powered, 100 mA (our choice); bMaxPacketSize0 64.
constexpr uint8_t kConfigAttributes = 0x80;
constexpr uint8_t kMaxPower2mA = 50;
constexpr uint8_t kMaxPacket0 = 64;
constexpr uint16_t kBcdDevice = 0x0100;  // as the CP2102 ioreg fixture shows
constexpr auto kFrame = std::chrono::milliseconds(1);
// The CP2102N erratum E104 applies up to firmware 1.0.4.
constexpr uint32_t kE104LastFirmware = 0x010004;

uint32_t get32(std::span<const uint8_t> p, size_t at) {
  return static_cast<uint32_t>(p[at]) | (static_cast<uint32_t>(p[at + 1]) << 8) |
         (static_cast<uint32_t>(p[at + 2]) << 16) | (static_cast<uint32_t>(p[at + 3]) << 24);
}

void put32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 0; shift < 32; shift += 8) {
    out.push_back(static_cast<uint8_t>(v >> shift));
  }
}

IOReturnValue answer(std::span<uint8_t> data, const std::vector<uint8_t>& bytes, uint16_t& actual) {
  const size_t n = std::min(data.size(), bytes.size());
  std::copy_n(bytes.begin(), n, data.begin());
  actual = static_cast<uint16_t>(n);
  return kIOReturnSuccess;
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

Cp210xDevice::Cp210xDevice(Bus& bus, const Variant& variant, SimOptions options, Quirks quirks)
    : SimDevice(bus, options, UsbSpeed::full), variant_(variant), quirks_(quirks) {
  if (quirks_.firmware == std::array<uint8_t, 3>{0, 0, 0}) {
    quirks_.firmware = variant.firmware;
  }
  const uint16_t vid = options.vid.value_or(kSilabsVid);
  const uint16_t pid = options.pid.value_or(variant.pid);
  const uint8_t i_serial = options.serial.empty() ? 0 : 3;
  usbdesc::ConfigBuilder config(kConfigAttributes, kMaxPower2mA);
  for (uint8_t i = 0; i < variant.ports; ++i) {
    const uint16_t mps = variant.uarts[i].max_packet;
    config.interface(i, 2, 0xFF, 0x00, 0x00, 2)
        .endpoint(static_cast<uint8_t>(0x81 + i), kEndpointBulk, mps, 0)
        .endpoint(static_cast<uint8_t>(0x01 + i), kEndpointBulk, mps, 0);
  }
  set_descriptors(
      usbdesc::device(0x0200, 0, 0, 0, kMaxPacket0, vid, pid, kBcdDevice, 1, 2, i_serial),
      config.finish(), {"Silicon Labs", variant.product, options.serial});

  bus.call([&] {
    for (uint8_t i = 0; i < variant.ports; ++i) {
      auto ch = std::make_unique<Channel>();
      ch->index = i;
      ch->spec = &variant.uarts[i];
      std::string name = std::string(variant.name);
      if (variant.ports > 1) {
        name += ":" + std::to_string(i);
      }
      ch->port = std::make_unique<UartPort>(
          bus, UartPort::Config{name, ch->spec->tx_fifo, ch->spec->rx_fifo, options.paced},
          static_cast<UartPort::Client*>(this));
      ch->in = &add_endpoint(static_cast<uint8_t>(0x81 + i), kEndpointBulk, ch->spec->max_packet);
      ch->packet.resize(ch->spec->max_packet);
      ch->out = &add_endpoint(static_cast<uint8_t>(0x01 + i), kEndpointBulk, ch->spec->max_packet);
      Channel* raw = ch.get();
      ch->pump = std::make_unique<Bus::Task>(bus, [this, raw] { pump(*raw); });
      // Power-up: the UART disabled until IFC_ENABLE, 9600 8N1, lines low, no flow control,
      // XON 0x11 / XOFF 0x13.
      ch->port->set_format(LineFormat{});
      ch->port->set_uart_enabled(false);
      ch->port->chip().baud_encoded = 9600;
      ch->state.baud_request = 9600;
      ch->state.line_ctl = 0x0800;
      ch->state.chars = {0, 0, 0, 0, 0x11, 0x13};
      ch->last_msr = modem_status(*ch) & 0xF0;
      channels_.push_back(std::move(ch));
    }
  });
}

Cp210xDevice::~Cp210xDevice() {
  shutdown();
}

void Cp210xDevice::teardown() {
  for (auto& ch : channels_) {
    bus().cancel(ch->frame_timer);
    ch->pump.reset();
    ch->port.reset();
  }
}

Cp210xDevice::State Cp210xDevice::state(size_t port) {
  return bus().call([&] { return channels_.at(port)->state; });
}

// ------------------------------------------------------------------ control

IOReturnValue Cp210xDevice::device_request(const UsbSetup& s, std::span<uint8_t> data,
                                           uint16_t& actual) {
  Channel* ch = s.wIndex < channels_.size() ? channels_[s.wIndex].get() : nullptr;
  // A request that names no UART is counted on the first one.
  PortCounters& counters = (ch != nullptr ? *ch : *channels_[0]).port->counters();
  ++counters.control_requests;
  IOReturnValue r = kIOUSBPipeStalled;
  if (s.bmRequestType == kRequestTypeDeviceIn) {
    r = vendor_read(s, data, actual);
  } else if ((s.bmRequestType == kRequestTypeOut || s.bmRequestType == kRequestTypeIn) &&
             ch != nullptr) {
    r = handle(*ch, s, data, actual);
  }
  if (r == kIOUSBPipeStalled) {
    ++counters.stalled_requests;
    actual = 0;
  } else if ((s.bmRequestType & 0x80) == 0) {
    actual = static_cast<uint16_t>(data.size());  // an OUT data stage is taken whole
  }
  return r;
}

IOReturnValue Cp210xDevice::vendor_read(const UsbSetup& s, std::span<uint8_t> data,
                                        uint16_t& actual) {
  if (s.bRequest != VENDOR_SPECIFIC) {
    return kIOUSBPipeStalled;
  }
  if (s.wValue == kGetPartNumber) {
    // A genuine part fills what was asked (the part number, then 0: our choice for the
    // second byte); the quirky CP2102 answers one byte whatever was asked.
    if (quirks_.one_byte_part_number) {
      return answer(data, {variant_.part_number}, actual);
    }
    return answer(data, {variant_.part_number, 0x00}, actual);
  }
  const bool is_2n = variant_.part_number == 0x20;
  const uint16_t firmware_selector = is_2n ? kGetFirmwareVersion2n : kGetFirmwareVersion;
  if (s.wValue == firmware_selector && quirks_.firmware != std::array<uint8_t, 3>{0, 0, 0}) {
    return answer(data, {quirks_.firmware[0], quirks_.firmware[1], quirks_.firmware[2]}, actual);
  }
  return kIOUSBPipeStalled;
}

IOReturnValue Cp210xDevice::handle(Channel& ch, const UsbSetup& s, std::span<uint8_t> data,
                                   uint16_t& actual) {
  UartPort& p = *ch.port;
  State& st = ch.state;
  const bool in = s.bmRequestType == kRequestTypeIn;
  const bool in_request = s.bRequest == GET_MDMSTS || s.bRequest == GET_COMM_STATUS ||
                          s.bRequest == GET_FLOW || s.bRequest == GET_LINE_CTL ||
                          s.bRequest == GET_BAUDRATE;
  if (in != in_request) {
    return kIOUSBPipeStalled;
  }
  // Nothing works before the interface is enabled (AN571; reference §3.2).
  if (!st.enabled && s.bRequest != IFC_ENABLE) {
    return kIOUSBPipeStalled;
  }
  switch (s.bRequest) {
    case IFC_ENABLE:
      st.enabled = (s.wValue & 0x0001) != 0;
      p.set_uart_enabled(st.enabled);
      if (!st.enabled) {
        st.escape = 0;  // disabling the interface ends event insertion
        ch.carry.clear();
      }
      ch.pump->wake();
      return kIOReturnSuccess;
    case SET_BAUDRATE:
      return data.size() == 4 ? set_baudrate(ch, data) : kIOUSBPipeStalled;
    case GET_BAUDRATE: {
      std::vector<uint8_t> bytes;
      put32(bytes, st.baud_request);
      return answer(data, bytes, actual);
    }
    case SET_LINE_CTL:
      set_line_ctl(ch, s.wValue);
      return kIOReturnSuccess;
    case GET_LINE_CTL:
      return answer(data,
                    {static_cast<uint8_t>(st.line_ctl), static_cast<uint8_t>(st.line_ctl >> 8)},
                    actual);
    case SET_BREAK:
      p.set_break(s.wValue != 0);
      return kIOReturnSuccess;
    case SET_MHS:
      // SET_MHS drives the lines as plain outputs: a DTR or RTS it writes leaves any
      // flow-control mode of SET_FLOW for "active" / "inactive".
      if ((s.wValue & 0x0100) != 0) {
        st.flow[0] = (st.flow[0] & ~kDtrModeMask) | ((s.wValue & 0x0001) != 0 ? 1u : 0u);
      }
      if ((s.wValue & 0x0200) != 0) {
        st.flow[1] = (st.flow[1] & ~(3u << kRtsModeShift)) |
                     ((s.wValue & 0x0002) != 0 ? 1u << kRtsModeShift : 0u);
      }
      apply_flow(ch);
      return kIOReturnSuccess;
    case GET_MDMSTS:
      return answer(data, {modem_status(ch)}, actual);
    case GET_COMM_STATUS: {
      uint32_t hold = 0;
      if ((p.flow() & flow_mode::kRtsCts) != 0 && !p.input(ModemInput::cts)) {
        hold |= 1u << 0;
      }
      if ((p.flow() & flow_mode::kDtrDsr) != 0 && !p.input(ModemInput::dsr)) {
        hold |= 1u << 1;
      }
      if (p.snapshot().xoff_received) {
        hold |= 1u << 3;
      }
      const size_t out_queue = p.tx_level() + ((p.tx_level() == 0 && !p.tx_empty()) ? 1 : 0);
      std::vector<uint8_t> bytes;
      put32(bytes, st.errors);
      put32(bytes, hold);
      put32(bytes, static_cast<uint32_t>(p.rx_level() + ch.carry.size()));
      put32(bytes, static_cast<uint32_t>(out_queue));
      bytes.insert(bytes.end(), {0, 0, 0});
      st.errors = 0;  // reading clears them
      return answer(data, bytes, actual);
    }
    case PURGE:
      if ((s.wValue & 0x0005) != 0) {
        p.tx_purge();
      }
      if ((s.wValue & 0x000A) != 0) {
        p.rx_purge();
        ch.carry.clear();
      }
      return kIOReturnSuccess;
    case SET_FLOW:
      if (data.size() != 16) {
        return kIOUSBPipeStalled;
      }
      set_flow(ch, data);
      return kIOReturnSuccess;
    case GET_FLOW: {
      std::vector<uint8_t> bytes;
      for (const uint32_t word : st.flow) {
        put32(bytes, word);
      }
      return answer(data, bytes, actual);
    }
    case EMBED_EVENTS:
      if (quirks_.one_byte_part_number) {
        return kIOUSBPipeStalled;  // the quirky CP2102 has no event insertion
      }
      st.escape = static_cast<uint8_t>(s.wValue & 0xFF);
      return kIOReturnSuccess;
    case SET_CHARS:
      if (data.size() != st.chars.size()) {
        return kIOUSBPipeStalled;
      }
      std::copy(data.begin(), data.end(), st.chars.begin());
      apply_flow(ch);
      return kIOReturnSuccess;
    default:
      return kIOUSBPipeStalled;
  }
}

IOReturnValue Cp210xDevice::set_baudrate(Channel& ch, std::span<const uint8_t> data) {
  UartPort& p = *ch.port;
  const UartSpec& spec = *ch.spec;
  const uint32_t request = get32(data, 0);
  std::optional<double> rate;
  if (request >= spec.min_baud && request <= spec.max_baud) {
    rate = uart_rate(spec.rule, request, spec.exact_from);
  } else if (spec.stall_out_of_range) {
    return kIOUSBPipeStalled;
  }
  p.chip().baud_encoded = request;
  p.chip().baud_invalid = !rate.has_value();
  LineFormat f = p.format();
  if (rate) {
    f.baud = *rate;
  } else {
    ++p.counters().invalid_settings;  // "undefined": the UART produces garbage
  }
  ch.state.baud_request = request;
  p.set_format(f, !rate.has_value());
  return kIOReturnSuccess;
}

void Cp210xDevice::set_line_ctl(Channel& ch, uint16_t value) {
  UartPort& p = *ch.port;
  const unsigned stop = value & 0x0F;
  const unsigned parity = (value >> 4) & 0x0F;
  const unsigned bits = value >> 8;
  bool valid = bits >= 5 && bits <= 8 && parity <= 4 && stop <= 2;
  // 1.5 stop bits only with 5 data bits (data sheets, "Data Formats" note).
  valid = valid && (stop != 1 || bits == 5);
  if (ch.spec->narrow_format) {
    valid = valid && bits == 8 && parity <= 2 && stop == 0;
  }
  p.chip().format_invalid = !valid;
  if (!valid) {
    // Not refused on the bus: the UART keeps its format (usb-serial-for-android: the SCI
    // port "silently ignores" what it cannot do).
    ++p.counters().invalid_settings;
    return;
  }
  LineFormat f = p.format();
  f.data_bits = static_cast<uint8_t>(bits);
  f.parity = static_cast<Parity>(parity);
  f.stop_bits = static_cast<StopBits>(stop);
  ch.state.line_ctl = value;
  p.set_format(f, p.garbled());
}

void Cp210xDevice::set_flow(Channel& ch, std::span<const uint8_t> data) {
  State& st = ch.state;
  for (size_t i = 0; i < st.flow.size(); ++i) {
    st.flow[i] = get32(data, 4 * i);
  }
  const uint32_t firmware = (uint32_t{quirks_.firmware[0]} << 16) |
                            (uint32_t{quirks_.firmware[1]} << 8) | quirks_.firmware[2];
  if (variant_.part_number == 0x20 && firmware <= kE104LastFirmware) {
    st.flow[1] = st.flow[2];  // erratum E104: ulXonLimit is read as ulFlowReplace
  }
  apply_flow(ch);
}

// The port model has one bit per handshake, coupling "obey the input" with "drive the output
// from the receive FIFO": the CTS handshake bit turns RTS/CTS on, the DSR handshake bit
// DTR/DSR, and either XON/XOFF direction turns XON/XOFF on both ways.
void Cp210xDevice::apply_flow(Channel& ch) {
  UartPort& p = *ch.port;
  const State& st = ch.state;
  uint8_t mode = flow_mode::kNone;
  if ((st.flow[0] & kCtsHandshake) != 0) {
    mode |= flow_mode::kRtsCts;
  }
  if ((st.flow[0] & kDsrHandshake) != 0) {
    mode |= flow_mode::kDtrDsr;
  }
  if ((st.flow[1] & (kAutoTransmit | kAutoReceive)) != 0) {
    mode |= flow_mode::kXonXoff;
  }
  p.set_flow(mode, st.chars[4], st.chars[5]);
  p.set_host_dtr((st.flow[0] & kDtrModeMask) != 0);
  p.set_host_rts(((st.flow[1] >> kRtsModeShift) & 3u) != 0);
}

// ------------------------------------------------------------------ data path

uint8_t Cp210xDevice::modem_status(const Channel& ch) const {
  const UartPort& p = *ch.port;
  uint8_t m = 0;
  m |= p.dtr_out() ? 0x01 : 0;
  m |= p.rts_out() ? 0x02 : 0;
  m |= p.input(ModemInput::cts) ? 0x10 : 0;
  m |= p.input(ModemInput::dsr) ? 0x20 : 0;
  m |= p.input(ModemInput::ri) ? 0x40 : 0;
  m |= p.input(ModemInput::dcd) ? 0x80 : 0;
  return m;
}

void Cp210xDevice::endpoint_activity(Endpoint& ep) {
  for (auto& ch : channels_) {
    if (ch->in == &ep || ch->out == &ep) {
      ch->pump->wake();
    }
  }
}

Cp210xDevice::Channel* Cp210xDevice::channel_of(const UartPort& port) {
  for (auto& c : channels_) {
    if (c->port.get() == &port) {
      return c.get();
    }
  }
  return nullptr;
}

void Cp210xDevice::uart_activity(UartPort& port) {
  Channel* ch = channel_of(port);
  if (ch == nullptr) {
    return;
  }
  // ulErrors collects every error until GET_COMM_STATUS reads it, event insertion or not.
  const uint8_t events = port.take_error_events();
  State& st = ch->state;
  st.errors |= (events & rx_flag::kBreak) != 0 ? kErrorBreak : 0u;
  st.errors |= (events & rx_flag::kFraming) != 0 ? kErrorFraming : 0u;
  st.errors |= (events & rx_flag::kParity) != 0 ? kErrorParity : 0u;
  st.errors |= (events & rx_flag::kOverrun) != 0 ? kErrorQueueOverrun : 0u;
  // A modem-line change goes in the stream as ESC 03 MSR, in the 16550 layout (our choice:
  // AN571 does not give it): lines in bits 4-7, what changed in bits 0-3.
  const uint8_t msr = modem_status(*ch) & 0xF0;
  if (msr != ch->last_msr) {
    if (st.escape != 0) {
      const uint8_t delta = static_cast<uint8_t>((msr ^ ch->last_msr) >> 4);
      ch->carry.insert(ch->carry.end(), {st.escape, 0x03, static_cast<uint8_t>(msr | delta)});
    }
    ch->last_msr = msr;
  }
  pump(*ch);
}

void Cp210xDevice::uart_tx_space(UartPort& port) {
  Channel* ch = channel_of(port);
  if (ch != nullptr && !detached() && ch->out->out_waiting()) {
    pump_out(*ch);
  }
}

void Cp210xDevice::uart_rx_full(UartPort& port) {
  Channel* ch = channel_of(port);
  if (ch != nullptr && !detached()) {
    pump_in(*ch);
  }
}

void Cp210xDevice::pump(Channel& ch) {
  if (detached()) {
    return;
  }
  pump_out(ch);
  pump_in(ch);
}

void Cp210xDevice::pump_out(Channel& ch) {
  UartPort& p = *ch.port;
  Endpoint& ep = *ch.out;
  while (ep.out_waiting() && ch.state.enabled) {  // a disabled UART NAKs
    auto packet = ep.out_packet();
    if (packet.size() > p.tx_space()) {
      return;  // NAK until the UART has made room for the whole packet
    }
    p.tx_write(packet);
    p.counters().usb_out_bytes += packet.size();
    ep.consume_out_packet();
  }
}

void Cp210xDevice::pump_in(Channel& ch) {
  UartPort& p = *ch.port;
  Endpoint& ep = *ch.in;
  const size_t mps = ep.max_packet();
  // The chip answers IN tokens with full packets as soon as it has them and with what it
  // holds at the next frame (our model; AN571 gives no timing).
  while (ep.in_waiting()) {
    const size_t pending = ch.carry.size() + p.rx_level();
    if (pending >= mps) {
      send_in(ch, mps);  // escapes only add bytes: a full packet is certain
      continue;
    }
    if (ch.frame_due && (pending > 0 || ep.in_filled() > 0)) {
      send_in(ch, mps);  // a short (or zero-length) packet ends the transfer
      continue;
    }
    break;
  }
  ch.frame_due = false;
  if (ep.in_waiting() && (ch.carry.size() + p.rx_level() > 0 || ep.in_filled() > 0)) {
    arm_frame_timer(ch);
  }
}

void Cp210xDevice::send_in(Channel& ch, size_t limit) {
  UartPort& p = *ch.port;
  const uint8_t escape = ch.state.escape;
  if (p.take_overrun() && escape != 0) {
    ch.carry.insert(ch.carry.end(), {escape, 0x02, kLsrOverrun});  // a character was lost
  }
  uint8_t* packet = ch.packet.data();
  limit = std::min(limit, ch.packet.size());
  size_t length = 0;
  while (!ch.carry.empty() && length < limit) {
    packet[length++] = ch.carry.front();
    ch.carry.pop_front();
  }
  size_t taken = 0;
  while (length < limit && taken < p.rx_level()) {
    // A stretch of characters that need no escape goes as one block.
    size_t run = p.rx_clean_run(taken, std::min(limit - length, p.rx_level() - taken));
    if (escape != 0) {
      run = p.rx_find(taken, run, escape);
    }
    if (run > 0) {
      p.rx_copy(taken, packet + length, run);
      taken += run;
      length += run;
      continue;
    }
    const UartPort::RxEntry e = p.rx_at(taken++);
    uint8_t encoded[4] = {e.value};
    size_t encoded_length = 1;
    if (escape != 0 && e.flags != 0) {
      uint8_t lsr = 0;
      lsr |= (e.flags & rx_flag::kFraming) != 0 ? kLsrFraming : 0;
      lsr |= (e.flags & rx_flag::kParity) != 0 ? kLsrParity : 0;
      lsr |= (e.flags & rx_flag::kBreak) != 0 ? kLsrBreak : 0;
      lsr |= (e.flags & rx_flag::kOverrun) != 0 ? kLsrOverrun : 0;
      encoded[0] = escape;
      encoded[1] = 0x01;
      encoded[2] = lsr;
      encoded[3] = e.value;
      encoded_length = 4;
    } else if (escape != 0 && e.value == escape) {
      encoded[1] = 0x00;
      encoded_length = 2;
    }
    // What does not fit goes first in the next packet: a sequence may straddle packets.
    for (size_t i = 0; i < encoded_length; ++i) {
      if (length < limit) {
        packet[length++] = encoded[i];
      } else {
        ch.carry.push_back(encoded[i]);
      }
    }
  }
  p.rx_consume(taken);
  if (ch.in->send_packet(std::span<const uint8_t>(packet, length))) {
    p.counters().usb_in_bytes += taken;
    ++p.counters().usb_in_packets;
  } else {
    p.counters().usb_in_lost_bytes += taken;
  }
}

void Cp210xDevice::arm_frame_timer(Channel& ch) {
  if (ch.frame_timer != 0) {
    return;
  }
  Bus& b = bus();
  const auto frame_ns = std::chrono::duration_cast<SimDuration>(kFrame).count();
  const SimTime next((b.now().count() / frame_ns + 1) * frame_ns);
  Channel* raw = &ch;
  ch.frame_timer = b.schedule_at(next, [this, raw] {
    raw->frame_timer = 0;
    raw->frame_due = true;
    pump_in(*raw);
  });
}

}  // namespace sim::cp210x
