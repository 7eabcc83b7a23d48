// The command line: size suffixes, defaults, and the refusals that keep a typo from
// becoming a misleading run.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "options.hpp"

namespace {

using loopback::ParseAction;
using loopback::ParseResult;

ParseResult parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"usbserial-loopback"};
  argv.insert(argv.end(), args.begin(), args.end());
  return loopback::parse_options(static_cast<int>(argv.size()), argv.data());
}

TEST(ParseSize, SuffixesArePowersOf1024) {
  EXPECT_EQ(loopback::parse_size("4096"), 4096U);
  EXPECT_EQ(loopback::parse_size("1"), 1U);
  EXPECT_EQ(loopback::parse_size("64K"), 65536U);
  EXPECT_EQ(loopback::parse_size("2k"), 2048U);
  EXPECT_EQ(loopback::parse_size("16M"), 16777216U);
  EXPECT_EQ(loopback::parse_size("3m"), 3145728U);
  EXPECT_EQ(loopback::parse_size("1G"), 1073741824U);
  EXPECT_EQ(loopback::parse_size("5g"), 5368709120U);
}

TEST(ParseSize, RejectsMalformedZeroAndOverflow) {
  for (const char* bad : {"", "K", "0", "0M", "-1", "+5", "1.5M", "16MB", "16 M", " 16", "x",
                          "18446744073709551616", "17179869184G", "99999999999999999999999"}) {
    EXPECT_FALSE(loopback::parse_size(bad).has_value()) << bad;
  }
  // The largest values that still fit in 64 bits.
  EXPECT_EQ(loopback::parse_size("18446744073709551615"), 18446744073709551615ULL);
  EXPECT_EQ(loopback::parse_size("17179869183G"), 17179869183ULL << 30);
}

TEST(ParseOptions, Defaults) {
  const ParseResult r = parse({});
  ASSERT_EQ(r.action, ParseAction::run) << r.message;
  const loopback::Options& o = r.options;
  EXPECT_FALSE(o.tty.has_value());
  EXPECT_EQ(o.sim, "ft232r");
  EXPECT_EQ(o.bytes, 16U << 20);
  EXPECT_EQ(o.baud, 115200U);
  EXPECT_FALSE(o.rtscts);
  EXPECT_EQ(o.timeout_s, 10.0);
  EXPECT_EQ(o.chunk, 4096U);
  EXPECT_FALSE(o.json_path.has_value());
  EXPECT_FALSE(o.bridge_path.has_value());
  EXPECT_TRUE(o.bridge_args.empty());
  EXPECT_FALSE(o.quiet);
}

TEST(ParseOptions, EverythingWithATty) {
  const ParseResult r =
      parse({"/dev/ttyUSB0", "--bytes", "1M", "--baud", "3000000", "--rtscts", "--timeout", "2.5",
             "--chunk", "64K", "--json", "r.json", "--quiet"});
  ASSERT_EQ(r.action, ParseAction::run) << r.message;
  const loopback::Options& o = r.options;
  EXPECT_EQ(o.tty, "/dev/ttyUSB0");
  EXPECT_EQ(o.bytes, 1048576U);
  EXPECT_EQ(o.baud, 3000000U);
  EXPECT_TRUE(o.rtscts);
  EXPECT_EQ(o.timeout_s, 2.5);
  EXPECT_EQ(o.chunk, 65536U);
  EXPECT_EQ(o.json_path, "r.json");
  EXPECT_TRUE(o.quiet);
}

TEST(ParseOptions, BridgeArgumentsAreRepeatableAndKeepTheirOrder) {
  const ParseResult r = parse({"--sim", "ft2232h", "--bridge", "/opt/usbserial-bridge",
                               "--bridge-arg=--paced", "--bridge-arg=--latency=1"});
  ASSERT_EQ(r.action, ParseAction::run) << r.message;
  EXPECT_EQ(r.options.sim, "ft2232h");
  EXPECT_EQ(r.options.bridge_path, "/opt/usbserial-bridge");
  EXPECT_EQ(r.options.bridge_args, (std::vector<std::string>{"--paced", "--latency=1"}));
}

TEST(ParseOptions, HelpAndVersion) {
  EXPECT_EQ(parse({"--help"}).action, ParseAction::help);
  EXPECT_EQ(parse({"--version"}).action, ParseAction::version);
  EXPECT_NE(loopback::help_text().find("SplitMix64"), std::string::npos);
  EXPECT_NE(loopback::help_text().find("Exit status"), std::string::npos);
  EXPECT_EQ(loopback::version_text().rfind("usbserial-loopback ", 0), 0U);
}

TEST(ParseOptions, Refusals) {
  const std::vector<std::vector<const char*>> bad = {
      {"--bogus"},
      {"--bytes", "0"},
      {"--bytes", "lots"},
      {"--baud", "0"},
      {"--baud", "-9600"},
      {"--baud", "9600.5"},
      {"--baud", "4294967296"},
      {"--timeout", "0"},
      {"--timeout", "-1"},
      {"--timeout", "soon"},
      {"--timeout", "nan"},
      {"--chunk", "0"},
      {"--chunk", "17M"},
      {"--json", ""},
      {"--sim", ""},
      {"/dev/ttyUSB0", "/dev/ttyUSB1"},
      {"/dev/ttyUSB0", "--sim", "ft232r"},
      {"/dev/ttyUSB0", "--bridge", "/bin/true"},
      {"/dev/ttyUSB0", "--bridge-arg=--paced"},
      {"--baud"},
  };
  for (const auto& args : bad) {
    std::vector<const char*> argv{"usbserial-loopback"};
    argv.insert(argv.end(), args.begin(), args.end());
    const ParseResult r = loopback::parse_options(static_cast<int>(argv.size()), argv.data());
    EXPECT_EQ(r.action, ParseAction::error) << args[0];
    EXPECT_FALSE(r.message.empty()) << args[0];
  }
}

}  // namespace
