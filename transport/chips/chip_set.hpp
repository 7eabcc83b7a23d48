// ChipSet: storage for one protocol object of every family, so a port can
// select its protocol at run time without heap allocation (DriverKit-safe).
#pragma once

#include "../chip_protocol.hpp"
#include "../device_table.hpp"
#include "cdc_acm.hpp"
#include "ftdi.hpp"
#include "pl2303.hpp"

namespace transport::chips {

class ChipSet {
 public:
  // The protocol object for a family; never null for a family in the table.
  ChipProtocol* select(ChipFamily family) {
    switch (family) {
      case ChipFamily::cdc_acm:
        return &cdc_acm_;
      case ChipFamily::ftdi:
        return &ftdi_;
      case ChipFamily::pl2303:
        return &pl2303_;
    }
    return nullptr;
  }

 private:
  CdcAcm cdc_acm_;
  Ftdi ftdi_;
  Pl2303 pl2303_;
};

}  // namespace transport::chips
