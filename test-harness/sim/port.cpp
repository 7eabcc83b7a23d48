#include "sim/port.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace sim {

namespace {

// Paced comparisons tolerate this much floating-point slack (0.1 ns) between a
// frame's computed end and the bus clock, which counts whole nanoseconds.
constexpr double kTimeSlack = 1e-10;

size_t index(ModemInput input) {
  return static_cast<size_t>(input);
}

}  // namespace

// ======================================================================= UartPort

UartPort::UartPort(Bus& bus, Config config, Client* client)
    : bus_(bus),
      config_(std::move(config)),
      client_(client),
      tx_fifo_(config_.tx_fifo),
      rx_fifo_(config_.rx_fifo) {
  // Flow-control thresholds: the datasheets do not give the FIFO levels at which
  // the chips drop RTS#/DTR# or send XOFF, so we hold the far end when fewer than
  // an eighth of the FIFO (at least 4 bytes) is free and release it at half full.
  const size_t size = config_.rx_fifo;
  throttle_high_ = size - std::min(size, std::max<size_t>(size / 8, 4));
  throttle_low_ = size / 2;
  if (client_ != nullptr) {
    client_task_ = std::make_unique<Bus::Task>(bus_, [this] { client_->uart_activity(*this); });
  }
  outgoing_ = std::make_unique<Link>(*this);
}

UartPort::~UartPort() {
  unwire_all();
  outgoing_.reset();
  client_task_.reset();
}

PortSnapshot UartPort::snapshot() const {
  return bus_.call([this] {
    PortSnapshot s;
    s.name = config_.name;
    s.paced = config_.paced;
    s.line = format_;
    s.garbled = garbled_;
    s.chip = chip_;
    s.dtr = dtr_out();
    s.rts = rts_out();
    s.host_dtr = host_dtr_;
    s.host_rts = host_rts_;
    s.flow = flow_;
    s.xon = xon_;
    s.xoff = xoff_;
    s.xoff_received = xoff_received_;
    s.break_on = break_on_;
    s.cts = inputs_[index(ModemInput::cts)];
    s.dsr = inputs_[index(ModemInput::dsr)];
    s.dcd = inputs_[index(ModemInput::dcd)];
    s.ri = inputs_[index(ModemInput::ri)];
    s.tx_fifo_level = tx_fifo_.size();
    s.tx_fifo_size = config_.tx_fifo;
    s.rx_fifo_level = rx_fifo_.size();
    s.rx_fifo_size = config_.rx_fifo;
    s.counters = counters_;
    return s;
  });
}

void UartPort::override_input(ModemInput input, std::optional<bool> level) {
  bus_.call([&] {
    overrides_[index(input)] = level;
    refresh_inputs();
  });
}

void UartPort::set_format(const LineFormat& format, bool garbled) {
  format_ = format;
  garbled_ = garbled;
  outgoing_->kick();
  if (incoming_ != nullptr) {
    incoming_->kick();
  }
}

void UartPort::set_host_dtr(bool on) {
  if (host_dtr_ != on) {
    host_dtr_ = on;
    outputs_changed();
  }
}

void UartPort::set_host_rts(bool on) {
  if (host_rts_ != on) {
    host_rts_ = on;
    outputs_changed();
  }
}

void UartPort::set_flow(uint8_t mode, uint8_t xon, uint8_t xoff) {
  flow_ = mode;
  xon_ = xon;
  xoff_ = xoff;
  if ((flow_ & flow_mode::kXonXoff) == 0) {
    xoff_received_ = false;
    flow_char_.reset();
  }
  outputs_changed();
  outgoing_->kick();
}

void UartPort::set_break(bool on) {
  if (break_on_ != on) {
    break_on_ = on;
    outgoing_->kick();
  }
}

void UartPort::set_uart_enabled(bool on) {
  uart_enabled_ = on;
  outgoing_->kick();
}

