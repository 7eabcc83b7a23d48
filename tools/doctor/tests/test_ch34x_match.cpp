// A Mac with a CH340 (1A86:7523) that Apple's in-box AppleUSBCHCOM has claimed
// (fixtures/ioreg/ch340-apple-chcom.txt, written in the shape of `ioreg -l`): our generated
// personality must match the interface and outrank Apple's. AppleUSBCHCOM's personality keys
// and IOProbeScore 89999 are those of Apple's serial dexts (docs/driverkit-reference.md §1.7 and
// §3.2); both sides use the 90000 key tier (§3.4), so the probe score decides.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "lib/commands.hpp"
#include "lib/ioreg.hpp"
#include "lib/plist_util.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path kDump = fs::path(DOCTOR_FIXTURES) / "ioreg" / "ch340-apple-chcom.txt";
const fs::path kInfo = fs::path(USBSERIAL_PLIST_DIR) / "Info.plist";

std::string read(const fs::path& path) {
  std::string data;
  std::string error;
  EXPECT_TRUE(doctor::read_file(path.string(), data, error)) << error;
  return data;
}

// Runs a command and returns its stdout and exit status.
std::pair<std::string, int> run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return {out, -1};
  }
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    out.append(buffer, n);
  }
  const int status = ::pclose(pipe);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

TEST(Ch34xMatch, OurCh340PersonalityBeatsAppleChcom) {
  doctor::Parsed info = doctor::parse_plist_text(read(kInfo));
  ASSERT_TRUE(info.ok());
  doctor::IoregParsed dump = doctor::parse_ioreg(read(kDump));
  ASSERT_FALSE(dump.error.has_value()) << dump.error->message;
  const auto reports = doctor::match_objects(info.root.get(), doctor::usb_objects(dump.registry));
  ASSERT_EQ(reports.size(), 2u);  // the device and its one interface
  const doctor::ObjectReport& device = reports[0];
  EXPECT_EQ(device.object.level, doctor::UsbLevel::device);
  EXPECT_FALSE(device.winner.has_value());  // our personalities are for interfaces
  const doctor::ObjectReport& interface = reports[1];
  ASSERT_EQ(interface.object.level, doctor::UsbLevel::interface);
  EXPECT_EQ(interface.object.numbers.at("idProduct"), 0x7523u);
  EXPECT_EQ(interface.winner, "WCH CH340");
  EXPECT_EQ(interface.winner_score, 90000u + 95000u);
  ASSERT_EQ(interface.object.drivers.size(), 1u);
  EXPECT_EQ(interface.object.drivers[0].bundle_id, "com.apple.DriverKit-AppleUSBCHCOM");
  EXPECT_EQ(interface.object.drivers[0].probe_score, 89999u);
  EXPECT_EQ(interface.object.drivers[0].tier_score, 90000);
  EXPECT_FALSE(interface.outranked);
  // No other CH34x personality claims this device.
  for (const doctor::PersonalityResult& result : interface.results) {
    EXPECT_EQ(result.outcome.matched, result.personality == "WCH CH340") << result.personality;
  }
}

TEST(Ch34xMatch, TheMatchCommandSaysOursWins) {
  const std::string base =
      std::string(DOCTOR_BINARY) + " match " + kInfo.string() + " --ioreg " + kDump.string();
  const auto [text, text_status] = run(base);
  EXPECT_EQ(text_status, 0) << text;  // something matched
  EXPECT_THAT(text, ::testing::HasSubstr("MATCH: \"WCH CH340\" score 185000"));
  EXPECT_THAT(text, ::testing::HasSubstr("AppleUSBCHCOM (com.apple.DriverKit-AppleUSBCHCOM)"));
  EXPECT_THAT(text, ::testing::HasSubstr("179999 < ours 185000"));
  EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("would outrank us")));

  const auto [json, json_status] = run(base + " --json");
  EXPECT_EQ(json_status, 0);
  const size_t interface = json.find("\"kind\": \"interface\"");
  ASSERT_NE(interface, std::string::npos) << json;
  const std::string tail = json.substr(interface);
  EXPECT_THAT(tail, ::testing::HasSubstr("\"match\": \"WCH CH340\""));
  EXPECT_THAT(tail, ::testing::HasSubstr("\"score\": 185000"));
  EXPECT_THAT(tail, ::testing::HasSubstr("\"outranked\": false"));
}

}  // namespace
