#include "recording_sink.hpp"

#include <algorithm>
#include <cstdio>

namespace hostutil {

void RecordingSink::reply(uint8_t bm_request_type, uint8_t b_request, std::vector<uint8_t> data,
                          std::optional<uint16_t> w_value) {
  replies_.push_back({bm_request_type, b_request, w_value, std::move(data)});
}

void RecordingSink::fail(uint8_t bm_request_type, uint8_t b_request, transport::Status status,
                         std::optional<uint16_t> w_value) {
  failures_.push_back({bm_request_type, b_request, status, w_value});
}

transport::Status RecordingSink::control(const transport::ControlRequest& request,
                                         std::span<uint8_t> data, uint16_t& transferred) {
  transferred = 0;
  RecordedTransfer record{request, {}, transport::Status::ok};
  if (data.size() != request.wLength) {
    record.status = transport::Status::invalid_argument;
    transcript_.push_back(record);
    return record.status;
  }
  for (const Failure& f : failures_) {
    if (f.bm_request_type == request.bmRequestType && f.b_request == request.bRequest &&
        (!f.w_value || *f.w_value == request.wValue)) {
      record.status = f.status;
      transcript_.push_back(record);
      return f.status;
    }
  }
  if (request.is_in()) {
    for (const Reply& r : replies_) {
      if (r.bm_request_type == request.bmRequestType && r.b_request == request.bRequest &&
          (!r.w_value || *r.w_value == request.wValue)) {
        const size_t n = std::min(r.data.size(), data.size());
        std::copy_n(r.data.begin(), n, data.begin());
        transferred = static_cast<uint16_t>(n);
        break;
      }
    }
    record.data.assign(data.begin(), data.begin() + transferred);
  } else {
    record.data.assign(data.begin(), data.end());
    transferred = request.wLength;
  }
  transcript_.push_back(record);
  return transport::Status::ok;
}

std::string describe(const RecordedTransfer& transfer) {
  char head[64];
  std::snprintf(head, sizeof head, "%02X %02X wValue=%04X wIndex=%04X wLength=%u",
                transfer.request.bmRequestType, transfer.request.bRequest, transfer.request.wValue,
                transfer.request.wIndex, transfer.request.wLength);
  std::string text = head;
  if (!transfer.data.empty()) {
    text += " [";
    for (size_t i = 0; i < transfer.data.size(); ++i) {
      char byte[4];
      std::snprintf(byte, sizeof byte, i == 0 ? "%02X" : " %02X", transfer.data[i]);
      text += byte;
    }
    text += "]";
  }
  if (transfer.status != transport::Status::ok) {
    text += " -> ";
    text += transport::to_string(transfer.status);
  }
  return text;
}

}  // namespace hostutil
