// The loopback test pattern: a position-addressable pseudo-random byte stream.
//
// Definition (also printed by `usbserial-loopback --help`):
//
//   byte[i] = bits 8*(i mod 8) .. 8*(i mod 8)+7 of W(i div 8)
//   W(k)    = the (k+1)-th output of SplitMix64 seeded with 0, i.e. mix((k+1) * 0x9E3779B97F4A7C15)
//   mix(z)  : z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
//             z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
//             return z ^ (z >> 31);            (all arithmetic mod 2^64)
//
// so the stream is SplitMix64's output words (Steele, Lea & Flood, "Fast splittable
// pseudorandom number generators", OOPSLA 2014; reference C code splitmix64.c by S. Vigna),
// each written little-endian. The first words are 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, ...,
// so the stream starts AF CD 1D 7B 39 A8 20 E2 F4 65 B9 A1 6A 9E 78 6E.
//
// Why this pattern and not a counter: the expected byte at any offset is computable, so the
// reader can name the first wrong offset without keeping a copy of what was sent; every byte
// value 0x00..0xFF occurs (so a driver that eats XON/XOFF = 0x11/0x13 in raw mode, a known
// AppleUSBFTDI defect, shows up as an error); and a lost or duplicated block of any length
// (even 256 bytes, which a mod-256 counter hides) puts every following byte out of place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace loopback {

inline constexpr uint64_t kSplitMixGamma = 0x9E3779B97F4A7C15ULL;

// SplitMix64's output function (the finaliser applied to the state).
constexpr uint64_t splitmix64_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// W(k): the 64-bit word that holds stream bytes 8k .. 8k+7.
constexpr uint64_t pattern_word(uint64_t word_index) {
  return splitmix64_mix((word_index + 1) * kSplitMixGamma);
}

// The expected byte at stream offset `offset`.
constexpr uint8_t pattern_byte(uint64_t offset) {
  return static_cast<uint8_t>(pattern_word(offset / 8) >> (8 * (offset % 8)));
}

// Writes stream bytes offset .. offset+out.size()-1 into out.
void fill_pattern(uint64_t offset, std::span<uint8_t> out);

// With --all-ports, port `index` streams the pattern from this offset: far enough apart
// (2^40 bytes) that no run reaches the next port's part, so a byte delivered to the wrong
// port never matches.
constexpr uint64_t port_pattern_offset(size_t index) {
  return static_cast<uint64_t>(index) << 40;
}

// Name recorded in reports, so a reader of an old JSON file knows which definition applied.
inline constexpr const char* kPatternName = "splitmix64-le";

}  // namespace loopback
