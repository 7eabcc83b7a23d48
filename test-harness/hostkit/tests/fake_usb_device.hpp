// FakeUsbDevice: a minimal UsbDeviceBackend for hostkit's own tests. It has its
// own "bus" thread like a real backend, completes transfers in order per
// endpoint, and can loop OUT data back to IN, stall, and unplug.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hostkit/ioreturn.hpp"
#include "hostkit/usb_backend.hpp"

namespace hostkit_test {

class FakeUsbDevice final : public hostkit::UsbDeviceBackend {
 public:
  FakeUsbDevice(std::vector<uint8_t> device, std::vector<uint8_t> configuration,
                uint8_t in_endpoint, uint8_t out_endpoint);
  ~FakeUsbDevice() override;

  // --- test controls (any thread)
  void set_loopback(bool on);
  void push_in(const std::vector<uint8_t>& bytes);  // data the device will send
  void stall(uint8_t endpoint);
  void unplug();
  // The USB serial-number string (iSerialNumber = kSerialStringIndex); "" for none.
  // Call before the device is attached.
  void set_serial(const std::string& serial);
  static constexpr uint8_t kSerialStringIndex = 3;
  // Polls `predicate` (which may call the accessors below) until it holds; false on timeout.
  bool wait_for(const std::function<bool()>& predicate, int timeout_ms = 5000);
  std::vector<uint8_t> out_data();
  size_t max_pending_in() const;
  size_t pending_in() const;
  std::vector<hostkit::UsbSetup> setups();
  uint32_t in_transfer_size() const;  // size of the last IN transfer submitted
  int clear_halts() const;

  // --- hostkit::UsbDeviceBackend
  std::vector<uint8_t> device_descriptor() override { return device_; }
  std::vector<uint8_t> configuration_descriptor() override { return configuration_; }
  std::vector<uint8_t> string_descriptor(uint8_t index) override;
  hostkit::UsbSpeed speed() const override { return hostkit::UsbSpeed::full; }
  hostkit::IOReturnValue control(const hostkit::UsbSetup& setup, std::span<uint8_t> data,
                                 uint16_t& actual) override;
  hostkit::IOReturnValue submit(uint8_t endpoint, std::span<uint8_t> buffer,
                                hostkit::UsbCompletion done) override;
  void abort(uint8_t endpoint) override;
  hostkit::IOReturnValue clear_halt(uint8_t endpoint) override;
  void set_detach_handler(std::function<void()> handler) override;

 private:
  struct Pending {
    std::span<uint8_t> buffer;
    hostkit::UsbCompletion done;
  };
  void run();
  void post(std::function<void()> work);  // onto the bus thread
  void service_in();                      // bus thread, lock held

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> work_;
  bool stopping_ = false;
  std::thread thread_;

  std::vector<uint8_t> device_;
  std::vector<uint8_t> configuration_;
  uint8_t in_endpoint_;
  uint8_t out_endpoint_;
  bool loopback_ = false;
  bool unplugged_ = false;
  std::map<uint8_t, bool> halted_;
  std::deque<Pending> in_queue_;
  std::deque<uint8_t> in_fifo_;
  std::vector<uint8_t> out_data_;
  size_t max_pending_in_ = 0;
  uint32_t last_in_size_ = 0;
  int clear_halts_ = 0;
  std::vector<hostkit::UsbSetup> setups_;
  std::string serial_;
  std::function<void()> detach_;
};

// Descriptor builders for a single vendor interface (bulk IN 0x81, OUT 0x02).
std::vector<uint8_t> vendor_device_descriptor(uint16_t vid, uint16_t pid, uint16_t bcd);
std::vector<uint8_t> vendor_configuration(uint16_t max_packet);
// A CDC-ACM function: communication interface 0 with interrupt IN 0x83, data
// interface 1 with bulk IN 0x81 and bulk OUT 0x02 (64-byte packets), a union 0 -> 1.
std::vector<uint8_t> cdc_configuration();

}  // namespace hostkit_test
