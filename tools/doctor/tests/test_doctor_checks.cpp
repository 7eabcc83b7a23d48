// usbserial-doctor check: every fixture reports exactly the check IDs of its failure mode, the
// project's own generated plists are clean, malformed plists give a position, and the check
// table in docs/troubleshooting.md is the one the code prints.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "lib/checks.hpp"
#include "lib/plist_util.hpp"
#include "tools/common/plist_compat.hpp"

namespace {

namespace fs = std::filesystem;
using doctor::PlistPtr;

const fs::path kFixtures = fs::path(DOCTOR_FIXTURES) / "check";

PlistPtr load(const fs::path& path, bool profile = false) {
  std::string data;
  std::string error;
  if (!doctor::read_file(path.string(), data, error)) {
    ADD_FAILURE() << error;
    return PlistPtr(nullptr);
  }
  std::string_view text = data;
  if (profile) {
    text = doctor::provisioning_profile_plist(text);
  }
  doctor::Parsed parsed = doctor::parse_plist_text(text);
  EXPECT_TRUE(parsed.ok()) << path << ": " << (parsed.error ? parsed.error->message : "");
  return std::move(parsed.root);
}

// Runs the checks of one fixture directory; returns the set of IDs reported.
std::set<std::string> ids_for(const std::string& name, const std::string& info_rel = "Info.plist") {
  const fs::path dir = kFixtures / name;
  PlistPtr info = load(dir / info_rel);
  PlistPtr ents =
      fs::exists(dir / "entitlements.plist") ? load(dir / "entitlements.plist") : PlistPtr(nullptr);
  PlistPtr app =
      fs::exists(dir / "app.entitlements") ? load(dir / "app.entitlements") : PlistPtr(nullptr);
  PlistPtr profile = fs::exists(dir / "embedded.provisionprofile")
                         ? load(dir / "embedded.provisionprofile", true)
                         : PlistPtr(nullptr);
  doctor::CheckInput input;
  input.info = info.get();
  input.entitlements = ents.get();
  input.app_entitlements = app.get();
  input.profile = profile.get();
  const fs::path parent = (dir / info_rel).parent_path();
  if (parent.extension() == ".dext") {
    input.bundle_folder = parent.filename().string();
  }
  std::set<std::string> ids;
  for (const doctor::Finding& finding : doctor::run_checks(input)) {
    EXPECT_NE(doctor::find_check(finding.id), nullptr) << finding.id << " is not in the table";
    ids.insert(finding.id);
  }
  return ids;
}

using Ids = std::set<std::string>;

struct Case {
  const char* fixture;
  Ids expected;
};

class FixtureCase : public ::testing::TestWithParam<Case> {};

TEST_P(FixtureCase, ReportsExactlyItsCheckIds) {
  const Case& c = GetParam();
  EXPECT_EQ(ids_for(c.fixture), c.expected) << c.fixture;
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, FixtureCase,
    ::testing::Values(
        Case{"good", {}},
        Case{"missing-bundle-keys",
             {"BUNDLE-EXECUTABLE", "BUNDLE-PACKAGE-TYPE", "BUNDLE-USAGE-DESCRIPTION",
              "BUNDLE-MIN-DRIVERKIT-MISSING"}},
        Case{"old-driverkit", {"BUNDLE-MIN-DRIVERKIT-LOW"}},
        Case{"server-name-mismatch", {"PERS-SERVER-NAME"}},
        Case{"no-user-class", {"PERS-USER-CLASS"}},
        Case{"ioclass-userservice", {"PERS-IOCLASS-SERIAL", "PERS-KERNEL-BUNDLE"}},
        Case{"device-provider", {"PERS-PROVIDER-SERIAL"}},
        Case{"legacy-provider", {"PERS-PROVIDER-CLASS"}},
        Case{"mixed-keyset", {"PERS-MATCH-KEYSET"}}, Case{"string-vid", {"PERS-MATCH-TYPE"}},
        Case{"out-of-range", {"PERS-MATCH-RANGE"}}, Case{"never-keys", {"PERS-MATCH-NEVER"}},
        Case{"typo-key", {"PERS-UNKNOWN-KEY", "PERS-MATCH-KEYSET"}},
        Case{"probe-score-low", {"PERS-PROBE-SCORE"}}, Case{"probe-score-fixed", {}},
        Case{"match-category", {"PERS-MATCH-CATEGORY"}},
        Case{"duplicate", {"PERS-DUPLICATE-MATCH"}}, Case{"tty-name", {"PERS-TTY-NAME"}},
        Case{"empty-dext-entitlements", {"PERS-DEXT-ENTITLEMENTS"}},
        Case{"userclient-empty-array", {"PERS-USERCLIENT-PROPS"}},
        Case{"app-no-userclient-access", {"APP-USERCLIENT-ACCESS"}},
        Case{"app-userclient-access-fixed", {}}, Case{"app-no-user-client-needed", {}},
        Case{"pci-entitlement", {"ENT-TRANSPORT-MISMATCH", "ENT-USB-MISSING"}},
        Case{"usb-not-covered", {"ENT-USB-COVERAGE"}},
        Case{"usb-product-not-covered", {"ENT-USB-COVERAGE"}}, Case{"usb-true", {"ENT-USB-SHAPE"}},
        Case{"no-driverkit", {"ENT-DRIVERKIT", "ENT-FAMILY-SERIAL"}},
        Case{"wildcard-class", {"PERS-CLASS-MATCH-DEV", "ENT-USB-WILDCARD"}},
        Case{"class-not-entitled", {"PERS-CLASS-MATCH-DEV", "ENT-USB-COVERAGE"}},
        Case{"vendor-class-ff", {"PERS-MATCH-NEVER", "PERS-CLASS-MATCH-DEV", "ENT-USB-WILDCARD"}},
        Case{"profile-missing", {"PROFILE-ENTITLEMENT-MISSING"}}, Case{"profile-fixed", {}},
        Case{"wrong-interface", {}}),
    [](const ::testing::TestParamInfo<Case>& param) {
      std::string name = param.param.fixture;
      for (char& c : name) {
        if (c == '-') {
          c = '_';
        }
      }
      return name;
    });

TEST(BundleFolder, WrongFolderNameIsReportedAndTheRightOneIsNot) {
  EXPECT_EQ(ids_for("folder-name", "wrong.dext/Info.plist"), Ids{"BUNDLE-FOLDER-NAME"});
  EXPECT_EQ(ids_for("folder-name-fixed", "org.example.serial.dext/Info.plist"), Ids{});
}

TEST(Findings, CarryTheKeyPathAndTheOffendingValue) {
  const fs::path dir = kFixtures / "string-vid";
  PlistPtr info = load(dir / "Info.plist");
  PlistPtr ents = load(dir / "entitlements.plist");
  doctor::CheckInput input;
  input.info = info.get();
  input.entitlements = ents.get();
  const auto findings = doctor::run_checks(input);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].key_path, "Info.plist:IOKitPersonalities.\"Example port A\".idVendor");
  EXPECT_THAT(findings[0].message, ::testing::HasSubstr("\"0x0CAD\""));
  EXPECT_EQ(findings[0].severity, doctor::Severity::error);
  EXPECT_EQ(doctor::exit_status(findings), 2);
}

