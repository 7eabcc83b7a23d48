// What a driver matched on the device may do, and a driver matched on an
// interface may not (a session on the device, its configuration, its interface
// iterator, device requests); typed completions (TYPE() actions) and their
// cancellation; the timer source; memory mappings; and ConnectQueues' geometry.
#include <gtest/gtest.h>

#include <DriverKit/DriverKit.h>
#include <SerialDriverKit/SerialDriverKit.h>
#include <SerialDriverKit/SerialPortInterface.h>
#include <USBDriverKit/USBDriverKit.h>
#include <USBSerialDriverKit/USBSerialDriverKit.h>

#include <string>

#include "HostkitSerialTestDriver.h"
#include "fake_usb_device.hpp"
#include "hostkit/runtime.hpp"
#include "hostkit/serial_client.hpp"
#include "hostkit/usb_device.hpp"
#include "hostkit_test_driver.hpp"

namespace {

using hostkit_test::driver_log;
using hostkit_test::FakeUsbDevice;

hostkit::RuntimeOptions options() {
  hostkit::RuntimeOptions options;
  options.driver_class = "HostkitTestDriver";
  options.serial_driver_class = "HostkitSerialTestDriver";
  return options;
}

// ------------------------------------------------- an interface-matched driver

TEST(DeviceSession, AnInterfaceMatchedDriverCannotOpenTheDeviceOrReachItsInterfaces) {
  driver_log().reset();
  hostkit::Runtime runtime(options());
  auto backend = std::make_shared<FakeUsbDevice>(
      hostkit_test::vendor_device_descriptor(0x0403, 0x6001, 0x0600),
      hostkit_test::vendor_configuration(64), 0x81, 0x02);
  const auto matches = runtime.attach(backend);
  ASSERT_EQ(matches.size(), 1u);
  ASSERT_FALSE(matches[0].device_level);
  IOService* driver = matches[0].service;
  ASSERT_NE(driver, nullptr);
  runtime.queue().sync([&] {
    auto* interface = OSDynamicCast(IOUSBHostInterface, driver->hostkitProvider());
    ASSERT_NE(interface, nullptr);
    IOUSBHostDevice* device = nullptr;
    ASSERT_EQ(interface->CopyDevice(&device), kIOReturnSuccess);
    // The composite driver configured the device and holds its session.
    EXPECT_EQ(device->Open(driver, 0, 0), kIOReturnExclusiveAccess);
    uintptr_t iterator = 0;
    EXPECT_EQ(device->CreateInterfaceIterator(&iterator), kIOReturnNotOpen);
    EXPECT_EQ(device->SetConfiguration(1, false), kIOReturnNotOpen);
    uint16_t transferred = 0;
    EXPECT_EQ(device->DeviceRequest(driver, 0x40, 0, 0, 0, 0, nullptr, &transferred, 0),
              kIOReturnNotOpen);
    // Reading descriptors needs no session.
    const IOUSBDeviceDescriptor* descriptor = device->CopyDeviceDescriptor();
    ASSERT_NE(descriptor, nullptr);
    EXPECT_EQ(descriptor->idVendor, 0x0403);
    IOUSBHostFreeDescriptor(descriptor);
    device->release();
  });
}

// ------------------------------------------------------ a device-level driver

class DeviceLevel : public ::testing::Test {
 protected:
  void SetUp() override {
    driver_log().reset();
    runtime_ = std::make_unique<hostkit::Runtime>(options());
    // 1209:0001: CDC-ACM in the device table, on the IOUserSerial class, which
    // matches the device.
    backend_ = std::make_shared<FakeUsbDevice>(
        hostkit_test::vendor_device_descriptor(0x1209, 0x0001, 0x0100),
        hostkit_test::cdc_configuration(), 0x81, 0x02);
    const auto matches = runtime_->attach(backend_);
    ASSERT_EQ(matches.size(), 1u);
    ASSERT_TRUE(matches[0].device_level);
    ASSERT_EQ(matches[0].start_result, kIOReturnSuccess);
    driver_ = OSDynamicCast(HostkitSerialTestDriver, matches[0].service);
    ASSERT_NE(driver_, nullptr);
    device_ = OSDynamicCast(IOUSBHostDevice, driver_->hostkitProvider());
    ASSERT_NE(device_, nullptr);
  }
  void TearDown() override {
    runtime_.reset();
    backend_.reset();
  }
  void on_queue(const std::function<void()>& work) { runtime_->queue().sync(work); }

