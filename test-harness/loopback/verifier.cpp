#include "verifier.hpp"

#include <algorithm>
#include <cstring>

#include "pattern.hpp"

namespace loopback {

namespace {
// Compare in slices of this size so the scratch buffer stays small whatever the read size.
constexpr size_t kSlice = 64 * 1024;
}  // namespace

Verifier::Verifier(uint64_t expected_total, uint64_t pattern_offset)
    : expected_total_(expected_total), pattern_offset_(pattern_offset) {}

void Verifier::feed(std::span<const uint8_t> data) {
  crc_.process_bytes(data.data(), data.size());
  while (!data.empty()) {
    // Only positions below the expected total are compared; the rest are extra.
    if (received_ >= expected_total_) {
      received_ += data.size();
      return;
    }
    const uint64_t comparable = expected_total_ - received_;
    const size_t n = static_cast<size_t>(std::min<uint64_t>({data.size(), kSlice, comparable}));
    expected_.resize(n);
    fill_pattern(pattern_offset_ + received_, expected_);
    if (std::memcmp(expected_.data(), data.data(), n) != 0) {
      for (size_t i = 0; i < n; ++i) {
        if (expected_[i] != data[i]) {
          if (!first_error_) {
            first_error_ = FirstError{received_ + i, expected_[i], data[i]};
          }
          ++wrong_;
        }
      }
    }
    received_ += n;
    data = data.subspan(n);
  }
}

VerifyResult Verifier::finish(uint64_t sent) const {
  VerifyResult r;
  r.expected_total = expected_total_;
  r.sent = sent;
  r.received = received_;
  const uint64_t compared = std::min(received_, expected_total_);
  r.wrong = wrong_;
  r.verified = compared - wrong_;
  r.first_error = first_error_;
  r.lost = sent > received_ ? sent - received_ : 0;
  r.extra = received_ > sent ? received_ - sent : 0;
  r.crc32 = crc_.checksum();
  return r;
}

}  // namespace loopback
