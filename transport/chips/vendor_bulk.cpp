#include "vendor_bulk.hpp"

#include <algorithm>
#include <limits>

#include "../device_table.hpp"

namespace transport::chips {

Status VendorBulk::configure(const PortConfig& config) {
  *this = VendorBulk{};
  if (config.variant != ChipVariant::vendor_bulk || config.bulk_in_max_packet == 0) {
    return Status::invalid_argument;
  }
  configured_ = true;
  return Status::ok;
}

const char* VendorBulk::name() const {
  return variant_info(ChipVariant::vendor_bulk).name;
}

Capabilities VendorBulk::capabilities() const {
  Capabilities caps;
  caps.flags = capability::kNoModemLines | capability::kMarkSpace | capability::kDataBits5_6 |
               capability::kStopBits1_5;
  caps.min_baud = 1;
  caps.max_baud = 0;
  return caps;
}

Status VendorBulk::open(ControlSink&) {
  return configured_ ? Status::ok : Status::not_open;
}

Status VendorBulk::close(ControlSink&) {
  return configured_ ? Status::ok : Status::not_open;
}

Status VendorBulk::set_line(ControlSink&, const LineSettings& line, uint32_t& actual_baud) {
  if (!configured_) {
    return Status::not_open;
  }
  const bool parity_ok = line.parity == Parity::none || line.parity == Parity::odd ||
                         line.parity == Parity::even || line.parity == Parity::mark ||
                         line.parity == Parity::space;
  const bool stop_bits_ok = line.stop_bits == StopBits::one ||
                            line.stop_bits == StopBits::one_and_half ||
                            line.stop_bits == StopBits::two;
  if (line.baud == 0 || line.data_bits < 5 || line.data_bits > 8 || !parity_ok || !stop_bits_ok) {
    return Status::invalid_argument;
  }
  line_ = line;
  actual_baud = line.baud;
  return Status::ok;
}

Status VendorBulk::set_modem_control(ControlSink&, ModemControl) {
  return configured_ ? Status::unsupported : Status::not_open;
}

uint32_t VendorBulk::decode_rx(std::span<uint8_t> transfer, RxReport&) {
  return static_cast<uint32_t>(
      std::min<size_t>(transfer.size(), std::numeric_limits<uint32_t>::max()));
}

}  // namespace transport::chips
