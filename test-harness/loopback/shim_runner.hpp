// The client shim (test-harness/shim, docs/ports-and-clients.md). A pty carries neither a
// refusal at tcsetattr nor the modem lines, parity or break; usbserial-run preloads the shim that
// carries them to the driver. The matrix needs a refused rate to fail tcsetattr, and the soak
// changes modem lines and parity, so on simulated and harness ports both run under it: started
// without it, the tool runs itself again under usbserial-run.
#pragma once

#include <string>

#include "options.hpp"

namespace loopback {

// True when the shim is preloaded into this process.
bool client_shim_loaded();

// True when the run's ports are simulated or harness ports and the modes need the shim.
bool needs_client_shim(const Options& options);

// usbserial-run next to this program (installed) or in ../shim (the build tree); empty when
// neither exists, *looked_at then lists the places tried.
std::string find_shim_runner(const std::string& self_dir, std::string* looked_at);

// Runs this program again, with the same arguments, under usbserial-run --quiet (the tool
// reports refusals itself). Returns only when that is impossible, with *error set.
void rerun_under_shim(int argc, char** argv, std::string* error);

}  // namespace loopback
