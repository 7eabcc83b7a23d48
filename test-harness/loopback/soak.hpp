// The soak (--mode soak): a long stream through one port with a loopback plug, under RTS/CTS,
// while the line keeps changing under it. The writer sends the pattern in chunks of random size
// (1 byte to --chunk, log-uniform, so small and large ones are both common), the reader reads
// in random sizes and checks every byte, and meanwhile, every 5 to 50 ms, one random change:
//   - the line: a rate from --rates, parity none / odd / even / mark / space, 1 or 2 stop bits
//     (always 8 data bits and RTS/CTS); a refusal (EINVAL) is counted, not failed; an accepted
//     setting must read back as set, and on a harness port the simulated chip must run it;
//   - DTR toggled: the plug wires it to DSR, which must follow within a second (checked on
//     simulated and harness ports, whose plug is known; a real port's plug is probed first);
//   - RTS dropped for 1 to 10 ms and raised again.
// Both ends of a loopback plug are the same UART, so every change applies to both at once and
// nothing may be lost or wrong. Every half second the bridge process (when there is one) is
// sampled from /proc: resident memory, threads and open descriptors. After a warm-up (an eighth
// of the bytes, at most 64 MiB) none of them may grow: threads and descriptors must end where
// they were, memory within kRssSlackKib. A bridge built with AddressSanitizer keeps freed memory
// in its quarantine, so its memory is not judged; LeakSanitizer checks it when it exits (a leak
// makes its exit status non-zero, which fails the run).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "process_sample.hpp"
#include "verifier.hpp"

namespace hostutil {
class JsonWriter;
}

namespace loopback {

// How much the bridge's resident memory may grow from the warm-up sample to the end: allocator
// arenas settle in steps of up to a few hundred KiB; a leak of one allocation per transfer
// grows by tens of MiB over a soak.
inline constexpr uint64_t kRssSlackKib = 2048;

struct SoakConfig {
  uint64_t total_bytes = 16ULL << 20;
  std::vector<uint32_t> rates;  // the line changes pick from these
  size_t max_chunk = 65536;
  uint64_t seed = 1;
  double timeout_s = 10;  // nothing received for this long fails the run
  bool check_dsr = true;  // the plug is known to wire DTR to DSR
  pid_t bridge_pid = 0;   // 0: no process to sample
  // A harness port: its bridge's control socket and the port's name there, to check that the
  // simulated chip runs each line setting. Empty: not checked.
  std::string bridge_socket;
  std::string bridge_port;
  uint64_t rss_slack_kib = kRssSlackKib;
  const std::atomic<bool>* cancel = nullptr;
  std::function<void(const std::string&)> on_progress;  // a progress line, twice a second
};

struct SoakChanges {
  uint64_t line = 0;                  // line settings applied
  uint64_t line_refused = 0;          // refused by the driver (EINVAL): the previous line stays
  uint64_t dtr = 0;                   // DTR toggles
  uint64_t rts = 0;                   // RTS drops (each raised again)
  std::vector<std::string> problems;  // a setting that did not read back, DSR that did not follow
};

struct SoakResult {
  VerifyResult verify;
  uint64_t bytes_sent = 0;
  uint32_t crc32_sent = 0;
  uint64_t writes = 0;
  uint64_t reads = 0;
  size_t smallest_write = 0;
  size_t largest_write = 0;
  bool timed_out = false;
  bool cancelled = false;
  std::string write_error;
  std::string read_error;
  double seconds = 0;  // first write to the last expected byte
  SoakChanges changes;
  bool dsr_checked = false;
  pid_t bridge_pid = 0;
  uint64_t rss_slack_kib = kRssSlackKib;
  bool bridge_asan = false;            // memory not judged (see above)
  std::vector<ProcessSample> samples;  // the bridge, every half second
  std::optional<ProcessSample> warm;   // after the warm-up
  std::optional<ProcessSample> end;    // after the last byte

  double bytes_per_second() const;
};

// Runs the soak on `fd`, an open port with a loopback plug, RTS/CTS on. Never throws for I/O
// problems; they are in the result.
SoakResult run_soak(int fd, const SoakConfig& config);

// What failed, each a sentence; empty when the soak passed.
std::vector<std::string> soak_problems(const SoakResult& result);

std::string soak_text(const SoakResult& result);  // summary lines
void write_soak_json(hostutil::JsonWriter& json, const SoakResult& result);

}  // namespace loopback
