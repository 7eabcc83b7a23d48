// ControlRequest + ControlSink: how a chip protocol talks to endpoint 0.
//
// A chip protocol never does I/O itself. It describes a control transfer and
// asks a ControlSink to run it. DriverKit's IOUSBHostInterface::DeviceRequest,
// hostkit, libusb and the transcript-recording fake of the tests all implement
// the sink, so the same protocol code runs everywhere.
#pragma once

#include <cstdint>
#include <span>

#include "status.hpp"

namespace transport {

// bmRequestType bits (USB 2.0 §9.3.1).
namespace request_type {
inline constexpr uint8_t kDirIn = 0x80;
inline constexpr uint8_t kTypeStandard = 0x00;
inline constexpr uint8_t kTypeClass = 0x20;
inline constexpr uint8_t kTypeVendor = 0x40;
inline constexpr uint8_t kRecipientDevice = 0x00;
inline constexpr uint8_t kRecipientInterface = 0x01;
inline constexpr uint8_t kRecipientEndpoint = 0x02;
}  // namespace request_type

struct ControlRequest {
  uint8_t bmRequestType = 0;
  uint8_t bRequest = 0;
  uint16_t wValue = 0;
  uint16_t wIndex = 0;
  uint16_t wLength = 0;

  constexpr bool is_in() const { return (bmRequestType & request_type::kDirIn) != 0; }
  friend constexpr bool operator==(const ControlRequest&, const ControlRequest&) = default;
};

class ControlSink {
 public:
  // Runs one control transfer.
  //   OUT (is_in() false): sends data[0, wLength); data.size() == wLength.
  //   IN: receives at most wLength bytes into data; data.size() == wLength.
  // `transferred` receives the number of bytes moved in the data stage.
  // Returns ok, stall (the device refused), timeout, no_device, invalid_argument
  // (data.size() != wLength) or io_error.
  virtual Status control(const ControlRequest& request, std::span<uint8_t> data,
                         uint16_t& transferred) = 0;

 protected:
  ~ControlSink() = default;
};

// An OUT request without a data stage. invalid_argument (nothing sent) for an
// IN request or a non-zero wLength; otherwise what the sink returns.
inline Status control_out(ControlSink& sink, const ControlRequest& request) {
  if (request.is_in() || request.wLength != 0) {
    return Status::invalid_argument;
  }
  uint16_t transferred = 0;
  return sink.control(request, {}, transferred);
}

// An OUT request with a data stage; all of data must be accepted
// (short_transfer otherwise). invalid_argument (nothing sent) for an IN request,
// data.size() != wLength, or more than 64 bytes of data (the requests on this
// path carry a few dozen at most; they are staged in a 64-byte buffer).
Status control_out(ControlSink& sink, const ControlRequest& request, std::span<const uint8_t> data);

// An IN request that must return exactly data.size() bytes (short_transfer
// otherwise). invalid_argument (nothing sent) for an OUT request or
// data.size() != wLength.
Status control_in_exact(ControlSink& sink, const ControlRequest& request, std::span<uint8_t> data);

}  // namespace transport
