// `usbserial-doctor match` on a Mac where Apple's in-box AppleUSBPLCOM drives a PL2303
// (067B:2303, one of the five IDs it claims) and a PL2303GC (067B:23A3, which it does not
// claim) has no driver. Our generated personalities must match both interfaces at the
// 90000 tier and outrank the attached AppleUSBPLCOM.
//
// The fixture's AppleUSBPLCOM IOProbeScore (89999) is an assumption: Apple's other in-box
// serial dexts carry 89999 in published ioreg dumps (AppleUSBSLCOM, AppleUSBCHCOM); PLCOM's
// own value has not been seen. Ours (95000) is above it, and above the bare 90000 tier too.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "lib/commands.hpp"
#include "lib/ioreg.hpp"
#include "lib/plist_util.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path kDump = fs::path(DOCTOR_FIXTURES) / "ioreg" / "pl2303-apple-plcom.txt";
const fs::path kInfo = fs::path(USBSERIAL_PLIST_DIR) / "Info.plist";

std::string read(const fs::path& path) {
  std::string data;
  std::string error;
  EXPECT_TRUE(doctor::read_file(path.string(), data, error)) << error;
  return data;
}

std::vector<doctor::ObjectReport> reports() {
  doctor::Parsed info = doctor::parse_plist_text(read(kInfo));
  EXPECT_TRUE(info.ok());
  doctor::IoregParsed dump = doctor::parse_ioreg(read(kDump));
  EXPECT_FALSE(dump.error.has_value()) << (dump.error ? dump.error->message : "");
  return doctor::match_objects(info.root.get(), doctor::usb_objects(dump.registry));
}

const doctor::ObjectReport* interface_of(const std::vector<doctor::ObjectReport>& all,
                                         uint64_t product) {
  for (const doctor::ObjectReport& report : all) {
    if (report.object.level == doctor::UsbLevel::interface &&
        report.object.numbers.at("idProduct") == product) {
      return &report;
    }
  }
  return nullptr;
}

TEST(Pl2303Match, OursOutranksAppleUsbPlcom) {
  const auto all = reports();
  const doctor::ObjectReport* pl2303 = interface_of(all, 0x2303);
  ASSERT_NE(pl2303, nullptr);
  EXPECT_EQ(pl2303->winner, "Prolific PL2303");
  EXPECT_EQ(pl2303->winner_score, 90000u + 95000u);
  ASSERT_EQ(pl2303->object.drivers.size(), 1u);
  EXPECT_EQ(pl2303->object.drivers[0].bundle_id, "com.apple.DriverKit-AppleUSBPLCOM");
  EXPECT_EQ(pl2303->object.drivers[0].probe_score, 89999u);
  EXPECT_EQ(pl2303->object.drivers[0].tier_score, 90000);
  EXPECT_FALSE(pl2303->outranked);
}

TEST(Pl2303Match, AGSeriesPartApplesDriverLeavesAloneIsOursToo) {
  const auto all = reports();
  const doctor::ObjectReport* gc = interface_of(all, 0x23A3);
  ASSERT_NE(gc, nullptr);
  EXPECT_EQ(gc->winner, "Prolific PL2303GC");
  EXPECT_TRUE(gc->object.drivers.empty());
  EXPECT_FALSE(gc->outranked);
}

TEST(Pl2303Match, DeviceNodesAreNotMatched) {
  // The personalities are for IOUSBHostInterface: the IOUSBHostDevice nodes match nothing.
  for (const doctor::ObjectReport& report : reports()) {
    if (report.object.level == doctor::UsbLevel::device) {
      EXPECT_FALSE(report.winner.has_value());
    }
  }
}

// The command a user runs: `usbserial-doctor match Info.plist --ioreg dump` says ours wins.
TEST(Pl2303Match, CommandLineSaysOursWins) {
  const std::string command =
      std::string(DOCTOR_BINARY) + " match " + kInfo.string() + " --ioreg " + kDump.string();
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  ASSERT_NE(pipe, nullptr);
  std::string out;
  std::array<char, 4096> buffer{};
  while (fgets(buffer.data(), buffer.size(), pipe.get()) != nullptr) {
    out += buffer.data();
  }
  const int status = pclose(pipe.release());
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("MATCH: \"Prolific PL2303\" score 185000"));
  EXPECT_THAT(out, ::testing::HasSubstr("MATCH: \"Prolific PL2303GC\" score 185000"));
  EXPECT_THAT(out, ::testing::HasSubstr(
                       "attached now: AppleUSBPLCOM (com.apple.DriverKit-AppleUSBPLCOM), tier "
                       "90000 + IOProbeScore 89999 = 179999 < ours 185000"));
  EXPECT_THAT(out, ::testing::Not(::testing::HasSubstr("would outrank us")));
}

}  // namespace
