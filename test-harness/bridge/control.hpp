// The bridge's control interface: the command language and the socket that serves it.
//
// Protocol (a Unix stream socket, <run-dir>/bridge.sock): a client connects, sends one
// command line ending in '\n' and reads the reply until the bridge closes the connection.
// Every reply ends in '\n'; a failed command's reply starts with "error: ".
//
//   status            the whole state as JSON
//   unplug DEVICE     pull a simulated adapter out (its ports go away)
//   replug DEVICE     plug an unplugged adapter back in (its ports come back, same names)
//   stall DEVICE EP   halt an endpoint (EP in decimal or 0x hex: 0, 0x81, 0x02, ...)
//   help              this list
//
// DEVICE is the adapter's index in the order of --sim (0, 1), in decimal. Numbers are
// parsed strictly: no sign, no trailing text, nothing out of range.
//
// Every connection is served on its own: a client that sends half a line or never reads
// its reply holds up no other client. A connection that has not sent a whole line within
// kCommandTimeout is closed; a line longer than kMaxCommandBytes gets an error.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

namespace bridge {

enum class CommandKind { status, unplug, replug, stall, help };

struct Command {
  CommandKind kind = CommandKind::help;
  size_t device = 0;
  uint8_t endpoint = 0;
};

struct ParsedCommand {
  std::optional<Command> command;  // set when the line is a valid command
  std::string error;               // otherwise: why not, with the usage ("error: " not included)
};

// Parses one command line (without its '\n'; a trailing '\r' and surrounding blanks are
// ignored) for a bridge with `device_count` adapters.
ParsedCommand parse_command(std::string_view line, size_t device_count);

// The reply to `help`.
std::string command_help(size_t device_count);

inline constexpr size_t kMaxCommandBytes = 4096;
inline constexpr std::chrono::seconds kCommandTimeout{10};
inline constexpr size_t kMaxConnections = 128;

// Serves the control socket on `io`. The handler turns one command line into the reply
// text (without the final '\n'); it runs on the io_context's thread.
class ControlServer {
 public:
  using Handler = std::function<std::string(const std::string& line)>;

  // Binds `socket_path` (an existing socket file there is replaced). Throws
  // boost::system::system_error when the socket cannot be made.
  ControlServer(boost::asio::io_context& io, const std::filesystem::path& socket_path,
                Handler handler);
  ~ControlServer();  // closes the listening socket and removes the socket file
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Stops accepting; connections being served finish or are dropped with the io_context.
  void close();

 private:
  class Session;
  void accept_next();

  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::filesystem::path socket_path_;
  std::shared_ptr<const Handler> handler_;
  std::shared_ptr<size_t> open_sessions_ = std::make_shared<size_t>(0);
};

}  // namespace bridge