  // The interfaces the iterator yields, released.
  std::vector<uint8_t> iterate() {
    std::vector<uint8_t> numbers;
    uintptr_t iterator = 0;
    EXPECT_EQ(device_->CreateInterfaceIterator(&iterator), kIOReturnSuccess);
    for (IOUSBHostInterface* interface = nullptr;
         device_->CopyInterface(iterator, &interface) == kIOReturnSuccess &&
         interface != nullptr;) {
      numbers.push_back(interface->hostkitNumber());
      interface->release();
    }
    EXPECT_EQ(device_->DestroyInterfaceIterator(iterator), kIOReturnSuccess);
    return numbers;
  }

  IOUSBHostInterface* copy_interface(uint8_t number) {
    uintptr_t iterator = 0;
    IOUSBHostInterface* found = nullptr;
    EXPECT_EQ(device_->CreateInterfaceIterator(&iterator), kIOReturnSuccess);
    for (IOUSBHostInterface* interface = nullptr;
         device_->CopyInterface(iterator, &interface) == kIOReturnSuccess &&
         interface != nullptr;) {
      if (interface->hostkitNumber() == number && found == nullptr) {
        found = interface;
      } else {
        interface->release();
      }
    }
    device_->DestroyInterfaceIterator(iterator);
    return found;
  }

