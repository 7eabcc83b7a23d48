// Command line of usbserial-loopback (Boost.Program_options).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loopback {

inline constexpr const char* kToolName = "usbserial-loopback";
inline constexpr const char* kDefaultSim = "ft232r";
inline constexpr uint64_t kDefaultBytes = 16ULL << 20;  // 16M = 16 MiB
inline constexpr uint32_t kDefaultBaud = 115200;
inline constexpr double kDefaultTimeout = 10;
inline constexpr size_t kDefaultChunk = 4096;
inline constexpr size_t kMaxChunk = 16ULL << 20;
inline constexpr uint64_t kDefaultRoundTrips = 1000;
inline constexpr size_t kDefaultMessageBytes = 1;
inline constexpr size_t kMaxMessageBytes = 4096;
// --mode matrix: null-modem bridges at the same time; --mode soak: the largest write.
inline constexpr unsigned kDefaultJobs = 4;
inline constexpr size_t kDefaultSoakChunk = 65536;
// --mode matrix --quick: the top of the range, where the families differ: each refusal keeps
// a rate near the far side's (921600 or 2 MBd), as in the whole matrix.
inline constexpr uint32_t kQuickMatrixRates[] = {921600, 1800000, 2000000, 2500000, 3000000};
// --mode sweep without --rates: the common rates from 9600 to 3 Mbaud.
inline constexpr uint32_t kDefaultSweepRates[] = {9600,   19200,  38400,   57600,   115200, 230400,
                                                  460800, 921600, 1000000, 2000000, 3000000};

// What a run measures; several of the first three may be given (--mode throughput,latency).
// matrix and soak run alone.
enum class Mode { throughput, latency, sweep, matrix, soak };
const char* to_string(Mode mode);

struct Options {
  std::optional<std::string> tty;  // a real or harness port; none: start the bridge
  std::string sim = kDefaultSim;
  uint64_t bytes = kDefaultBytes;
  uint32_t baud = kDefaultBaud;
  bool rtscts = false;
  double timeout_s = kDefaultTimeout;
  size_t chunk = kDefaultChunk;
  std::optional<std::string> json_path;
  std::optional<std::string> bridge_path;
  std::vector<std::string> bridge_args;
  bool quiet = false;
  std::vector<Mode> modes{Mode::throughput};    // in this order, each once
  bool all_ports = false;                       // every port of the adapter, at the same time
  uint64_t round_trips = kDefaultRoundTrips;    // latency mode
  size_t message_bytes = kDefaultMessageBytes;  // latency mode: bytes per round trip
  std::vector<uint32_t> rates;                  // sweep mode; empty: kDefaultSweepRates
  bool bytes_given = false;                     // --bytes was on the command line
  bool chunk_given = false;                     // --chunk was on the command line
  std::optional<std::string> plot_path;
  std::vector<std::string> chips;  // matrix mode; empty: every chip of kMatrixChips
  unsigned jobs = kDefaultJobs;    // matrix mode: bridges at once
  bool quick = false;              // matrix mode: kQuickMatrixRates
  uint64_t seed = 1;               // soak mode

  // Not on the command line (set by main or by tests).
  double bridge_stop_grace_s = 5;  // SIGTERM to exit before SIGKILL
  double extra_window_s = 0.2;     // reading on after the last expected byte, for extras
};

enum class ParseAction { run, help, version, error };

struct ParseResult {
  ParseAction action = ParseAction::error;
  Options options;
  std::string message;  // the error for ParseAction::error
};

ParseResult parse_options(int argc, const char* const* argv);

// "4096", "64K", "16M", "1G" (K, M, G: powers of 1024; either case). nullopt when malformed,
// zero or out of range.
std::optional<uint64_t> parse_size(std::string_view text);

// `chips` are the names --sim takes (from `usbserial-bridge --list-chips`); when empty,
// `chips_note` says why they could not be listed.
std::string help_text(const std::vector<std::string>& chips = {},
                      const std::string& chips_note = "");

// The rates a sweep tests: options.rates, or kDefaultSweepRates.
std::vector<uint32_t> sweep_rates(const Options& options);
// Bytes a sweep streams at `baud`: --bytes if given, else about half a second of the 8N1
// line rate, between 1K and 1M.
uint64_t sweep_bytes(const Options& options, uint32_t baud);
// The chips and rates of --mode matrix: --chips / --rates if given, else the defaults
// (kMatrixChips; kMatrixRates, or kQuickMatrixRates with --quick).
std::vector<std::string> matrix_chips(const Options& options);
std::vector<uint32_t> matrix_rates(const Options& options);
// The soak's line changes pick from --rates, else from kDefaultSweepRates; its writes are 1 byte
// to --chunk, else to kDefaultSoakChunk.
std::vector<uint32_t> soak_rates(const Options& options);
size_t soak_chunk(const Options& options);
std::string version_text();
const char* tool_version();  // the project version, e.g. "0.1.0"

}  // namespace loopback
