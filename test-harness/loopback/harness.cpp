#include "harness.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>

#include "fd.hpp"

extern char** environ;

namespace loopback {

namespace {

using boost::property_tree::ptree;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

// Reads until end of file or the deadline; false on a read error or timeout.
bool read_until_eof(int fd, Clock::time_point deadline, std::string* out, std::string* error) {
  char buffer[65536];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      *error = "no complete answer in time";
      return false;
    }
    pollfd pfd{fd, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(left));
    if (ready < 0 && errno != EINTR) {
      *error = std::string("poll: ") + std::strerror(errno);
      return false;
    }
    if (ready <= 0) {
      continue;
    }
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) {
      return true;
    }
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) {
        continue;
      }
      *error = std::string("read: ") + std::strerror(errno);
      return false;
    }
    out->append(buffer, static_cast<size_t>(n));
  }
}

// Text values: PropertyTree's typed get<>() trips GCC 12's -Wmaybe-uninitialized inside
// Boost under the sanitizer build, so numbers are converted here.
std::string text(const ptree& tree, const char* path) {
  return tree.get<std::string>(path, "");
}

uint32_t number(const ptree& tree, const char* path) {
  const std::string value = text(tree, path);
  if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos ||
      value.size() > 10) {
    return 0;
  }
  return static_cast<uint32_t>(std::min<uint64_t>(std::stoull(value), UINT32_MAX));
}

uint64_t number64(const ptree& tree, const char* path) {
  const std::string value = text(tree, path);
  if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos ||
      value.size() > 19) {
    return 0;
  }
  return std::stoull(value);
}

double real_number(const ptree& tree, const char* path) {
  const std::string value = text(tree, path);
  char* end = nullptr;
  const double parsed = value.empty() ? 0.0 : std::strtod(value.c_str(), &end);
  return end != nullptr && *end == '\0' ? parsed : 0.0;
}

std::optional<ptree> bridge_status(const std::string& socket_path, std::string* error) {
  const std::optional<std::string> reply = control_request(socket_path, "status", 5, error);
  if (!reply) {
    return std::nullopt;
  }
  try {
    std::istringstream in(*reply);
    ptree tree;
    boost::property_tree::read_json(in, tree);
    return tree;
  } catch (const std::exception&) {
    *error = "the bridge's status is not JSON: " + reply->substr(0, 200);
    return std::nullopt;
  }
}

// The directories that may hold the bridge's socket: the path's own, then that of every
// link on the way from it to the device node.
std::vector<fs::path> candidate_directories(const std::string& tty) {
  std::vector<fs::path> dirs;
  fs::path at = fs::absolute(tty);
  for (int hops = 0; hops < 8; ++hops) {
    dirs.push_back(at.parent_path());
    std::error_code ec;
    if (!fs::is_symlink(at, ec)) {
      break;
    }
    const fs::path target = fs::read_symlink(at, ec);
    if (ec) {
      break;
    }
    at = target.is_absolute() ? target : at.parent_path() / target;
  }
  return dirs;
}

std::vector<std::string> sockets_in(const fs::path& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  if (fs::is_socket(dir / "bridge.sock", ec)) {
    found.push_back((dir / "bridge.sock").string());
  }
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    std::error_code entry_ec;
    if (entry.path().extension() == ".sock" && entry.path().filename() != "bridge.sock" &&
        entry.is_socket(entry_ec)) {
      found.push_back(entry.path().string());
    }
  }
  return found;
}

std::string canonical_or_empty(const std::string& path) {
  std::error_code ec;
  const fs::path resolved = fs::canonical(path, ec);
  return ec ? std::string() : resolved.string();
}

// A connection to the bridge's control socket; invalid, with *error set, when there is none.
Fd connect_control(const std::string& socket_path, std::string* error) {
  sockaddr_un address{};
  if (socket_path.size() >= sizeof address.sun_path) {
    *error = "the socket path " + socket_path + " is too long";
    return Fd();
  }
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
#if defined(SOCK_CLOEXEC)
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));  // atomic: the matrix forks meanwhile
#else
  Fd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
  if (fd.valid()) {
    ::fcntl(fd.get(), F_SETFD, FD_CLOEXEC);
  }
