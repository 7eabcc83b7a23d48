// Harness ports: the ports of a running usbserial-bridge, recognised by the bridge's
// control socket (a Unix socket, bridge.sock, in the directory of the port's link), and
// what the bridge tells about them: which adapter they belong to, whether a UART paces
// them, and the rate the driver really programmed (its registry's Statistics ActualBaud).
// The termios of a harness port holds the rate the client asked for, not the programmed
// one, so the report takes the rate from here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loopback {

struct HarnessPort {
  std::string socket_path;                // the bridge's control socket
  std::string callout;                    // the port, as the bridge names it
  int device = -1;                        // adapter index in the bridge
  bool paced = false;                     // the bridge runs its UARTs at the programmed rate
  std::vector<std::string> device_ports;  // every port of the same adapter, in order
};

// Sends one command line to a control socket and returns the whole reply (the bridge
// closes the connection after it). nullopt, with *error set, when that fails.
std::optional<std::string> control_request(const std::string& socket_path, const std::string& line,
                                           double timeout_s, std::string* error);

// The bridge that publishes `tty`, looked for beside the path and beside every link on the
// way to the device node. nullopt when none does (a real port, or a plain pty).
std::optional<HarnessPort> find_harness_port(const std::string& tty);

struct DriverRate {
  uint32_t requested = 0;  // Statistics RequestedBaud: the last rate the driver was asked for
  uint32_t actual = 0;     // Statistics ActualBaud: the rate the chip was programmed to
  uint32_t in_force = 0;   // the rate the tty side holds (the request, when it was accepted)
  std::string last_error;  // Statistics LastError
};

// Asks the bridge until the driver has seen a request for `requested` baud (the tty side
// hands termios changes to the driver after tcsetattr returns), then returns its figures.
// nullopt, with *error set, when that does not happen within timeout_s.
std::optional<DriverRate> read_driver_rate(const HarnessPort& port, uint32_t requested,
                                           double timeout_s, std::string* error);

// One port as the bridge's status shows it: the driver's registry (Statistics) and the
// simulated chip behind it.
struct PortStatus {
  std::string callout;
  int device = -1;
  uint32_t requested_baud = 0;  // Statistics RequestedBaud
  uint32_t actual_baud = 0;     // Statistics ActualBaud: what the driver says the chip runs at
  std::string last_error;       // Statistics LastError
  uint64_t framing_errors = 0;  // Statistics FramingErrors, BreaksReceived, ParityErrors,
  uint64_t breaks = 0;          // OverrunErrors: what the chip reported, counted by the driver
  uint64_t parity_errors = 0;
  uint64_t overruns = 0;
  double chip_baud = 0;  // the rate the simulated chip's UART runs at (0: not simulated)
  // The simulated chip's framing: data bits, "none" / "odd" / "even" / "mark" / "space",
  // "1" / "1.5" / "2" (empty: not simulated).
  unsigned chip_data_bits = 0;
  std::string chip_parity;
  std::string chip_stop_bits;
};

// Every port the bridge at `socket_path` publishes, in its order. nullopt, with *error set,
// when the bridge cannot be asked.
std::optional<std::vector<PortStatus>> read_port_statuses(const std::string& socket_path,
                                                          std::string* error);

// The process at the other end of the control socket (Linux: SO_PEERCRED); 0 when unknown.
int bridge_pid(const std::string& socket_path);

// Runs `bridge --list-chips`. nullopt, with *error set, when it cannot be run or fails.
std::optional<std::vector<std::string>> list_bridge_chips(const std::string& bridge_path,
                                                          std::string* error);

}  // namespace loopback
