#include "sim/uart.hpp"

#include <algorithm>
#include <bit>
#include <iterator>

namespace sim {

const char* to_string(Parity parity) {
  switch (parity) {
    case Parity::none:
      return "none";
    case Parity::odd:
      return "odd";
    case Parity::even:
      return "even";
    case Parity::mark:
      return "mark";
    case Parity::space:
      return "space";
  }
  return "?";
}

const char* to_string(StopBits stop_bits) {
  switch (stop_bits) {
    case StopBits::one:
      return "1";
    case StopBits::one_and_half:
      return "1.5";
    case StopBits::two:
      return "2";
  }
  return "?";
}

double LineFormat::stop_bit_count() const {
  switch (stop_bits) {
    case StopBits::one:
      return 1.0;
    case StopBits::one_and_half:
      return 1.5;
    case StopBits::two:
      return 2.0;
  }
  return 1.0;
}

double LineFormat::frame_bits() const {
  return 1.0 + static_cast<double>(data_bits) + static_cast<double>(parity_bits()) +
         stop_bit_count();
}

bool parity_bit(const LineFormat& format, uint8_t value) {
  const unsigned mask = (1u << format.data_bits) - 1u;
  const bool odd_ones = (std::popcount(static_cast<unsigned>(value) & mask) & 1) != 0;
  switch (format.parity) {
    case Parity::none:
      return true;
    case Parity::odd:
      return !odd_ones;  // total count of ones (data + parity) is odd
    case Parity::even:
      return odd_ones;  // total count of ones is even
    case Parity::mark:
      return true;
    case Parity::space:
      return false;
  }
  return true;
}

// ---------------------------------------------------------------- Waveform

void Waveform::drive(double t, bool level) {
  if (!edges_.empty() && t < edges_.back().t) {
    t = edges_.back().t;
  }
  if (t < base_time_) {
    t = base_time_;
  }
  if (!edges_.empty() && edges_.back().t == t) {
    // A zero-length pulse: replace the last transition.
    edges_.pop_back();
  }
  if (final_level() == level) {
    return;
  }
  edges_.push_back(Edge{t, level});
}

size_t Waveform::first_after(double t) const {
  auto it = std::upper_bound(edges_.begin(), edges_.end(), t,
                             [](double value, const Edge& e) { return value < e.t; });
  return static_cast<size_t>(it - edges_.begin());
}

bool Waveform::level_at(double t) const {
  const size_t i = first_after(t);
  return i == 0 ? base_level_ : edges_[i - 1].level;
}

bool Waveform::level_before(double t) const {
  auto it = std::lower_bound(edges_.begin(), edges_.end(), t,
                             [](const Edge& e, double value) { return e.t < value; });
  return it == edges_.begin() ? base_level_ : std::prev(it)->level;
}

std::optional<double> Waveform::next_edge(double after, bool level) const {
  auto it = std::lower_bound(edges_.begin(), edges_.end(), after,
                             [](const Edge& e, double value) { return e.t < value; });
  for (; it != edges_.end(); ++it) {
    if (it->level == level) {
      return it->t;
    }
  }
  return std::nullopt;
}

void Waveform::forget_before(double t) {
  while (!edges_.empty() && edges_.front().t < t) {
    base_level_ = edges_.front().level;
    base_time_ = edges_.front().t;
    edges_.pop_front();
  }
}

// ---------------------------------------------------------------- frames

namespace {

double put_frame(Waveform& line, double start, const LineFormat& format, uint8_t value,
                 bool stop_level) {
  const double bt = format.bit_time();
  double t = start;
  line.drive(t, false);  // start bit
  t += bt;
  for (unsigned i = 0; i < format.data_bits; ++i) {
    line.drive(t, ((value >> i) & 1u) != 0);
    t += bt;
  }
  if (format.parity != Parity::none) {
    line.drive(t, parity_bit(format, value));
    t += bt;
  }
  line.drive(t, stop_level);
  t += bt * format.stop_bit_count();
  if (!stop_level) {
    line.drive(t, true);
  }
  return t;
}

}  // namespace

double transmit_frame(Waveform& line, double start, const LineFormat& format, uint8_t value) {
  return put_frame(line, start, format, value, true);
}

double transmit_frame_bad_stop(Waveform& line, double start, const LineFormat& format,
                               uint8_t value) {
  return put_frame(line, start, format, value, false);
}

// ---------------------------------------------------------------- receiver

std::optional<double> FrameDecoder::deadline(const LineFormat& format) const {
  if (!start_) {
    return std::nullopt;
  }
  const double samples = 1.0 + format.data_bits + format.parity_bits() + 1.0;
  return *start_ + (samples - 0.5) * format.bit_time();
}

void FrameDecoder::resync(double t) {
  resume_ = t;
  start_.reset();
  need_high_ = false;
}

void FrameDecoder::decode(const Waveform& line, const LineFormat& format, double limit,
                          std::vector<RxChar>& out) {
  const double bt = format.bit_time();
  for (;;) {
    if (!start_) {
      if (!need_high_ && !line.level_before(resume_)) {
        // Low where we start looking: that is not a fresh start bit.
        need_high_ = true;
      }
      if (need_high_) {
        auto rise = line.next_edge(resume_, true);
        if (!rise || *rise > limit) {
          return;
        }
        resume_ = *rise;
        need_high_ = false;
      }
      auto fall = line.next_edge(resume_, false);
      if (!fall || *fall > limit) {
        return;
      }
      start_ = *fall;
    }
    const double s = *start_;
    if (s + (1.0 + format.data_bits + format.parity_bits() + 0.5) * bt > limit) {
      return;
    }
    // Start bit checked in its middle: a glitch shorter than half a bit is ignored.
    if (line.level_at(s + 0.5 * bt)) {
      resume_ = s + 0.5 * bt;
      start_.reset();
      continue;
    }
    unsigned value = 0;
    unsigned ones = 0;
    double t = s + 1.5 * bt;
    for (unsigned i = 0; i < format.data_bits; ++i, t += bt) {
      if (line.level_at(t)) {
        value |= 1u << i;
        ++ones;
      }
    }
    uint8_t flags = 0;
    bool parity_level = false;
    if (format.parity != Parity::none) {
      parity_level = line.level_at(t);
      if (parity_level != parity_bit(format, static_cast<uint8_t>(value))) {
        flags |= rx_flag::kParity;
      }
      t += bt;
    }
    const bool stop = line.level_at(t);
    if (!stop) {
      if (value == 0 && !parity_level) {
        flags = rx_flag::kBreak;  // all-zero frame: a break, reported once as NUL
      } else {
        flags |= rx_flag::kFraming;
      }
    }
    out.push_back(RxChar{static_cast<uint8_t>(value), flags, t});
    start_.reset();
    resume_ = t;
    need_high_ = !stop;
  }
}

std::vector<RxChar> send_and_receive(const std::vector<uint8_t>& bytes, const LineFormat& tx,
                                     const LineFormat& rx, double gap_bits) {
  Waveform line;
  double t = 10 * tx.bit_time();
  for (uint8_t b : bytes) {
    t = transmit_frame(line, t, tx, b) + gap_bits * tx.bit_time();
  }
  // Idle long enough for the receiver to finish whatever it is in.
  const double end = t + 4 * std::max(tx.frame_time(), rx.frame_time());
  FrameDecoder decoder(0);
  std::vector<RxChar> out;
  decoder.decode(line, rx, end, out);
  return out;
}

}  // namespace sim
