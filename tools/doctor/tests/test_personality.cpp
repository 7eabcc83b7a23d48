// usbserial-doctor personality: paste-ready personalities and entitlement entries from IDs, from
// an ioreg dump and from a (fake) Linux sysfs tree; the output passes `check`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "lib/checks.hpp"
#include "lib/commands.hpp"
#include "lib/ioreg.hpp"

namespace {

namespace fs = std::filesystem;

const plistgen::Identity kIdentity{USBSERIAL_BUNDLE_ID, USBSERIAL_DRIVER_CLASS, "USBSerialBridge",
                                   USBSERIAL_VERSION};

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// A fake /sys/bus/usb/devices with the kernel's attribute formats (drivers/usb/core/sysfs.c):
// a root hub, an FT2232H (two 0xFF interfaces) and a CDC-ACM device, plus junk.
class FakeSysfs : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("doctor-sysfs-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    device("usb1", "1d6b", "0002", "0515", "1", "09");
    device("1-1", "0403", "6010", "0700", "1", "00");
    iface("1-1:1.0", "00", "ff", "ff", "ff");
    iface("1-1:1.1", "01", "ff", "ff", "ff");
    device("1-2", "0cad", "9016", "0200", "1", "ef");
    iface("1-2:1.0", "00", "02", "02", "01");
    iface("1-2:1.1", "01", "0a", "00", "00");
    write(root_ / "1-2" / "product", "Example CDC\n");
    device("1-3", "zzzz", "0001", "0100", "1", "00");  // garbage idVendor: skipped
    fs::create_directories(root_ / "1-4");             // no attributes at all: skipped
  }
  void TearDown() override { fs::remove_all(root_); }

  void device(const std::string& name, const char* vid, const char* pid, const char* bcd,
              const char* config, const char* cls) {
    write(root_ / name / "idVendor", std::string(vid) + "\n");
    write(root_ / name / "idProduct", std::string(pid) + "\n");
    write(root_ / name / "bcdDevice", std::string(bcd) + "\n");
    write(root_ / name / "bConfigurationValue", std::string(config) + "\n");
    write(root_ / name / "bDeviceClass", std::string(cls) + "\n");
  }
  void iface(const std::string& name, const char* number, const char* cls, const char* sub,
             const char* proto) {
    write(root_ / name / "bInterfaceNumber", std::string(number) + "\n");
    write(root_ / name / "bInterfaceClass", std::string(cls) + "\n");
    write(root_ / name / "bInterfaceSubClass", std::string(sub) + "\n");
    write(root_ / name / "bInterfaceProtocol", std::string(proto) + "\n");
  }

  fs::path root_;
};

TEST_F(FakeSysfs, ReadsDevicesAndInterfacesSkippingHubsAndJunk) {
  std::vector<std::string> notes;
  const auto devices = doctor::devices_from_sysfs(root_.string(), notes);
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[0].device.vid, 0x0403);
  EXPECT_EQ(devices[0].device.pid, 0x6010);
  EXPECT_EQ(devices[0].device.bcd_device, 0x0700);
  ASSERT_EQ(devices[0].interfaces.size(), 2u);
  EXPECT_EQ(devices[0].interfaces[1].number, 1);
  EXPECT_EQ(devices[0].interfaces[1].interface_class, 0xFF);
  EXPECT_EQ(devices[1].device.vid, 0x0CAD);
  EXPECT_EQ(devices[1].device.product, "Example CDC");
  ASSERT_EQ(devices[1].interfaces.size(), 2u);
  EXPECT_EQ(devices[1].interfaces[0].interface_class, 0x02);
  EXPECT_EQ(devices[1].interfaces[1].interface_class, 0x0A);
}

TEST_F(FakeSysfs, GeneratedPersonalitiesPassCheck) {
  std::vector<std::string> notes;
  const auto devices = doctor::devices_from_sysfs(root_.string(), notes);
  doctor::PlistPtr info(plist_new_dict());
  plist_dict_set_item(info.get(), "CFBundleIdentifier", plist_new_string(USBSERIAL_BUNDLE_ID));
  plist_dict_set_item(info.get(), "CFBundleExecutable", plist_new_string(USBSERIAL_BUNDLE_ID));
  plist_dict_set_item(info.get(), "CFBundlePackageType", plist_new_string("DEXT"));
  plist_dict_set_item(info.get(), "OSBundleUsageDescription", plist_new_string("test"));
  plist_dict_set_item(info.get(), "OSMinimumDriverKitVersion", plist_new_string("20.0"));
  plist_t personalities = plist_new_dict();
  doctor::PlistPtr ents(plistgen::make_entitlements({}, false).release());
  plist_t usb = plist_dict_get_item(ents.get(), plistgen::kEntTransportUsb);
  for (const doctor::DeviceDescription& device : devices) {
    for (const doctor::InterfaceIds& interface : device.interfaces) {
      doctor::GeneratedPersonality generated;
      std::string error;
      ASSERT_TRUE(doctor::make_interface_personality(kIdentity, device.device, interface, false,
                                                     generated, error));
      plist_dict_set_item(personalities, generated.name.c_str(),
                          plist_copy(generated.personality.get()));
      plist_array_append_item(usb, plist_copy(generated.entitlement_entry.get()));
    }
  }
  plist_dict_set_item(info.get(), "IOKitPersonalities", personalities);
  EXPECT_EQ(plist_dict_get_size(personalities), 4u);
  doctor::CheckInput input;
  input.info = info.get();
  input.entitlements = ents.get();
  const auto findings = doctor::run_checks(input);
  EXPECT_TRUE(findings.empty()) << doctor::render_text(findings, false);
}

