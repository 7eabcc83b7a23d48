// make_tty_suffix: the rules in tty_name.hpp, one case per rule and boundary.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "transport/tty_name.hpp"

namespace {

using transport::kTtySerialMax;
using transport::kTtySuffixMax;

constexpr uint16_t kFtdi = 0x0403;

// Runs make_tty_suffix into an exactly-sized buffer followed by guard bytes.
std::string suffix(const char* serial, uint16_t vid = kFtdi, uint16_t pid = 0x6001,
                   uint8_t port_index = 0, uint8_t port_count = 1) {
  std::vector<char> out(kTtySuffixMax + 1 + 8, '#');
  const bool ok = transport::make_tty_suffix(serial, vid, pid, port_index, port_count,
                                             {out.data(), kTtySuffixMax + 1});
  EXPECT_TRUE(ok);
  for (size_t i = kTtySuffixMax + 1; i < out.size(); ++i) {
    EXPECT_EQ(out[i], '#') << "written past the buffer at " << i;
  }
  const void* nul = std::memchr(out.data(), '\0', kTtySuffixMax + 1);
  EXPECT_NE(nul, nullptr) << "not NUL-terminated";
  return nul != nullptr ? std::string(out.data()) : std::string();
}

TEST(TtySuffix, Constants) {
  EXPECT_STREQ(transport::kTtyBaseName, "usbserial-");
  EXPECT_EQ(kTtySerialMax, 24u);
  EXPECT_EQ(kTtySuffixMax, 25u);
}

TEST(TtySuffix, PlainSerialIsKept) {
  EXPECT_EQ(suffix("FT1234"), "FT1234");
  EXPECT_EQ(suffix("A50285BI"), "A50285BI");
  EXPECT_EQ(suffix("abc-DEF_012"), "abc-DEF_012");
  EXPECT_EQ(suffix("0"), "0");
}

TEST(TtySuffix, OddCharactersAreDropped) {
  EXPECT_EQ(suffix("FT 12/34"), "FT1234");
  EXPECT_EQ(suffix("a.b:c,d;e"), "abcde");
  EXPECT_EQ(suffix("x\ty\nz\r"), "xyz");
  EXPECT_EQ(suffix("~!@#$%^&*()+=[]{}|\\'\"<>?`Q"), "Q");
  EXPECT_EQ(suffix("caf\xC3\xA9-1"), "caf-1");  // UTF-8 bytes are never kept
  EXPECT_EQ(suffix("\x7F\x80\xFFok"), "ok");
  EXPECT_EQ(suffix("??12??"), "12");  // what decode_string_descriptor makes of non-ASCII
}

TEST(TtySuffix, EmptyOrNullSerialFallsBackToVidPid) {
  EXPECT_EQ(suffix(""), "04036001");
  EXPECT_EQ(suffix(nullptr), "04036001");
  EXPECT_EQ(suffix(nullptr, 0x1A86, 0x55D4), "1A8655D4");  // upper-case hex
  EXPECT_EQ(suffix(nullptr, 0xabcd, 0x00ef), "ABCD00EF");
  EXPECT_EQ(suffix(nullptr, 0x0000, 0x0000), "00000000");
  EXPECT_EQ(suffix(nullptr, 0xFFFF, 0xFFFF), "FFFFFFFF");
}

TEST(TtySuffix, AllOddSerialFallsBackToVidPid) {
  EXPECT_EQ(suffix("????"), "04036001");
  EXPECT_EQ(suffix("   "), "04036001");
  EXPECT_EQ(suffix("\xC3\xA9\xC3\xA9"), "04036001");
  // However long the odd part is.
  const std::string junk(200, '.');
  EXPECT_EQ(suffix(junk.c_str(), kFtdi, 0x6015), "04036015");
}

TEST(TtySuffix, LongSerialIsCutAtTheLimit) {
  const std::string thirty = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123";
  EXPECT_EQ(suffix(thirty.c_str()), thirty.substr(0, 24));
  EXPECT_EQ(suffix(thirty.substr(0, 24).c_str()), thirty.substr(0, 24));  // exact fit
  EXPECT_EQ(suffix(thirty.substr(0, 25).c_str()), thirty.substr(0, 24));  // one over
  EXPECT_EQ(suffix(thirty.substr(0, 23).c_str()), thirty.substr(0, 23));
  // The limit counts kept characters, not input bytes.
  std::string spaced;
  for (const char c : thirty) {
    spaced += c;
    spaced += ' ';
  }
  EXPECT_EQ(suffix(spaced.c_str()), thirty.substr(0, 24));
}

TEST(TtySuffix, PortLettersOnMultiPortChips) {
  EXPECT_EQ(suffix("FT1234", kFtdi, 0x6010, 0, 2), "FT1234A");
  EXPECT_EQ(suffix("FT1234", kFtdi, 0x6010, 1, 2), "FT1234B");
  EXPECT_EQ(suffix("FT9", kFtdi, 0x6011, 0, 4), "FT9A");
  EXPECT_EQ(suffix("FT9", kFtdi, 0x6011, 2, 4), "FT9C");
  EXPECT_EQ(suffix("FT9", kFtdi, 0x6011, 3, 4), "FT9D");
  // Single-port chips get no letter.
  EXPECT_EQ(suffix("FT9", kFtdi, 0x6001, 0, 1), "FT9");
  EXPECT_EQ(suffix("FT9", kFtdi, 0x6001, 0, 0), "FT9");
}

TEST(TtySuffix, PortLetterAfterFallbackAndAfterAFullSerial) {
  EXPECT_EQ(suffix(nullptr, kFtdi, 0x6010, 1, 2), "04036010B");
  EXPECT_EQ(suffix("", kFtdi, 0x6011, 3, 4), "04036011D");
  // The TETRA radio's PEI port: no serial string, two interfaces (devices.ini).
  EXPECT_EQ(suffix(nullptr, 0x0CAD, 0x9016, 0, 2), "0CAD9016A");
  EXPECT_EQ(suffix(nullptr, 0x0CAD, 0x9016, 1, 2), "0CAD9016B");
  const std::string thirty = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123";
  const std::string got = suffix(thirty.c_str(), kFtdi, 0x6011, 3, 4);
  EXPECT_EQ(got, thirty.substr(0, 24) + "D");
  EXPECT_EQ(got.size(), kTtySuffixMax);
}

TEST(TtySuffix, StableForTheSameInput) {
  EXPECT_EQ(suffix("FT 1/2", kFtdi, 0x6010, 1, 2), suffix("FT 1/2", kFtdi, 0x6010, 1, 2));
  EXPECT_NE(suffix("FT12", kFtdi, 0x6010, 0, 2), suffix("FT12", kFtdi, 0x6010, 1, 2));
}

TEST(TtySuffix, OutputSizeCheck) {
  std::vector<char> out(64, '#');
  // One byte short of kTtySuffixMax + 1: refused, nothing written.
  EXPECT_FALSE(transport::make_tty_suffix("FT1", kFtdi, 0x6001, 0, 1, {out.data(), kTtySuffixMax}));
  EXPECT_EQ(std::string(out.begin(), out.end()), std::string(64, '#'));
  EXPECT_FALSE(transport::make_tty_suffix("FT1", kFtdi, 0x6001, 0, 1, {out.data(), size_t{0}}));
  EXPECT_FALSE(transport::make_tty_suffix(nullptr, kFtdi, 0x6001, 0, 1, {out.data(), 9}));
  EXPECT_EQ(std::string(out.begin(), out.end()), std::string(64, '#'));
  // Exactly enough, and more than enough.
  EXPECT_TRUE(
      transport::make_tty_suffix("FT1", kFtdi, 0x6001, 0, 1, {out.data(), kTtySuffixMax + 1}));
  EXPECT_STREQ(out.data(), "FT1");
  EXPECT_TRUE(transport::make_tty_suffix("FT2", kFtdi, 0x6001, 0, 1, out));
  EXPECT_STREQ(out.data(), "FT2");
}

}  // namespace
