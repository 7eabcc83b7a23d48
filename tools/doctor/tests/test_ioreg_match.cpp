// ioreg dumps (text and XML) -> USB objects -> which personality matches, the first failing key,
// and drivers already attached that would outrank us. Malformed dumps: an error with the line
// and column, never a crash.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>

#include "lib/commands.hpp"
#include "lib/ioreg.hpp"
#include "lib/plist_util.hpp"

namespace {

namespace fs = std::filesystem;
using doctor::PlistPtr;

const fs::path kFixtures(DOCTOR_FIXTURES);

std::string read(const fs::path& path) {
  std::string data;
  std::string error;
  EXPECT_TRUE(doctor::read_file(path.string(), data, error)) << error;
  return data;
}

PlistPtr load_plist(const fs::path& path) {
  doctor::Parsed parsed = doctor::parse_plist_text(read(path));
  EXPECT_TRUE(parsed.ok()) << path;
  return std::move(parsed.root);
}

std::vector<doctor::UsbObject> objects_of(const fs::path& dump) {
  doctor::IoregParsed parsed = doctor::parse_ioreg(read(dump));
  EXPECT_FALSE(parsed.error.has_value())
      << dump << ": " << (parsed.error ? parsed.error->message : "");
  return doctor::usb_objects(parsed.registry);
}

const doctor::ObjectReport* interface_report(const std::vector<doctor::ObjectReport>& reports,
                                             uint64_t number) {
  for (const doctor::ObjectReport& report : reports) {
    if (report.object.level == doctor::UsbLevel::interface &&
        report.object.numbers.at("bInterfaceNumber") == number) {
      return &report;
    }
  }
  return nullptr;
}

const doctor::ObjectReport* device_report(const std::vector<doctor::ObjectReport>& reports) {
  for (const doctor::ObjectReport& report : reports) {
    if (report.object.level == doctor::UsbLevel::device) {
      return &report;
    }
  }
  return nullptr;
}

TEST(IoregText, ParsesTreePropertiesAndValueKinds) {
  doctor::IoregParsed parsed =
      doctor::parse_ioreg_text(read(kFixtures / "ioreg" / "ch9102-apple-chcom.txt"));
  ASSERT_FALSE(parsed.error.has_value()) << parsed.error->message;
  const auto& entries = parsed.registry.entries;
  ASSERT_EQ(entries.size(), 5u);  // device, interface 0, CHCOM, BSD client, interface 1
  EXPECT_EQ(entries[0].class_name, "IOUSBHostDevice");
  EXPECT_EQ(entries[0].name, "USB Single Serial");
  EXPECT_EQ(entries[0].location, "01100000");
  EXPECT_EQ(entries[0].id, "0x100000a1c");
  EXPECT_EQ(entries[0].children, (std::vector<int>{1, 4}));
  EXPECT_EQ(entries[2].parent, 1);
  EXPECT_EQ(entries[3].parent, 2);
  EXPECT_EQ(doctor::as_uint(doctor::dict_get(entries[0].props.get(), "idVendor")), 0x1A86u);
  EXPECT_EQ(doctor::as_string(doctor::dict_get(entries[0].props.get(), "USB Serial Number")),
            "5434012345");
  EXPECT_TRUE(
      doctor::is_type(doctor::dict_get(entries[0].props.get(), "IOCFPlugInTypes"), PLIST_DICT));
  EXPECT_EQ(doctor::as_bool(doctor::dict_get(entries[2].props.get(), "IOMatchDefer")), true);
  plist_t classes = doctor::dict_get(entries[2].props.get(), "IOUserClasses");
  ASSERT_TRUE(doctor::is_type(classes, PLIST_ARRAY));
  EXPECT_EQ(doctor::array_items(classes).size(), 5u);
  EXPECT_EQ(doctor::as_string(doctor::dict_get(entries[3].props.get(), "IOCalloutDevice")),
            "/dev/cu.usbserial-110");
}

TEST(IoregText, DataNegativeAndHexValues) {
  const std::string dump =
      "+-o Dev@1  <class IOUSBHostDevice, id 0x1, registered>\n"
      "  {\n"
      "    \"Blob\" = <0aFF10>\n"
      "    \"Neg\" = -5\n"
      "    \"Hex\" = 0x403\n"
      "    \"Empty\" = ()\n"
      "    \"Nested\" = {\"a\"=(1,{\"b\"=No}),\"c\"=\"x,y\"}\n"
      "  }\n";
  doctor::IoregParsed parsed = doctor::parse_ioreg_text(dump);
  ASSERT_FALSE(parsed.error.has_value()) << parsed.error->message;
  plist_t props = parsed.registry.entries[0].props.get();
  plist_t blob = doctor::dict_get(props, "Blob");
  ASSERT_TRUE(doctor::is_type(blob, PLIST_DATA));
  uint64_t length = 0;
  const char* bytes = plist_get_data_ptr(blob, &length);
  ASSERT_EQ(length, 3u);
  EXPECT_EQ(static_cast<unsigned char>(bytes[1]), 0xFFu);
  EXPECT_EQ(static_cast<int64_t>(*doctor::as_uint(doctor::dict_get(props, "Neg"))), -5);
  EXPECT_EQ(doctor::as_uint(doctor::dict_get(props, "Hex")), 0x403u);
  EXPECT_EQ(doctor::as_string(doctor::dict_get(doctor::dict_get(props, "Nested"), "c")), "x,y");
}

struct BadDump {
  const char* text;
  int line;
  int column;
  const char* words;
};

class MalformedIoreg : public ::testing::TestWithParam<BadDump> {};

TEST_P(MalformedIoreg, ReportsLineAndColumn) {
  const BadDump& bad = GetParam();
  doctor::IoregParsed parsed = doctor::parse_ioreg_text(bad.text);
  ASSERT_TRUE(parsed.error.has_value());
  EXPECT_EQ(parsed.error->line, bad.line) << parsed.error->message;
  EXPECT_EQ(parsed.error->column, bad.column) << parsed.error->message;
  EXPECT_THAT(parsed.error->message, ::testing::HasSubstr(bad.words));
}

INSTANTIATE_TEST_SUITE_P(
    Dumps, MalformedIoreg,
    ::testing::Values(
        BadDump{"", 1, 1, "no \"+-o\""},
        BadDump{"+-o Dev  <klass IOUSBHostDevice>\n", 1, 5, "<class"},
        BadDump{"+-o Dev  <class IOUSBHostDevice\n", 1, 10, "closing '>'"},
        BadDump{"+-o D  <class X>\n  {\n    \"a\" = \"unterminated\n  }\n", 3, 11, "unterminated"},
        BadDump{"+-o D  <class X>\n  {\n    \"a\" 5\n  }\n", 3, 9, "expected '='"},
        BadDump{"+-o D  <class X>\n  {\n    \"a\" = (1,2\n  }\n", 3, 15, "',' or ')'"},
        BadDump{"+-o D  <class X>\n  {\n    \"a\" = <0a1>\n  }\n", 3, 15, "odd number"},
        BadDump{"+-o D  <class X>\n  {\n    \"a\" = 99999999999999999999999\n  }\n", 3, 11,
                "too large"},
        BadDump{"+-o D  <class X>\n  {\n    \"a\" = maybe\n  }\n", 3, 11, "unexpected character"},
        BadDump{"+-o D  <class X>\n  {\n    \"a\" = 1 2\n  }\n", 3, 13, "unexpected text"},
        BadDump{"+-o D  <class X>\n  {\n    \"a\" = 1\n", 3, 1, "not closed"},
        BadDump{"  }\n", 1, 3, "without an open"}, BadDump{"  {\n", 1, 3, "before any"},
        BadDump{"+-o D  <class X>\n  hello\n", 2, 3, "outside a property block"}));

TEST(MalformedIoreg, DeeplyNestedValuesAreRefused) {
  std::string dump = "+-o D  <class X>\n  {\n    \"a\" = ";
  for (int i = 0; i < 10000; ++i) {
    dump += "(";
  }
  dump += "\n  }\n";
  doctor::IoregParsed parsed = doctor::parse_ioreg_text(dump);
  ASSERT_TRUE(parsed.error.has_value());
  EXPECT_THAT(parsed.error->message, ::testing::HasSubstr("nested deeper"));
}

TEST(Match, VendorInterfaceDeviceWithWrongInterfaceNumberFailsOnThatKey) {
  PlistPtr info = load_plist(kFixtures / "check" / "wrong-interface" / "Info.plist");
  const auto reports =
      doctor::match_objects(info.get(), objects_of(kFixtures / "ioreg" / "vendor-two-ff.txt"));
  for (uint64_t number : {0u, 1u}) {
    const doctor::ObjectReport* report = interface_report(reports, number);
    ASSERT_NE(report, nullptr);
    EXPECT_FALSE(report->winner.has_value());
    ASSERT_EQ(report->results.size(), 1u);
    EXPECT_EQ(report->results[0].outcome.failed_key, "bInterfaceNumber");
  }
}

TEST(Match, GoodPersonalitiesMatchBothVendorInterfaces) {
  PlistPtr info = load_plist(kFixtures / "check" / "good" / "Info.plist");
  const auto reports =
      doctor::match_objects(info.get(), objects_of(kFixtures / "ioreg" / "vendor-two-ff.txt"));
  const doctor::ObjectReport* port_a = interface_report(reports, 0);
  const doctor::ObjectReport* port_b = interface_report(reports, 1);
  ASSERT_NE(port_a, nullptr);
  ASSERT_NE(port_b, nullptr);
  EXPECT_EQ(port_a->winner, "Example port A");
  EXPECT_EQ(port_b->winner, "Example port B");
  // Tier 90000 (docs/driverkit-reference.md §3.4) + IOProbeScore 95000 from the fixture.
  EXPECT_EQ(port_a->winner_score, 90000u + 95000u);
}

TEST(Match, TheProjectClaimsTheCdcAcmCh9102AtTheDeviceLevel) {
  // The CH9102F is a CDC-ACM function: its bulk pair is in interface 1, out of an
  // interface-matched dext's reach. The IOUserSerial class matches the device by
  // VID/PID and opens both interfaces itself (docs/cdc-acm.md), so our only
  // personality for it is on the IOUSBHostDevice; in this dump Apple's
  // AppleUSBCHCOM holds interface 0, which a device-level match would pre-empt [U].
  PlistPtr info = load_plist(fs::path(USBSERIAL_PLIST_DIR) / "Info.plist");
  const auto reports =
      doctor::match_objects(info.get(), objects_of(kFixtures / "ioreg" / "ch9102-apple-chcom.txt"));
  const doctor::ObjectReport* device = device_report(reports);
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(device->winner, "WCH CH9102F");
  const doctor::ObjectReport* comm = interface_report(reports, 0);
  ASSERT_NE(comm, nullptr);
  EXPECT_FALSE(comm->winner.has_value());
  ASSERT_EQ(comm->object.drivers.size(), 1u);
  EXPECT_EQ(comm->object.drivers[0].bundle_id, "com.apple.DriverKit-AppleUSBCHCOM");
  EXPECT_EQ(comm->object.drivers[0].probe_score, 89999u);
  EXPECT_EQ(comm->object.drivers[0].tier_score, 90000);
  // The CDC data interface (class 0x0A, interface 1) gets no personality either.
  const doctor::ObjectReport* data = interface_report(reports, 1);
  ASSERT_NE(data, nullptr);
  EXPECT_FALSE(data->winner.has_value());
}

TEST(Match, XmlDumpAndAVendorDextThatOutranksUs) {
  PlistPtr info = load_plist(fs::path(USBSERIAL_PLIST_DIR) / "Info.plist");
  const auto objects = objects_of(kFixtures / "ioreg" / "ft2232h-vendor-dext.xml");
  ASSERT_EQ(objects.size(), 3u);  // the device and its two interfaces
  const auto reports = doctor::match_objects(info.get(), objects);
  const doctor::ObjectReport* port_a = interface_report(reports, 0);
  const doctor::ObjectReport* port_b = interface_report(reports, 1);
  ASSERT_NE(port_a, nullptr);
  ASSERT_NE(port_b, nullptr);
  EXPECT_EQ(port_a->winner, "FTDI FT2232C/D/H port A");
  EXPECT_TRUE(port_a->outranked);  // com.ftdi.vcp.dext at IOProbeScore 100000
  EXPECT_EQ(port_b->winner, "FTDI FT2232C/D/H port B");
  EXPECT_FALSE(port_b->outranked);
  EXPECT_THAT(doctor::render_match_text(reports), ::testing::HasSubstr("would outrank us"));
}

// A CP2102 and a CP2105 with Apple's AppleUSBSLCOM attached (tier 90000 + IOProbeScore 89999,
// docs/driverkit-reference.md §1.7, §3.2): the project's personality for each interface matches at
// the same tier and a higher score, so `usbserial-doctor match` names ours as the winner.
TEST(Match, ProjectPersonalityBeatsAppleSlcomOnACp2102) {
  PlistPtr info = load_plist(fs::path(USBSERIAL_PLIST_DIR) / "Info.plist");
  const auto reports =
      doctor::match_objects(info.get(), objects_of(kFixtures / "ioreg" / "cp2102-apple-slcom.txt"));
  ASSERT_EQ(reports.size(), 2u);
  const doctor::ObjectReport* interface = interface_report(reports, 0);
  ASSERT_NE(interface, nullptr);
  EXPECT_EQ(interface->winner, "Silicon Labs CP210x");
  EXPECT_EQ(interface->winner_score, 90000u + 95000u);
  ASSERT_EQ(interface->object.drivers.size(), 1u);
  EXPECT_EQ(interface->object.drivers[0].class_name, "AppleUSBSLCOM");
  EXPECT_EQ(interface->object.drivers[0].probe_score, 89999u);
  EXPECT_FALSE(interface->outranked);
}

TEST(Match, ProjectPersonalitiesBeatAppleSlcomOnBothCp2105Ports) {
  PlistPtr info = load_plist(fs::path(USBSERIAL_PLIST_DIR) / "Info.plist");
  const auto objects = objects_of(kFixtures / "ioreg" / "cp2105-apple-slcom.txt");
  ASSERT_EQ(objects.size(), 3u);  // the device and its two interfaces
  const auto reports = doctor::match_objects(info.get(), objects);
  const char* const names[] = {"Silicon Labs CP2105 port A", "Silicon Labs CP2105 port B"};
  for (uint64_t number : {0u, 1u}) {
    SCOPED_TRACE("interface " + std::to_string(number));
    const doctor::ObjectReport* port = interface_report(reports, number);
    ASSERT_NE(port, nullptr);
    EXPECT_EQ(port->winner, names[number]);
    ASSERT_EQ(port->object.drivers.size(), 1u);
    const doctor::AttachedDriver& apple = port->object.drivers[0];
    EXPECT_EQ(apple.bundle_id, "com.apple.DriverKit-AppleUSBSLCOM");
    EXPECT_EQ(apple.tier_score, 90000);
    EXPECT_EQ(apple.probe_score, 89999u);
    EXPECT_GT(port->winner_score, static_cast<uint64_t>(apple.tier_score) + *apple.probe_score);
    EXPECT_FALSE(port->outranked);
  }
  const std::string text = doctor::render_match_text(reports);
  EXPECT_THAT(text, ::testing::HasSubstr("Silicon Labs CP2105 port B"));
  EXPECT_THAT(text, ::testing::HasSubstr("AppleUSBSLCOM"));
  EXPECT_THAT(text, ::testing::HasSubstr("ours should win"));
  EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("would outrank us")));
}

