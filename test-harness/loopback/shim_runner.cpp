#include "shim_runner.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "harness.hpp"
#include "platform.hpp"

namespace loopback {

namespace {

constexpr const char* kRunner = "usbserial-run";
// Set before running again, so a shim that fails to load cannot make the tool loop.
constexpr const char* kRerunGuard = "USBSERIAL_LOOPBACK_UNDER_RUN";

}  // namespace

bool client_shim_loaded() {
  const char* preload = std::getenv("LD_PRELOAD");
  return preload != nullptr && std::strstr(preload, "libusbserial-shim") != nullptr;
}

bool needs_client_shim(const Options& options) {
  const bool matrix =
      std::find(options.modes.begin(), options.modes.end(), Mode::matrix) != options.modes.end();
  const bool soak =
      std::find(options.modes.begin(), options.modes.end(), Mode::soak) != options.modes.end();
  if (matrix) {
    return true;
  }
  return soak && (!options.tty || find_harness_port(*options.tty).has_value());
}

std::string find_shim_runner(const std::string& self_dir, std::string* looked_at) {
  looked_at->clear();
  if (self_dir.empty()) {
    *looked_at = "nowhere: this program's own directory is unknown";
    return {};
  }
  for (const std::string& candidate :
       {self_dir + "/" + kRunner, self_dir + "/../shim/" + kRunner}) {
    if (::access(candidate.c_str(), X_OK) == 0) {
      return std::filesystem::path(candidate).lexically_normal().string();
    }
    *looked_at += (looked_at->empty() ? "" : ", ") + candidate;
  }
  return {};
}

void rerun_under_shim(int argc, char** argv, std::string* error) {
  if (std::getenv(kRerunGuard) != nullptr) {
    *error = "the client shim did not load under " + std::string(kRunner);
    return;
  }
  const std::string self = executable_path();
  std::string looked_at;
  const std::string runner =
      find_shim_runner(std::filesystem::path(self).parent_path().string(), &looked_at);
  if (self.empty() || runner.empty()) {
    *error = std::string(kRunner) + " not found (looked at " + looked_at + "); run this under it";
    return;
  }
  ::setenv(kRerunGuard, "1", 1);
#if defined(__SANITIZE_ADDRESS__)
  // The shim is preloaded ahead of the AddressSanitizer runtime, which refuses that order by
  // default. The shim is built without instrumentation and only forwards calls, so the order
  // does no harm here.
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string options = std::string(asan != nullptr ? asan : "") +
                              (asan != nullptr && *asan != '\0' ? ":" : "") +
                              "verify_asan_link_order=0";
  ::setenv("ASAN_OPTIONS", options.c_str(), 1);
#endif
  std::vector<std::string> storage = {runner, "--quiet", self};
  for (int i = 1; i < argc; ++i) {
    storage.emplace_back(argv[i]);
  }
  std::vector<char*> args;
  for (std::string& s : storage) {
    args.push_back(s.data());
  }
  args.push_back(nullptr);
  ::execv(runner.c_str(), args.data());
  *error = "cannot run " + runner + ": " + std::strerror(errno);
}

}  // namespace loopback