void UartPort::tx_write(std::span<const uint8_t> bytes) {
  const size_t n = std::min(bytes.size(), tx_space());
  tx_fifo_.push_n(bytes.data(), n);
  if (n != 0) {
    outgoing_->kick();
  }
}

void UartPort::tx_purge() {
  tx_fifo_.clear();
  notify_client();
}

bool UartPort::tx_empty() const {
  return tx_fifo_.empty() && !outgoing_->busy();
}

bool UartPort::tx_pop(uint8_t& value) {
  if (tx_fifo_.empty()) {
    return false;
  }
  value = tx_fifo_.pop();
  if (client_ != nullptr) {
    client_->uart_tx_space(*this);
  }
  notify_client();
  return true;
}

void UartPort::rx_consume(size_t n) {
  rx_fifo_.drop(std::min(n, rx_fifo_.size()));
  update_throttle();
  if (incoming_ != nullptr) {
    incoming_->kick();  // an unpaced transmitter may be waiting for room
  }
}

void UartPort::rx_purge() {
  rx_fifo_.clear();
  update_throttle();
  if (incoming_ != nullptr) {
    incoming_->kick();
  }
}

bool UartPort::take_overrun() {
  const bool o = overrun_pending_;
  overrun_pending_ = false;
  return o;
}

uint8_t UartPort::take_error_events() {
  const uint8_t e = error_events_;
  error_events_ = 0;
  return e;
}

bool UartPort::dtr_out() const {
  return host_dtr_ && !((flow_ & flow_mode::kDtrDsr) != 0 && throttled_);
}

bool UartPort::rts_out() const {
  return host_rts_ && !((flow_ & flow_mode::kRtsCts) != 0 && throttled_);
}

bool UartPort::output(ModemOutput signal) const {
  switch (signal) {
    case ModemOutput::none:
      return false;
    case ModemOutput::rts:
      return rts_out();
    case ModemOutput::dtr:
      return dtr_out();
  }
  return false;
}

bool UartPort::tx_allowed() const {
  if (!uart_enabled_ || break_on_) {
    return false;
  }
  if ((flow_ & flow_mode::kRtsCts) != 0 && !inputs_[index(ModemInput::cts)]) {
    return false;
  }
  if ((flow_ & flow_mode::kDtrDsr) != 0 && !inputs_[index(ModemInput::dsr)]) {
    return false;
  }
  if ((flow_ & flow_mode::kXonXoff) != 0 && xoff_received_) {
    return false;
  }
  return true;
}

std::optional<uint8_t> UartPort::take_flow_char() {
  auto c = flow_char_;
  flow_char_.reset();
  return c;
}

void UartPort::line_receive(const RxChar& c) {
  if (!uart_enabled_) {
    return;  // a bit mode owns the pins
  }
  ++counters_.rx_line_bytes;
  if ((c.flags & rx_flag::kFraming) != 0) {
    ++counters_.framing_errors;
  }
  if ((c.flags & rx_flag::kParity) != 0) {
    ++counters_.parity_errors;
  }
  if ((c.flags & rx_flag::kBreak) != 0) {
    ++counters_.breaks;
  }
  error_events_ |= c.flags;
  if ((flow_ & flow_mode::kXonXoff) != 0 && c.flags == 0) {
    // The character still goes to the host: what the chips do with received
    // XON/XOFF characters is not documented in our sources (kept, not stripped).
    if (c.value == xoff_) {
      xoff_received_ = true;
    } else if (c.value == xon_ && xoff_received_) {
      xoff_received_ = false;
      outgoing_->kick();
    }
  }
  if (rx_fifo_.full() && client_ != nullptr) {
    client_->uart_rx_full(*this);
  }
  if (rx_fifo_.full()) {
    ++counters_.overruns;
    overrun_pending_ = true;
    error_events_ |= rx_flag::kOverrun;
  } else {
    rx_fifo_.push(RxEntry{c.value, c.flags});
    update_throttle();
  }
  notify_client();
}

