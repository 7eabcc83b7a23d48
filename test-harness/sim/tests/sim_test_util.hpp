// Helpers for the simulator tests: drive a SimDevice through the
// UsbDeviceBackend API only, the way hostkit will.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/sim.hpp"

namespace simtest {

struct Done {
  hostkit::IOReturnValue status = 0;
  uint32_t actual = 0;
  std::vector<uint8_t> data;  // the first `actual` bytes of the buffer
};

// One endpoint seen from the host: owns its transfer buffers and records
// every completion, in completion order (thread safe).
class Pipe {
 public:
  Pipe(sim::SimDevice& device, uint8_t endpoint) : device_(device), endpoint_(endpoint) {}

  hostkit::IOReturnValue submit_in(size_t length) {
    return submit(std::make_shared<std::vector<uint8_t>>(length, 0xEE));
  }
  hostkit::IOReturnValue submit_out(std::vector<uint8_t> bytes) {
    return submit(std::make_shared<std::vector<uint8_t>>(std::move(bytes)));
  }

  std::vector<Done> take() {
    std::lock_guard lock(state_->mu);
    std::vector<Done> out(state_->done.begin(), state_->done.end());
    state_->done.clear();
    return out;
  }
  size_t count() const {
    std::lock_guard lock(state_->mu);
    return state_->done.size();
  }

 private:
  struct State {
    mutable std::mutex mu;
    std::deque<Done> done;
  };
  hostkit::IOReturnValue submit(std::shared_ptr<std::vector<uint8_t>> buffer) {
    auto state = state_;
    return device_.submit(
        endpoint_, *buffer, [state, buffer](hostkit::IOReturnValue status, uint32_t actual) {
          Done d{status, actual, std::vector<uint8_t>(buffer->begin(), buffer->begin() + actual)};
          std::lock_guard lock(state->mu);
          state->done.push_back(std::move(d));
        });
  }

  sim::SimDevice& device_;
  uint8_t endpoint_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

inline hostkit::IOReturnValue control_out(sim::SimDevice& device, uint8_t type, uint8_t request,
                                          uint16_t value, uint16_t index,
                                          std::vector<uint8_t> data = {}) {
  hostkit::UsbSetup s{type, request, value, index, static_cast<uint16_t>(data.size())};
  uint16_t actual = 0;
  return device.control(s, data, actual);
}

inline std::pair<hostkit::IOReturnValue, std::vector<uint8_t>> control_in(
    sim::SimDevice& device, uint8_t type, uint8_t request, uint16_t value, uint16_t index,
    uint16_t length) {
  std::vector<uint8_t> data(length, 0);
  hostkit::UsbSetup s{type, request, value, index, length};
  uint16_t actual = 0;
  const auto r = device.control(s, data, actual);
  data.resize(actual);
  return {r, data};
}

// FTDI IN transfers: strips the two status bytes at the start of every
// max-packet chunk and returns the payload.
inline std::vector<uint8_t> ftdi_payload(const std::vector<uint8_t>& transfer, size_t max_packet) {
  std::vector<uint8_t> out;
  for (size_t off = 0; off < transfer.size(); off += max_packet) {
    const size_t end = std::min(transfer.size(), off + max_packet);
    if (end - off > 2) {
      out.insert(out.end(), transfer.begin() + static_cast<std::ptrdiff_t>(off + 2),
                 transfer.begin() + static_cast<std::ptrdiff_t>(end));
    }
  }
  return out;
}

inline std::vector<uint8_t> bytes(std::string_view s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

// A deterministic byte stream (xorshift32), so tests need no stored data.
inline std::vector<uint8_t> pattern(size_t n, uint32_t seed = 0x12345678u) {
  std::vector<uint8_t> v(n);
  uint32_t x = seed;
  for (auto& b : v) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<uint8_t>(x >> 7);
  }
  return v;
}

// A minimal, independent walk of a configuration descriptor (USB 2.0 §9.6).
struct DescEndpoint {
  uint8_t address = 0, attributes = 0, interval = 0;
  uint16_t max_packet = 0;
};
struct DescInterface {
  uint8_t number = 0, cls = 0, subclass = 0, protocol = 0, num_endpoints = 0;
  std::vector<DescEndpoint> endpoints;
  std::vector<std::vector<uint8_t>> functional;  // class-specific (0x24) descriptors
};
inline std::vector<DescInterface> walk_config(const std::vector<uint8_t>& c) {
  std::vector<DescInterface> out;
  size_t off = 0;
  while (off + 2 <= c.size() && c[off] >= 2 && off + c[off] <= c.size()) {
    const uint8_t len = c[off];
    const uint8_t type = c[off + 1];
    if (type == 0x04 && len >= 9) {
      out.push_back(
          DescInterface{c[off + 2], c[off + 5], c[off + 6], c[off + 7], c[off + 4], {}, {}});
    } else if (type == 0x05 && len >= 7 && !out.empty()) {
      out.back().endpoints.push_back(
          DescEndpoint{c[off + 2], c[off + 3], c[off + 6],
                       static_cast<uint16_t>(c[off + 4] | (c[off + 5] << 8))});
    } else if (type == 0x24 && !out.empty()) {
      out.back().functional.emplace_back(c.begin() + static_cast<std::ptrdiff_t>(off),
                                         c.begin() + static_cast<std::ptrdiff_t>(off + len));
    }
    off += len;
  }
  return out;
}

inline std::string ascii_of(const std::vector<uint8_t>& string_descriptor) {
  std::string s;
  for (size_t i = 2; i + 1 < string_descriptor.size(); i += 2) {
    s.push_back(static_cast<char>(string_descriptor[i]));
  }
  return s;
}

// A device whose UARTs run at the programmed rate and whose bus runs in frames.
inline sim::SimOptions paced() {
  sim::SimOptions o;
  o.paced = true;
  return o;
}

}  // namespace simtest
