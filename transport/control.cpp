#include "control.hpp"

#include <array>
#include <cstring>

namespace transport {

Status control_out(ControlSink& sink, const ControlRequest& request,
                   std::span<const uint8_t> data) {
  // Requests on this path carry at most a few dozen bytes (line coding, flow
  // structures); the copy keeps the sink interface free of const overloads.
  std::array<uint8_t, 64> staging{};
  if (request.is_in() || data.size() != request.wLength || data.size() > staging.size()) {
    return Status::invalid_argument;
  }
  if (!data.empty()) {
    std::memcpy(staging.data(), data.data(), data.size());
  }
  uint16_t transferred = 0;
  const Status status = sink.control(request, {staging.data(), data.size()}, transferred);
  if (status != Status::ok) {
    return status;
  }
  return transferred == data.size() ? Status::ok : Status::short_transfer;
}

Status control_in_exact(ControlSink& sink, const ControlRequest& request, std::span<uint8_t> data) {
  if (!request.is_in() || data.size() != request.wLength) {
    return Status::invalid_argument;
  }
  uint16_t transferred = 0;
  const Status status = sink.control(request, data, transferred);
  if (status != Status::ok) {
    return status;
  }
  return transferred == data.size() ? Status::ok : Status::short_transfer;
}

}  // namespace transport
