// hostkit fails where DriverKit fails, at run time (the compile-time half is
// tests/compile_fail/): OSMetaClass casts without RTTI, IOFree's size, os_log's
// privacy, clock ids, the two SetProperties models and the kernel's port names,
// and a dext reaching only the interface it matched.
#include <gtest/gtest.h>

#include <DriverKit/DriverKit.h>
#include <SerialDriverKit/SerialDriverKit.h>
#include <USBDriverKit/USBDriverKit.h>
#include <USBSerialDriverKit/USBSerialDriverKit.h>
#include <os/log.h>
#include <time.h>

#include <cerrno>
#include <string>

#include "HostkitTestDriver.h"
#include "fake_usb_device.hpp"
#include "hostkit/runtime.hpp"
#include "hostkit/usb_device.hpp"
#include "hostkit_test_driver.hpp"

namespace {

using hostkit_test::FakeUsbDevice;

// ------------------------------------------------------------- OSMetaClass casts

TEST(Strictness, OSDynamicCastFollowsTheMetaClassChain) {
  OSObject* string = OSString::withCString("x");
  EXPECT_EQ(OSDynamicCast(OSString, string), string);
  EXPECT_EQ(OSDynamicCast(OSObject, string), string);
  EXPECT_EQ(OSDynamicCast(OSNumber, string), nullptr);
  EXPECT_EQ(OSDynamicCast(OSDictionary, static_cast<OSObject*>(nullptr)), nullptr);
  EXPECT_STREQ(string->getMetaClass()->getClassName(), "OSString");
  EXPECT_EQ(string->getMetaClass()->getSuperClass(), &OSObject::gMetaClass);
  string->release();
}

TEST(Strictness, ADriverClassBuiltWithoutRttiCastsThroughItsGeneratedMetaClass) {
  OSObject* driver = hostkit::create_instance("HostkitTestDriver");
  ASSERT_NE(driver, nullptr);
  EXPECT_EQ(OSDynamicCast(HostkitTestDriver, driver), driver);
  EXPECT_EQ(OSDynamicCast(IOUserUSBSerial, driver), driver);
  EXPECT_EQ(OSDynamicCast(IOUserSerial, driver), driver);
  EXPECT_EQ(OSDynamicCast(IOService, driver), driver);
  EXPECT_EQ(OSDynamicCast(IOUSBHostInterface, driver), nullptr);
  EXPECT_STREQ(driver->getMetaClass()->getClassName(), "HostkitTestDriver");
  driver->release();
}

// ------------------------------------------------------------------- allocation

TEST(Strictness, IOFreeTakesBackWhatIOMallocGave) {
  void* block = IOMallocZero(24);
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(static_cast<uint8_t*>(block)[23], 0);
  IOFree(block, 24);
  IOFree(nullptr, 0);  // as IOFree(NULL) is harmless
}

TEST(StrictnessDeathTest, IOFreeWithAnotherSizeAborts) {
  void* block = IOMalloc(16);
  EXPECT_DEATH(IOFree(block, 32), "IOFree.*a block of another size");
  IOFree(block, 16);
}

TEST(StrictnessDeathTest, IOFreeOfMemoryIOMallocDidNotReturnAborts) {
  int on_the_stack = 0;
  EXPECT_DEATH(IOFree(&on_the_stack, sizeof on_the_stack), "memory IOMalloc did not return");
}

// ----------------------------------------------------------------------- os_log

std::string render(const char* format, std::initializer_list<hostkit::oslog::Value> values) {
  char line[256];
  hostkit::oslog::render(line, sizeof line, format, values.begin(), values.size());
  return line;
}

TEST(Strictness, OsLogRedactsStringsUnlessTheyAreMarkedPublic) {
  using hostkit::oslog::to_value;
  EXPECT_EQ(render("failed: %s", {to_value("stall")}), "failed: <private>");
  EXPECT_EQ(render("failed: %{public}s", {to_value("stall")}), "failed: stall");
  EXPECT_EQ(render("rate %{private}u", {to_value(9600u)}), "rate <private>");
  EXPECT_EQ(render("rate %u, 100%%", {to_value(9600u)}), "rate 9600, 100%");
}

TEST(Strictness, OsLogFormatsScalarsAsPrintfWould) {
  using hostkit::oslog::to_value;
  EXPECT_EQ(render("%u %d", {to_value(0xFFFFFFFFu), to_value(0xFFFFFFFFu)}), "4294967295 -1");
  EXPECT_EQ(render("%04x:%04x", {to_value(uint16_t{0x403}), to_value(uint16_t{0x6001})}),
            "0403:6001");
  EXPECT_EQ(render("%llu %lld", {to_value(uint64_t{1} << 40), to_value(int64_t{-5})}),
            "1099511627776 -5");
  EXPECT_EQ(render("%zu", {to_value(size_t{7})}), "7");
  EXPECT_EQ(render("%d", {to_value(true)}), "1");
}

TEST(Strictness, OsLogLinesReachTheSink) {
  std::string seen;
  hostkit::set_log_sink([&seen](int, const std::string& line) { seen = line; });
  os_log(OS_LOG_DEFAULT, "HwProgramUART(%u) failed: %{public}s (%s)", 50u, "baud_unreachable",
         "secret");
  hostkit::set_log_sink({});
  EXPECT_EQ(seen, "HwProgramUART(50) failed: baud_unreachable (<private>)");
}

// ------------------------------------------------------------------------- time

TEST(Strictness, ClockGettimeNsecNpKnowsTheDarwinClocksAndRefusesOthers) {
  const uint64_t a = clock_gettime_nsec_np(CLOCK_MONOTONIC_RAW_APPROX);
  const uint64_t b = clock_gettime_nsec_np(CLOCK_UPTIME_RAW);
  EXPECT_GT(a, 0u);
  EXPECT_GT(b, 0u);
  EXPECT_GE(clock_gettime_nsec_np(CLOCK_MONOTONIC_RAW_APPROX), a);
  errno = 0;
  EXPECT_EQ(clock_gettime_nsec_np(12345), 0u);
  EXPECT_EQ(errno, EINVAL);
}

// ----------------------------------------------------- registry and port names

struct Attached {
  std::unique_ptr<hostkit::Runtime> runtime;
  std::shared_ptr<FakeUsbDevice> device;
  IOUserSerial* service = nullptr;

