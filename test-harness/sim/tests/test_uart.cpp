// The pure UART line model: frame encoding, decoding at the receiver's own
// rate, rate / parity / data-bit mismatches and breaks. Expected values come
// from the asynchronous-serial frame definition (start 0, data LSB first,
// parity, stop 1), written out by hand.
#include <gtest/gtest.h>

#include "sim/uart.hpp"
#include "sim_test_util.hpp"

namespace {

using sim::LineFormat;
using sim::Parity;
using sim::RxChar;
using sim::StopBits;
namespace rx_flag = sim::rx_flag;

LineFormat fmt(double baud, uint8_t bits = 8, Parity p = Parity::none, StopBits s = StopBits::one) {
  return LineFormat{baud, bits, p, s};
}

// Samples the middle of every bit of a frame that starts at t0.
std::vector<int> bit_levels(const sim::Waveform& w, double t0, double baud, int nbits) {
  std::vector<int> out;
  for (int i = 0; i < nbits; ++i) {
    out.push_back(w.level_at(t0 + (i + 0.5) / baud) ? 1 : 0);
  }
  return out;
}

TEST(UartFrame, EightNoneOneLevelsAndLength) {
  sim::Waveform w;
  const double t0 = 1e-3;
  const double end = sim::transmit_frame(w, t0, fmt(9600), 0x55);
  // 0x55 = 0101 0101, sent LSB first: 1 0 1 0 1 0 1 0.
  EXPECT_EQ(bit_levels(w, t0, 9600, 10), (std::vector<int>{0, 1, 0, 1, 0, 1, 0, 1, 0, 1}));
  EXPECT_DOUBLE_EQ(end, t0 + 10.0 / 9600);
  EXPECT_TRUE(w.level_at(t0 - 1e-6));   // idle high before
  EXPECT_TRUE(w.level_at(end + 1e-6));  // and after
}

TEST(UartFrame, SevenEvenOneParityBit) {
  sim::Waveform w;
  // 'A' = 0x41 = 100 0001: two ones, even parity bit 0.
  sim::transmit_frame(w, 0, fmt(1200, 7, Parity::even), 0x41);
  EXPECT_EQ(bit_levels(w, 0, 1200, 10), (std::vector<int>{0, 1, 0, 0, 0, 0, 0, 1, 0, 1}));
  // 'C' = 0x43 = 100 0011: three ones, even parity bit 1.
  sim::Waveform w2;
  sim::transmit_frame(w2, 0, fmt(1200, 7, Parity::even), 0x43);
  EXPECT_EQ(bit_levels(w2, 0, 1200, 10), (std::vector<int>{0, 1, 1, 0, 0, 0, 0, 1, 1, 1}));
}

TEST(UartFrame, OddMarkSpaceAndStopLengths) {
  // 8O2: 0x00 has no ones -> odd parity bit 1; 12 bit times.
  sim::Waveform w;
  double end = sim::transmit_frame(w, 0, fmt(1000, 8, Parity::odd, StopBits::two), 0x00);
  EXPECT_DOUBLE_EQ(end, 12.0 / 1000);
  EXPECT_EQ(bit_levels(w, 0, 1000, 12), (std::vector<int>{0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1}));
  // Mark parity: always 1; space: always 0. 1.5 stop bits: 11.5 bit times for 8 data + parity.
  sim::Waveform m;
  end = sim::transmit_frame(m, 0, fmt(1000, 8, Parity::mark, StopBits::one_and_half), 0xFF);
  EXPECT_DOUBLE_EQ(end, 11.5 / 1000);
  EXPECT_TRUE(m.level_at(9.5 / 1000));
  sim::Waveform s;
  sim::transmit_frame(s, 0, fmt(1000, 8, Parity::space), 0xFF);
  EXPECT_FALSE(s.level_at(9.5 / 1000));
}

TEST(UartDecode, RoundTripEveryValueEveryFormat) {
  for (uint8_t bits = 5; bits <= 8; ++bits) {
    for (Parity p : {Parity::none, Parity::odd, Parity::even, Parity::mark, Parity::space}) {
      for (StopBits s : {StopBits::one, StopBits::one_and_half, StopBits::two}) {
        const LineFormat f = fmt(115200, bits, p, s);
        std::vector<uint8_t> all(256);
        for (int i = 0; i < 256; ++i) {
          all[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
        }
        const auto got = sim::send_and_receive(all, f, f);
        ASSERT_EQ(got.size(), 256u) << int(bits) << " " << sim::to_string(p);
        const unsigned mask = (1u << bits) - 1u;
        for (int i = 0; i < 256; ++i) {
          const RxChar& c = got[static_cast<size_t>(i)];
          const unsigned want = static_cast<unsigned>(i) & mask;
          EXPECT_EQ(c.value, want);
          EXPECT_EQ(c.flags, 0) << "value " << i;
        }
      }
    }
  }
}

TEST(UartDecode, SmallRateMismatchStillClean) {
  const auto data = simtest::pattern(2000);
  for (double error : {-0.02, -0.01, 0.01, 0.02}) {
    const auto got = sim::send_and_receive(data, fmt(115200 * (1 + error)), fmt(115200));
    ASSERT_EQ(got.size(), data.size()) << error;
    for (size_t i = 0; i < data.size(); ++i) {
      ASSERT_EQ(got[i].value, data[i]) << "error " << error << " at " << i;
      ASSERT_EQ(got[i].flags, 0) << "error " << error << " at " << i;
    }
  }
}

size_t mismatches(const std::vector<uint8_t>& sent, const std::vector<RxChar>& got) {
  size_t bad = sent.size() > got.size() ? sent.size() - got.size() : got.size() - sent.size();
  for (size_t i = 0; i < std::min(sent.size(), got.size()); ++i) {
    if (got[i].value != sent[i] || got[i].flags != 0) {
      ++bad;
    }
  }
  return bad;
}

size_t framing(const std::vector<RxChar>& got) {
  size_t n = 0;
  for (const auto& c : got) {
    n += (c.flags & rx_flag::kFraming) != 0 ? 1 : 0;
  }
  return n;
}

TEST(UartDecode, LargeRateMismatchCorrupts) {
  const auto data = simtest::pattern(2000);
  for (double error : {-0.06, 0.06}) {
    const auto got = sim::send_and_receive(data, fmt(115200 * (1 + error)), fmt(115200));
    EXPECT_GT(mismatches(data, got), data.size() / 10) << error;
  }
}

TEST(UartDecode, Baud250000Versus115200IsGarbage) {
  const auto data = simtest::pattern(1000);
  const auto fast_tx = sim::send_and_receive(data, fmt(250000), fmt(115200));
  EXPECT_GT(mismatches(data, fast_tx), data.size() / 2);
  EXPECT_GT(framing(fast_tx), 0u);
  const auto slow_tx = sim::send_and_receive(data, fmt(115200), fmt(250000));
  EXPECT_GT(mismatches(data, slow_tx), data.size() / 2);
  EXPECT_GT(framing(slow_tx), 0u);
}

TEST(UartDecode, ParityMismatchFlagsEveryCharacter) {
  const auto data = simtest::pattern(300);
  const auto got =
      sim::send_and_receive(data, fmt(19200, 8, Parity::even), fmt(19200, 8, Parity::odd));
  ASSERT_EQ(got.size(), data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    EXPECT_EQ(got[i].value, data[i]);
    EXPECT_EQ(got[i].flags, rx_flag::kParity);
  }
}

TEST(UartDecode, DataBitMismatch) {
  // 7E1 read as 8N1: the parity bit lands in data bit 7.
  const auto got = sim::send_and_receive({0x41, 0x43}, fmt(9600, 7, Parity::even), fmt(9600));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].value, 0x41);  // parity bit 0
  EXPECT_EQ(got[1].value, 0xC3);  // parity bit 1
  EXPECT_EQ(got[0].flags, 0);
  // 8N1 read as 7N1: data bit 7 is taken as the stop bit.
  const auto got7 = sim::send_and_receive({0xFF, 0x7F}, fmt(9600), fmt(9600, 7));
  ASSERT_GE(got7.size(), 2u);
  EXPECT_EQ(got7[0].value, 0x7F);
  EXPECT_EQ(got7[0].flags, 0);
  EXPECT_EQ(got7[1].value, 0x7F);
  EXPECT_EQ(got7[1].flags, rx_flag::kFraming);
}

