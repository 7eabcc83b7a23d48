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

  // Not on the command line (set by main or by tests).
  std::string bridge_build_path;   // where the build tree put usbserial-bridge, if known
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

std::string help_text();
std::string version_text();
const char* tool_version();  // the project version, e.g. "0.1.0"

}  // namespace loopback
