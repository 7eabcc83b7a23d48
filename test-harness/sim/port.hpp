// UartPort: one UART channel of a simulated chip (or a free-standing test
// terminal), with its FIFOs, modem lines and the wire it drives.
//
// Data path of one chip channel (FTDI names its buffers from the USB side; we
// name them from the line side):
//   host --bulk OUT--> TX FIFO --UART TX--> wire --UART RX--> RX FIFO --bulk IN--> host
// The wire is modelled by uart.hpp's pure frame model:
//   paced:   frames take bits/baud of bus time at the transmitter's actual rate;
//            a receiver whose RX FIFO is full loses the character (overrun).
//   unpaced: line time is virtual and infinitely fast, but lossless: a character
//            only leaves the TX FIFO while the receiving side has room.
// When both ends run exactly the same format, characters pass straight through;
// otherwise every frame is drawn on a Waveform and decoded bit by bit at the
// receiver's own rate (garbage and framing errors, as hardware produces them).
//
// Threading: everything here runs on the bus thread, except the members marked
// "any thread", which marshal onto it.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sim/bus.hpp"
#include "sim/uart.hpp"

namespace sim {

// Flow-control modes, encoded as FTDI's SET_FLOW_CTRL wIndex high byte
// (ftdi_sio.h: FTDI_SIO_RTS_CTS_HS 0x01, FTDI_SIO_DTR_DSR_HS 0x02, FTDI_SIO_XON_XOFF_HS 0x04).
namespace flow_mode {
inline constexpr uint8_t kNone = 0x00;
inline constexpr uint8_t kRtsCts = 0x01;
inline constexpr uint8_t kDtrDsr = 0x02;
inline constexpr uint8_t kXonXoff = 0x04;
}  // namespace flow_mode

struct PortCounters {
  uint64_t tx_line_bytes = 0;      // characters the UART put on the line
  uint64_t rx_line_bytes = 0;      // characters the UART took off the line (errored ones too)
  uint64_t usb_in_bytes = 0;       // payload bytes delivered to the host in IN packets
  uint64_t usb_in_lost_bytes = 0;  // payload bytes of IN packets the host lost (babble)
  uint64_t usb_out_bytes = 0;      // payload bytes taken from the host's OUT transfers
  uint64_t usb_in_packets = 0;     // IN packets sent (FTDI: including status-only ones)
  uint64_t framing_errors = 0;
  uint64_t parity_errors = 0;
  uint64_t overruns = 0;  // characters lost because the RX FIFO was full
  uint64_t breaks = 0;
  uint64_t invalid_settings = 0;  // settings the chip could not honour (e.g. FTDI divisor 1.25)
  uint64_t control_requests = 0;  // vendor/class requests addressed to this port
  uint64_t stalled_requests = 0;  // of those, answered with STALL
};

// Chip-specific settings kept with the port so one snapshot shows them.
struct ChipSettings {
  bool baud_invalid = false;    // the last baud setting was invalid (FTDI undefined divisor)
  bool format_invalid = false;  // the last data-format setting was not supported
  uint32_t baud_encoded = 0;    // FTDI: the 18-bit divisor as received; CDC: dwDTERate
  uint8_t latency_ms = 0;       // FTDI latency timer (0 = the chip has none)
  uint8_t bitmode = 0;          // FTDI SET_BITMODE mode (0 = UART)
  uint8_t bitmode_mask = 0;
  bool event_char_enabled = false;
  uint8_t event_char = 0;
  bool error_char_enabled = false;
  uint8_t error_char = 0;
};

struct PortSnapshot {
  std::string name;
  bool paced = false;
  LineFormat line;       // as the chip understood it: actual baud, bits, parity, stop
  bool garbled = false;  // the UART runs on an undefined setting and produces garbage
  ChipSettings chip;
  bool dtr = false;       // DTR output level (host setting, or flow control)
  bool rts = false;       // RTS output level
  bool host_dtr = false;  // what the host last asked for
  bool host_rts = false;
  uint8_t flow = flow_mode::kNone;
  uint8_t xon = 0x11;
  uint8_t xoff = 0x13;
  bool xoff_received = false;  // XON/XOFF: the transmitter was told to stop
  bool break_on = false;
  bool cts = false, dsr = false, ri = false, dcd = false;  // input levels
  size_t tx_fifo_level = 0, tx_fifo_size = 0;
  size_t rx_fifo_level = 0, rx_fifo_size = 0;
  PortCounters counters;
};

enum class ModemInput : uint8_t { cts, dsr, dcd, ri };
enum class ModemOutput : uint8_t { none, rts, dtr };

class Link;

class UartPort {
 public:
  // The owner of the port's host side (a chip). Called on the bus thread,
  // deferred (never from inside another port's call), whenever anything
  // changed: RX data or errors, TX FIFO space, modem inputs.
  class Client {
   public:
    virtual void uart_activity(UartPort& port) = 0;
    // Synchronous, from inside the wire's service: the TX FIFO just gave up a
    // character, or the RX FIFO is full and the next character would be lost.
    // Lets the chip move USB data at once instead of one bus turn later (which,
    // on the real clock, would open gaps or fake overruns while catching up).
    // Must not call back into the port's wiring.
    virtual void uart_tx_space(UartPort& /*port*/) {}
    virtual void uart_rx_full(UartPort& /*port*/) {}

