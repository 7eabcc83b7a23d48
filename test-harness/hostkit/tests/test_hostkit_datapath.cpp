// hostkit's IOUserUSBSerial data path, driven the way the kernel drives it, on a
// fake USB device: depth of reads in flight, Apple's one-read mode, lossless
// parking when the RX ring is full, an input flush dropping what is parked,
// handleRxPacket moving the packet pointer, stall recovery, and unplug.
#include <gtest/gtest.h>

#include <DriverKit/DriverKit.h>
#include <USBDriverKit/USBDriverKit.h>
#include <USBSerialDriverKit/USBSerialDriverKit.h>

#include <numeric>

#include "fake_usb_device.hpp"
#include "hostkit/runtime.hpp"
#include "hostkit/serial_client.hpp"
#include "hostkit/usb_device.hpp"
#include "hostkit_test_driver.hpp"

namespace {

using hostkit_test::FakeUsbDevice;

class Recorder final : public hostkit::SerialClient {
 public:
  void rx_data_available() override { ++rx_available; }
  void tx_free_space_available() override { ++tx_free; }
  void modem_status_changed(bool, bool, bool, bool) override {}
  void rx_error(bool, bool, bool, bool) override {}
  int rx_available = 0;
  int tx_free = 0;
};

// hostkit's other candidate for Apple's framework: several reads in flight.
hostkit::UsbSerialTuning deep_framework_rx() {
  hostkit::UsbSerialTuning tuning;
  tuning.apple_rx = false;
  return tuning;
}

class DataPath : public ::testing::Test {
 protected:
  void start(hostkit::UsbSerialTuning tuning = {}) {
    hostkit_test::driver_log().reset();
    runtime_ =
        std::make_unique<hostkit::Runtime>(hostkit::RuntimeOptions{"HostkitTestDriver", tuning});
    device_ = std::make_shared<FakeUsbDevice>(
        hostkit_test::vendor_device_descriptor(0x0403, 0x6001, 0x0600),
        hostkit_test::vendor_configuration(64), 0x81, 0x02);
    const auto matches = runtime_->attach(device_);
    ASSERT_EQ(matches.size(), 1u);
    ASSERT_EQ(matches[0].start_result, kIOReturnSuccess);
    serial_ = OSDynamicCast(IOUserUSBSerial, matches[0].service);
    ASSERT_NE(serial_, nullptr);
    on_queue([&] {
      serial_->hostkitSetClient(&recorder_);
      IOBufferMemoryDescriptor* ifmd = nullptr;
      IOMemoryDescriptor* rxqmd = nullptr;
      IOMemoryDescriptor* txqmd = nullptr;
      ASSERT_EQ(serial_->ConnectQueues(&ifmd, &rxqmd, &txqmd, nullptr, nullptr, 0, 0, 0, 0),
                kIOReturnSuccess);
      // The kernel's side of the rings, as the tty side maps them.
      ASSERT_EQ(rings_.map(ifmd, rxqmd, txqmd), kIOReturnSuccess);
      OSSafeReleaseNULL(ifmd);
      OSSafeReleaseNULL(rxqmd);
      OSSafeReleaseNULL(txqmd);
      ASSERT_EQ(serial_->HwActivate(), kIOReturnSuccess);
    });
  }

  void TearDown() override {
    if (serial_ != nullptr) {
      on_queue([&] {
        serial_->hostkitSetClient(nullptr);
        rings_.unmap();
      });
    }
    runtime_.reset();
    device_.reset();
  }

  void on_queue(const std::function<void()>& work) { runtime_->queue().sync(work); }

