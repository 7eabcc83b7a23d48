// What a CP210x UART does with a SET_BAUDRATE value (a plain u32 in bit/s).
//
// Written from the application note and data sheets (restated in
// docs/usb-serial-reference.md §3.5), as the chip decodes the request; independent of
// any host-side encoder.
//
//   AN205 "CP210x Baud Rate Support", Table 1 (CP2101/2/3, and the parts Linux treats the
//   same way: CP2105's SCI port, CP2108 below 1 MBd): the request falls into one of 32
//   ranges; 29 of them name the UART rate, the three above 1 053 257 Bd and everything
//   below 57 Bd are "undefined".
//
//   CP2104 / CP2102N data sheets, "Baud Rate Generation" (CP2104, CP2105 ECI, CP2102N):
//     Clock Divider = 48 MHz / (2 x Prescale x Requested Rate), rounded to the nearest integer
//     Actual Rate   = 48 MHz / (2 x Prescale x Clock Divider)
//     Prescale = 4 for requests up to 365 bit/s, 1 above.
//
//   CP2108 from 1 MBd: Linux sends these unchanged and Silicon Labs documents no formula;
//   the simulator runs them exactly as requested (an assumption, reference §9).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace sim::cp210x {

enum class RateRule : uint8_t { an205_table, divider };

// The rate a UART runs at for `requested`, or nullopt where the documents say "undefined".
// `exact_from` (AN205 parts): requests from here up run as sent (0: never).
std::optional<double> uart_rate(RateRule rule, uint32_t requested, uint32_t exact_from = 0);

// AN205 Table 1 alone: nullopt outside 57 .. 1 053 257.
std::optional<uint32_t> an205_rate(uint32_t requested);
// The 29 UART rates of the table, lowest first.
std::vector<uint32_t> an205_rates();

struct DividerSetting {
  uint32_t prescale = 0;
  uint32_t divider = 0;
  double rate = 0;
};
// The data sheets' equations for a request (any request above 0).
DividerSetting divider_setting(uint32_t requested);

}  // namespace sim::cp210x