  std::unique_ptr<hostkit::Runtime> runtime_;
  std::shared_ptr<FakeUsbDevice> backend_;
  HostkitSerialTestDriver* driver_ = nullptr;
  IOUSBHostDevice* device_ = nullptr;
};

TEST_F(DeviceLevel, TheDeviceIsClaimedAndHasNoInterfacesUntilItsDriverConfiguresIt) {
  EXPECT_TRUE(driver_log().saw("SerialStart"));
  on_queue([&] {
    // Only the driver holding the session reaches the interfaces.
    uintptr_t iterator = 0;
    EXPECT_EQ(device_->CreateInterfaceIterator(&iterator), kIOReturnNotOpen);
    ASSERT_EQ(device_->Open(driver_, 0, 0), kIOReturnSuccess);
    EXPECT_TRUE(iterate().empty()) << "an unconfigured device has no interfaces";
    EXPECT_EQ(device_->SetConfiguration(2, false), kIOReturnBadArgument);  // no such value
    EXPECT_EQ(device_->SetConfiguration(1, true), kIOReturnUnsupported);   // not modelled
    ASSERT_EQ(device_->SetConfiguration(1, false), kIOReturnSuccess);
    EXPECT_EQ(iterate(), (std::vector<uint8_t>{0, 1}));
    EXPECT_EQ(device_->Close(driver_, 0), kIOReturnSuccess);
  });
  // SET_CONFIGURATION(1) reached the device (USB 2.0 §9.4.7).
  bool configured = false;
  for (const hostkit::UsbSetup& setup : backend_->setups()) {
    configured |= setup.bmRequestType == 0x00 && setup.bRequest == 0x09 && setup.wValue == 1;
  }
  EXPECT_TRUE(configured);
}

TEST_F(DeviceLevel, OnlyTheSessionHolderOpensInterfacesAndSendsDeviceRequests) {
  on_queue([&] {
    ASSERT_EQ(device_->Open(driver_, 0, 0), kIOReturnSuccess);
    ASSERT_EQ(device_->SetConfiguration(1, false), kIOReturnSuccess);
    IOUSBHostInterface* data = copy_interface(1);
    ASSERT_NE(data, nullptr);
    // Another object (here the device nub itself) has no session: refused.
    EXPECT_EQ(data->Open(device_, 0, nullptr), kIOReturnNotPermitted);
    EXPECT_EQ(device_->Open(data, 0, 0), kIOReturnExclusiveAccess);
    uint16_t transferred = 0;
    EXPECT_EQ(device_->DeviceRequest(data, 0x21, 0x22, 3, 0, 0, nullptr, &transferred, 0),
              kIOReturnNotOpen);
    // The session holder: both.
    EXPECT_EQ(data->Open(driver_, 0, nullptr), kIOReturnSuccess);
    EXPECT_EQ(device_->DeviceRequest(driver_, 0x21, 0x22, 3, 0, 0, nullptr, &transferred, 0),
              kIOReturnSuccess);
    IOUSBHostPipe* in = nullptr;
    EXPECT_EQ(data->CopyPipe(0x81, &in), kIOReturnSuccess);
    OSSafeReleaseNULL(in);
    EXPECT_EQ(data->Close(driver_, 0), kIOReturnSuccess);
    data->release();
    EXPECT_EQ(device_->Close(driver_, 0), kIOReturnSuccess);
  });
  bool line_state = false;
  for (const hostkit::UsbSetup& setup : backend_->setups()) {
    line_state |= setup.bmRequestType == 0x21 && setup.bRequest == 0x22 && setup.wValue == 3;
  }
  EXPECT_TRUE(line_state) << "the device request never reached the device";
}

// -------------------------------------------------------------- typed actions

TEST_F(DeviceLevel, ATypedCompletionReachesItsMethodWithItsReferenceAndNeverAfterCancel) {
  backend_->set_loopback(true);
  OSAction* action = nullptr;
  IOUSBHostInterface* data = nullptr;
  IOUSBHostPipe* in = nullptr;
  IOUSBHostPipe* out = nullptr;
  IOBufferMemoryDescriptor* buffer = nullptr;
  on_queue([&] {
    ASSERT_EQ(device_->Open(driver_, 0, 0), kIOReturnSuccess);
    ASSERT_EQ(device_->SetConfiguration(1, false), kIOReturnSuccess);
    data = copy_interface(1);
    ASSERT_NE(data, nullptr);
    ASSERT_EQ(data->Open(driver_, 0, nullptr), kIOReturnSuccess);
    ASSERT_EQ(data->CopyPipe(0x81, &in), kIOReturnSuccess);
    ASSERT_EQ(data->CopyPipe(0x02, &out), kIOReturnSuccess);
    ASSERT_EQ(data->CreateIOBuffer(kIOMemoryDirectionInOut, 64, &buffer), kIOReturnSuccess);
    const uint32_t before = driver_->retainCount();
    ASSERT_EQ(driver_->CreateActionCompleted(sizeof(uint32_t), &action), kIOReturnSuccess);
    EXPECT_EQ(driver_->retainCount(), before + 1);  // the action holds its target
    auto* tag = static_cast<uint32_t*>(action->GetReference());
    ASSERT_NE(tag, nullptr);
    EXPECT_EQ(*tag, 0u);  // zeroed
    *tag = 7;
    // An action made for another TYPE cannot complete a pipe's transfer.
    OSAction* tick = nullptr;
    ASSERT_EQ(driver_->CreateActionTicked(0, &tick), kIOReturnSuccess);
    EXPECT_EQ(tick->GetReference(), nullptr);
    EXPECT_EQ(in->AsyncIO(buffer, 64, tick, 0), kIOReturnBadArgument);
    tick->release();
    // 5 bytes out, looped back into a 64-byte read.
    IOBufferMemoryDescriptor* bytes = nullptr;
    ASSERT_EQ(data->CreateIOBuffer(kIOMemoryDirectionOut, 5, &bytes), kIOReturnSuccess);
    ASSERT_EQ(in->AsyncIO(buffer, 64, action, 0), kIOReturnSuccess);
    ASSERT_EQ(out->AsyncIO(bytes, 5, action, 0), kIOReturnSuccess);
    bytes->release();
  });
  ASSERT_TRUE(
      backend_->wait_for([] { return driver_log().saw("Completed tag 7 status 0 bytes 5"); }));
  on_queue([&] {
    const uint32_t before = driver_->retainCount();
    ASSERT_EQ(action->Cancel(nullptr), kIOReturnSuccess);
    EXPECT_EQ(driver_->retainCount(), before - 1);  // the target is let go
    EXPECT_EQ(in->AsyncIO(buffer, 64, action, 0), kIOReturnBadArgument);
  });
  driver_log().reset();
  // A transfer already queued with an action cancelled later completes silently.
  OSAction* late = nullptr;
  on_queue([&] {
    ASSERT_EQ(driver_->CreateActionCompleted(sizeof(uint32_t), &late), kIOReturnSuccess);
    ASSERT_EQ(in->AsyncIO(buffer, 64, late, 0), kIOReturnSuccess);
    late->Cancel(nullptr);
  });
  backend_->push_in({'x'});
  ASSERT_TRUE(backend_->wait_for([this] { return backend_->pending_in() == 0; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(driver_log().saw("Completed tag 0 status 0 bytes 1"));
  on_queue([&] {
    late->release();
    action->release();
    OSSafeReleaseNULL(buffer);
    OSSafeReleaseNULL(in);
    OSSafeReleaseNULL(out);
    data->Close(driver_, 0);
    OSSafeReleaseNULL(data);
    device_->Close(driver_, 0);
  });
}

TEST_F(DeviceLevel, ATimerFiresItsHandlerOnceWhenEnabledAndNeverAfterCancel) {
  IOTimerDispatchSource* timer = nullptr;
  OSAction* tick = nullptr;
  on_queue([&] {
    IODispatchQueue* queue = nullptr;
    ASSERT_EQ(driver_->CopyDispatchQueue(kIOServiceDefaultQueueName, &queue), kIOReturnSuccess);
    ASSERT_EQ(IOTimerDispatchSource::Create(queue, &timer), kIOReturnSuccess);
    queue->release();
    OSAction* wrong = nullptr;
    ASSERT_EQ(driver_->CreateActionCompleted(0, &wrong), kIOReturnSuccess);
    EXPECT_EQ(timer->SetHandler(wrong), kIOReturnBadArgument);  // another TYPE
    wrong->Cancel(nullptr);
    wrong->release();
    ASSERT_EQ(driver_->CreateActionTicked(0, &tick), kIOReturnSuccess);
    ASSERT_EQ(timer->SetHandler(tick), kIOReturnSuccess);
    // Disabled: a wake passes unseen.
    ASSERT_EQ(timer->WakeAtTime(kIOTimerClockMonotonicRaw,
                                clock_gettime_nsec_np(CLOCK_MONOTONIC_RAW) + 5'000'000, 0),
              kIOReturnSuccess);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  EXPECT_FALSE(driver_log().saw("Ticked"));
  on_queue([&] {
    timer->SetEnable(true);
    EXPECT_EQ(timer->WakeAtTime(kIOTimerClockRealTime, 0, 0), kIOReturnUnsupported);
    ASSERT_EQ(timer->WakeAtTime(kIOTimerClockMachAbsoluteTime, mach_absolute_time() + 5'000'000, 0),
              kIOReturnSuccess);
  });
  ASSERT_TRUE(backend_->wait_for([] { return driver_log().saw("Ticked"); }));
  driver_log().reset();
  on_queue([&] {
    ASSERT_EQ(timer->WakeAtTime(kIOTimerClockMonotonicRaw,
                                clock_gettime_nsec_np(CLOCK_MONOTONIC_RAW) + 5'000'000, 0),
              kIOReturnSuccess);
    timer->Cancel(nullptr);
    EXPECT_EQ(timer->WakeAtTime(kIOTimerClockMonotonicRaw, 0, 0), kIOReturnNotPermitted);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  EXPECT_FALSE(driver_log().saw("Ticked"));
  on_queue([&] {
    tick->Cancel(nullptr);
    tick->release();
    timer->release();
  });
}

// --------------------------------------------------------- memory and queues

TEST(Memory, AMappingStaysInsideItsDescriptorAndKeepsItAlive) {
  IOBufferMemoryDescriptor* buffer = nullptr;
  ASSERT_EQ(IOBufferMemoryDescriptor::Create(kIOMemoryDirectionInOut, 256, 0, &buffer),
            kIOReturnSuccess);
  IOAddressSegment range{};
  buffer->GetAddressRange(&range);
  IOMemoryMap* map = nullptr;
  EXPECT_EQ(buffer->CreateMapping(0, 0, 200, 100, 0, &map), kIOReturnBadArgument);
  EXPECT_EQ(map, nullptr);
  EXPECT_EQ(buffer->CreateMapping(0, 0, 300, 0, 0, &map), kIOReturnBadArgument);
  EXPECT_EQ(buffer->CreateMapping(kIOMemoryMapFixedAddress, 0x1000, 0, 0, 0, &map),
            kIOReturnUnsupported);
  ASSERT_EQ(buffer->CreateMapping(0, 0, 64, 0, 0, &map), kIOReturnSuccess);
  EXPECT_EQ(map->GetAddress(), range.address + 64);
  EXPECT_EQ(map->GetLength(), 192u);
  EXPECT_EQ(map->GetOffset(), 64u);
  const uint32_t references = buffer->retainCount();
  buffer->release();  // the map still holds it
  EXPECT_EQ(references, 2u);
  reinterpret_cast<uint8_t*>(map->GetAddress())[0] = 0x5A;  // still mapped
  map->release();
}

class Queues : public ::testing::Test {
 protected:
  void SetUp() override {
    runtime_ = std::make_unique<hostkit::Runtime>(options());
    backend_ = std::make_shared<FakeUsbDevice>(
        hostkit_test::vendor_device_descriptor(0x0403, 0x6001, 0x0600),
        hostkit_test::vendor_configuration(64), 0x81, 0x02);
    const auto matches = runtime_->attach(backend_);
    ASSERT_EQ(matches.size(), 1u);
    serial_ = OSDynamicCast(IOUserSerial, matches[0].service);
    ASSERT_NE(serial_, nullptr);
  }
  std::unique_ptr<hostkit::Runtime> runtime_;
  std::shared_ptr<FakeUsbDevice> backend_;
  IOUserSerial* serial_ = nullptr;
};

TEST_F(Queues, ConnectQueuesDescribesItsRingsInTheControlBlock) {
  runtime_->queue().sync([&] {
    IOBufferMemoryDescriptor* ifmd = nullptr;
    IOMemoryDescriptor* rxqmd = nullptr;
    IOMemoryDescriptor* txqmd = nullptr;
    ASSERT_EQ(serial_->ConnectQueues(&ifmd, &rxqmd, &txqmd, nullptr, nullptr, 0, 0, 9, 9),
              kIOReturnSuccess);
    IOAddressSegment range{};
    ifmd->GetAddressRange(&range);
    const auto* control =
        reinterpret_cast<const driverkit::serial::SerialPortInterface*>(range.address);
    // NULL buffers: the framework's 16 KiB rings whatever logsz says, all indices 0.
    EXPECT_EQ(control->rxqlogsz, 14);
    EXPECT_EQ(control->txqlogsz, 14);
    EXPECT_EQ(control->rxqoffset, 0u);
    EXPECT_EQ(control->rxPI + control->rxCI + control->txPI + control->txCI, 0u);
    uint64_t length = 0;
    rxqmd->GetLength(&length);
    EXPECT_EQ(length, 16384u);
    hostkit::SerialRings rings;
    EXPECT_EQ(rings.map(ifmd, rxqmd, txqmd), kIOReturnSuccess);
    rings.unmap();
    ifmd->release();
    rxqmd->release();
    txqmd->release();
    EXPECT_EQ(serial_->DisconnectQueues(), kIOReturnSuccess);
  });
}

TEST_F(Queues, ConnectQueuesTakesTheCallersRingsAtTheirOffsetAndRefusesBadGeometry) {
  runtime_->queue().sync([&] {
    IOBufferMemoryDescriptor* mine = nullptr;
    ASSERT_EQ(IOBufferMemoryDescriptor::Create(kIOMemoryDirectionInOut, 4096 + 256, 0, &mine),
              kIOReturnSuccess);
    IOBufferMemoryDescriptor* ifmd = nullptr;
    IOMemoryDescriptor* rxqmd = nullptr;
    IOMemoryDescriptor* txqmd = nullptr;
    // A 4 KiB ring does not fit at offset 512 of 4352 bytes, nor does 2^20.
    EXPECT_EQ(serial_->ConnectQueues(&ifmd, &rxqmd, &txqmd, mine, mine, 512, 0, 12, 12),
              kIOReturnBadArgument);
    EXPECT_EQ(serial_->ConnectQueues(&ifmd, &rxqmd, &txqmd, mine, mine, 0, 0, 20, 12),
              kIOReturnBadArgument);
    EXPECT_EQ(serial_->ConnectQueues(&ifmd, &rxqmd, &txqmd, mine, nullptr, 0, 0, 0, 12),
              kIOReturnBadArgument);
    ASSERT_EQ(serial_->ConnectQueues(&ifmd, &rxqmd, &txqmd, mine, nullptr, 256, 0, 12, 0),
              kIOReturnSuccess);
    EXPECT_EQ(rxqmd, mine);  // retained and handed back
    IOAddressSegment range{};
    ifmd->GetAddressRange(&range);
    const auto* control =
        reinterpret_cast<const driverkit::serial::SerialPortInterface*>(range.address);
    EXPECT_EQ(control->rxqoffset, 256u);
    EXPECT_EQ(control->rxqlogsz, 12);
    EXPECT_EQ(control->txqlogsz, 14);  // the framework's own
    hostkit::SerialRings rings;
    ASSERT_EQ(rings.map(ifmd, rxqmd, txqmd), kIOReturnSuccess);
    EXPECT_EQ(rings.rx().capacity() + 1, 4096u);  // masked: one byte stays empty
    ASSERT_EQ(rings.rx().write(std::vector<uint8_t>{1, 2, 3}), 3u);
    IOAddressSegment own{};
    mine->GetAddressRange(&own);
    EXPECT_EQ(reinterpret_cast<const uint8_t*>(own.address)[256], 1);  // at the offset
    rings.unmap();
    ifmd->release();
    rxqmd->release();
    txqmd->release();
    serial_->DisconnectQueues();
    mine->release();
  });
}

}  // namespace
