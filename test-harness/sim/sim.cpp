#include "sim/sim.hpp"

#include "sim/cdc_acm.hpp"
#include "sim/ch34x.hpp"
#include "sim/cp210x.hpp"
#include "sim/ftdi.hpp"
#include "sim/pl2303.hpp"
#include "sim/vendor_bulk.hpp"

namespace sim {

std::unique_ptr<SimDevice> make_device(std::string_view chip, Bus& bus, const SimOptions& options) {
  if (chip == "cdc-acm") {
    return std::make_unique<cdc::CdcAcmDevice>(bus, options);
  }
  if (const ftdi::Variant* v = ftdi::find_variant(chip)) {
    return std::make_unique<ftdi::FtdiDevice>(bus, *v, options);
  }
  if (const vendor::Profile* p = vendor::find_profile(chip)) {
    return std::make_unique<vendor::VendorBulkDevice>(bus, *p, options);
  }
  if (const cp210x::Variant* v = cp210x::find_variant(chip)) {
    return std::make_unique<cp210x::Cp210xDevice>(bus, *v, options);
  }
  if (const ch34x::Variant* v = ch34x::find_variant(chip)) {
    return std::make_unique<ch34x::Ch34xDevice>(bus, *v, options);
  }
  if (const pl2303::Variant* v = pl2303::find_variant(chip)) {
    return std::make_unique<pl2303::Pl2303Device>(bus, *v, options);
  }
  return nullptr;
}

std::vector<std::string> chip_names() {
  std::vector<std::string> names{"cdc-acm"};
  for (auto& n : ftdi::variant_names()) {
    names.push_back(n);
  }
  for (auto& n : vendor::profile_names()) {
    names.push_back(n);
  }
  for (auto& n : cp210x::variant_names()) {
    names.push_back(n);
  }
  for (auto& n : ch34x::variant_names()) {
    names.push_back(n);
  }
  for (auto& n : pl2303::variant_names()) {
    names.push_back(n);
  }
  return names;
}

}  // namespace sim