TEST(Findings, UserClientRefusalNamesNotPermittedAndUnverifiedIsMarked) {
  const doctor::CheckInfo* uc = doctor::find_check("PERS-USERCLIENT-PROPS");
  ASSERT_NE(uc, nullptr);
  EXPECT_THAT(uc->consequence, ::testing::HasSubstr("kIOReturnNotPermitted"));
  const doctor::CheckInfo* folder = doctor::find_check("BUNDLE-FOLDER-NAME");
  ASSERT_NE(folder, nullptr);
  EXPECT_TRUE(folder->unverified);
  doctor::Finding finding{"BUNDLE-FOLDER-NAME", doctor::Severity::error, "x.dext", "m"};
  EXPECT_THAT(doctor::render_text({finding}, false), ::testing::HasSubstr("[U]"));
}

TEST(ExitStatus, ZeroOneTwo) {
  using doctor::Severity;
  EXPECT_EQ(doctor::exit_status({}), 0);
  EXPECT_EQ(doctor::exit_status({{"ENT-NOT-CHECKED", Severity::info, "", ""}}), 0);
  EXPECT_EQ(doctor::exit_status({{"ENT-USB-WILDCARD", Severity::warning, "", ""}}), 1);
  EXPECT_EQ(doctor::exit_status({{"ENT-USB-WILDCARD", Severity::warning, "", ""},
                                 {"ENT-DRIVERKIT", Severity::error, "", ""}}),
            2);
}