void UartPort::update_throttle() {
  bool t = throttled_;
  if (!throttled_ && rx_fifo_.size() >= throttle_high_) {
    t = true;
  } else if (throttled_ && rx_fifo_.size() <= throttle_low_) {
    t = false;
  }
  if (t == throttled_) {
    return;
  }
  throttled_ = t;
  if ((flow_ & flow_mode::kXonXoff) != 0) {
    flow_char_ = throttled_ ? xoff_ : xon_;
    outgoing_->kick();
  }
  outputs_changed();
}

void UartPort::notify_client() {
  if (client_task_) {
    client_task_->wake();
  }
}

void UartPort::outputs_changed() {
  // refresh_inputs() does not rewire, so the list stays as it is meanwhile.
  for (size_t i = 0; i < dependents_.size(); ++i) {
    dependents_[i]->refresh_inputs();
  }
}

void UartPort::refresh_inputs() {
  bool changed = false;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    bool level = false;
    if (overrides_[i]) {
      level = *overrides_[i];
    } else if (sources_[i].from != nullptr) {
      level = sources_[i].from->output(sources_[i].signal);
    }
    if (level != inputs_[i]) {
      inputs_[i] = level;
      changed = true;
    }
  }
  if (changed) {
    notify_client();
    outgoing_->kick();  // CTS / DSR gate the transmitter
  }
}

void UartPort::wire_input(ModemInput input, UartPort* from, ModemOutput signal) {
  Source& s = sources_[index(input)];
  UartPort* old = s.from;
  s = Source{from, signal};
  if (old != nullptr && old != from) {
    const bool still = std::any_of(sources_.begin(), sources_.end(),
                                   [old](const Source& x) { return x.from == old; });
    if (!still) {
      auto& deps = old->dependents_;
      deps.erase(std::remove(deps.begin(), deps.end(), this), deps.end());
    }
  }
  if (from != nullptr && std::find(from->dependents_.begin(), from->dependents_.end(), this) ==
                             from->dependents_.end()) {
    from->dependents_.push_back(this);
  }
  refresh_inputs();
}

void UartPort::unwire_all() {
  outgoing_->set_receiver(nullptr);
  if (incoming_ != nullptr) {
    incoming_->set_receiver(nullptr);
  }
  for (size_t i = 0; i < sources_.size(); ++i) {
    wire_input(static_cast<ModemInput>(i), nullptr, ModemOutput::none);
  }
  const auto deps = dependents_;
  for (UartPort* d : deps) {
    for (size_t i = 0; i < d->sources_.size(); ++i) {
      if (d->sources_[i].from == this) {
        d->wire_input(static_cast<ModemInput>(i), nullptr, ModemOutput::none);
      }
    }
  }
  dependents_.clear();
}

// =========================================================================== Link

Link::Link(UartPort& tx) : tx_(tx), task_(tx.bus(), [this] { service(); }) {
  if (tx_.paced()) {
    free_at_ = to_seconds(tx_.bus().now());
  }
  decoder_.resync(free_at_);
}

Link::~Link() {
  tx_.bus().cancel(timer_);
  if (rx_ != nullptr) {
    rx_->set_incoming(nullptr);
  }
}

void Link::kick() {
  task_.wake();
}

void Link::set_receiver(UartPort* rx) {
  if (rx_ == rx) {
    return;
  }
  if (rx_ != nullptr) {
    rx_->set_incoming(nullptr);
  }
  if (rx != nullptr && rx->incoming() != nullptr) {
    rx->incoming()->rx_ = nullptr;
  }
  rx_ = rx;
  if (rx_ != nullptr) {
    rx_->set_incoming(this);
  }
  // A fresh cable: the receiver starts idle at the current line time.
  const double t = tx_.paced() ? std::max(free_at_, to_seconds(tx_.bus().now())) : free_at_;
  wave_ = Waveform();
  decoder_.resync(t);
  if (!busy_) {
    free_at_ = std::max(free_at_, t);
  }
  kick();
}