TEST(UartDecode, BreakIsOneNulThenLineRecovers) {
  const LineFormat f = fmt(9600);
  sim::Waveform w;
  const double bt = 1.0 / 9600;
  w.drive(5 * bt, false);  // break: low for 30 bit times (3 frames)
  w.drive(35 * bt, true);
  const double end = sim::transmit_frame(w, 40 * bt, f, 0x5A);
  sim::FrameDecoder d(0);
  std::vector<RxChar> out;
  d.decode(w, f, end + 20 * bt, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].value, 0);
  EXPECT_EQ(out[0].flags, rx_flag::kBreak);
  EXPECT_EQ(out[1].value, 0x5A);
  EXPECT_EQ(out[1].flags, 0);
}

TEST(UartDecode, ShortLowPulseIsACharacterNotABreak) {
  const LineFormat f = fmt(9600);
  const double bt = 1.0 / 9600;
  sim::Waveform w;
  w.drive(10 * bt, false);  // start bit + data bits 0..2 low
  w.drive(14 * bt, true);
  sim::FrameDecoder d(0);
  std::vector<RxChar> out;
  d.decode(w, f, 40 * bt, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].value, 0xF8);
  EXPECT_EQ(out[0].flags, 0);
}

TEST(UartDecode, GlitchShorterThanHalfABitIsIgnored) {
  const double bt = 1.0 / 9600;
  sim::Waveform w;
  w.drive(10 * bt, false);
  w.drive(10.3 * bt, true);
  sim::FrameDecoder d(0);
  std::vector<RxChar> out;
  d.decode(w, fmt(9600), 40 * bt, out);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(d.idle());
}

TEST(UartDecode, WaitsUntilTheStopBitHasBeenSampled) {
  const LineFormat f = fmt(9600);
  const double bt = 1.0 / 9600;
  sim::Waveform w;
  sim::transmit_frame(w, 0, f, 0x33);
  sim::FrameDecoder d(0);
  std::vector<RxChar> out;
  d.decode(w, f, 9.4 * bt, out);  // stop bit is sampled at 9.5 bit times
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(d.deadline(f).has_value());
  EXPECT_DOUBLE_EQ(*d.deadline(f), 9.5 * bt);
  d.decode(w, f, 9.5 * bt, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].value, 0x33);
  EXPECT_DOUBLE_EQ(out[0].time, 9.5 * bt);
}

TEST(UartDecode, ForgettingOldTransitionsKeepsTheLevel) {
  sim::Waveform w;
  w.drive(1.0, false);
  w.drive(2.0, true);
  w.drive(3.0, false);
  w.forget_before(2.5);
  EXPECT_EQ(w.transitions(), 1u);
  EXPECT_TRUE(w.level_at(2.6));
  EXPECT_FALSE(w.level_at(3.1));
}

}  // namespace