TEST(Table, IdsAreUniqueAndEveryEntryIsFilledIn) {
  std::set<std::string> ids;
  for (const doctor::CheckInfo& info : doctor::all_checks()) {
    EXPECT_TRUE(ids.insert(info.id).second) << info.id;
    EXPECT_GT(std::string(info.title).size(), 5u) << info.id;
    EXPECT_FALSE(std::string(info.consequence).empty()) << info.id;
    EXPECT_FALSE(std::string(info.fix).empty()) << info.id;
  }
}

TEST(Table, TroubleshootingDocHoldsTheGeneratedTable) {
  std::ifstream in(DOCTOR_DOCS);
  ASSERT_TRUE(in) << DOCTOR_DOCS;
  std::ostringstream text;
  text << in.rdbuf();
  EXPECT_THAT(text.str(), ::testing::HasSubstr(doctor::checks_markdown_table()))
      << "regenerate the table: usbserial-doctor --markdown-checks";
}

// The project's own generated plists: no finding at all (production), and exactly the two
// development-only warnings in the development build.
TEST(ProjectPlists, ProductionIsCleanAndDevelopmentOnlyWarnsAboutDevelopmentEntries) {
  const fs::path dir(USBSERIAL_PLIST_DIR);
  PlistPtr info = load(dir / "Info.plist");
  PlistPtr ents = load(dir / "Entitlements.plist");
  doctor::CheckInput input;
  input.info = info.get();
  input.entitlements = ents.get();
  // The IOUserSerial class matches CDC-ACM devices at the device level; `check`
  // knows it opens the device (PERS-PROVIDER-SERIAL is for IOUserUSBSerial).
  input.device_serial_classes = {USBSERIAL_SERIAL_DRIVER_CLASS};
  EXPECT_TRUE(doctor::run_checks(input).empty());

  PlistPtr dev_info = load(dir / "development" / "Info.plist");
  PlistPtr dev_ents = load(dir / "development" / "Entitlements.plist");
  input.info = dev_info.get();
  input.entitlements = dev_ents.get();
  std::set<std::string> ids;
  for (const doctor::Finding& finding : doctor::run_checks(input)) {
    ids.insert(finding.id);
  }
  // No class personality: the only class rule (CDC-ACM) cannot be driven from one
  // interface (docs/cdc-acm.md), so development differs only by the wildcard.
  EXPECT_EQ(ids, (Ids{"ENT-USB-WILDCARD"}));
}

TEST(ProjectPlists, ADeviceLevelSerialPersonalityNeedsAClassKnownToOpenTheDevice) {
  PlistPtr info = load(fs::path(USBSERIAL_PLIST_DIR) / "Info.plist");
  PlistPtr ents = load(fs::path(USBSERIAL_PLIST_DIR) / "Entitlements.plist");
  doctor::CheckInput input;
  input.info = info.get();
  input.entitlements = ents.get();
  std::set<std::string> ids;
  for (const doctor::Finding& finding : doctor::run_checks(input)) {
    ids.insert(finding.id);
  }
  EXPECT_EQ(ids, (Ids{"PERS-PROVIDER-SERIAL"}));
  // The fixture's device-level class becomes acceptable once named.
  PlistPtr fixture = load(kFixtures / "device-provider" / "Info.plist");
  input.info = fixture.get();
  input.entitlements = nullptr;
  input.device_serial_classes = {"org_example_Serial"};
  for (const doctor::Finding& finding : doctor::run_checks(input)) {
    EXPECT_NE(finding.id, "PERS-PROVIDER-SERIAL");
  }
}

