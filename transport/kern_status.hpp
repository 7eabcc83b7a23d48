// Status <-> kern_return_t (IOReturn) at the DriverKit seam.
//
// The numeric values are restated from IOKit's IOReturn.h and the USB family's
// USB.h (sys_iokit = 0xE0000000, sub_iokit_usb = 0x4000); transport/ may not
// include Apple headers, so the dext and hostkit both use these constants.
#pragma once

#include <cstdint>

#include "status.hpp"

namespace transport::kern {

using Return = int32_t;  // kern_return_t / IOReturn

inline constexpr Return kSuccess = 0;
inline constexpr Return kError = static_cast<Return>(0xE00002BCu);
inline constexpr Return kNoMemory = static_cast<Return>(0xE00002BDu);
inline constexpr Return kNoResources = static_cast<Return>(0xE00002BEu);
inline constexpr Return kNoDevice = static_cast<Return>(0xE00002C0u);
inline constexpr Return kBadArgument = static_cast<Return>(0xE00002C2u);
inline constexpr Return kUnsupported = static_cast<Return>(0xE00002C7u);
inline constexpr Return kIOError = static_cast<Return>(0xE00002CAu);
inline constexpr Return kNotOpen = static_cast<Return>(0xE00002CDu);
inline constexpr Return kBusy = static_cast<Return>(0xE00002D5u);
inline constexpr Return kTimeout = static_cast<Return>(0xE00002D6u);
inline constexpr Return kNoSpace = static_cast<Return>(0xE00002DBu);
inline constexpr Return kNotPermitted = static_cast<Return>(0xE00002E2u);
inline constexpr Return kUnderrun = static_cast<Return>(0xE00002E7u);
inline constexpr Return kOverrun = static_cast<Return>(0xE00002E8u);
inline constexpr Return kAborted = static_cast<Return>(0xE00002EBu);
inline constexpr Return kNotResponding = static_cast<Return>(0xE00002EDu);
inline constexpr Return kNotFound = static_cast<Return>(0xE00002F0u);
inline constexpr Return kExclusiveAccess = static_cast<Return>(0xE00002C5u);
inline constexpr Return kUsbPipeStalled = static_cast<Return>(0xE000404Fu);
inline constexpr Return kUsbTransactionTimeout = static_cast<Return>(0xE0004051u);

// What a Status becomes when a Hw* method or Start returns it.
constexpr Return from_status(Status status) {
  switch (status) {
    case Status::ok:
      return kSuccess;
    case Status::unsupported:
      return kUnsupported;
    case Status::invalid_argument:
      return kBadArgument;
    case Status::baud_unreachable:
      return kBadArgument;  // IOSerialBSDClient turns it into EINVAL
    case Status::stall:
      return kUsbPipeStalled;
    case Status::timeout:
      return kTimeout;
    case Status::no_device:
      return kNoDevice;
    case Status::aborted:
      return kAborted;
    case Status::overflow:
      return kOverrun;
    case Status::short_transfer:
      return kUnderrun;
    case Status::malformed:
      return kIOError;
    case Status::busy:
      return kBusy;
    case Status::no_space:
      return kNoSpace;
    case Status::not_open:
      return kNotOpen;
    case Status::io_error:
      return kIOError;
  }
  return kError;
}

// What a USB completion or DeviceRequest result means to the core.
constexpr Status to_status(Return r) {
  switch (r) {
    case kSuccess:
      return Status::ok;
    case kUsbPipeStalled:
      return Status::stall;
    case kTimeout:
    case kUsbTransactionTimeout:
      return Status::timeout;
    case kNoDevice:
    case kNotResponding:
      return Status::no_device;
    case kAborted:
      return Status::aborted;
    case kOverrun:
      return Status::overflow;
    case kUnderrun:
      return Status::short_transfer;
    case kUnsupported:
      return Status::unsupported;
    case kBadArgument:
      return Status::invalid_argument;
    case kBusy:
      return Status::busy;
    case kNoSpace:
      return Status::no_space;
    case kNotOpen:
      return Status::not_open;
    default:
      return Status::io_error;
  }
}

}  // namespace transport::kern