   protected:
    ~Client() = default;
  };

  struct Config {
    std::string name = "port";
    size_t tx_fifo = 256;  // host -> line
    size_t rx_fifo = 256;  // line -> host
    bool paced = false;
  };

  // One FIFO entry: the character and its rx_flag bits.
  struct RxEntry {
    uint8_t value = 0;
    uint8_t flags = 0;
  };

  UartPort(Bus& bus, Config config, Client* client = nullptr);
  ~UartPort();  // bus thread (or with the bus not touching the port)
  UartPort(const UartPort&) = delete;
  UartPort& operator=(const UartPort&) = delete;

  // ---- any thread ----
  PortSnapshot snapshot() const;
  const std::string& name() const { return config_.name; }
  Bus& bus() const { return bus_; }
  bool paced() const { return config_.paced; }
  // Forces an input line to a level regardless of the wiring (nullopt: follow the wire).
  void override_input(ModemInput input, std::optional<bool> level);

  // ---- bus thread ----
  void set_format(const LineFormat& format, bool garbled = false);
  const LineFormat& format() const { return format_; }
  bool garbled() const { return garbled_; }
  void set_host_dtr(bool on);
  void set_host_rts(bool on);
  void set_flow(uint8_t mode, uint8_t xon, uint8_t xoff);
  uint8_t flow() const { return flow_; }
  uint8_t xon() const { return xon_; }
  uint8_t xoff() const { return xoff_; }
  void set_break(bool on);
  bool break_on() const { return break_on_; }
  void set_uart_enabled(bool on);  // false while a non-UART bit mode is selected
  ChipSettings& chip() { return chip_; }
  PortCounters& counters() { return counters_; }

  size_t tx_space() const { return config_.tx_fifo - tx_fifo_.size(); }
  size_t tx_level() const { return tx_fifo_.size(); }
  void tx_write(std::span<const uint8_t> bytes);  // at most tx_space() bytes are kept
  void tx_purge();
  bool tx_empty() const;  // FIFO empty and no character being shifted out

  size_t rx_level() const { return rx_fifo_.size(); }
  size_t rx_space() const { return config_.rx_fifo - rx_fifo_.size(); }
  RxEntry rx_at(size_t i) const { return rx_fifo_.at(i); }
  // Copies the characters of entries [offset, offset + n) out (flags not included).
  void rx_copy(size_t offset, uint8_t* out, size_t n) const {
    rx_fifo_.values().copy_out(offset, out, n);
  }
  // The number of entries from `offset` on (at most n) that carry no rx_flag bits.
  size_t rx_clean_run(size_t offset, size_t n) const { return rx_fifo_.clean_run(offset, n); }
  // The index (from offset) of the first character equal to `value` among n, or n.
  size_t rx_find(size_t offset, size_t n, uint8_t value) const {
    return rx_fifo_.values().find(offset, n, value);
  }
  // Removes n entries (after the chip copied them to USB).
  void rx_consume(size_t n);
  void rx_purge();
  // A character was lost since the last call (and clears it).
  bool take_overrun();
  // rx_flag bits of every error event since the last call (and clears them).
  uint8_t take_error_events();

  bool input(ModemInput which) const { return inputs_[static_cast<size_t>(which)]; }
  bool dtr_out() const;
  bool rts_out() const;

  // Wiring internals (connect_* in sim.hpp are the public way in).
  Link& outgoing() { return *outgoing_; }
  void set_incoming(Link* link) { incoming_ = link; }
  Link* incoming() const { return incoming_; }
  void wire_input(ModemInput input, UartPort* from, ModemOutput signal);
  void unwire_all();

