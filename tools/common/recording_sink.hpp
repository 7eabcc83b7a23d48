// RecordingSink: a ControlSink that records every request (the transcript) and
// answers from a script: canned IN replies, STALLs, and failures. Used by the
// transcript tests and by `usbserialctl encode`.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "transport/control.hpp"

namespace hostutil {

struct RecordedTransfer {
  transport::ControlRequest request;
  std::vector<uint8_t> data;  // OUT: bytes sent; IN: bytes returned
  transport::Status status = transport::Status::ok;
};

class RecordingSink final : public transport::ControlSink {
 public:
  // IN requests with this bmRequestType/bRequest (and wValue, if given) return `data`.
  void reply(uint8_t bm_request_type, uint8_t b_request, std::vector<uint8_t> data,
             std::optional<uint16_t> w_value = std::nullopt);
  // Requests with this bmRequestType/bRequest (and wValue, if given) are answered with
  // `status` (e.g. stall).
  void fail(uint8_t bm_request_type, uint8_t b_request, transport::Status status,
            std::optional<uint16_t> w_value = std::nullopt);

  transport::Status control(const transport::ControlRequest& request, std::span<uint8_t> data,
                            uint16_t& transferred) override;

  const std::vector<RecordedTransfer>& transcript() const { return transcript_; }
  void clear() { transcript_.clear(); }

 private:
  struct Reply {
    uint8_t bm_request_type;
    uint8_t b_request;
    std::optional<uint16_t> w_value;
    std::vector<uint8_t> data;
  };
  struct Failure {
    uint8_t bm_request_type;
    uint8_t b_request;
    transport::Status status;
    std::optional<uint16_t> w_value;
  };
  std::vector<Reply> replies_;
  std::vector<Failure> failures_;
  std::vector<RecordedTransfer> transcript_;
};

// "40 03 wValue=4138 wIndex=0000 [..]" for test diagnostics.
std::string describe(const RecordedTransfer& transfer);

}  // namespace hostutil
