#include "control.hpp"

#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <vector>

namespace bridge {
namespace {

using boost::asio::local::stream_protocol;

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) {
      ++i;
    }
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') {
      ++i;
    }
    if (i > start) {
      words.push_back(line.substr(start, i - start));
    }
  }
  return words;
}

// A decimal number made of digits only, at most `max`. nullopt otherwise.
std::optional<uint64_t> parse_decimal(std::string_view text, uint64_t max) {
  if (text.empty() || text.size() > 19) {
    return std::nullopt;
  }
  uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value <= max ? std::optional<uint64_t>(value) : std::nullopt;
}

// "0x" followed by one or two hex digits, or a decimal 0..255.
std::optional<uint8_t> parse_endpoint(std::string_view text) {
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    const std::string_view digits = text.substr(2);
    if (digits.size() > 2) {
      return std::nullopt;
    }
    unsigned value = 0;
    for (const char c : digits) {
      unsigned digit = 0;
      if (c >= '0' && c <= '9') {
        digit = static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        digit = static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        digit = static_cast<unsigned>(c - 'A' + 10);
      } else {
        return std::nullopt;
      }
      value = value * 16 + digit;
    }
    return static_cast<uint8_t>(value);
  }
  const std::optional<uint64_t> value = parse_decimal(text, 0xFF);
  return value ? std::optional<uint8_t>(static_cast<uint8_t>(*value)) : std::nullopt;
}

std::string device_range(size_t device_count) {
  if (device_count == 1) {
    return "this bridge has one device: 0";
  }
  return "this bridge has devices 0.." + std::to_string(device_count - 1);
}

std::string quoted(std::string_view text) {
  return "'" + std::string(text) + "'";
}

ParsedCommand usage_error(std::string message) {
  ParsedCommand parsed;
  parsed.error = std::move(message);
  return parsed;
}

}  // namespace

ParsedCommand parse_command(std::string_view line, size_t device_count) {
  const std::vector<std::string_view> words = split_words(line);
  if (words.empty()) {
    return usage_error("empty command (try 'help')");
  }
  const std::string_view name = words[0];
  struct Shape {
    std::string_view name;
    CommandKind kind;
    bool takes_device;
    bool takes_endpoint;
    const char* usage;
  };
  static constexpr Shape kShapes[] = {
      {"status", CommandKind::status, false, false, "status"},
      {"help", CommandKind::help, false, false, "help"},
      {"unplug", CommandKind::unplug, true, false, "unplug DEVICE"},
      {"replug", CommandKind::replug, true, false, "replug DEVICE"},
      {"stall", CommandKind::stall, true, true, "stall DEVICE EP"},
  };
  const Shape* shape = nullptr;
  for (const Shape& s : kShapes) {
    if (s.name == name) {
      shape = &s;
    }
  }
  if (shape == nullptr) {
    return usage_error("unknown command " + quoted(name) +
                       " (commands: status, unplug, replug, stall, help)");
  }
  const size_t wanted = 1 + (shape->takes_device ? 1 : 0) + (shape->takes_endpoint ? 1 : 0);
  const std::string usage = std::string("usage: ") + shape->usage;
  if (words.size() < wanted) {
    return usage_error(std::string(name) + " needs " +
                       (shape->takes_endpoint ? "a DEVICE and an EP" : "a DEVICE") + " (" + usage +
                       "; " + device_range(device_count) + ")");
  }
  if (words.size() > wanted) {
    return usage_error("unexpected " + quoted(words[wanted]) + " after " + std::string(name) +
                       " (" + usage + ")");
  }

  Command command;
  command.kind = shape->kind;
  if (shape->takes_device) {
    const std::optional<uint64_t> device = parse_decimal(words[1], UINT64_MAX / 10);
    if (!device) {
      return usage_error(quoted(words[1]) + " is not a device number (" + usage +
                         ", DEVICE in decimal; " + device_range(device_count) + ")");
    }
    if (*device >= device_count) {
      return usage_error("no device " + std::string(words[1]) + ": " + device_range(device_count));
    }
    command.device = static_cast<size_t>(*device);
  }
  if (shape->takes_endpoint) {
    const std::optional<uint8_t> endpoint = parse_endpoint(words[2]);
    if (!endpoint) {
      return usage_error(quoted(words[2]) + " is not an endpoint address (" + usage +
                         ", EP 0..255 in decimal, or 0x00..0xff)");
    }
    command.endpoint = *endpoint;
  }
  ParsedCommand parsed;
  parsed.command = command;
  return parsed;
}

