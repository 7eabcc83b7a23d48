// Status names and the Status <-> kern_return_t mapping at the DriverKit seam.
//
// Expected IOReturn values are written out from IOKit's IOReturn.h
// (iokit_common_err(x) = sys_iokit 0xE0000000 | x) and the USB family's USB.h
// (iokit_usb_err(x) = 0xE0004000 | x): kIOReturnError 0x2BC, kIOReturnNoDevice 0x2C0,
// kIOReturnBadArgument 0x2C2, kIOReturnUnsupported 0x2C7, kIOReturnIOError 0x2CA,
// kIOReturnNotOpen 0x2CD, kIOReturnBusy 0x2D5, kIOReturnTimeout 0x2D6,
// kIOReturnNoSpace 0x2DB, kIOReturnUnderrun 0x2E7, kIOReturnOverrun 0x2E8,
// kIOReturnAborted 0x2EB, kIOReturnNotResponding 0x2ED, kIOUSBPipeStalled 0x4F,
// kIOUSBTransactionTimeout 0x51.
#include <cstdint>
#include <cstring>
#include <iterator>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "transport/kern_status.hpp"
#include "transport/status.hpp"

namespace {

using transport::Status;
namespace kern = transport::kern;

constexpr kern::Return ioreturn(uint32_t value) {
  return static_cast<kern::Return>(value);
}

struct NameCase {
  Status status;
  const char* name;
};

// Every enumerator, in declaration order, with the name logs and JSON rely on.
constexpr NameCase kNames[] = {
    {Status::ok, "ok"},
    {Status::unsupported, "unsupported"},
    {Status::invalid_argument, "invalid_argument"},
    {Status::baud_unreachable, "baud_unreachable"},
    {Status::stall, "stall"},
    {Status::timeout, "timeout"},
    {Status::no_device, "no_device"},
    {Status::aborted, "aborted"},
    {Status::overflow, "overflow"},
    {Status::short_transfer, "short_transfer"},
    {Status::malformed, "malformed"},
    {Status::busy, "busy"},
    {Status::no_space, "no_space"},
    {Status::not_open, "not_open"},
    {Status::io_error, "io_error"},
};

TEST(StatusName, EveryValueHasItsStableName) {
  ASSERT_EQ(std::size(kNames), static_cast<size_t>(transport::kStatusCount));
  for (size_t i = 0; i < std::size(kNames); ++i) {
    EXPECT_EQ(static_cast<size_t>(kNames[i].status), i) << kNames[i].name;
    ASSERT_NE(transport::to_string(kNames[i].status), nullptr);
    EXPECT_STREQ(transport::to_string(kNames[i].status), kNames[i].name);
  }
}

TEST(StatusName, NamesAreDistinctSnakeCase) {
  std::set<std::string> seen;
  for (const NameCase& c : kNames) {
    const std::string name = transport::to_string(c.status);
    EXPECT_TRUE(seen.insert(name).second) << name;
    for (const char ch : name) {
      EXPECT_TRUE((ch >= 'a' && ch <= 'z') || ch == '_') << name;
    }
  }
}

TEST(StatusName, OutOfRangeValueIsNeverNull) {
  for (const unsigned raw : {15u, 16u, 100u, 255u}) {
    const auto status = static_cast<Status>(raw);
    ASSERT_NE(transport::to_string(status), nullptr);
    EXPECT_STREQ(transport::to_string(status), "unknown_status") << raw;
  }
}

TEST(StatusName, IsOk) {
  EXPECT_TRUE(transport::is_ok(Status::ok));
  for (const NameCase& c : kNames) {
    EXPECT_EQ(transport::is_ok(c.status), c.status == Status::ok) << c.name;
  }
}

TEST(KernConstants, MatchIOReturnH) {
  EXPECT_EQ(kern::kSuccess, 0);
  EXPECT_EQ(kern::kError, ioreturn(0xE00002BC));
  EXPECT_EQ(kern::kNoMemory, ioreturn(0xE00002BD));
  EXPECT_EQ(kern::kNoResources, ioreturn(0xE00002BE));
  EXPECT_EQ(kern::kNoDevice, ioreturn(0xE00002C0));
  EXPECT_EQ(kern::kBadArgument, ioreturn(0xE00002C2));
  EXPECT_EQ(kern::kExclusiveAccess, ioreturn(0xE00002C5));
  EXPECT_EQ(kern::kUnsupported, ioreturn(0xE00002C7));
  EXPECT_EQ(kern::kIOError, ioreturn(0xE00002CA));
  EXPECT_EQ(kern::kNotOpen, ioreturn(0xE00002CD));
  EXPECT_EQ(kern::kBusy, ioreturn(0xE00002D5));
  EXPECT_EQ(kern::kTimeout, ioreturn(0xE00002D6));
  EXPECT_EQ(kern::kNoSpace, ioreturn(0xE00002DB));
  EXPECT_EQ(kern::kNotPermitted, ioreturn(0xE00002E2));
  EXPECT_EQ(kern::kUnderrun, ioreturn(0xE00002E7));
  EXPECT_EQ(kern::kOverrun, ioreturn(0xE00002E8));
  EXPECT_EQ(kern::kAborted, ioreturn(0xE00002EB));
  EXPECT_EQ(kern::kNotResponding, ioreturn(0xE00002ED));
  EXPECT_EQ(kern::kNotFound, ioreturn(0xE00002F0));
  EXPECT_EQ(kern::kUsbPipeStalled, ioreturn(0xE000404F));
  EXPECT_EQ(kern::kUsbTransactionTimeout, ioreturn(0xE0004051));
}

struct FromCase {
  Status status;
  uint32_t ioreturn;
};

TEST(KernFromStatus, EveryStatus) {
  constexpr FromCase kCases[] = {
      {Status::ok, 0},
      {Status::unsupported, 0xE00002C7},
      {Status::invalid_argument, 0xE00002C2},
      {Status::baud_unreachable, 0xE00002C2},  // EINVAL at the tty, like a bad argument
      {Status::stall, 0xE000404F},
      {Status::timeout, 0xE00002D6},
      {Status::no_device, 0xE00002C0},
      {Status::aborted, 0xE00002EB},
      {Status::overflow, 0xE00002E8},
      {Status::short_transfer, 0xE00002E7},
      {Status::malformed, 0xE00002CA},
      {Status::busy, 0xE00002D5},
      {Status::no_space, 0xE00002DB},
      {Status::not_open, 0xE00002CD},
      {Status::io_error, 0xE00002CA},
  };
  ASSERT_EQ(std::size(kCases), static_cast<size_t>(transport::kStatusCount));
  for (const FromCase& c : kCases) {
    EXPECT_EQ(kern::from_status(c.status), ioreturn(c.ioreturn)) << transport::to_string(c.status);
  }
}

TEST(KernFromStatus, OutOfRangeIsGenericError) {
  EXPECT_EQ(kern::from_status(static_cast<Status>(200)), ioreturn(0xE00002BC));
}

TEST(KernFromStatus, OnlySuccessIsSuccess) {
  for (const NameCase& c : kNames) {
    EXPECT_EQ(kern::from_status(c.status) == kern::kSuccess, c.status == Status::ok) << c.name;
  }
}

struct ToCase {
  uint32_t ioreturn;
  Status status;
};

TEST(KernToStatus, KnownValues) {
  constexpr ToCase kCases[] = {
      {0, Status::ok},
      {0xE000404F, Status::stall},
      {0xE00002D6, Status::timeout},
      {0xE0004051, Status::timeout},  // kIOUSBTransactionTimeout
      {0xE00002C0, Status::no_device},
      {0xE00002ED, Status::no_device},  // kIOReturnNotResponding: the device is gone
      {0xE00002EB, Status::aborted},
      {0xE00002E8, Status::overflow},
      {0xE00002E7, Status::short_transfer},
      {0xE00002C7, Status::unsupported},
      {0xE00002C2, Status::invalid_argument},
      {0xE00002D5, Status::busy},
      {0xE00002DB, Status::no_space},
      {0xE00002CD, Status::not_open},
      {0xE00002CA, Status::io_error},
  };
  for (const ToCase& c : kCases) {
    EXPECT_EQ(kern::to_status(ioreturn(c.ioreturn)), c.status) << std::hex << c.ioreturn;
  }
}

TEST(KernToStatus, AnythingElseIsIoError) {
  for (const uint32_t value : {0xE00002BCu, 0xE00002BDu, 0xE00002BEu, 0xE00002C5u, 0xE00002E2u,
                               0xE00002F0u, 0xE0004050u, 0x00000001u, 0xFFFFFFFFu}) {
    EXPECT_EQ(kern::to_status(ioreturn(value)), Status::io_error) << std::hex << value;
  }
}

// Statuses whose IOReturn is theirs alone come back unchanged; baud_unreachable
// and malformed share an IOReturn with invalid_argument and io_error.
TEST(KernRoundTrip, OneToOneStatuses) {
  for (const NameCase& c : kNames) {
    const Status back = kern::to_status(kern::from_status(c.status));
    if (c.status == Status::baud_unreachable) {
      EXPECT_EQ(back, Status::invalid_argument);
    } else if (c.status == Status::malformed) {
      EXPECT_EQ(back, Status::io_error);
    } else {
      EXPECT_EQ(back, c.status) << c.name;
    }
  }
}

TEST(KernRoundTrip, OneToOneIOReturns) {
  for (const kern::Return r :
       {kern::kSuccess, kern::kUsbPipeStalled, kern::kTimeout, kern::kNoDevice, kern::kAborted,
        kern::kOverrun, kern::kUnderrun, kern::kUnsupported, kern::kBadArgument, kern::kBusy,
        kern::kNoSpace, kern::kNotOpen, kern::kIOError}) {
    EXPECT_EQ(kern::from_status(kern::to_status(r)), r) << std::hex << static_cast<uint32_t>(r);
  }
}

// The mapping is constexpr, so the dext can use it in constant tables.
static_assert(kern::from_status(Status::stall) == kern::kUsbPipeStalled);
static_assert(kern::to_status(kern::kUsbPipeStalled) == Status::stall);

}  // namespace
