// CP210x bulk-IN decoding with event insertion (EMBED_EVENTS, escape 0xEC), from
// docs/usb-serial-reference.md §3.4: EC 00 = a literal EC, EC 01 LSR DATA = DATA with its
// line status, EC 02 LSR = line status alone, EC 03 MSR = modem status (skipped). LSR bits:
// 0x02 overrun, 0x04 parity, 0x08 framing, 0x10 break; one flag per character with the
// priority break > parity > framing, overrun counted on its own.
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "tools/common/recording_sink.hpp"
#include "transport/chip_protocol.hpp"
#include "transport/chips/cp210x.hpp"

namespace {

using transport::ChipVariant;
using transport::LineErrors;
using transport::PortConfig;
using transport::RxReport;
using transport::Status;
using transport::chips::Cp210x;

constexpr uint8_t E = 0xEC;

Cp210x opened(bool event_mode = true) {
  PortConfig config;
  config.variant = ChipVariant::cp2104;
  config.bulk_in_max_packet = 64;
  Cp210x chip;
  EXPECT_EQ(chip.configure(config), Status::ok);
  hostutil::RecordingSink sink;
  sink.reply(0xC0, 0xFF, {0x04}, 0x370B);
  if (!event_mode) {
    sink.fail(0x41, 0x15, Status::stall);
  }
  EXPECT_EQ(chip.open(sink), Status::ok);
  EXPECT_EQ(chip.event_mode(), event_mode);
  return chip;
}

struct Case {
  const char* label;
  std::vector<uint8_t> in;
  std::vector<uint8_t> out;
  LineErrors errors;  // overrun, parity, framing, brk
  uint32_t malformed = 0;
  uint32_t status_only = 0;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.label;
}

class Cp210xDecode : public ::testing::TestWithParam<Case> {};

void expect_errors(const LineErrors& got, const LineErrors& want) {
  EXPECT_EQ(got.overrun, want.overrun);
  EXPECT_EQ(got.parity, want.parity);
  EXPECT_EQ(got.framing, want.framing);
  EXPECT_EQ(got.brk, want.brk);
}

TEST_P(Cp210xDecode, OneTransfer) {
  const Case& c = GetParam();
  Cp210x chip = opened();
  std::vector<uint8_t> transfer = c.in;
  RxReport report;
  const uint32_t n = chip.decode_rx(transfer, report);
  ASSERT_EQ(n, c.out.size());
  EXPECT_EQ(std::vector<uint8_t>(transfer.begin(), transfer.begin() + n), c.out);
  expect_errors(report.errors, c.errors);
  EXPECT_EQ(report.malformed, c.malformed);
  EXPECT_EQ(report.status_only_packets, c.status_only);
  EXPECT_FALSE(report.modem_valid);  // the lines are polled, never taken from the stream
}

// clang-format off
INSTANTIATE_TEST_SUITE_P(Events, Cp210xDecode, ::testing::Values(
    Case{"plain", {1, 2, 3, 0xEB, 0xED, 0xFF, 0}, {1, 2, 3, 0xEB, 0xED, 0xFF, 0}, {}},
    Case{"escaped_escape", {E, 0x00}, {E}, {}},
    Case{"escaped_escapes_in_data", {1, E, 0, E, 0, 2}, {1, E, E, 2}, {}},
    Case{"parity_on_a_byte", {'a', E, 1, 0x04, 'b', 'c'}, {'a', 'b', 'c'}, {0, 1, 0, 0}},
    Case{"framing_on_a_byte", {E, 1, 0x08, 0x41}, {0x41}, {0, 0, 1, 0}},
    Case{"break_is_a_nul_with_the_break_bit", {E, 1, 0x18, 0x00}, {0x00}, {0, 0, 0, 1}},
    Case{"break_wins_over_parity_and_framing", {E, 1, 0x1C, 0x00}, {0x00}, {0, 0, 0, 1}},
    Case{"parity_wins_over_framing", {E, 1, 0x0C, 0x55}, {0x55}, {0, 1, 0, 0}},
    Case{"overrun_counts_besides", {E, 1, 0x06, 0x55}, {0x55}, {1, 1, 0, 0}},
    Case{"clean_status_keeps_the_byte", {E, 1, 0x00, 0x55}, {0x55}, {}},
    Case{"escape_char_as_errored_data", {E, 1, 0x04, E}, {E}, {0, 1, 0, 0}},
    Case{"status_without_data", {E, 2, 0x02}, {}, {1, 0, 0, 0}, 0, 1},
    Case{"status_between_data", {7, E, 2, 0x08, 8}, {7, 8}, {0, 0, 1, 0}},
    Case{"modem_status_is_skipped", {9, E, 3, 0xF0, 10}, {9, 10}, {}},
    Case{"modem_status_alone", {E, 3, 0xFF}, {}, {}, 0, 1},
    Case{"unknown_event_is_dropped", {1, E, 4, 2}, {1, 2}, {}, 1},
    Case{"unknown_event_ff", {E, 0xFF, 3}, {3}, {}, 1},
    Case{"every_kind_in_one_transfer",
         {'x', E, 0, E, 1, 0x04, 'p', E, 2, 0x02, E, 3, 0x30, E, 1, 0x10, 0, E, 9, 'y'},
         {'x', E, 'p', 0, 'y'}, {1, 1, 0, 1}, 1}));
// clang-format on

// What the chip sent, cut at every possible point into two transfers, and into three: the
// escape state must carry across, so the payload and errors come out the same.
TEST(Cp210xDecodeSplit, EverySplitGivesTheSameResult) {
  const std::vector<uint8_t> stream = {'A', E, 1, 0x04, 'B', E, 0, 'C',  E, 2,  0x08,
                                       'D', E, 3, 0xF0, 'E', E, 1, 0x10, 0, 'F'};
  const std::vector<uint8_t> want = {'A', 'B', E, 'C', 'D', 'E', 0, 'F'};
  for (size_t a = 0; a <= stream.size(); ++a) {
    for (size_t b = a; b <= stream.size(); ++b) {
      Cp210x chip = opened();
      std::vector<uint8_t> got;
      RxReport report;
      for (const auto& [from, to] : {std::pair{size_t{0}, a}, {a, b}, {b, stream.size()}}) {
        std::vector<uint8_t> transfer(stream.begin() + static_cast<std::ptrdiff_t>(from),
                                      stream.begin() + static_cast<std::ptrdiff_t>(to));
        const uint32_t n = chip.decode_rx(transfer, report);
        got.insert(got.end(), transfer.begin(), transfer.begin() + n);
      }
      SCOPED_TRACE("split at " + std::to_string(a) + " and " + std::to_string(b));
      EXPECT_EQ(got, want);
      expect_errors(report.errors, {0, 1, 1, 1});
      EXPECT_EQ(report.malformed, 0u);
    }
  }
}

TEST(Cp210xDecodeSplit, AnOpenResetsAHalfFinishedEscape) {
  Cp210x chip = opened();
  std::vector<uint8_t> first = {'a', E};
  RxReport report;
  EXPECT_EQ(chip.decode_rx(first, report), 1u);
  hostutil::RecordingSink sink;
  ASSERT_EQ(chip.open(sink), Status::ok);  // a reopen: the chip starts a fresh stream
  std::vector<uint8_t> second = {1, 2};
  EXPECT_EQ(chip.decode_rx(second, report), 2u);
  EXPECT_EQ(second, (std::vector<uint8_t>{1, 2}));
  EXPECT_EQ(report.malformed, 0u);
}

// An independent reading of the escape rules, byte by byte, to compare with on random input.
struct Reference {
  int state = 0;  // 0 data, 1 escape, 2 lsr-then-data, 3 data-after-lsr, 4 lsr, 5 msr
  uint8_t lsr = 0;
  std::vector<uint8_t> out;
  LineErrors errors;
  uint32_t malformed = 0;

