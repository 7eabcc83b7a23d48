// The stream runner: a writer and a reader run concurrently, each on its own thread, over
// one fd (a port with a loopback plug) or two (TX on one port, RX on another). The writer
// sends `total_bytes` of the pattern (pattern.hpp) in `chunk`-sized writes; the reader
// checks every byte as it arrives (verifier.hpp). Both fds are switched to O_NONBLOCK for
// the run (and restored afterwards) so neither thread can block past a stop request.
//
// The run ends when
//   - every expected byte has arrived and `extra_window_s` more has passed without the
//     run being stopped (late extra bytes are counted, not ignored);
//   - nothing has been received for `timeout_s` (timed_out; the writer is stopped too, so
//     a flow-controlled line that never drains cannot hang the run);
//   - a read or write fails (EIO when the port goes away, for example);
//   - *cancel becomes true (cancelled).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "verifier.hpp"

namespace loopback {

struct Progress {
  uint64_t sent = 0;
  uint64_t received = 0;
  uint64_t total = 0;
  double seconds = 0;  // since the run started
};

struct RunConfig {
  uint64_t total_bytes = 16ULL << 20;
  size_t chunk = 4096;          // bytes per write() call
  uint64_t pattern_offset = 0;  // the stream is pattern bytes pattern_offset, +1, ...
  double timeout_s = 10;        // fail when nothing has been received for this long
  double extra_window_s = 0.2;  // keep reading this long after the last expected byte
  double progress_interval_s = 0.25;
  // Called on the thread that called run_stream(), every progress_interval_s.
  std::function<void(const Progress&)> on_progress;
  const std::atomic<bool>* cancel = nullptr;  // may be set from a signal handler
};

struct RunResult {
  VerifyResult verify;  // wrong / lost / extra / received CRC, against bytes_sent
  uint64_t bytes_sent = 0;
  uint32_t crc32_sent = 0;  // CRC-32 of every byte written
  bool timed_out = false;
  bool cancelled = false;
  std::string write_error;  // empty when no write failed
  std::string read_error;   // empty when no read failed
  // Seconds from the start of the run to the moment the last expected byte arrived (or,
  // when not everything arrived, to the last byte that did). The throughput figure uses it.
  double transfer_seconds = 0;
  double write_seconds = 0;    // start to the last byte written
  double elapsed_seconds = 0;  // the whole run: timeout wait and extra window included
  std::optional<double> first_byte_seconds;  // start to the first byte received

  // Received bytes within the expected total, per second of transfer_seconds (0 if none).
  double rx_bytes_per_second() const;
  double tx_bytes_per_second() const;
};

// Runs one stream. tx_fd and rx_fd may be the same fd. Never throws for I/O problems; they
// are reported in the result.
RunResult run_stream(int tx_fd, int rx_fd, const RunConfig& config);

}  // namespace loopback