#endif
  if (!fd.valid() ||
      ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    *error = "cannot reach the bridge at " + socket_path + ": " + std::strerror(errno);
    return Fd();
  }
  return fd;
}

}  // namespace

std::optional<std::string> control_request(const std::string& socket_path, const std::string& line,
                                           double timeout_s, std::string* error) {
  const Clock::time_point deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                        std::chrono::duration<double>(timeout_s));
  Fd fd = connect_control(socket_path, error);
  if (!fd.valid()) {
    return std::nullopt;
  }
  const std::string request = line + "\n";
#if defined(MSG_NOSIGNAL)
  constexpr int kSendFlags = MSG_NOSIGNAL;  // a bridge that went away is an error, not a signal
#else
  constexpr int kSendFlags = 0;
#endif
  if (::send(fd.get(), request.data(), request.size(), kSendFlags) !=
      static_cast<ssize_t>(request.size())) {
    *error = "cannot send to the bridge at " + socket_path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::string reply;
  std::string why;
  if (!read_until_eof(fd.get(), deadline, &reply, &why)) {
    *error = "the bridge at " + socket_path + " did not answer '" + line + "': " + why;
    return std::nullopt;
  }
  return reply;
}

std::optional<HarnessPort> find_harness_port(const std::string& tty) {
  const std::string device_node = canonical_or_empty(tty);
  const std::string absolute = fs::absolute(tty).string();
  for (const fs::path& dir : candidate_directories(tty)) {
    for (const std::string& socket_path : sockets_in(dir)) {
      std::string ignored;
      const std::optional<ptree> status = bridge_status(socket_path, &ignored);
      if (!status) {
        continue;
      }
      const ptree empty;
      const ptree& ports = status->get_child("ports", empty);
      for (const auto& [unused, port] : ports) {
        const std::string pts = text(port, "pts");
        if (text(port, "callout") != absolute && text(port, "dialin") != absolute &&
            (device_node.empty() || pts != device_node)) {
          continue;
        }
        HarnessPort found;
        found.socket_path = socket_path;
        found.callout = text(port, "callout");
        const std::string device = text(port, "device");
        found.device = device.empty() || device[0] == '-' ? -1 : std::stoi(device);
        for (const auto& [unused2, sibling] : ports) {
          if (text(sibling, "device") == device) {
            found.device_ports.push_back(text(sibling, "callout"));
          }
        }
        for (const auto& [unused3, adapter] : status->get_child("devices", empty)) {
          if (text(adapter, "index") == device) {
            for (const auto& [unused4, sim_port] : adapter.get_child("ports", empty)) {
              found.paced = text(sim_port, "paced") == "true";
              break;
            }
          }
        }
        return found;
      }
    }
  }
  return std::nullopt;
}