// The same through the tool a user runs: `usbserial-doctor match Info.plist --ioreg dump`.
TEST(Match, TheDoctorCommandShowsOursWinningOverSlcom) {
  const std::string command = std::string(DOCTOR_BINARY) + " match " + USBSERIAL_PLIST_DIR +
                              "/Info.plist --ioreg " +
                              (kFixtures / "ioreg" / "cp2105-apple-slcom.txt").string() + " --json";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  while (const size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) {
    output.append(buffer, n);
  }
  const int status = ::pclose(pipe);
  EXPECT_EQ(WEXITSTATUS(status), 0) << output;  // something matched
  EXPECT_THAT(output, ::testing::HasSubstr("\"match\": \"Silicon Labs CP2105 port A\""));
  EXPECT_THAT(output, ::testing::HasSubstr("\"match\": \"Silicon Labs CP2105 port B\""));
  EXPECT_THAT(output, ::testing::HasSubstr("\"outranked\": false"));
  EXPECT_THAT(output, ::testing::Not(::testing::HasSubstr("\"outranked\": true")));
}

// Tiers, arrays and masks, computed by hand from docs/driverkit-reference.md §3.4.
TEST(Match, TiersArraysAndMasks) {
  doctor::UsbObject interface;
  interface.level = doctor::UsbLevel::interface;
  interface.numbers = {{"idVendor", 0x0CAD},      {"idProduct", 0x9016},
                       {"bcdDevice", 0x0200},     {"bConfigurationValue", 1},
                       {"bInterfaceNumber", 1},   {"bInterfaceClass", 0xFF},
                       {"bInterfaceSubClass", 2}, {"bInterfaceProtocol", 0}};
  auto personality = [](std::initializer_list<std::pair<const char*, uint64_t>> keys) {
    PlistPtr p(plist_new_dict());
    plist_dict_set_item(p.get(), "IOProviderClass", plist_new_string("IOUSBHostInterface"));
    for (const auto& [key, value] : keys) {
      plist_dict_set_item(p.get(), key, plist_new_uint(value));
    }
    return p;
  };
  PlistPtr vendor_sub = personality({{"idVendor", 0x0CAD}, {"bInterfaceSubClass", 2}});
  EXPECT_EQ(doctor::match_personality(vendor_sub.get(), interface).tier_score, 70000);
  PlistPtr vendor_sub_proto =
      personality({{"idVendor", 0x0CAD}, {"bInterfaceSubClass", 2}, {"bInterfaceProtocol", 0}});
  EXPECT_EQ(doctor::match_personality(vendor_sub_proto.get(), interface).tier_score, 80000);
  PlistPtr full = personality({{"idVendor", 0x0CAD},
                               {"idProduct", 0x9016},
                               {"bcdDevice", 0x0200},
                               {"bConfigurationValue", 1},
                               {"bInterfaceNumber", 1}});
  EXPECT_EQ(doctor::match_personality(full.get(), interface).tier_score, 100000);
  PlistPtr masked = personality({{"idVendor", 0x0CAD},
                                 {"idProduct", 0x9000},
                                 {"idProductMask", 0xFF00},
                                 {"bConfigurationValue", 1},
                                 {"bInterfaceNumber", 1}});
  EXPECT_TRUE(doctor::match_personality(masked.get(), interface).matched);
  PlistPtr array =
      personality({{"idVendor", 0x0CAD}, {"bConfigurationValue", 1}, {"bInterfaceNumber", 1}});
  plist_t products = plist_new_array();
  plist_array_append_item(products, plist_new_uint(0x9015));
  plist_array_append_item(products, plist_new_uint(0x9016));
  plist_dict_set_item(array.get(), "idProductArray", products);
  EXPECT_EQ(doctor::match_personality(array.get(), interface).tier_score, 90000);
  PlistPtr by_class = personality({{"bInterfaceClass", 0xFF}, {"bInterfaceSubClass", 2}});
  const doctor::MatchOutcome vendor_by_class = doctor::match_personality(by_class.get(), interface);
  EXPECT_FALSE(vendor_by_class.matched);
  EXPECT_EQ(vendor_by_class.failed_key, "bInterfaceClass");
  PlistPtr device_key = personality({{"idVendor", 0x0CAD}, {"bDeviceSubClass", 2}});
  EXPECT_EQ(doctor::match_personality(device_key.get(), interface).failed_key, "bDeviceSubClass");
}

}  // namespace