  // Plays the kernel: feeds `data` through the TX ring and collects what comes
  // back in the RX ring until `expected` bytes arrived (or nothing moves for 5 s).
  std::vector<uint8_t> pump(const std::vector<uint8_t>& data, size_t expected) {
    std::vector<uint8_t> received;
    size_t sent = 0;
    auto last_progress = std::chrono::steady_clock::now();
    while (received.size() < expected &&
           std::chrono::steady_clock::now() - last_progress < std::chrono::seconds(5)) {
      size_t before = received.size() + sent;
      on_queue([&] {
        if (sent < data.size()) {
          sent += rings_.tx().write({data.data() + sent, data.size() - sent});
          serial_->TxDataAvailable();
        }
        std::vector<uint8_t> chunk(rings_.rx().size());
        rings_.rx().read(chunk);
        received.insert(received.end(), chunk.begin(), chunk.end());
        serial_->RxFreeSpaceAvailable();
      });
      if (received.size() + sent != before) {
        last_progress = std::chrono::steady_clock::now();
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    return received;
  }

  std::unique_ptr<hostkit::Runtime> runtime_;
  std::shared_ptr<FakeUsbDevice> device_;
  IOUserUSBSerial* serial_ = nullptr;
  hostkit::SerialRings rings_;
  Recorder recorder_;
};

std::vector<uint8_t> pattern(size_t n) {
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; ++i) {
    bytes[i] = static_cast<uint8_t>((i * 131) ^ (i >> 9));
  }
  return bytes;
}

TEST_F(DataPath, KeepsTheConfiguredNumberOfReadsInFlight) {
  start(deep_framework_rx());
  ASSERT_TRUE(device_->wait_for([this] { return device_->pending_in() == 8; }))
      << device_->pending_in();
  EXPECT_EQ(device_->in_transfer_size(), 16u * 64u);
}

TEST_F(DataPath, ByDefaultKeepsApplesOneMaxPacketReadInFlight) {
  start();
  const auto data = pattern(5000);
  device_->set_loopback(true);
  EXPECT_EQ(pump(data, data.size()), data);
  EXPECT_EQ(device_->max_pending_in(), 1u);
  EXPECT_EQ(device_->in_transfer_size(), 64u);
}

TEST_F(DataPath, LoopsBackAMegabyteByteForByte) {
  start();
  device_->set_loopback(true);
  const auto data = pattern(1 << 20);
  EXPECT_EQ(pump(data, data.size()), data);
  EXPECT_GT(recorder_.rx_available, 0);
  EXPECT_GT(recorder_.tx_free, 0);
}

TEST_F(DataPath, LoopsBackUnderTheFreeRunningIndexConventionToo) {
  // Both sides of the rings switch together (transport/serial_queue.hpp [U]).
  transport::set_serial_queue_indexing(transport::QueueIndexing::free_running);
  start();
  device_->set_loopback(true);
  const auto data = pattern(256 * 1024);
  EXPECT_EQ(pump(data, data.size()), data);
  on_queue([&] {
    EXPECT_EQ(rings_.rx().indexing(), transport::QueueIndexing::free_running);
    EXPECT_EQ(rings_.rx().capacity(), 16384u);  // every byte usable
  });
  transport::set_serial_queue_indexing(transport::QueueIndexing::masked);
}

TEST_F(DataPath, ParksPayloadWhenTheRingIsFullAndLosesNothing) {
  start(deep_framework_rx());
  // 80 KiB arrives while nobody reads: the 16 KiB ring fills, the rest waits
  // in the eight 1 KiB read slots, and the device is held off.
  const auto data = pattern(80 * 1024);
  device_->push_in(data);
  ASSERT_TRUE(device_->wait_for([this] { return device_->pending_in() == 0; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  on_queue([&] { EXPECT_EQ(rings_.rx().free_space(), 0u); });
  EXPECT_EQ(pump({}, data.size()), data);
}

TEST_F(DataPath, InputFlushDropsPayloadParkedInReadSlots) {
  start(deep_framework_rx());
  // While nobody reads, the ring fills and the eight 1 KiB read slots hold the
  // rest. A masked ring keeps one byte empty, so one slot then parks only the
  // byte that did not fit: the host holds the ring's whole reads plus 8 KiB. A
  // TCIFLUSH drops all of it; only what the device sends afterwards may reach
  // the client.
  uint32_t ring_capacity = 0;
  on_queue([&] { ring_capacity = rings_.rx().capacity(); });
  const uint32_t held = ring_capacity / 1024 * 1024 + 8 * 1024;
  device_->push_in(std::vector<uint8_t>(held, 0xAA));
  ASSERT_TRUE(device_->wait_for([this] { return device_->pending_in() == 0; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  uint64_t parked = 0;
  on_queue([&] {
    OSDictionary* stats = serial_->hostkitCopyDataPathStatistics();
    parked = OSDynamicCast(OSNumber, stats->getObject("RxParkedBytes"))->unsigned64BitValue();
    stats->release();
    rings_.rx().clear();
    serial_->hostkitDiscardRx();
    serial_->RxFreeSpaceAvailable();
  });
  EXPECT_EQ(parked, held - ring_capacity);
  const std::vector<uint8_t> fresh = {'f', 'r', 'e', 's', 'h'};
  ASSERT_TRUE(device_->wait_for([this] { return device_->pending_in() == 8; }));
  device_->push_in(fresh);
  EXPECT_EQ(pump({}, fresh.size()), fresh);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  on_queue([&] { EXPECT_TRUE(rings_.rx().empty()) << "a stale byte arrived"; });
}

TEST_F(DataPath, HandleRxPacketMayMoveThePacketPointer) {
  start();
  hostkit_test::driver_log().strip_first_byte = true;
  device_->push_in({'H', 'a', 'b', 'c'});
  const auto received = pump({}, 3);
  EXPECT_EQ(received, (std::vector<uint8_t>{'a', 'b', 'c'}));
}

TEST_F(DataPath, APacketMovedOutsideTheReadBufferIsCountedAsDiscarded) {
  start();
  hostkit_test::driver_log().point_elsewhere = true;
  device_->push_in({'a', 'b', 'c'});
  // The packet handleRxPacket returned (2 bytes), not the 3 received, is lost.
  const auto discarded = [this] {
    uint64_t bytes = 0;
    on_queue([&] {
      OSDictionary* stats = serial_->hostkitCopyDataPathStatistics();
      bytes = OSDynamicCast(OSNumber, stats->getObject("RxDiscardedBytes"))->unsigned64BitValue();
      stats->release();
    });
    return bytes;
  };
  ASSERT_TRUE(device_->wait_for([&] { return discarded() == 2; }));
  on_queue([&] { EXPECT_TRUE(rings_.rx().empty()); });
  // The slot was freed: the next packet is delivered normally.
  hostkit_test::driver_log().point_elsewhere = false;
  device_->push_in({'o', 'k'});
  EXPECT_EQ(pump({}, 2), (std::vector<uint8_t>{'o', 'k'}));
}

TEST_F(DataPath, ClearsAStalledBulkInAndCarriesOn) {
  start(deep_framework_rx());
  ASSERT_TRUE(device_->wait_for([this] { return device_->pending_in() == 8; }));
  device_->stall(0x81);
  ASSERT_TRUE(device_->wait_for([this] { return device_->clear_halts() >= 1; }));
  const auto data = pattern(3000);
  device_->push_in(data);
  EXPECT_EQ(pump({}, data.size()), data);
}

TEST_F(DataPath, UnplugStopsTheDriverAndFailsControlRequests) {
  start();
  device_->unplug();
  // The runtime terminates the driver on its queue.
  for (int i = 0; i < 500 && !hostkit_test::driver_log().saw("Stop"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_TRUE(hostkit_test::driver_log().saw("Stop"));
  serial_ = nullptr;  // released by the runtime
}

TEST_F(DataPath, SuperdispatchReachesTheBaseClass) {
  start();
  on_queue([&] { EXPECT_EQ(serial_->HwResetFIFO(true, true), kIOReturnSuccess); });
  EXPECT_TRUE(hostkit_test::driver_log().saw("HwResetFIFO"));
  EXPECT_EQ(hostkit_test::driver_log().reset_fifo_super_result, kIOReturnUnsupported);
}

TEST_F(DataPath, DriverMethodsOffTheQueueAbort) {
  start();
  EXPECT_DEATH(serial_->HwActivate(), "called off the driver queue");
}

TEST(HostkitStart, IOUserUSBSerialOnADeviceProviderIsUnsupported) {
  hostkit::Runtime runtime(hostkit::RuntimeOptions{"HostkitTestDriver", {}});
  auto backend = std::make_shared<FakeUsbDevice>(
      hostkit_test::vendor_device_descriptor(0x0403, 0x6001, 0x0600),
      hostkit_test::vendor_configuration(64), 0x81, 0x02);
  auto device = std::make_shared<hostkit::UsbDevice>(runtime, backend, 0x01100000);
  auto* nub = new IOUSBHostDevice(device);
  IOService* driver = hostkit::create_instance("HostkitTestDriver");
  ASSERT_NE(driver, nullptr);
  driver->hostkitAttach(runtime, nub, 1, nullptr);
  runtime.queue().sync([&] {
    ASSERT_TRUE(driver->init());
    EXPECT_EQ(driver->Start(nub), kIOReturnUnsupported);  // 0xE00002C7
  });
  driver->release();
  nub->release();
}

}  // namespace
