// `usbserialctl encode`: what the portable core sends to a chip to set a rate with 8N1.
//
// Runs the real protocol code (transport::chips::ChipSet, configured as the dext would
// configure it) against a hostutil::RecordingSink and reports the transcript as JSON.
#pragma once

#include <cstdint>
#include <string>

#include "transport/device_table.hpp"
#include "transport/status.hpp"

namespace usbserialctl {

struct EncodeRequest {
  const transport::VariantInfo* chip = nullptr;  // from transport::find_variant
  uint8_t port_index = 0;                        // 0 = port A
  uint32_t baud = 0;
};

struct EncodeOutcome {
  // ok when the protocol accepted the port and the rate; invalid_argument from configure()
  // (a port the chip does not have) is reported separately as a usage error.
  transport::Status status = transport::Status::ok;
  bool usage_error = false;  // the port/chip combination was refused by configure()
  std::string message;       // for usage errors
  std::string json;          // the report (empty on a usage error)
};

EncodeOutcome run_encode(const EncodeRequest& request);

// Exit status of the tool for an outcome: 0 ok, 1 refused by the protocol (the JSON says
// why), 2 bad usage.
int exit_code(const EncodeOutcome& outcome);

// "A".."H" / "a".."h", or a 0-based index "0".."7". false on anything else.
bool parse_port(const std::string& text, uint8_t& port_index);

// A decimal rate without sign, spaces or suffix that fits 32 bits. false otherwise.
bool parse_baud(const std::string& text, uint32_t& baud);

}  // namespace usbserialctl
