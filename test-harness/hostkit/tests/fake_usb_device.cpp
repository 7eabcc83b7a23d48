#include "fake_usb_device.hpp"

#include <algorithm>
#include <chrono>

namespace hostkit_test {
namespace {
// Set on a device's own thread when the device was destroyed there.
thread_local bool tls_device_gone = false;
}  // namespace

FakeUsbDevice::FakeUsbDevice(std::vector<uint8_t> device, std::vector<uint8_t> configuration,
                             uint8_t in_endpoint, uint8_t out_endpoint)
    : device_(std::move(device)),
      configuration_(std::move(configuration)),
      in_endpoint_(in_endpoint),
      out_endpoint_(out_endpoint) {
  thread_ = std::thread([this] { run(); });
}

FakeUsbDevice::~FakeUsbDevice() {
  // Like a real backend, every accepted transfer completes exactly once, even
  // when the device goes away: pending ones with kIOReturnNoDevice.
  unplug();
  if (std::this_thread::get_id() == thread_.get_id()) {
    // The last reference went with a completion this thread ran (hostkit's
    // pipes hold their device until their transfers complete): a thread cannot
    // join itself. What is queued runs here, and the thread ends on its own.
    std::deque<std::function<void()>> rest;
    {
      std::lock_guard lock(mutex_);
      rest.swap(work_);
    }
    for (auto& work : rest) {
      work();
    }
    tls_device_gone = true;
    thread_.detach();
    return;
  }
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void FakeUsbDevice::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return stopping_ || !work_.empty(); });
    if (work_.empty()) {
      return;  // stopping, and every queued completion has run
    }
    {
      auto work = std::move(work_.front());
      work_.pop_front();
      lock.unlock();
      work();
    }  // the work's captures may have held the last reference to this device
    if (tls_device_gone) {
      return;  // destroyed on this thread: nothing of it may be touched
    }
    lock.lock();
    changed_.notify_all();
  }
}

void FakeUsbDevice::post(std::function<void()> work) {
  {
    std::lock_guard lock(mutex_);
    work_.push_back(std::move(work));
  }
  changed_.notify_all();
}

void FakeUsbDevice::service_in() {
  // Completions run on the bus thread without the lock, one by one, in order.
  while (!in_queue_.empty() && !in_fifo_.empty() && !halted_[in_endpoint_]) {
    Pending pending = std::move(in_queue_.front());
    in_queue_.pop_front();
    const size_t n = std::min(pending.buffer.size(), in_fifo_.size());
    std::copy_n(in_fifo_.begin(), n, pending.buffer.begin());
    in_fifo_.erase(in_fifo_.begin(), in_fifo_.begin() + static_cast<long>(n));
    work_.push_back(
        [done = std::move(pending.done), n] { done(kIOReturnSuccess, static_cast<uint32_t>(n)); });
  }
  changed_.notify_all();
}

void FakeUsbDevice::set_loopback(bool on) {
  std::lock_guard lock(mutex_);
  loopback_ = on;
}

void FakeUsbDevice::push_in(const std::vector<uint8_t>& bytes) {
  std::lock_guard lock(mutex_);
  in_fifo_.insert(in_fifo_.end(), bytes.begin(), bytes.end());
  service_in();
}

void FakeUsbDevice::stall(uint8_t endpoint) {
  std::lock_guard lock(mutex_);
  halted_[endpoint] = true;
  if (endpoint == in_endpoint_) {
    while (!in_queue_.empty()) {
      work_.push_back([done = std::move(in_queue_.front().done)] { done(kIOUSBPipeStalled, 0); });
      in_queue_.pop_front();
    }
  }
  changed_.notify_all();
}

void FakeUsbDevice::unplug() {
  std::function<void()> detach;
  {
    std::lock_guard lock(mutex_);
    unplugged_ = true;
    while (!in_queue_.empty()) {
      work_.push_back([done = std::move(in_queue_.front().done)] { done(kIOReturnNoDevice, 0); });
      in_queue_.pop_front();
    }
    detach = detach_;
  }
  if (detach) {
    post(detach);
  }
  changed_.notify_all();
}