uint8_t Link::garble() {
  garble_state_ = garble_state_ * 1664525u + 1013904223u;
  return static_cast<uint8_t>(garble_state_ >> 24);
}

bool Link::rx_has_room() const {
  if (rx_ == nullptr || !rx_->uart_enabled()) {
    return true;
  }
  const LineFormat& tf = tx_.format();
  const LineFormat& rf = rx_->format();
  size_t need = 1;
  if (!(tf == rf) || tx_.garbled() || rx_->garbled()) {
    // A faster receiver can find more than one "character" in one frame.
    need = 2 + static_cast<size_t>(std::ceil(rf.baud / tf.baud));
  }
  return rx_->rx_space() >= need;
}

void Link::deliver(const RxChar& c) {
  if (rx_ == nullptr) {
    return;
  }
  RxChar d = c;
  if (rx_->garbled()) {
    // A receiver on an undefined divisor: garbage, as FTDI's AN232B-05 calls
    // such divisors "not allowed" without saying what they do.
    d.value ^= garble();
    d.flags |= rx_flag::kFraming;
  }
  rx_->line_receive(d);
}

void Link::decode_to(double limit) {
  if (rx_ == nullptr) {
    return;
  }
  decoded_.clear();
  decoder_.decode(wave_, rx_->format(), limit, decoded_);
  for (const RxChar& c : decoded_) {
    deliver(c);
  }
  wave_.forget_before(decoder_.horizon());
}

bool Link::start_next(double at) {
  // Break: the line is held low from the end of the current frame until cleared.
  if (tx_.break_on() && !breaking_) {
    if (tx_.paced()) {
      decode_to(at);
    }
    breaking_ = true;
    break_start_ = at;
    wave_.drive(at, false);
    return true;
  }
  if (breaking_) {
    if (tx_.break_on()) {
      return false;
    }
    const double end = std::max(at, break_start_);
    wave_.drive(end, true);
    breaking_ = false;
    // At least one bit time of mark after a break, so that a receiver sees the
    // line return high before the next start bit.
    free_at_ = end + tx_.format().bit_time();
    return true;
  }
  uint8_t value = 0;
  if (auto c = tx_.take_flow_char()) {
    value = *c;
  } else {
    if (!tx_.tx_allowed() || tx_.tx_level() == 0) {
      return false;
    }
    if (!tx_.paced() && !rx_has_room()) {
      return false;
    }
    tx_.tx_pop(value);
  }
  if (tx_.paced()) {
    decode_to(at);
  }
  const LineFormat& f = tx_.format();
  bool fast = true;
  if (rx_ != nullptr) {
    fast = !tx_.garbled() && !rx_->garbled() && f == rx_->format() && decoder_.idle() &&
           wave_.final_level();
  }
  busy_ = true;
  frame_fast_ = fast;
  frame_value_ = value;
  frame_delivered_ = false;
  if (fast) {
    frame_end_ = at + f.frame_time();
    deliver_at_ = at + (1.5 + f.data_bits + f.parity_bits()) * f.bit_time();
  } else if (tx_.garbled()) {
    const uint8_t v = value ^ garble();
    const bool bad_stop = (++garble_count_ % 2) == 0;
    frame_end_ =
        bad_stop ? transmit_frame_bad_stop(wave_, at, f, v) : transmit_frame(wave_, at, f, v);
  } else {
    frame_end_ = transmit_frame(wave_, at, f, value);
  }
  return true;
}

void Link::finish_frame() {
  busy_ = false;
  free_at_ = frame_end_;
  ++tx_.counters().tx_line_bytes;
  if (frame_fast_ && rx_ != nullptr) {
    decoder_.resync(frame_end_);
    wave_.forget_before(frame_end_);
    if (!frame_delivered_) {
      frame_delivered_ = true;
      deliver(RxChar{frame_value_, 0, deliver_at_});
    }
  }
  tx_.notify_client();  // transmitter-empty state may have changed
}

void Link::service() {
  if (tx_.paced()) {
    service_paced();
  } else {
    service_unpaced();
  }
}

