#include "sim/ftdi_baud.hpp"

namespace sim::ftdi {

uint32_t encoded_divisor(uint16_t w_value, uint16_t w_index, bool channel_in_low_byte) {
  const uint32_t high = channel_in_low_byte ? ((w_index >> 8) & 0x3u) : (w_index & 0x3u);
  return static_cast<uint32_t>(w_value) | (high << 16);
}

DivisorDecode decode_divisor(uint32_t encoded, bool h_part) {
  DivisorDecode d;
  d.encoded = encoded & 0x3FFFFu;
  const bool clock_bit = (d.encoded & 0x20000u) != 0;
  const uint32_t n = d.encoded & 0x3FFFu;
  const uint32_t code = (d.encoded >> 14) & 0x7u;
  d.reference = (clock_bit && h_part) ? kReference12MHz : kReference3MHz;
  const uint32_t eighths = n * 8u + kSubIntegerEighths[code];
  bool valid = true;
  if (eighths == 0) {
    d.divisor = 1.0;  // special: encoded 0 -> divisor 1
  } else if (n == 1 && code == 0) {
    d.divisor = 1.5;  // special: encoded 1 -> divisor 1.5
  } else {
    d.divisor = static_cast<double>(eighths) / 8.0;
    // Below 2 only the two specials (and 1 + .5 = 1.5 itself) are defined.
    if (d.divisor < 2.0 && eighths != 12) {
      valid = false;
    }
  }
  if (clock_bit && !h_part) {
    valid = false;
  }
  d.valid = valid;
  if (valid) {
    d.baud = d.reference / d.divisor;
  } else if (d.divisor > 1.0 && d.divisor < 2.0) {
    // Measured on an FT232BM (mev.co.uk "USB-Baud-U"): every divisor 1.125..1.875
    // produced 2 MBd, i.e. the generator behaved as if given 1.5.
    d.baud = d.reference / 1.5;
  } else {
    d.baud = d.reference / d.divisor;  // undefined; the port is marked garbled anyway
  }
  return d;
}

}  // namespace sim::ftdi
