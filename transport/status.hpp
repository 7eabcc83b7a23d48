// Status: the one error vocabulary of the portable core.
//
// Every core operation returns a Status. The dext maps it to kern_return_t
// (kern_status.hpp), the Linux tty side maps it to errno. to_string() gives
// the stable name used in logs and in the JSON of every tool.
#pragma once

#include <cstdint>

namespace transport {

enum class [[nodiscard]] Status : uint8_t{
    ok,
    unsupported,       // this chip or protocol cannot do it (e.g. break on a chip without one)
    invalid_argument,  // the caller's values are wrong (e.g. 9 data bits, parity code 7)
    baud_unreachable,  // no rate within tolerance of the request; never silently replaced
    stall,             // the device answered STALL (control request refused or endpoint halted)
    timeout,           // the device did not answer in time
    no_device,         // the device is gone (unplugged)
    aborted,           // the transfer was cancelled by the host
    overflow,          // the device sent more than the buffer holds (babble)
    short_transfer,    // the device returned fewer bytes than the protocol requires
    malformed,         // untrusted input failed validation (descriptor, status packet)
    busy,              // a resource is in use (e.g. a transfer slot)
    no_space,          // a ring or buffer is full
    not_open,          // the port or pipe is not active
    io_error,          // any other transfer failure
};

inline constexpr int kStatusCount = static_cast<int>(Status::io_error) + 1;

// Stable snake_case name, e.g. "baud_unreachable". Never null.
const char* to_string(Status status);

constexpr bool is_ok(Status status) {
  return status == Status::ok;
}

}  // namespace transport