  ~Attached() {
    runtime.reset();
    device.reset();
  }

  std::string property(const char* key) {
    std::string value;
    runtime->queue().sync([&] {
      if (auto* string = OSDynamicCast(OSString, service->hostkitGetProperty(key))) {
        value = string->getCStringNoCopy();
      }
    });
    return value;
  }
};

std::unique_ptr<Attached> attach(
    hostkit::SetPropertiesModel model, const std::string& serial,
    std::vector<uint8_t> configuration = hostkit_test::vendor_configuration(64)) {
  hostkit_test::driver_log().reset();
  auto attached = std::make_unique<Attached>();
  attached->runtime =
      std::make_unique<hostkit::Runtime>(hostkit::RuntimeOptions{"HostkitTestDriver", {}, model});
  attached->device = std::make_shared<FakeUsbDevice>(
      hostkit_test::vendor_device_descriptor(0x0403, 0x6001, 0x0600), std::move(configuration),
      0x81, 0x02);
  attached->device->set_serial(serial);
  const auto matches = attached->runtime->attach(attached->device);
  if (matches.size() == 1 && matches[0].start_result == kIOReturnSuccess) {
    attached->service = OSDynamicCast(IOUserSerial, matches[0].service);
  }
  return attached;
}

void set_driver_properties(Attached& attached, const char* base, const char* suffix) {
  attached.runtime->queue().sync([&] {
    OSDictionary* properties = OSDictionary::withCapacity(2);
    OSString* base_string = OSString::withCString(base);
    OSString* suffix_string = OSString::withCString(suffix);
    properties->setObject(kIOTTYBaseNameKey, base_string);
    properties->setObject(kIOTTYSuffixKey, suffix_string);
    EXPECT_EQ(attached.service->SetProperties(properties), kIOReturnSuccess);
    base_string->release();
    suffix_string->release();
    properties->release();
    attached.service->RegisterService();
  });
}

TEST(Strictness, UnderXnuSetPropertiesLandsInIOUserServicePropertiesAndTheKernelNamesThePort) {
  auto attached = attach(hostkit::SetPropertiesModel::user_service_properties, "A1B2");
  ASSERT_NE(attached->service, nullptr);
  set_driver_properties(*attached, "ours-", "MINE");
  EXPECT_EQ(attached->property(kIOTTYBaseNameKey), "usbserial-");
  EXPECT_EQ(attached->property(kIOTTYSuffixKey), "A1B2");  // the USB serial string
  attached->runtime->queue().sync([&] {
    auto* nested = OSDynamicCast(
        OSDictionary, attached->service->hostkitGetProperty(kIOUserServicePropertiesKey));
    ASSERT_NE(nested, nullptr);
    EXPECT_STREQ(OSDynamicCast(OSString, nested->getObject(kIOTTYSuffixKey))->getCStringNoCopy(),
                 "MINE");
    OSDictionary* driver = attached->service->hostkitCopyDriverProperties();
    ASSERT_NE(driver, nullptr);
    EXPECT_NE(driver->getObject(kIOTTYBaseNameKey), nullptr);
    driver->release();
  });
}

TEST(Strictness, UnderXnuAPortWithoutASerialStringIsNamedByItsLocation) {
  auto attached = attach(hostkit::SetPropertiesModel::user_service_properties, "");
  ASSERT_NE(attached->service, nullptr);
  set_driver_properties(*attached, "ours-", "MINE");
  EXPECT_EQ(attached->property(kIOTTYSuffixKey), "110");  // locationID 0x01100000 >> 16
}

TEST(Strictness, WhenTheKernelAcceptsSetPropertiesTheDriverNamesThePort) {
  auto attached = attach(hostkit::SetPropertiesModel::kernel_accepts, "A1B2");
  ASSERT_NE(attached->service, nullptr);
  set_driver_properties(*attached, "ours-", "MINE");
  EXPECT_EQ(attached->property(kIOTTYBaseNameKey), "ours-");
  EXPECT_EQ(attached->property(kIOTTYSuffixKey), "MINE");
  attached->runtime->queue().sync([&] {
    EXPECT_EQ(attached->service->hostkitGetProperty(kIOUserServicePropertiesKey), nullptr);
  });
}

TEST(Strictness, TheServiceStartsWithItsPersonality) {
  auto attached = attach(hostkit::SetPropertiesModel::user_service_properties, "");
  ASSERT_NE(attached->service, nullptr);
  EXPECT_EQ(attached->property("IOClass"), "IOUserSerial");
  EXPECT_EQ(attached->property("IOUserClass"), "HostkitTestDriver");
  EXPECT_EQ(attached->property("IOProviderClass"), "IOUSBHostInterface");
  EXPECT_EQ(attached->property("CFBundleIdentifierKernel"), "com.apple.driver.driverkit.serial");
}

// ------------------------------------------------ only the matched interface

TEST(Strictness, IOUserUSBSerialDrivesOnlyTheInterfaceItMatched) {
  hostkit::Runtime runtime(hostkit::RuntimeOptions{"HostkitTestDriver", {}});
  auto backend = std::make_shared<FakeUsbDevice>(
      hostkit_test::vendor_device_descriptor(0x1234, 0x5678, 0x0100),
      hostkit_test::cdc_configuration(), 0x81, 0x02);
  // No personality matches a CDC-ACM function (docs/cdc-acm.md) ...
  EXPECT_TRUE(runtime.attach(backend).empty());
  // ... and a driver started on its communication interface anyway finds no
  // bulk pair of its own: the data interface is out of its reach.
  auto device = std::make_shared<hostkit::UsbDevice>(runtime, backend, 0x01200000);
  device->set_device_nub(new IOUSBHostDevice(device));
  device->configure();
  IOUSBHostInterface* communication = device->interface_nub(0);
  ASSERT_NE(communication, nullptr);
  IOService* driver = hostkit::create_instance("HostkitTestDriver");
  ASSERT_NE(driver, nullptr);
  driver->hostkitAttach(runtime, communication, 1, nullptr);
  runtime.queue().sync([&] {
    ASSERT_TRUE(driver->init());
    EXPECT_EQ(driver->Start(communication), kIOReturnUnsupported);
  });
  driver->release();
  device->release_nubs();
}

}  // namespace
