// The pure UART line model: character frames on a wire, in line time.
//
// Asynchronous serial framing (as every UART here does it, e.g. the 16550 and
// the FTDI / CDC bridge UARTs): the idle line is high (mark); a character is a
// start bit (low), the data bits least significant first, an optional parity
// bit, then one, one and a half or two stop bits (high). Bit time = 1 / baud.
// A break is the line held low for longer than a whole frame.
//
// A receiver runs on its own clock: it waits for a falling edge, samples every
// bit in its middle at its own bit time, checks parity and the first stop bit
// (a low stop bit is a framing error; an all-zero frame with a low stop bit is
// a break, reported as one NUL), and after a low stop bit waits for the line to
// return high before it looks for the next start bit. Nothing here knows about
// USB or about the bus clock: times are seconds (double) on the line's own axis.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace sim {

enum class Parity : uint8_t { none, odd, even, mark, space };
enum class StopBits : uint8_t { one, one_and_half, two };

const char* to_string(Parity parity);
const char* to_string(StopBits stop_bits);

struct LineFormat {
  double baud = 9600.0;   // the actual rate the UART runs at
  uint8_t data_bits = 8;  // 5..8
  Parity parity = Parity::none;
  StopBits stop_bits = StopBits::one;

  double bit_time() const { return 1.0 / baud; }
  unsigned parity_bits() const { return parity == Parity::none ? 0u : 1u; }
  double stop_bit_count() const;
  // Start + data + parity + stop, in bit times.
  double frame_bits() const;
  double frame_time() const { return frame_bits() * bit_time(); }

  friend bool operator==(const LineFormat&, const LineFormat&) = default;
};

// Error flags a receiver attaches to a character.
namespace rx_flag {
inline constexpr uint8_t kFraming = 1u << 0;  // stop bit sampled low
inline constexpr uint8_t kParity = 1u << 1;   // parity bit disagrees with the format
inline constexpr uint8_t kBreak = 1u << 2;    // all-zero frame, stop bit low
inline constexpr uint8_t kOverrun = 1u << 3;  // a character was lost before this one
}  // namespace rx_flag

struct RxChar {
  uint8_t value = 0;
  uint8_t flags = 0;  // rx_flag bits
  double time = 0;    // when the receiver sampled the stop bit
};

// Parity bit a transmitter sends for `value` (only the low data_bits count).
bool parity_bit(const LineFormat& format, uint8_t value);

// The level of one line over time: high before the first transition.
class Waveform {
 public:
  // Drives the line to `level` from time t on. t must not precede the last
  // transition (earlier times are clamped to it).
  void drive(double t, bool level);
  bool level_at(double t) const;
  // The level just before t (ignoring a transition exactly at t).
  bool level_before(double t) const;
  bool final_level() const { return edges_.empty() ? base_level_ : edges_.back().level; }
  double last_transition() const { return edges_.empty() ? base_time_ : edges_.back().t; }
  // The first transition to `level` at or after `after`.
  std::optional<double> next_edge(double after, bool level) const;
  // Forgets transitions before t (the level at t is kept).
  void forget_before(double t);
  size_t transitions() const { return edges_.size(); }

 private:
  struct Edge {
    double t;
    bool level;
  };
  size_t first_after(double t) const;  // index of the first edge with time > t
  std::deque<Edge> edges_;
  bool base_level_ = true;
  double base_time_ = 0;
};

// Puts one character frame on `line` starting at `start` (the line must be
// idle high there); returns the time the last stop bit ends.
double transmit_frame(Waveform& line, double start, const LineFormat& format, uint8_t value);

// Like transmit_frame, but with the stop bit forced low: what a UART driven by
// an undefined divisor may produce (used to model garbage).
double transmit_frame_bad_stop(Waveform& line, double start, const LineFormat& format,
                               uint8_t value);

// A receiver's framing state machine.
class FrameDecoder {
 public:
  // Starts idle at time t, looking for a start bit.
  explicit FrameDecoder(double t = 0) : resume_(t) {}

  // Decodes every character whose stop-bit sample lies at or before `limit`,
  // reading `line` with the receiver's own `format`; appends them to `out`.
  void decode(const Waveform& line, const LineFormat& format, double limit,
              std::vector<RxChar>& out);

  // Waiting for a start bit (and not for the line to come back high first).
  bool idle() const { return !start_ && !need_high_; }
  bool in_frame() const { return start_.has_value(); }
  // When the frame in progress will have been fully sampled.
  std::optional<double> deadline(const LineFormat& format) const;
  // The earliest time still relevant to the decoder (transitions before it can go).
  double horizon() const { return start_ ? *start_ : resume_; }
  // Forces the idle state from t on (the line is known to be high there).
  void resync(double t);

 private:
  double resume_;
  std::optional<double> start_;
  bool need_high_ = false;
};

// A whole frame's worth of decoding in one call, for tests and tools: puts
// `bytes` back to back on a line at `tx` and decodes it at `rx`.
std::vector<RxChar> send_and_receive(const std::vector<uint8_t>& bytes, const LineFormat& tx,
                                     const LineFormat& rx, double gap_bits = 0);

}  // namespace sim
