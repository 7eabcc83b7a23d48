#include "sim/cp210x_baud.hpp"

#include <cmath>

namespace sim::cp210x {

namespace {

// AN205 Table 1, "Default Baud Rate Configuration": {lowest request, highest request, rate},
// from the top of the table down; rate 0 = "Undefined".
struct Range {
  uint32_t low;
  uint32_t high;
  uint32_t rate;
};
constexpr Range kTable1[] = {
    {2'457'601, 0xFFFFFFFF, 0},
    {1'474'561, 2'457'600, 0},
    {1'053'258, 1'474'560, 0},
    {670'255, 1'053'257, 921'600},
    {567'139, 670'254, 576'000},
    {491'521, 567'138, 500'000},
    {273'067, 491'520, 460'800},
    {254'235, 273'066, 256'000},
    {237'833, 254'234, 250'000},
    {156'869, 237'832, 230'400},
    {129'348, 156'868, 153'600},
    {117'029, 129'347, 128'000},
    {77'609, 117'028, 115'200},
    {64'112, 77'608, 76'800},
    {58'054, 64'111, 64'000},
    {56'281, 58'053, 57'600},
    {51'559, 56'280, 56'000},
    {38'602, 51'558, 51'200},
    {28'913, 38'601, 38'400},
    {19'251, 28'912, 28'800},
    {16'063, 19'250, 19'200},
    {14'429, 16'062, 16'000},
    {9'613, 14'428, 14'400},
    {7'208, 9'612, 9'600},
    {4'804, 7'207, 7'200},
    {4'001, 4'803, 4'800},
    {2'401, 4'000, 4'000},
    {1'801, 2'400, 2'400},
    {1'201, 1'800, 1'800},
    {601, 1'200, 1'200},
    {301, 600, 600},
    {57, 300, 300},
};

constexpr double kClock = 48'000'000.0;

}  // namespace

std::optional<uint32_t> an205_rate(uint32_t requested) {
  for (const Range& r : kTable1) {
    if (requested >= r.low && requested <= r.high) {
      return r.rate == 0 ? std::nullopt : std::optional<uint32_t>(r.rate);
    }
  }
  return std::nullopt;  // below 57 Bd: not in the table
}

std::vector<uint32_t> an205_rates() {
  std::vector<uint32_t> rates;
  for (const Range& r : kTable1) {
    if (r.rate != 0) {
      rates.insert(rates.begin(), r.rate);  // the table runs from the top down
    }
  }
  return rates;
}

DividerSetting divider_setting(uint32_t requested) {
  DividerSetting s;
  s.prescale = requested <= 365 ? 4 : 1;
  s.divider = static_cast<uint32_t>(std::floor(kClock / (2.0 * s.prescale * requested) + 0.5));
  if (s.divider == 0) {
    s.divider = 1;
  }
  s.rate = kClock / (2.0 * s.prescale * s.divider);
  return s;
}

std::optional<double> uart_rate(RateRule rule, uint32_t requested, uint32_t exact_from) {
  if (requested == 0) {
    return std::nullopt;
  }
  if (rule == RateRule::divider) {
    return divider_setting(requested).rate;
  }
  if (exact_from != 0 && requested >= exact_from) {
    return static_cast<double>(requested);
  }
  if (const auto rate = an205_rate(requested)) {
    return static_cast<double>(*rate);
  }
  return std::nullopt;
}

}  // namespace sim::cp210x