TEST(Sysfs, AMissingTreeIsANoteNotACrash) {
  std::vector<std::string> notes;
  EXPECT_TRUE(doctor::devices_from_sysfs("/nonexistent/sys/bus/usb/devices", notes).empty());
  EXPECT_FALSE(notes.empty());
  // And the real one, whatever this machine has.
  std::vector<std::string> real_notes;
  (void)doctor::devices_from_sysfs("/sys/bus/usb/devices", real_notes);
}

TEST(Personality, FromIdsIsThe90000TierWithItsVendorEntitlement) {
  doctor::DeviceIds device;
  device.vid = 0x0CAD;
  device.pid = 0x9016;
  doctor::InterfaceIds interface;
  interface.number = 1;
  doctor::GeneratedPersonality generated;
  std::string error;
  ASSERT_TRUE(
      doctor::make_interface_personality(kIdentity, device, interface, false, generated, error));
  plist_t p = generated.personality.get();
  EXPECT_EQ(doctor::as_uint(doctor::dict_get(p, "idVendor")), 0x0CADu);
  EXPECT_EQ(doctor::as_uint(doctor::dict_get(p, "idProduct")), 0x9016u);
  EXPECT_EQ(doctor::as_uint(doctor::dict_get(p, "bInterfaceNumber")), 1u);
  EXPECT_EQ(doctor::as_uint(doctor::dict_get(p, "bConfigurationValue")), 1u);
  EXPECT_EQ(doctor::as_string(doctor::dict_get(p, "IOClass")), "IOUserSerial");
  EXPECT_EQ(doctor::as_uint(doctor::dict_get(generated.entitlement_entry.get(), "idVendor")),
            0x0CADu);
  const std::string text = doctor::render_personality_text({});
  EXPECT_TRUE(text.empty());
  std::vector<doctor::GeneratedPersonality> list;
  list.push_back(std::move(generated));
  const std::string pasted = doctor::render_personality_text(list);
  // 0CAD:9016 is in devices.ini (the TETRA radio's PEI port): its product and base name.
  EXPECT_THAT(pasted, ::testing::HasSubstr("<key>TETRA radio PEI interface 1</key>"));
  EXPECT_THAT(pasted, ::testing::HasSubstr("<string>tetra-pei-</string>"));
  EXPECT_THAT(pasted, ::testing::HasSubstr("<integer>3245</integer>"));   // 0x0CAD
  EXPECT_THAT(pasted, ::testing::HasSubstr("<integer>36886</integer>"));  // 0x9016
}

TEST(Personality, AnUnknownDeviceIsNamedByItsIdsAndNoted) {
  doctor::DeviceIds device;
  device.vid = 0x1209;
  device.pid = 0x7777;
  doctor::InterfaceIds interface;
  interface.number = 0;
  doctor::GeneratedPersonality generated;
  std::string error;
  ASSERT_TRUE(
      doctor::make_interface_personality(kIdentity, device, interface, false, generated, error));
  EXPECT_EQ(generated.name, "USB 1209:7777 interface 0");
  EXPECT_EQ(doctor::as_string(doctor::dict_get(generated.personality.get(), "IOTTYBaseName")),
            "usbserial-");
  EXPECT_THAT(generated.notes,
              ::testing::Contains(::testing::HasSubstr("1209:7777 is not in the device table")));
}

TEST(Personality, ClassBasedNeedsTheClassAndUsesTheRightTier) {
  doctor::DeviceIds device;
  device.vid = 0x0CAD;
  device.pid = 0x9016;
  doctor::InterfaceIds interface;
  doctor::GeneratedPersonality generated;
  std::string error;
  EXPECT_FALSE(
      doctor::make_interface_personality(kIdentity, device, interface, true, generated, error));
  EXPECT_THAT(error, ::testing::HasSubstr("class"));

  interface.interface_class = 0x02;
  interface.interface_subclass = 0x02;
  ASSERT_TRUE(
      doctor::make_interface_personality(kIdentity, device, interface, true, generated, error));
  EXPECT_EQ(doctor::dict_get(generated.personality.get(), "idVendor"), nullptr);
  EXPECT_EQ(doctor::as_uint(doctor::dict_get(generated.personality.get(), "bInterfaceClass")), 2u);
  EXPECT_EQ(doctor::as_string(doctor::dict_get(generated.entitlement_entry.get(), "idVendor")),
            "*");

  interface.interface_class = 0xFF;
  ASSERT_TRUE(
      doctor::make_interface_personality(kIdentity, device, interface, true, generated, error));
  EXPECT_EQ(doctor::as_uint(doctor::dict_get(generated.personality.get(), "idVendor")), 0x0CADu);
  EXPECT_EQ(doctor::dict_get(generated.personality.get(), "bInterfaceClass"), nullptr);
}

TEST(Personality, FromAnIoregDumpCoversEveryInterface) {
  std::string data;
  std::string error;
  ASSERT_TRUE(
      doctor::read_file(std::string(DOCTOR_FIXTURES) + "/ioreg/vendor-two-ff.txt", data, error));
  doctor::IoregParsed parsed = doctor::parse_ioreg(data);
  ASSERT_FALSE(parsed.error.has_value());
  const auto devices = doctor::devices_from_objects(doctor::usb_objects(parsed.registry));
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].device.vid, 0x0CAD);
  ASSERT_EQ(devices[0].interfaces.size(), 2u);
  EXPECT_EQ(devices[0].interfaces[0].interface_subclass, 1);
  EXPECT_EQ(devices[0].interfaces[1].interface_subclass, 2);
}

}  // namespace
