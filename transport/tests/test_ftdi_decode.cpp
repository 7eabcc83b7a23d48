// FTDI bulk-IN decoding: two status bytes at the start of every wMaxPacketSize chunk
// (docs/usb-serial-reference.md §2.3). Byte 0: CTS 0x10, DSR 0x20, RI 0x40, DCD 0x80.
// Byte 1: OE 0x02, PE 0x04, FE 0x08, BI 0x10, TEMT 0x40.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <random>
#include <span>
#include <vector>

#include "transport/chip_protocol.hpp"
#include "transport/chips/ftdi.hpp"

namespace {

using transport::ChipVariant;
using transport::ModemStatus;
using transport::PortConfig;
using transport::RxReport;
using transport::Status;
using transport::chips::Ftdi;

constexpr uint8_t kIdleModem = 0x01;  // low nibble reads 0x01 on most parts; no lines
constexpr uint8_t kCts = 0x10, kDsr = 0x20, kRi = 0x40, kDcd = 0x80;
constexpr uint8_t kOe = 0x02, kPe = 0x04, kFe = 0x08, kBi = 0x10, kTemt = 0x40;

Ftdi make(uint16_t packet, ChipVariant variant = ChipVariant::ft232r) {
  PortConfig config;
  config.variant = variant;
  config.bulk_in_max_packet = packet;
  Ftdi ftdi;
  EXPECT_EQ(ftdi.configure(config), Status::ok);
  return ftdi;
}

// Builds a transfer of `length` bytes cut into `packet`-sized chunks, each starting with the
// given status bytes; payload bytes count up from `first`. Also returns the expected payload.
struct Built {
  std::vector<uint8_t> transfer;
  std::vector<uint8_t> payload;
};

Built build(size_t length, size_t packet, uint8_t modem = kIdleModem, uint8_t line = 0x60,
            uint8_t first = 0) {
  Built b;
  uint8_t next = first;
  for (size_t offset = 0; offset < length; offset += packet) {
    const size_t chunk = std::min(packet, length - offset);
    for (size_t i = 0; i < chunk; ++i) {
      if (i == 0) {
        b.transfer.push_back(modem);
      } else if (i == 1) {
        b.transfer.push_back(line);
      } else {
        b.transfer.push_back(next);
        if (chunk >= 2) {
          b.payload.push_back(next);
        }
        ++next;
      }
    }
  }
  return b;
}

uint32_t decode(Ftdi& ftdi, std::vector<uint8_t>& transfer, RxReport& report) {
  return ftdi.decode_rx(std::span<uint8_t>(transfer.data(), transfer.size()), report);
}

struct LengthCase {
  size_t length;
  size_t packet;
  uint32_t payload;
  uint32_t status_only;
  uint32_t malformed;
};

void PrintTo(const LengthCase& c, std::ostream* os) {
  *os << c.length << " bytes in " << c.packet << "-byte packets";
}

class FtdiDecodeLength : public ::testing::TestWithParam<LengthCase> {};

TEST_P(FtdiDecodeLength, StripsEveryChunkHeader) {
  const LengthCase& c = GetParam();
  Ftdi ftdi = make(static_cast<uint16_t>(c.packet));
  Built b = build(c.length, c.packet);
  RxReport report;
  const uint32_t n = decode(ftdi, b.transfer, report);
  ASSERT_EQ(n, c.payload);
  ASSERT_EQ(b.payload.size(), c.payload);  // the builder agrees with the hand count
  EXPECT_TRUE(std::equal(b.payload.begin(), b.payload.end(), b.transfer.begin()));
  EXPECT_EQ(report.status_only_packets, c.status_only);
  EXPECT_EQ(report.malformed, c.malformed);
  EXPECT_FALSE(report.errors.any());
  EXPECT_EQ(report.modem_valid, c.length >= 2);
}

// clang-format off
INSTANTIATE_TEST_SUITE_P(FullSpeed64, FtdiDecodeLength, ::testing::Values(
    LengthCase{0, 64, 0, 0, 0},
    LengthCase{1, 64, 0, 0, 1},           // no room for a header
    LengthCase{2, 64, 0, 1, 0},           // status only
    LengthCase{3, 64, 1, 0, 0},
    LengthCase{63, 64, 61, 0, 0},
    LengthCase{64, 64, 62, 0, 0},
    LengthCase{65, 64, 62, 0, 1},         // trailing 1-byte chunk
    LengthCase{66, 64, 62, 1, 0},         // trailing status-only chunk
    LengthCase{128, 64, 124, 0, 0},
    LengthCase{16 * 64 + 11, 64, 16 * 62 + 9, 0, 0}));

INSTANTIATE_TEST_SUITE_P(HighSpeed512, FtdiDecodeLength, ::testing::Values(
    LengthCase{512, 512, 510, 0, 0},
    LengthCase{1536, 512, 1530, 0, 0},    // headers at 0, 512, 1024
    LengthCase{1024 + 100, 512, 1118, 0, 0},
    LengthCase{1024 + 2, 512, 1020, 1, 0},
    LengthCase{1024 + 1, 512, 1020, 0, 1},
    LengthCase{64, 512, 62, 0, 0}));      // one short packet: only one header
// clang-format on

TEST(FtdiDecode, HighSpeedDoesNotStripAtSixtyFourByteOffsets) {
  Ftdi ftdi = make(512, ChipVariant::ft2232h);
  std::vector<uint8_t> transfer(130, 0xAA);
  transfer[0] = kIdleModem;
  transfer[1] = 0x60;
  RxReport report;
  EXPECT_EQ(decode(ftdi, transfer, report), 128u);
  EXPECT_EQ(transfer[62], 0xAA);
  EXPECT_EQ(transfer[127], 0xAA);
}

TEST(FtdiDecode, ThreeHeadersAtFiveTwelveBoundaries) {
  Ftdi ftdi = make(512, ChipVariant::ft4232h);
  std::vector<uint8_t> transfer(1536);
  for (size_t i = 0; i < transfer.size(); ++i) {
    transfer[i] = static_cast<uint8_t>(i);
  }
  // Distinct headers: CTS in the first, DSR in the second, DCD + TEMT in the last.
  transfer[0] = kCts | 0x01;
  transfer[1] = 0x00;
  transfer[512] = kDsr | 0x01;
  transfer[513] = 0x00;
  transfer[1024] = kDcd | 0x01;
  transfer[1025] = kTemt;
  const std::vector<uint8_t> original = transfer;
  RxReport report;
  ASSERT_EQ(decode(ftdi, transfer, report), 1530u);
  for (size_t i = 0; i < 510; ++i) {
    ASSERT_EQ(transfer[i], original[2 + i]) << i;
    ASSERT_EQ(transfer[510 + i], original[514 + i]) << i;
    ASSERT_EQ(transfer[1020 + i], original[1026 + i]) << i;
  }
  EXPECT_TRUE(report.modem_valid);
  EXPECT_EQ(report.modem, (ModemStatus{false, false, false, true}));  // the last chunk wins
  EXPECT_TRUE(report.tx_empty_valid);
  EXPECT_TRUE(report.tx_empty);
}

TEST(FtdiDecode, ModemLinesFromByteZero) {
  struct Case {
    uint8_t byte0;
    ModemStatus want;
  };
  const Case cases[] = {
      {0x01, {false, false, false, false}},
      {0x0F, {false, false, false, false}},  // reserved bits 0-3 mean nothing
      {0x11, {true, false, false, false}},
      {0x21, {false, true, false, false}},
      {0x41, {false, false, true, false}},
      {0x81, {false, false, false, true}},
      {0xF1, {true, true, true, true}},
  };
  Ftdi ftdi = make(64);
  for (const Case& c : cases) {
    std::vector<uint8_t> transfer = {c.byte0, 0x00};
    RxReport report;
    decode(ftdi, transfer, report);
    EXPECT_TRUE(report.modem_valid);
    EXPECT_EQ(report.modem, c.want) << std::hex << int{c.byte0};
  }
}

TEST(FtdiDecode, ModemChangeAcrossChunksLastWins) {
  Ftdi ftdi = make(64);
  Built b = build(64 + 10, 64, kCts | kDsr | 0x01);
  b.transfer[64] = kRi | 0x01;  // second chunk: only RI
  RxReport report;
  EXPECT_EQ(decode(ftdi, b.transfer, report), 62u + 8u);
  EXPECT_EQ(report.modem, (ModemStatus{false, false, true, false}));
}

TEST(FtdiDecode, TrailingOneByteChunkDoesNotUpdateModem) {
  Ftdi ftdi = make(64);
  Built b = build(65, 64, kDcd | 0x01);
  b.transfer[64] = kCts | 0x01;  // a lone byte: not a status header
  RxReport report;
  EXPECT_EQ(decode(ftdi, b.transfer, report), 62u);
  EXPECT_EQ(report.modem, (ModemStatus{false, false, false, true}));
  EXPECT_EQ(report.malformed, 1u);
}

TEST(FtdiDecode, TransmitterEmpty) {
  Ftdi ftdi = make(64);
  std::vector<uint8_t> busy = {0x01, 0x00, 'a'};
  RxReport report;
  decode(ftdi, busy, report);
  EXPECT_TRUE(report.tx_empty_valid);
  EXPECT_FALSE(report.tx_empty);
  std::vector<uint8_t> empty = {0x01, kTemt};
  decode(ftdi, empty, report);
  EXPECT_TRUE(report.tx_empty);
  // THRE alone (0x20) is not TEMT.
  std::vector<uint8_t> thre = {0x01, 0x20};
  decode(ftdi, thre, report);
  EXPECT_FALSE(report.tx_empty);
}

struct ErrorCase {
  uint8_t line;
  uint32_t overrun, parity, framing, brk;
};

void PrintTo(const ErrorCase& c, std::ostream* os) {
  *os << "line status 0x" << std::hex << int{c.line};
}

class FtdiDecodeErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(FtdiDecodeErrors, CountedForChunksWithData) {
  const ErrorCase& c = GetParam();
  Ftdi ftdi = make(64);
  std::vector<uint8_t> transfer = {0x01, c.line, 'x', 0x00};
  RxReport report;
  EXPECT_EQ(decode(ftdi, transfer, report), 2u);
  EXPECT_EQ(report.errors.overrun, c.overrun);
  EXPECT_EQ(report.errors.parity, c.parity);
  EXPECT_EQ(report.errors.framing, c.framing);
  EXPECT_EQ(report.errors.brk, c.brk);
  EXPECT_EQ(transfer[0], 'x');
  EXPECT_EQ(transfer[1], 0x00);
}

TEST_P(FtdiDecodeErrors, IgnoredInStatusOnlyChunks) {
  Ftdi ftdi = make(64);
  std::vector<uint8_t> transfer = {0x01, GetParam().line};
  RxReport report;
  EXPECT_EQ(decode(ftdi, transfer, report), 0u);
  EXPECT_FALSE(report.errors.any());
  EXPECT_EQ(report.status_only_packets, 1u);
}

// Break > parity > framing for the chunk's flag (Linux ftdi_process_packet); overrun apart.
// clang-format off
INSTANTIATE_TEST_SUITE_P(Bits, FtdiDecodeErrors, ::testing::Values(
    ErrorCase{0x00, 0, 0, 0, 0},
    ErrorCase{0x60, 0, 0, 0, 0},          // THRE + TEMT: no error
    ErrorCase{0x01, 0, 0, 0, 0},          // DR
    ErrorCase{kOe, 1, 0, 0, 0},
    ErrorCase{kPe, 0, 1, 0, 0},
    ErrorCase{kFe, 0, 0, 1, 0},
    ErrorCase{kBi, 0, 0, 0, 1},
    ErrorCase{kBi | kFe, 0, 0, 0, 1},     // a break also reads as a framing error
    ErrorCase{kPe | kFe, 0, 1, 0, 0},
    ErrorCase{kOe | kFe, 1, 0, 1, 0},
    ErrorCase{kOe | kPe | kFe | kBi, 1, 0, 0, 1},
    ErrorCase{0xFF, 1, 0, 0, 1}));
// clang-format on

TEST(FtdiDecode, ErrorsCountedPerChunk) {
  Ftdi ftdi = make(64);
  Built b = build(64 * 3, 64, kIdleModem, kPe);
  RxReport report;
  EXPECT_EQ(decode(ftdi, b.transfer, report), 3u * 62u);
  EXPECT_EQ(report.errors.parity, 3u);
}

TEST(FtdiDecode, ErrorInStatusOnlyTailNotCounted) {
  Ftdi ftdi = make(64);
  Built b = build(66, 64);
  b.transfer[65] = kOe | kBi;  // the 2-byte tail carries error bits but no data
  RxReport report;
  EXPECT_EQ(decode(ftdi, b.transfer, report), 62u);
  EXPECT_FALSE(report.errors.any());
  EXPECT_EQ(report.status_only_packets, 1u);
}

TEST(FtdiDecode, XonXoffBytesAreData) {
  // Apple's dext deletes 0x11/0x13 when software flow control is on; we never touch data.
  Ftdi ftdi = make(64);
  std::vector<uint8_t> transfer = {0x01, 0x60, 0x11, 0x13, 0x00, 0x11};
  RxReport report;
  ASSERT_EQ(decode(ftdi, transfer, report), 4u);
  EXPECT_EQ((std::vector<uint8_t>(transfer.begin(), transfer.begin() + 4)),
            (std::vector<uint8_t>{0x11, 0x13, 0x00, 0x11}));
}

TEST(FtdiDecode, ReportAccumulates) {
  Ftdi ftdi = make(64);
  RxReport report;
  report.errors.parity = 5;
  report.status_only_packets = 7;
  report.malformed = 2;
  std::vector<uint8_t> a = {0x01, kPe, 'a'};
  std::vector<uint8_t> b = {0x01, 0x00};
  std::vector<uint8_t> c = {0x01};
  decode(ftdi, a, report);
  decode(ftdi, b, report);
  decode(ftdi, c, report);
  EXPECT_EQ(report.errors.parity, 6u);
  EXPECT_EQ(report.status_only_packets, 8u);
  EXPECT_EQ(report.malformed, 3u);
}

TEST(FtdiDecode, UnconfiguredRejectsInput) {
  Ftdi ftdi;
  std::vector<uint8_t> transfer = {0x01, 0x60, 'a'};
  RxReport report;
  EXPECT_EQ(decode(ftdi, transfer, report), 0u);
  EXPECT_EQ(report.malformed, 1u);
  std::vector<uint8_t> none;
  EXPECT_EQ(decode(ftdi, none, report), 0u);
  EXPECT_EQ(report.malformed, 1u);
}

TEST(FtdiDecode, SmallestPacketSize) {
  Ftdi ftdi = make(8);
  Built b = build(8 * 5 + 3, 8);
  RxReport report;
  ASSERT_EQ(decode(ftdi, b.transfer, report), 5u * 6u + 1u);
  EXPECT_TRUE(std::equal(b.payload.begin(), b.payload.end(), b.transfer.begin()));
}

// Random bytes, random lengths and packet sizes (run under ASan too): the output must equal a
// straightforward copy-based model and nothing outside the buffer may be touched (each
// transfer is its own exactly-sized heap block, so ASan sees any overrun).
TEST(FtdiDecode, RandomInputMatchesModel) {
  std::mt19937 rng(20240611);
  const uint16_t packets[] = {8, 16, 64, 512};
  for (int iteration = 0; iteration < 4000; ++iteration) {
    const uint16_t packet = packets[rng() % 4];
    Ftdi ftdi = make(packet);
    const size_t length = rng() % 2200;
    std::vector<uint8_t> transfer(length);
    for (uint8_t& byte : transfer) {
      byte = static_cast<uint8_t>(rng());
    }
    // Model: copy the payload out chunk by chunk.
    std::vector<uint8_t> want;
    uint32_t status_only = 0, malformed = 0, brk = 0, parity = 0, framing = 0, overrun = 0;
    bool modem_valid = false;
    uint8_t last_modem = 0;
    for (size_t offset = 0; offset < length; offset += packet) {
      const size_t chunk = std::min<size_t>(packet, length - offset);
      if (chunk < 2) {
        ++malformed;
        continue;
      }
      modem_valid = true;
      last_modem = transfer[offset];
      if (chunk == 2) {
        ++status_only;
        continue;
      }
      const uint8_t line = transfer[offset + 1];
      brk += (line & kBi) ? 1 : 0;
      parity += !(line & kBi) && (line & kPe) ? 1 : 0;
      framing += !(line & (kBi | kPe)) && (line & kFe) ? 1 : 0;
      overrun += (line & kOe) ? 1 : 0;
      want.insert(want.end(), transfer.begin() + static_cast<long>(offset + 2),
                  transfer.begin() + static_cast<long>(offset + chunk));
    }
    RxReport report;
    const uint32_t n = decode(ftdi, transfer, report);
    ASSERT_EQ(n, want.size()) << "length " << length << " packet " << packet;
    ASSERT_TRUE(std::equal(want.begin(), want.end(), transfer.begin()));
    EXPECT_EQ(report.status_only_packets, status_only);
    EXPECT_EQ(report.malformed, malformed);
    EXPECT_EQ(report.errors.brk, brk);
    EXPECT_EQ(report.errors.parity, parity);
    EXPECT_EQ(report.errors.framing, framing);
    EXPECT_EQ(report.errors.overrun, overrun);
    EXPECT_EQ(report.modem_valid, modem_valid);
    if (modem_valid) {
      EXPECT_EQ(report.modem.cts, (last_modem & kCts) != 0);
      EXPECT_EQ(report.modem.dcd, (last_modem & kDcd) != 0);
    }
  }
}

}  // namespace