  // Called by the incoming link for every character decoded off the line.
  void line_receive(const RxChar& c);
  // Called by the outgoing link.
  bool tx_pop(uint8_t& value);
  std::optional<uint8_t> take_flow_char();  // an XON/XOFF the port must send first
  bool tx_allowed() const;                  // flow control lets the transmitter start a frame
  bool uart_enabled() const { return uart_enabled_; }
  size_t rx_fifo_size() const { return config_.rx_fifo; }

 private:
  friend class Link;
  struct Source {
    UartPort* from = nullptr;
    ModemOutput signal = ModemOutput::none;
  };
  // A fixed-capacity FIFO with block copies (memcpy, at most two pieces).
  template <class T>
  class Ring {
   public:
    explicit Ring(size_t capacity) : buf_(capacity == 0 ? 1 : capacity) {}
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    bool full() const { return size_ == buf_.size(); }
    void push(const T& v) {
      buf_[wrap(head_ + size_)] = v;
      ++size_;
    }
    T pop() {
      T v = buf_[head_];
      head_ = wrap(head_ + 1);
      --size_;
      return v;
    }
    void drop(size_t n) {
      head_ = wrap(head_ + n);
      size_ -= n;
    }
    const T& operator[](size_t i) const { return buf_[wrap(head_ + i)]; }
    void clear() { head_ = size_ = 0; }
    // Appends n items (the caller checked the room).
    void push_n(const T* src, size_t n) {
      const size_t tail = wrap(head_ + size_);
      const size_t first = std::min(n, buf_.size() - tail);
      std::copy_n(src, first, buf_.data() + tail);
      std::copy_n(src + first, n - first, buf_.data());
      size_ += n;
    }
    void fill_n(const T& value, size_t n) {
      const size_t tail = wrap(head_ + size_);
      const size_t first = std::min(n, buf_.size() - tail);
      std::fill_n(buf_.data() + tail, first, value);
      std::fill_n(buf_.data(), n - first, value);
      size_ += n;
    }
    // Copies items [offset, offset + n) out.
    void copy_out(size_t offset, T* dst, size_t n) const {
      const size_t start = wrap(head_ + offset);
      const size_t first = std::min(n, buf_.size() - start);
      std::copy_n(buf_.data() + start, first, dst);
      std::copy_n(buf_.data(), n - first, dst + first);
    }
    // The index (from offset) of the first item equal to `value` in [offset, offset + n), or n.
    size_t find(size_t offset, size_t n, const T& value) const {
      const size_t start = wrap(head_ + offset);
      const size_t first = std::min(n, buf_.size() - start);
      const T* a = std::find(buf_.data() + start, buf_.data() + start + first, value);
      if (a != buf_.data() + start + first) {
        return static_cast<size_t>(a - (buf_.data() + start));
      }
      const T* b = std::find(buf_.data(), buf_.data() + (n - first), value);
      return first + static_cast<size_t>(b - buf_.data());
    }

   private:
    size_t wrap(size_t i) const { return i >= buf_.size() ? i - buf_.size() : i; }
    std::vector<T> buf_;
    size_t head_ = 0;
    size_t size_ = 0;
  };
  // The RX FIFO: characters and their rx_flag bits side by side, so that the
  // characters of a clean stretch copy out as one block.
  class RxFifo {
   public:
    explicit RxFifo(size_t capacity) : values_(capacity), flags_(capacity) {}
    size_t size() const { return values_.size(); }
    bool full() const { return values_.full(); }
    void push(const RxEntry& e) {
      values_.push(e.value);
      flags_.push(e.flags);
      flagged_ += e.flags != 0 ? 1 : 0;
    }
    void push_clean(const uint8_t* src, size_t n) {
      values_.push_n(src, n);
      flags_.fill_n(0, n);
    }
    RxEntry at(size_t i) const { return RxEntry{values_[i], flags_[i]}; }
    void drop(size_t n) {
      if (flagged_ != 0) {
        for (size_t i = 0; i < n; ++i) {
          flagged_ -= flags_[i] != 0 ? 1 : 0;
        }
      }
      values_.drop(n);
      flags_.drop(n);
    }
    void clear() {
      values_.clear();
      flags_.clear();
      flagged_ = 0;
    }
    // How many of the n entries from `offset` on carry no flags before the first that does.
    size_t clean_run(size_t offset, size_t n) const {
      if (flagged_ == 0) {
        return n;
      }
      for (size_t i = 0; i < n; ++i) {
        if (flags_[offset + i] != 0) {
          return i;
        }
      }
      return n;
    }
    const Ring<uint8_t>& values() const { return values_; }

   private:
    Ring<uint8_t> values_;
    Ring<uint8_t> flags_;
    size_t flagged_ = 0;  // entries with flags, so that a clean FIFO needs no scan
  };

