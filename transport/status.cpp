#include "status.hpp"

#include <array>

namespace transport {
namespace {

constexpr std::array<const char*, kStatusCount> kNames = {
    "ok",        "unsupported", "invalid_argument", "baud_unreachable", "stall",
    "timeout",   "no_device",   "aborted",          "overflow",         "short_transfer",
    "malformed", "busy",        "no_space",         "not_open",         "io_error",
};

}  // namespace

const char* to_string(Status status) {
  const auto index = static_cast<unsigned>(status);
  return index < kNames.size() ? kNames[index] : "unknown_status";
}

}  // namespace transport