std::optional<DriverRate> read_driver_rate(const HarnessPort& port, uint32_t requested,
                                           double timeout_s, std::string* error) {
  const Clock::time_point deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                        std::chrono::duration<double>(timeout_s));
  DriverRate last;
  bool seen = false;
  for (;;) {
    const std::optional<ptree> status = bridge_status(port.socket_path, error);
    if (!status) {
      return std::nullopt;
    }
    const ptree empty;
    for (const auto& [unused, entry] : status->get_child("ports", empty)) {
      if (text(entry, "callout") != port.callout) {
        continue;
      }
      seen = true;
      last.requested = number(entry, "driver.Statistics.RequestedBaud");
      last.actual = number(entry, "driver.Statistics.ActualBaud");
      last.in_force = number(entry, "line.baud");
      last.last_error = text(entry, "driver.Statistics.LastError");
    }
    if (!seen) {
      *error = "the bridge no longer lists " + port.callout;
      return std::nullopt;
    }
    if (last.requested == requested) {
      return last;
    }
    if (Clock::now() >= deadline) {
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%g", timeout_s);
      *error = "the driver of " + port.callout + " did not see the request for " +
               std::to_string(requested) + " baud within " + seconds + " s (it last saw " +
               std::to_string(last.requested) + ")";
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::optional<std::vector<PortStatus>> read_port_statuses(const std::string& socket_path,
                                                          std::string* error) {
  const std::optional<ptree> status = bridge_status(socket_path, error);
  if (!status) {
    return std::nullopt;
  }
  const ptree empty;
  std::vector<PortStatus> ports;
  std::vector<int> seen_per_device;
  for (const auto& [unused, entry] : status->get_child("ports", empty)) {
    PortStatus port;
    port.callout = text(entry, "callout");
    const std::string device = text(entry, "device");
    port.device = device.empty() || device[0] == '-' ? -1 : std::stoi(device);
    port.requested_baud = number(entry, "driver.Statistics.RequestedBaud");
    port.actual_baud = number(entry, "driver.Statistics.ActualBaud");
    port.last_error = text(entry, "driver.Statistics.LastError");
    port.framing_errors = number64(entry, "driver.Statistics.FramingErrors");
    port.breaks = number64(entry, "driver.Statistics.BreaksReceived");
    port.parity_errors = number64(entry, "driver.Statistics.ParityErrors");
    port.overruns = number64(entry, "driver.Statistics.OverrunErrors");
    // The k-th port of an adapter in this list is the k-th port of its simulated chip.
    if (port.device >= 0) {
      if (seen_per_device.size() <= static_cast<size_t>(port.device)) {
        seen_per_device.resize(static_cast<size_t>(port.device) + 1, 0);
      }
      const int k = seen_per_device[static_cast<size_t>(port.device)]++;
      for (const auto& [unused2, adapter] : status->get_child("devices", empty)) {
        if (text(adapter, "index") != device) {
          continue;
        }
        int index = 0;
        for (const auto& [unused3, sim_port] : adapter.get_child("ports", empty)) {
          if (index++ == k) {
            port.chip_baud = real_number(sim_port, "line.baud");
            port.chip_data_bits = number(sim_port, "line.data_bits");
            port.chip_parity = text(sim_port, "line.parity");
            port.chip_stop_bits = text(sim_port, "line.stop_bits");
          }
        }
      }
    }
    ports.push_back(std::move(port));
  }
  return ports;
}

int bridge_pid(const std::string& socket_path) {
#if defined(SO_PEERCRED)
  std::string unused;
  const Fd fd = connect_control(socket_path, &unused);
  if (!fd.valid()) {
    return 0;
  }
  ucred credentials{};
  socklen_t size = sizeof credentials;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0) {
    return 0;
  }
  return credentials.pid;
#else
  (void)socket_path;
  return 0;
#endif
}

std::optional<std::vector<std::string>> list_bridge_chips(const std::string& bridge_path,
                                                          std::string* error) {
  int fds[2];
  if (::pipe(fds) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    return std::nullopt;
  }
  Fd read_end(fds[0]);
  Fd write_end(fds[1]);
  ::fcntl(fds[0], F_SETFD, FD_CLOEXEC);  // the child gets the write end through dup2 only
  ::fcntl(fds[1], F_SETFD, FD_CLOEXEC);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::string program = bridge_path;
  std::string flag = "--list-chips";
  char* argv[] = {program.data(), flag.data(), nullptr};
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  write_end.reset();
  if (spawned != 0) {
    *error = "cannot run " + bridge_path + ": " + std::strerror(spawned);
    return std::nullopt;
  }
  std::string out;
  std::string why;
  const bool complete =
      read_until_eof(read_end.get(), Clock::now() + std::chrono::seconds(10), &out, &why);
  if (!complete) {
    ::kill(pid, SIGKILL);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!complete || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    *error = bridge_path + " --list-chips failed" + (complete ? "" : ": " + why);
    return std::nullopt;
  }
  std::vector<std::string> chips;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) {
      chips.push_back(line);
    }
  }
  if (chips.empty()) {
    *error = bridge_path + " --list-chips printed no chip";
    return std::nullopt;
  }
  return chips;
}

}  // namespace loopback