  void notify_client();
  void outputs_changed();  // recompute every input wired to this port's outputs
  void refresh_inputs();
  void update_throttle();
  bool output(ModemOutput signal) const;

  Bus& bus_;
  Config config_;
  Client* client_;
  std::unique_ptr<Bus::Task> client_task_;
  std::unique_ptr<Link> outgoing_;
  Link* incoming_ = nullptr;

  LineFormat format_;
  bool garbled_ = false;
  ChipSettings chip_;
  PortCounters counters_;
  bool host_dtr_ = false;
  bool host_rts_ = false;
  uint8_t flow_ = flow_mode::kNone;
  uint8_t xon_ = 0x11;
  uint8_t xoff_ = 0x13;
  bool xoff_received_ = false;
  bool throttled_ = false;    // RX FIFO nearly full: flow control holds the far end
  size_t throttle_high_ = 0;  // RX FIFO level at which we hold the far end
  size_t throttle_low_ = 0;   // and at which we let it go again
  bool flow_char_sent_off_ = false;
  std::optional<uint8_t> flow_char_;
  bool break_on_ = false;
  bool uart_enabled_ = true;
  bool overrun_pending_ = false;
  uint8_t error_events_ = 0;

  Ring<uint8_t> tx_fifo_;
  RxFifo rx_fifo_;

  std::array<Source, 4> sources_{};
  std::array<std::optional<bool>, 4> overrides_{};
  std::array<bool, 4> inputs_{};
  std::vector<UartPort*> dependents_;  // ports with an input wired to one of our outputs
};

// The transmitting half of a wire: owned by the port whose TX pin drives it.
class Link {
 public:
  explicit Link(UartPort& tx);
  ~Link();
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  void set_receiver(UartPort* rx);
  UartPort* receiver() const { return rx_; }
  void kick();                         // deferred service()
  bool busy() const { return busy_; }  // a frame is being shifted out

 private:
  void service();
  void service_paced();
  void service_unpaced();
  // Starts the next frame (or a break) at `at` if the transmitter may; true if it did.
  bool start_next(double at);
  void finish_frame();
  size_t bulk_transfer();  // unpaced, same format both ends: many characters at once
  void deliver(const RxChar& c);
  void decode_to(double limit);
  void schedule();
  bool rx_has_room() const;
  uint8_t garble();

  UartPort& tx_;
  UartPort* rx_ = nullptr;
  Bus::Task task_;
  Bus::TimerId timer_ = 0;
  int64_t timer_at_ = 0;

  double free_at_ = 0;  // the line is idle (or in break) from here on
  bool busy_ = false;   // a frame is on the line
  bool frame_fast_ = false;
  bool frame_delivered_ = false;  // fast path: the receiver already has the character
  double deliver_at_ = 0;         // fast path: when the receiver samples its stop bit
  double frame_end_ = 0;
  uint8_t frame_value_ = 0;
  bool breaking_ = false;
  double break_start_ = 0;

  Waveform wave_;
  FrameDecoder decoder_;
  std::vector<RxChar> decoded_;
  uint32_t garble_state_ = 0x2545F491u;
  unsigned garble_count_ = 0;
};

// A free-standing UART (the far end of a cable in tests): large FIFOs, no chip.
class Terminal {
 public:
  explicit Terminal(Bus& bus, std::string name = "terminal", bool paced = false,
                    size_t fifo_size = size_t{1} << 22);
  ~Terminal();
  UartPort& port() { return *port_; }

  // All any thread.
  void configure(const LineFormat& format);
  void write(std::vector<uint8_t> bytes);  // bytes beyond the free TX FIFO space are dropped
  std::vector<UartPort::RxEntry> read();   // everything received so far
  void set_dtr(bool on);
  void set_rts(bool on);
  void set_break(bool on);
  void set_flow(uint8_t mode);

 private:
  Bus& bus_;
  std::unique_ptr<UartPort> port_;
};

// Wiring (any thread; both ports on the same bus). Connecting replaces any
// earlier wiring of the ports involved.
void connect_loopback(UartPort& port);  // TX->RX, RTS->CTS, DTR->DSR and DCD
// The fully wired RS-232 test plug (pins 2-3, 7-8 and 1-4-6-9 of a DE-9): as
// connect_loopback, and DTR drives RI too.
void connect_modem_loopback(UartPort& port);
void connect_null_modem(UartPort& a, UartPort& b);  // TX<->RX, RTS<->CTS, DTR->DSR+DCD both ways
void disconnect(UartPort& port);                    // removes every wire touching the port

}  // namespace sim
