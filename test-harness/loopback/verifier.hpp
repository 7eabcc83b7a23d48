// Verifier: checks received bytes against the pattern (pattern.hpp) as they arrive.
//
// Bytes are compared at the stream position they arrive at: the n-th byte received is
// compared with pattern_byte(n). So a corrupted byte costs one wrong byte, while a lost or
// inserted byte in mid-stream shifts everything after it and every later byte counts as
// wrong; the first-error offset says where it started. Positions at or beyond the expected
// total are not compared; they are extra bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <boost/crc.hpp>

namespace loopback {

struct FirstError {
  uint64_t offset = 0;  // stream offset of the first wrong byte
  uint8_t expected = 0;
  uint8_t actual = 0;
};

struct VerifyResult {
  uint64_t expected_total = 0;  // bytes the run meant to send
  uint64_t sent = 0;            // bytes the writer got out (as passed to finish())
  uint64_t received = 0;        // every byte read, extras included
  uint64_t verified = 0;        // compared with the pattern and equal
  uint64_t wrong = 0;           // compared with the pattern and different
  std::optional<FirstError> first_error;
  uint64_t lost = 0;   // sent but not received: sent - received when positive
  uint64_t extra = 0;  // received but never sent: received - sent when positive
  uint32_t crc32 = 0;  // CRC-32 (IEEE 802.3, as zlib) of every byte received

  // Every sent byte came back in place and nothing else arrived.
  bool clean() const { return wrong == 0 && lost == 0 && extra == 0; }
};

class Verifier {
 public:
  // The n-th byte received is compared with pattern byte pattern_offset + n; offsets in
  // the result count from the start of this stream.
  explicit Verifier(uint64_t expected_total, uint64_t pattern_offset = 0);

  // Checks the next received bytes; any split into calls gives the same result.
  void feed(std::span<const uint8_t> data);

  uint64_t received() const { return received_; }
  uint64_t wrong() const { return wrong_; }
  const std::optional<FirstError>& first_error() const { return first_error_; }

  // The totals; lost and extra are counted against `sent`, the bytes the writer got out.
  VerifyResult finish(uint64_t sent) const;

 private:
  uint64_t expected_total_;
  uint64_t pattern_offset_;
  uint64_t received_ = 0;
  uint64_t wrong_ = 0;
  std::optional<FirstError> first_error_;
  boost::crc_32_type crc_;
  std::vector<uint8_t> expected_;  // scratch: the pattern for the span being checked
};

}  // namespace loopback
