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
  EXPECT_NE(loopback::help_text({"cdc-acm", "ft232r"}).find("Chips --sim takes: cdc-acm ft232r"),
            std::string::npos);
  EXPECT_NE(loopback::help_text({}, "unknown (no bridge)")
                .find("Chips --sim takes: unknown (no "
                      "bridge)"),
            std::string::npos);
  EXPECT_NE(loopback::help_text().find("Exit status"), std::string::npos);
  EXPECT_EQ(loopback::version_text().rfind("usbserial-loopback ", 0), 0U);
}

TEST(ParseOptions, ModesKeepTheirOrderWhateverTheCommandLineSays) {
  const ParseResult r = parse({"--mode", "sweep,latency", "--mode", "throughput", "--mode",
                               "latency", "--round-trips", "20", "--message", "64", "--rates",
                               "9600,1234567", "--all-ports", "--plot", "p.png"});
  ASSERT_EQ(r.action, ParseAction::run) << r.message;
  const loopback::Options& o = r.options;
  EXPECT_EQ(o.modes, (std::vector<loopback::Mode>{loopback::Mode::throughput,
                                                  loopback::Mode::latency, loopback::Mode::sweep}));
  EXPECT_EQ(o.round_trips, 20U);
  EXPECT_EQ(o.message_bytes, 64U);
  EXPECT_EQ(o.rates, (std::vector<uint32_t>{9600, 1234567}));
  EXPECT_TRUE(o.all_ports);
  EXPECT_EQ(o.plot_path, "p.png");
  EXPECT_EQ(loopback::sweep_rates(o), o.rates);
}

TEST(ParseOptions, SweepBytesFollowTheRateUnlessGiven) {
  loopback::Options o = parse({"--mode", "sweep"}).options;
  EXPECT_EQ(loopback::sweep_rates(o).front(), 9600U);
  EXPECT_EQ(loopback::sweep_rates(o).back(), 3000000U);
  EXPECT_EQ(loopback::sweep_bytes(o, 9600), 1024U);         // 480 B is under the 1K floor
  EXPECT_EQ(loopback::sweep_bytes(o, 921600), 46080U);      // half a second at 92160 B/s
  EXPECT_EQ(loopback::sweep_bytes(o, 50000000), 1U << 20);  // capped at 1M
  o = parse({"--mode", "sweep", "--bytes", "8K"}).options;
  EXPECT_EQ(loopback::sweep_bytes(o, 9600), 8192U);
}

TEST(ParseOptions, MatrixChipsRatesAndJobs) {
  loopback::Options o = parse({"--mode", "matrix"}).options;
  EXPECT_EQ(loopback::matrix_chips(o),
            (std::vector<std::string>{"cdc-acm", "ft232r", "cp2102n", "ch340", "pl2303-hx"}));
  EXPECT_EQ(loopback::matrix_rates(o),
            (std::vector<uint32_t>{300, 9600, 57600, 115200, 250000, 921600, 1800000, 2000000,
                                   2500000, 3000000}));
  EXPECT_EQ(o.jobs, 4U);
  o = parse({"--mode", "matrix", "--quick", "--chips", "ch340,ft232r,ch340", "--jobs", "1"})
          .options;
  EXPECT_EQ(loopback::matrix_chips(o), (std::vector<std::string>{"ch340", "ft232r"}));
  EXPECT_EQ(loopback::matrix_rates(o),
            (std::vector<uint32_t>{921600, 1800000, 2000000, 2500000, 3000000}));
  EXPECT_EQ(o.jobs, 1U);
  o = parse({"--mode", "matrix", "--rates", "2500000,300"}).options;
  EXPECT_EQ(loopback::matrix_rates(o), (std::vector<uint32_t>{2500000, 300}));  // in that order
}

TEST(ParseOptions, SoakRunsUnderRtsCtsWithLargeRandomWrites) {
  loopback::Options o = parse({"--mode", "soak", "--bytes", "1G"}).options;
  EXPECT_TRUE(o.rtscts);
  EXPECT_EQ(o.bytes, 1ULL << 30);
  EXPECT_EQ(o.seed, 1U);
  EXPECT_EQ(loopback::soak_chunk(o), 65536U);
  EXPECT_EQ(loopback::soak_rates(o), loopback::sweep_rates(o));
  o = parse({"--mode", "soak", "--chunk", "512", "--seed", "42", "--rates", "9600,115200"}).options;
  EXPECT_EQ(loopback::soak_chunk(o), 512U);
  EXPECT_EQ(o.seed, 42U);
  EXPECT_EQ(loopback::soak_rates(o), (std::vector<uint32_t>{9600, 115200}));
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
      {"--mode", "speed"},
      {"--mode", "latency,"},
      {"--round-trips", "100"},  // without --mode latency
      {"--mode", "latency", "--round-trips", "0"},
      {"--mode", "latency", "--message", "5000"},
      {"--rates", "9600"},  // without --mode sweep
      {"--mode", "sweep", "--rates", "9600,,115200"},
      {"--mode", "sweep", "--rates", "9600,-1"},
      {"--plot", ""},
      {"--mode", "matrix,throughput"},  // matrix and soak run alone
      {"--mode", "soak", "--mode", "latency"},
      {"--mode", "matrix", "/dev/ttyUSB0"},
      {"--mode", "matrix", "--sim", "ft232r"},
      {"--mode", "matrix", "--bytes", "1M"},
      {"--mode", "matrix", "--baud", "9600"},
      {"--mode", "matrix", "--chips", "ft232r,ft4232h"},  // not a chip of the matrix
      {"--mode", "matrix", "--jobs", "0"},
      {"--mode", "matrix", "--jobs", "17"},
      {"--mode", "matrix", "--quick", "--rates", "9600"},
      {"--chips", "ft232r"},  // without --mode matrix
      {"--quick"},
      {"--mode", "soak", "--all-ports"},
      {"--mode", "soak", "--seed", "-1"},
      {"--seed", "7"},  // without --mode soak
      {"--mode", "soak", "--plot", "s.png"},
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