void Link::service_paced() {
  const double now = to_seconds(tx_.bus().now()) + kTimeSlack;
  for (;;) {
    if (busy_) {
      if (frame_fast_ && !frame_delivered_ && rx_ != nullptr && deliver_at_ <= now) {
        frame_delivered_ = true;
        deliver(RxChar{frame_value_, 0, deliver_at_});
      }
      if (frame_end_ > now) {
        break;
      }
      finish_frame();
      if (start_next(frame_end_)) {  // back to back with the frame that just ended
        continue;
      }
    }
    if (!start_next(std::max(free_at_, now - kTimeSlack))) {
      break;
    }
  }
  decode_to(now);
  schedule();
}

size_t Link::bulk_transfer() {
  if (busy_ || breaking_ || tx_.break_on() || tx_.flow_char_ || !tx_.tx_allowed()) {
    return 0;
  }
  const LineFormat& f = tx_.format();
  size_t n = tx_.tx_fifo_.size();
  if (rx_ != nullptr) {
    // Per character when the receiver must look at each one (software flow
    // control, hardware flow thresholds, a bit mode) or decode it bit by bit.
    if (tx_.garbled() || rx_->garbled() || !(f == rx_->format()) || !decoder_.idle() ||
        !wave_.final_level() || !rx_->uart_enabled_ || rx_->flow_ != flow_mode::kNone) {
      return 0;
    }
    n = std::min(n, rx_->rx_space());
  }
  if (n == 0) {
    return 0;
  }
  if (rx_ != nullptr) {
    uint8_t block[256];
    for (size_t done = 0; done < n;) {
      const size_t k = std::min(n - done, sizeof block);
      tx_.tx_fifo_.copy_out(0, block, k);
      tx_.tx_fifo_.drop(k);
      rx_->rx_fifo_.push_clean(block, k);
      done += k;
    }
  } else {
    tx_.tx_fifo_.drop(n);
  }
  tx_.counters_.tx_line_bytes += n;
  free_at_ += static_cast<double>(n) * f.frame_time();
  tx_.notify_client();
  if (rx_ != nullptr) {
    rx_->counters_.rx_line_bytes += n;
    decoder_.resync(free_at_);
    rx_->update_throttle();
    rx_->notify_client();
  }
  return n;
}

void Link::service_unpaced() {
  for (int guard = 0; guard < 1 << 20; ++guard) {
    if (!busy_ && bulk_transfer() != 0) {
      continue;
    }
    if (busy_) {
      finish_frame();
    }
    if (!start_next(free_at_)) {
      break;
    }
    if (busy_ && !frame_fast_) {
      decode_to(frame_end_);
    }
  }
  if (busy_) {
    finish_frame();
    kick();  // the guard stopped a very long burst; carry on in a fresh turn
  }
  if (rx_ != nullptr && !(decoder_.idle() && wave_.final_level())) {
    // The line rests at its last level: let the receiver finish whatever frame it
    // is in (a break, a garbled tail) in virtual time, then go on from there.
    const double settle = std::max(wave_.last_transition(), free_at_) +
                          2.0 * std::max(tx_.format().frame_time(), rx_->format().frame_time());
    decode_to(settle);
    free_at_ = std::max(free_at_, settle);
  }
}

void Link::schedule() {
  double next = std::numeric_limits<double>::infinity();
  if (busy_) {
    next = frame_end_;
    if (frame_fast_ && !frame_delivered_ && rx_ != nullptr) {
      next = std::min(next, deliver_at_);
    }
  }
  if (rx_ != nullptr) {
    if (auto d = decoder_.deadline(rx_->format())) {
      next = std::min(next, *d);
    }
  }
  Bus& bus = tx_.bus();
  if (std::isinf(next)) {
    bus.cancel(timer_);
    return;
  }
  SimTime at = from_seconds(next);
  const SimTime earliest = bus.now() + bus.granularity();
  if (at < earliest) {
    at = earliest;
  }
  if (at <= bus.now()) {
    at = bus.now() + SimDuration(1);
  }
  if (timer_ != 0 && timer_at_ == at.count()) {
    return;
  }
  bus.cancel(timer_);
  timer_at_ = at.count();
  timer_ = bus.schedule_at(at, [this] {
    timer_ = 0;
    service();
  });
}

