// ChipSet: storage for one protocol object of every family, so a port can
// select its protocol at run time without heap allocation (DriverKit-safe).
#pragma once

#include "../chip_protocol.hpp"
#include "../device_table.hpp"
#include "cdc_acm.hpp"
#include "ch34x.hpp"
#include "cp210x.hpp"
#include "ftdi.hpp"
#include "pl2303.hpp"
#include "vendor_bulk.hpp"

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
      case ChipFamily::vendor_bulk:
        return &vendor_bulk_;
      case ChipFamily::cp210x:
        return &cp210x_;
      case ChipFamily::ch34x:
        return &ch34x_;
      case ChipFamily::pl2303:
        return &pl2303_;
    }
    return nullptr;
  }

 private:
  CdcAcm cdc_acm_;
  Ftdi ftdi_;
  VendorBulk vendor_bulk_;
  Cp210x cp210x_;
  Ch34x ch34x_;
  Pl2303 pl2303_;
};

}  // namespace transport::chips