bool FakeUsbDevice::wait_for(const std::function<bool()>& predicate, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

std::vector<uint8_t> FakeUsbDevice::out_data() {
  std::lock_guard lock(mutex_);
  return out_data_;
}

size_t FakeUsbDevice::max_pending_in() const {
  std::lock_guard lock(mutex_);
  return max_pending_in_;
}

size_t FakeUsbDevice::pending_in() const {
  std::lock_guard lock(mutex_);
  return in_queue_.size();
}

std::vector<hostkit::UsbSetup> FakeUsbDevice::setups() {
  std::lock_guard lock(mutex_);
  return setups_;
}

uint32_t FakeUsbDevice::in_transfer_size() const {
  std::lock_guard lock(mutex_);
  return last_in_size_;
}

int FakeUsbDevice::clear_halts() const {
  std::lock_guard lock(mutex_);
  return clear_halts_;
}

std::vector<uint8_t> FakeUsbDevice::string_descriptor(uint8_t index) {
  std::lock_guard lock(mutex_);
  if (index != kSerialStringIndex || serial_.empty()) {
    return {};
  }
  std::vector<uint8_t> bytes = {static_cast<uint8_t>(2 + 2 * serial_.size()), 0x03};
  for (char c : serial_) {
    bytes.push_back(static_cast<uint8_t>(c));
    bytes.push_back(0);
  }
  return bytes;
}

void FakeUsbDevice::set_serial(const std::string& serial) {
  std::lock_guard lock(mutex_);
  serial_ = serial;
  device_[16] = serial.empty() ? 0 : kSerialStringIndex;
}

hostkit::IOReturnValue FakeUsbDevice::control(const hostkit::UsbSetup& setup, std::span<uint8_t>,
                                              uint16_t& actual) {
  std::lock_guard lock(mutex_);
  actual = 0;
  if (unplugged_) {
    return kIOReturnNoDevice;
  }
  setups_.push_back(setup);
  return kIOReturnSuccess;
}

hostkit::IOReturnValue FakeUsbDevice::submit(uint8_t endpoint, std::span<uint8_t> buffer,
                                             hostkit::UsbCompletion done) {
  std::lock_guard lock(mutex_);
  if (unplugged_) {
    return kIOReturnNoDevice;
  }
  if (halted_[endpoint]) {
    work_.push_back([done = std::move(done)] { done(kIOUSBPipeStalled, 0); });
    changed_.notify_all();
    return kIOReturnSuccess;
  }
  if (endpoint == in_endpoint_) {
    in_queue_.push_back({buffer, std::move(done)});
    max_pending_in_ = std::max(max_pending_in_, in_queue_.size());
    last_in_size_ = static_cast<uint32_t>(buffer.size());
    service_in();
    return kIOReturnSuccess;
  }
  if (endpoint == out_endpoint_) {
    out_data_.insert(out_data_.end(), buffer.begin(), buffer.end());
    if (loopback_) {
      in_fifo_.insert(in_fifo_.end(), buffer.begin(), buffer.end());
    }
    const auto n = static_cast<uint32_t>(buffer.size());
    work_.push_back([done = std::move(done), n] { done(kIOReturnSuccess, n); });
    service_in();
    return kIOReturnSuccess;
  }
  return kIOReturnNotFound;
}

void FakeUsbDevice::abort(uint8_t endpoint) {
  std::lock_guard lock(mutex_);
  if (endpoint == in_endpoint_) {
    while (!in_queue_.empty()) {
      work_.push_back([done = std::move(in_queue_.front().done)] { done(kIOReturnAborted, 0); });
      in_queue_.pop_front();
    }
  }
  changed_.notify_all();
}

hostkit::IOReturnValue FakeUsbDevice::clear_halt(uint8_t endpoint) {
  std::lock_guard lock(mutex_);
  halted_[endpoint] = false;
  ++clear_halts_;
  service_in();
  return kIOReturnSuccess;
}

void FakeUsbDevice::set_detach_handler(std::function<void()> handler) {
  std::lock_guard lock(mutex_);
  detach_ = std::move(handler);
}

std::vector<uint8_t> vendor_device_descriptor(uint16_t vid, uint16_t pid, uint16_t bcd) {
  return {18,
          0x01,
          0x00,
          0x02,
          0x00,
          0x00,
          0x00,
          64,
          static_cast<uint8_t>(vid),
          static_cast<uint8_t>(vid >> 8),
          static_cast<uint8_t>(pid),
          static_cast<uint8_t>(pid >> 8),
          static_cast<uint8_t>(bcd),
          static_cast<uint8_t>(bcd >> 8),
          0,
          0,
          0,
          1};
}

std::vector<uint8_t> vendor_configuration(uint16_t max_packet) {
  const auto lo = static_cast<uint8_t>(max_packet);
  const auto hi = static_cast<uint8_t>(max_packet >> 8);
  return {9, 0x02, 32,   0,    1,  1,    0,    0x80, 50,  // configuration, wTotalLength 32
          9, 0x04, 0,    0,    2,  0xFF, 0xFF, 0xFF, 0,   // interface 0, vendor class
          7, 0x05, 0x81, 0x02, lo, hi,   0,               // bulk IN 0x81
          7, 0x05, 0x02, 0x02, lo, hi,   0};              // bulk OUT 0x02
}

// A CDC-ACM function: communication interface 0 (interrupt IN only) and data
// interface 1 (the bulk pair), tied by a union descriptor.
std::vector<uint8_t> cdc_configuration() {
  return {9, 0x02, 67,   0,    2,    1,    0,    0x80, 50,    // configuration, 2 interfaces
          9, 0x04, 0,    0,    1,    0x02, 0x02, 0x01, 0,     // interface 0: CDC ACM
          5, 0x24, 0x00, 0x10, 0x01,                          // header
          5, 0x24, 0x01, 0x00, 0x01,                          // call management
          4, 0x24, 0x02, 0x02,                                // ACM
          5, 0x24, 0x06, 0x00, 0x01,                          // union: 0 -> 1
          7, 0x05, 0x83, 0x03, 0x10, 0x00, 0x10,              // interrupt IN 0x83
          9, 0x04, 0x01, 0x00, 0x02, 0x0A, 0x00, 0x00, 0x00,  // interface 1: CDC data
          7, 0x05, 0x81, 0x02, 0x40, 0x00, 0x00,              // bulk IN 0x81
          7, 0x05, 0x02, 0x02, 0x40, 0x00, 0x00};             // bulk OUT 0x02
}

}  // namespace hostkit_test
