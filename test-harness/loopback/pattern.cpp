#include "pattern.hpp"

namespace loopback {

void fill_pattern(uint64_t offset, std::span<uint8_t> out) {
  size_t pos = 0;
  // Leading bytes up to the next word boundary.
  while (pos < out.size() && (offset + pos) % 8 != 0) {
    out[pos] = pattern_byte(offset + pos);
    ++pos;
  }
  // Whole words: one mix per 8 bytes.
  uint64_t word_index = (offset + pos) / 8;
  while (out.size() - pos >= 8) {
    const uint64_t word = pattern_word(word_index++);
    for (unsigned b = 0; b < 8; ++b) {
      out[pos + b] = static_cast<uint8_t>(word >> (8 * b));
    }
    pos += 8;
  }
  // Trailing bytes.
  while (pos < out.size()) {
    out[pos] = pattern_byte(offset + pos);
    ++pos;
  }
}

}  // namespace loopback