// ======================================================================= Terminal

Terminal::Terminal(Bus& bus, std::string name, bool paced, size_t fifo_size) : bus_(bus) {
  bus_.call([&] {
    port_ = std::make_unique<UartPort>(
        bus_, UartPort::Config{std::move(name), fifo_size, fifo_size, paced}, nullptr);
    port_->set_host_dtr(true);
    port_->set_host_rts(true);
  });
}

Terminal::~Terminal() {
  bus_.call([&] { port_.reset(); });
}

void Terminal::configure(const LineFormat& format) {
  bus_.call([&] { port_->set_format(format); });
}

void Terminal::write(std::vector<uint8_t> bytes) {
  bus_.call([&] { port_->tx_write(bytes); });
}

std::vector<UartPort::RxEntry> Terminal::read() {
  return bus_.call([&] {
    std::vector<UartPort::RxEntry> out;
    out.reserve(port_->rx_level());
    for (size_t i = 0; i < port_->rx_level(); ++i) {
      out.push_back(port_->rx_at(i));
    }
    port_->rx_consume(out.size());
    return out;
  });
}

void Terminal::set_dtr(bool on) {
  bus_.call([&] { port_->set_host_dtr(on); });
}

void Terminal::set_rts(bool on) {
  bus_.call([&] { port_->set_host_rts(on); });
}

void Terminal::set_break(bool on) {
  bus_.call([&] { port_->set_break(on); });
}

void Terminal::set_flow(uint8_t mode) {
  bus_.call([&] { port_->set_flow(mode, 0x11, 0x13); });
}

// ========================================================================= wiring

namespace {

void require_same_bus(const UartPort& a, const UartPort& b) {
  if (&a.bus() != &b.bus()) {
    throw std::invalid_argument("sim: ports on different buses cannot be wired together");
  }
}

}  // namespace

void connect_loopback(UartPort& port) {
  port.bus().call([&] {
    port.unwire_all();
    port.outgoing().set_receiver(&port);
    port.wire_input(ModemInput::cts, &port, ModemOutput::rts);
    port.wire_input(ModemInput::dsr, &port, ModemOutput::dtr);
    port.wire_input(ModemInput::dcd, &port, ModemOutput::dtr);
  });
}

void connect_modem_loopback(UartPort& port) {
  port.bus().call([&] {
    port.unwire_all();
    port.outgoing().set_receiver(&port);
    port.wire_input(ModemInput::cts, &port, ModemOutput::rts);
    port.wire_input(ModemInput::dsr, &port, ModemOutput::dtr);
    port.wire_input(ModemInput::dcd, &port, ModemOutput::dtr);
    port.wire_input(ModemInput::ri, &port, ModemOutput::dtr);
  });
}

void connect_null_modem(UartPort& a, UartPort& b) {
  require_same_bus(a, b);
  a.bus().call([&] {
    a.unwire_all();
    b.unwire_all();
    a.outgoing().set_receiver(&b);
    b.outgoing().set_receiver(&a);
    a.wire_input(ModemInput::cts, &b, ModemOutput::rts);
    a.wire_input(ModemInput::dsr, &b, ModemOutput::dtr);
    a.wire_input(ModemInput::dcd, &b, ModemOutput::dtr);
    b.wire_input(ModemInput::cts, &a, ModemOutput::rts);
    b.wire_input(ModemInput::dsr, &a, ModemOutput::dtr);
    b.wire_input(ModemInput::dcd, &a, ModemOutput::dtr);
  });
}

void disconnect(UartPort& port) {
  port.bus().call([&] { port.unwire_all(); });
}

}  // namespace sim