TEST(BinaryPlists, AreCheckedLikeXml) {
  PlistPtr info = load(kFixtures / "ioclass-userservice" / "Info.plist");
  char* bin = nullptr;
  uint32_t length = 0;
  plist_to_bin(info.get(), &bin, &length);
  ASSERT_NE(bin, nullptr);
  doctor::Parsed parsed = doctor::parse_plist_text(std::string_view(bin, length));
  plist_compat::free_buffer(bin);
  ASSERT_TRUE(parsed.ok());
  doctor::CheckInput input;
  input.info = parsed.root.get();
  std::set<std::string> ids;
  for (const doctor::Finding& finding : doctor::run_checks(input)) {
    ids.insert(finding.id);
  }
  EXPECT_EQ(ids, (Ids{"PERS-IOCLASS-SERIAL", "PERS-KERNEL-BUNDLE", "ENT-NOT-CHECKED"}));
}

struct Malformed {
  const char* text;
  int line;  // expected line of the error; -1: some line; 0: no line expected
  const char* words;
};

class MalformedPlist : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedPlist, GivesAClearErrorWithThePosition) {
  const Malformed& m = GetParam();
  doctor::Parsed parsed = doctor::parse_plist_text(m.text);
  ASSERT_FALSE(parsed.ok());
  ASSERT_TRUE(parsed.error.has_value());
  EXPECT_THAT(parsed.error->message, ::testing::HasSubstr(m.words));
  if (m.line > 0) {
    EXPECT_EQ(parsed.error->line, m.line) << parsed.error->message;
  }
  if (m.line != 0) {
    EXPECT_GT(parsed.error->line, 0) << parsed.error->message;
    EXPECT_THAT(parsed.error->position(), ::testing::StartsWith("line "));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, MalformedPlist,
    ::testing::Values(
        Malformed{"", 0, "empty"},
        Malformed{"<plist version=\"1.0\">\n<dict>\n<key>a</key>\n<string>x</dict>\n</plist>\n", -1,
                  "XML"},
        Malformed{"<plist>\n<dict>\n<key>a</key>\n<key>b</key>\n<true/>\n</dict>\n</plist>\n", 4,
                  "two <key>s"},
        Malformed{"<plist>\n<dict>\n<string>a</string>\n<true/>\n</dict>\n</plist>\n", 3,
                  "where a <key> is expected"},
        Malformed{"<plist>\n<dict>\n  <key>a</key>\n  <widget/>\n</dict>\n</plist>\n", 4,
                  "<widget>"},
        Malformed{"<?xml version=\"1.0\"?>\n<notplist>\n<dict/>\n</notplist>\n", 2, "not <plist>"},
        Malformed{"bplist00\x01\x02\x03", 0, "binary plist"},
        Malformed{"just some text", 1, "XML"}));

TEST(MalformedPlist, DeepNestingIsRefusedNotRecursedInto) {
  std::string deep = "<plist>";
  for (int i = 0; i < 5000; ++i) {
    deep += "<array>";
  }
  for (int i = 0; i < 5000; ++i) {
    deep += "</array>";
  }
  deep += "</plist>";
  doctor::Parsed parsed = doctor::parse_plist_text(deep);
  EXPECT_FALSE(parsed.ok());
  ASSERT_TRUE(parsed.error.has_value());
}

TEST(ProvisioningProfile, ThePlistIsFoundInsideTheSignedEnvelope) {
  const std::string envelope = std::string("0\x82\x01\x02garbage", 11) +
                               "<?xml version=\"1.0\"?><plist><dict/></plist>" +
                               std::string("\x00\xa0\x01", 3);
  EXPECT_EQ(doctor::provisioning_profile_plist(envelope),
            "<?xml version=\"1.0\"?><plist><dict/></plist>");
}

// The command-line tool on the generated plists (as CI runs it) exits 0 and prints no warning.
TEST(Cli, CheckOfGeneratedPlistsExitsZero) {
  const std::string command = std::string(DOCTOR_BINARY) + " check " + USBSERIAL_PLIST_DIR +
                              "/Info.plist --entitlements " + USBSERIAL_PLIST_DIR +
                              "/Entitlements.plist > /dev/null";
  EXPECT_EQ(std::system(command.c_str()), 0);
  const std::string broken = std::string(DOCTOR_BINARY) + " check " +
                             (kFixtures / "usb-true" / "Info.plist").string() + " --entitlements " +
                             (kFixtures / "usb-true" / "entitlements.plist").string() +
                             " --json > /dev/null";
  const int status = std::system(broken.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

}  // namespace
