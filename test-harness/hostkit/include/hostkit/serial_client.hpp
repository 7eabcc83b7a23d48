// The kernel side of a hostkit IOUserSerial: the rings ConnectQueues makes and
// the interface the Linux tty side (test-harness/tty) implements to hear the
// driver's D->K calls. Everything here runs on the driver queue.
#pragma once

#include <cstdint>
#include <vector>

#include "transport/ring.hpp"

namespace hostkit {

struct SerialQueues {
  explicit SerialQueues(uint32_t ring_bytes);
  std::vector<uint8_t> rx_storage;
  std::vector<uint8_t> tx_storage;
  transport::SpscRing rx;  // driver produces, kernel (tty side) consumes
  transport::SpscRing tx;  // kernel produces, driver consumes
};

class SerialClient {
 public:
  virtual ~SerialClient() = default;
  virtual void rx_data_available() = 0;
  virtual void tx_free_space_available() = 0;
  virtual void modem_status_changed(bool cts, bool dsr, bool ri, bool dcd) = 0;
  virtual void rx_error(bool overrun, bool got_break, bool framing, bool parity) = 0;
};

}  // namespace hostkit