  void flag(uint8_t status) {
    if (status & 0x10) {
      ++errors.brk;
    } else if (status & 0x04) {
      ++errors.parity;
    } else if (status & 0x08) {
      ++errors.framing;
    }
    if (status & 0x02) {
      ++errors.overrun;
    }
  }
  void feed(uint8_t b) {
    switch (state) {
      case 0:
        if (b == E) {
          state = 1;
        } else {
          out.push_back(b);
        }
        return;
      case 1:
        state = b == 0 ? 0 : b == 1 ? 2 : b == 2 ? 4 : b == 3 ? 5 : 0;
        if (b == 0) {
          out.push_back(E);
        } else if (b > 3) {
          ++malformed;
        }
        return;
      case 2:
        lsr = b;
        state = 3;
        return;
      case 3:
        out.push_back(b);
        flag(lsr);
        state = 0;
        return;
      case 4:
        flag(b);
        state = 0;
        return;
      default:
        state = 0;
        return;
    }
  }
};

TEST(Cp210xDecodeRandom, AgreesWithAByteByByteReadingAndStaysInsideTheBuffer) {
  std::mt19937 rng(20240611);
  for (int round = 0; round < 300; ++round) {
    Cp210x chip = opened();
    Reference reference;
    std::vector<uint8_t> got;
    RxReport report;
    for (int t = 0; t < 8; ++t) {
      const size_t size = rng() % 80;
      // Guard bytes around the transfer catch any write outside it.
      std::vector<uint8_t> buffer(size + 32, 0xA5);
      for (size_t i = 0; i < size; ++i) {
        // Biased towards escapes and small event codes so that every path is taken.
        const uint32_t pick = rng() % 8;
        buffer[16 + i] = pick < 2   ? E
                         : pick < 4 ? static_cast<uint8_t>(rng() % 6)
                                    : static_cast<uint8_t>(rng());
        reference.feed(buffer[16 + i]);
      }
      const uint32_t n = chip.decode_rx(std::span<uint8_t>(buffer.data() + 16, size), report);
      ASSERT_LE(n, size);
      got.insert(got.end(), buffer.begin() + 16, buffer.begin() + 16 + n);
      for (size_t i = 0; i < 16; ++i) {
        ASSERT_EQ(buffer[i], 0xA5);
        ASSERT_EQ(buffer[16 + size + i], 0xA5);
      }
    }
    ASSERT_EQ(got, reference.out) << "round " << round;
    expect_errors(report.errors, reference.errors);
    EXPECT_EQ(report.malformed, reference.malformed);
  }
}

TEST(Cp210xDecodeRaw, WithoutEventInsertionTheDataIsUntouched) {
  Cp210x chip = opened(false);
  std::vector<uint8_t> transfer = {E, 1, 0x04, 'b', E, 0};
  const std::vector<uint8_t> copy = transfer;
  RxReport report;
  EXPECT_EQ(chip.decode_rx(transfer, report), copy.size());
  EXPECT_EQ(transfer, copy);
  EXPECT_FALSE(report.errors.any());
  EXPECT_EQ(report.status_only_packets, 0u);
}

TEST(Cp210xDecodeEdges, EmptyAndUnconfigured) {
  Cp210x chip = opened();
  RxReport report;
  EXPECT_EQ(chip.decode_rx({}, report), 0u);
  EXPECT_EQ(report.status_only_packets, 0u);
  Cp210x unconfigured;
  std::vector<uint8_t> transfer = {1, 2, 3};
  EXPECT_EQ(unconfigured.decode_rx(transfer, report), 0u);
  EXPECT_EQ(report.malformed, 1u);
  EXPECT_EQ(unconfigured.decode_rx({}, report), 0u);
  EXPECT_EQ(report.malformed, 1u);
}

TEST(Cp210xDecodeEdges, ALoneEscapeAtTheEndIsHeldForTheNextTransfer) {
  Cp210x chip = opened();
  std::vector<uint8_t> first = {E};
  RxReport report;
  EXPECT_EQ(chip.decode_rx(first, report), 0u);
  std::vector<uint8_t> second = {0, 'z'};
  EXPECT_EQ(chip.decode_rx(second, report), 2u);
  EXPECT_EQ(second, (std::vector<uint8_t>{E, 'z'}));
}

}  // namespace