std::string command_help(size_t device_count) {
  return "commands (one per connection; " + device_range(device_count) +
         "):\n"
         "  status            the whole state as JSON\n"
         "  unplug DEVICE     pull the simulated adapter out; its ports go away\n"
         "  replug DEVICE     plug it back in; its ports come back under the same names\n"
         "  stall DEVICE EP   halt endpoint EP (0: STALL the next control request)\n"
         "  help              this text";
}

// One client connection: read a line (bounded in size and time), reply, close.
class ControlServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(stream_protocol::socket socket, std::shared_ptr<const Handler> handler,
          std::shared_ptr<size_t> count)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        input_(kMaxCommandBytes),
        handler_(std::move(handler)),
        count_(std::move(count)) {
    ++*count_;
  }
  ~Session() { --*count_; }

  void start() {
    auto self = shared_from_this();
    timer_.expires_after(kCommandTimeout);
    timer_.async_wait([self](boost::system::error_code ec) {
      if (!ec) {
        self->reply("error: no complete command line within " +
                    std::to_string(kCommandTimeout.count()) + " s");
      }
    });
    boost::asio::async_read_until(
        socket_, input_, '\n',
        [self](boost::system::error_code ec, size_t length) { self->on_line(ec, length); });
  }

  // Serves the connection with `text` as the reply to whatever it asks (too many
  // connections). The line is still read first, so the client sees the reply rather than a
  // connection reset.
  void refuse(std::string text) {
    refusal_ = std::move(text);
    start();
  }

 private:
  void on_line(boost::system::error_code ec, size_t length) {
    if (replied_) {
      return;
    }
    std::string line;
    if (!ec) {
      line.assign(boost::asio::buffers_begin(input_.data()),
                  boost::asio::buffers_begin(input_.data()) + static_cast<ptrdiff_t>(length) - 1);
    } else if (ec == boost::asio::error::not_found) {
      reply("error: command line longer than " + std::to_string(kMaxCommandBytes) + " bytes");
      return;
    } else if (ec == boost::asio::error::eof && input_.size() > 0) {
      // The client shut down its sending side after a last line without '\n'.
      line.assign(boost::asio::buffers_begin(input_.data()),
                  boost::asio::buffers_end(input_.data()));
    } else {
      timer_.cancel();
      return;  // gone before it said anything
    }
    reply(refusal_.empty() ? (*handler_)(line) : refusal_);
  }

  void reply(std::string text) {
    if (replied_) {
      return;
    }
    replied_ = true;
    timer_.cancel();
    out_ = std::move(text) + "\n";
    auto self = shared_from_this();
    boost::asio::async_write(
        socket_, boost::asio::buffer(out_), [self](boost::system::error_code, size_t) {
          boost::system::error_code ignored;
          self->socket_.shutdown(stream_protocol::socket::shutdown_both, ignored);
          self->socket_.close(ignored);
          self->timer_.cancel();  // the session ends here
        });
    // A client that never reads its reply is dropped after the same timeout.
    timer_.expires_after(kCommandTimeout);
    timer_.async_wait([self](boost::system::error_code ec) {
      if (!ec) {
        boost::system::error_code ignored;
        self->socket_.close(ignored);
      }
    });
  }

  stream_protocol::socket socket_;
  boost::asio::steady_timer timer_;
  boost::asio::streambuf input_;
  std::shared_ptr<const Handler> handler_;
  std::shared_ptr<size_t> count_;
  std::string out_;
  std::string refusal_;
  bool replied_ = false;
};

ControlServer::ControlServer(boost::asio::io_context& io, const std::filesystem::path& socket_path,
                             Handler handler)
    : acceptor_(io),
      socket_path_(socket_path),
      handler_(std::make_shared<const Handler>(std::move(handler))) {
  std::error_code ignored;
  std::filesystem::remove(socket_path_, ignored);
  const stream_protocol::endpoint endpoint(socket_path_.string());
  acceptor_.open(endpoint.protocol());
  acceptor_.bind(endpoint);
  acceptor_.listen();
  accept_next();
}

ControlServer::~ControlServer() {
  close();
  std::error_code ignored;
  std::filesystem::remove(socket_path_, ignored);
}

void ControlServer::close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

void ControlServer::accept_next() {
  acceptor_.async_accept([this](boost::system::error_code ec, stream_protocol::socket socket) {
    if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) {
      return;
    }
    if (!ec) {
      auto session = std::make_shared<Session>(std::move(socket), handler_, open_sessions_);
      if (*open_sessions_ > kMaxConnections) {
        session->refuse("error: more than " + std::to_string(kMaxConnections) +
                        " connections are open; try again");
      } else {
        session->start();
      }
    }
    accept_next();
  });
}

}  // namespace bridge
