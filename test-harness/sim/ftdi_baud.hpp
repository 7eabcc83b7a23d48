// What an FTDI baud-rate generator does with a SET_BAUDRATE divisor.
//
// Written from FTDI AN232B-05 "Configuring FT232R, FT2232 and FT232B Baud
// Rates" and AN_120 (restated in docs/usb-serial-reference.md §2.4), as
// the chip decodes it; independent of any host-side encoder.
//
//   encoded divisor (18 bits): bits 13..0  integer part n
//                              bits 16..14 sub-integer code
//                              bit 17      H-series: 12 MHz reference (bypass the /2.5)
//   sub-integer codes: 0 -> .0, 1 -> .5, 2 -> .25, 3 -> .125,
//                      4 -> .375, 5 -> .625, 6 -> .75, 7 -> .875
//   specials: encoded 0 -> divisor 1 (3 MBd), encoded 1 -> divisor 1.5 (2 MBd)
//   reference: 48 MHz / 16 = 3 MHz, or 120 MHz / 10 = 12 MHz with bit 17 on an H part
//   rate = reference / divisor
// Divisors between 1 and 2 other than 1.5, and below 1, are "not allowed"
// (AN232B-05); bit 17 means nothing to a part without the 120 MHz clock.
//
// How the 18 bits arrive: wValue carries bits 15..0. On the single-channel
// FT232BM / FT232R, wIndex bits 1..0 carry bits 17..16; on parts that take a
// channel number in the low byte of wIndex (FT2232C/D, the H series, FT-X),
// the high byte carries them: wIndex bit 8 = bit 16, bit 9 = bit 17
// (ftdi_sio.c change_speed; the "fix FTX sub-integer prescaler" patch).
#pragma once

#include <cstdint>

namespace sim::ftdi {

inline constexpr double kReference3MHz = 3'000'000.0;    // 48 MHz / 16
inline constexpr double kReference12MHz = 12'000'000.0;  // 120 MHz / 10

// Sub-integer fraction for each 3-bit code, in eighths (AN232B-05).
inline constexpr uint8_t kSubIntegerEighths[8] = {0, 4, 2, 1, 3, 5, 6, 7};

struct DivisorDecode {
  uint32_t encoded = 0;  // the 18-bit value as received
  bool valid = false;    // false: AN232B-05 "not allowed" (or bit 17 on a non-H part)
  double divisor = 0;    // reference / baud
  double reference = 0;  // Hz
  double baud = 0;       // what the generator runs at (for an invalid one: see ftdi_baud.cpp)
};

// Reassembles the 18-bit divisor from a SET_BAUDRATE request.
uint32_t encoded_divisor(uint16_t w_value, uint16_t w_index, bool channel_in_low_byte);

// Decodes it for a part with (h_part) or without the 12 MHz reference.
DivisorDecode decode_divisor(uint32_t encoded, bool h_part);

}  // namespace sim::ftdi
