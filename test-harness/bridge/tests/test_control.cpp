// The control interface: the command parser from tables (every accepted form and every
// malformed one), and the server with real Unix sockets: a client that holds a partial
// line, or never reads, blocks no other client.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "bridge/control.hpp"

namespace {

using bridge::CommandKind;
using bridge::parse_command;

struct Accepted {
  const char* line;
  size_t devices;
  CommandKind kind;
  size_t device;
  uint8_t endpoint;
};

TEST(ParseCommand, AcceptsEveryCommandInItsStrictForm) {
  const Accepted table[] = {
      {"status", 1, CommandKind::status, 0, 0},
      {"help", 1, CommandKind::help, 0, 0},
      {"  status \r", 1, CommandKind::status, 0, 0},
      {"unplug 0", 1, CommandKind::unplug, 0, 0},
      {"unplug 1", 2, CommandKind::unplug, 1, 0},
      {"unplug\t1", 2, CommandKind::unplug, 1, 0},
      {"replug 0", 1, CommandKind::replug, 0, 0},
      {"stall 0 0", 1, CommandKind::stall, 0, 0x00},
      {"stall 0 0x81", 1, CommandKind::stall, 0, 0x81},
      {"stall 0 0X02", 1, CommandKind::stall, 0, 0x02},
      {"stall 0 0xff", 1, CommandKind::stall, 0, 0xFF},
      {"stall 0 255", 1, CommandKind::stall, 0, 0xFF},
      {"stall 1 129", 2, CommandKind::stall, 1, 0x81},
  };
  for (const Accepted& row : table) {
    const bridge::ParsedCommand parsed = parse_command(row.line, row.devices);
    ASSERT_TRUE(parsed.command.has_value()) << row.line << ": " << parsed.error;
    EXPECT_EQ(parsed.command->kind, row.kind) << row.line;
    EXPECT_EQ(parsed.command->device, row.device) << row.line;
    EXPECT_EQ(parsed.command->endpoint, row.endpoint) << row.line;
  }
}

struct Refused {
  const char* line;
  size_t devices;
  const char* says;  // a part of the error message
};

TEST(ParseCommand, RefusesMalformedCommandsWithAUsageError) {
  const Refused table[] = {
      {"", 1, "empty command"},
      {"   ", 1, "empty command"},
      {"stat", 1, "unknown command 'stat'"},
      {"STATUS", 1, "unknown command 'STATUS'"},
      {"status now", 1, "unexpected 'now' after status"},
      {"unplug", 1, "unplug needs a DEVICE (usage: unplug DEVICE; this bridge has one device: 0)"},
      {"unplug abc", 1, "'abc' is not a device number"},
      {"unplug 0x1", 1, "'0x1' is not a device number"},
      {"unplug -1", 1, "'-1' is not a device number"},
      {"unplug +0", 1, "'+0' is not a device number"},
      {"unplug 1.0", 1, "'1.0' is not a device number"},
      {"unplug 5", 1, "no device 5: this bridge has one device: 0"},
      {"unplug 2", 2, "no device 2: this bridge has devices 0..1"},
      {"unplug 99999999999999999999999", 1, "is not a device number"},
      {"unplug 0 0", 1, "unexpected '0' after unplug"},
      {"replug x", 1, "'x' is not a device number (usage: replug DEVICE"},
      {"stall", 1, "stall needs a DEVICE and an EP"},
      {"stall 0", 1, "stall needs a DEVICE and an EP"},
      {"stall 0 0x1ff", 1, "'0x1ff' is not an endpoint address"},
      {"stall 0 -1", 1, "'-1' is not an endpoint address"},
      {"stall 0 256", 1, "'256' is not an endpoint address"},
      {"stall 0 0x", 1, "'0x' is not an endpoint address"},
      {"stall 0 0xg1", 1, "'0xg1' is not an endpoint address"},
      {"stall 0 1e2", 1, "'1e2' is not an endpoint address"},
      {"stall 3 0x81", 2, "no device 3"},
      {"stall 0 0x81 now", 1, "unexpected 'now' after stall"},
  };
  for (const Refused& row : table) {
    const bridge::ParsedCommand parsed = parse_command(row.line, row.devices);
    EXPECT_FALSE(parsed.command.has_value()) << row.line;
    EXPECT_NE(parsed.error.find(row.says), std::string::npos)
        << "'" << row.line << "' -> " << parsed.error;
  }
}

TEST(CommandHelp, ListsEveryCommand) {
  const std::string help = bridge::command_help(2);
  for (const char* name : {"status", "unplug DEVICE", "replug DEVICE", "stall DEVICE EP", "help"}) {
    EXPECT_NE(help.find(name), std::string::npos) << name;
  }
  EXPECT_NE(help.find("devices 0..1"), std::string::npos);
}

// ---------------------------------------------------------------- the server

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/bridge-control-test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    socket_path_ = dir_ / "bridge.sock";
    server_ = std::make_unique<bridge::ControlServer>(
        io_, socket_path_, [](const std::string& line) { return "echo [" + line + "]"; });
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    io_.post([this] { server_.reset(); });
    io_.stop();
    thread_.join();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  int connect_client() {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", socket_path_.c_str());
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    return fd;
  }

  static void send_text(int fd, const std::string& text) {
    ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }

  // Everything until the server closes the connection (or 5 s pass).
  static std::string read_all(int fd) {
    std::string out;
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) {
        break;
      }
      out.append(buffer, static_cast<size_t>(n));
    }
    return out;
  }

  std::string ask(const std::string& text) {
    const int fd = connect_client();
    send_text(fd, text);
    std::string reply = read_all(fd);
    ::close(fd);
    return reply;
  }

  boost::asio::io_context io_;
  std::filesystem::path dir_;
  std::filesystem::path socket_path_;
  std::unique_ptr<bridge::ControlServer> server_;
  std::thread thread_;
};

TEST_F(ServerTest, OneCommandPerConnection) {
  EXPECT_EQ(ask("status\n"), "echo [status]\n");
  EXPECT_EQ(ask("unplug 0\nstatus\n"), "echo [unplug 0]\n");
}

TEST_F(ServerTest, ALastLineWithoutNewlineCountsWhenTheClientShutsDownItsSide) {
  const int fd = connect_client();
  send_text(fd, "help");
  ::shutdown(fd, SHUT_WR);
  EXPECT_EQ(read_all(fd), "echo [help]\n");
  ::close(fd);
}

TEST_F(ServerTest, APartialLineBlocksNoOtherClient) {
  const int stuck = connect_client();
  send_text(stuck, "sta");              // and nothing more
  const int silent = connect_client();  // connected, says nothing, reads nothing
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(ask("status " + std::to_string(i) + "\n"),
              "echo [status " + std::to_string(i) + "]\n");
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  // The stuck one is still served when it finishes its line.
  send_text(stuck, "tus\n");
  EXPECT_EQ(read_all(stuck), "echo [status]\n");
  ::close(stuck);
  ::close(silent);
}

TEST_F(ServerTest, AnsweredConnectionsEndAtOnceSoThereIsNoLimitOnRequestsInARow) {
  for (size_t i = 0; i < 3 * bridge::kMaxConnections; ++i) {
    ASSERT_EQ(ask("status\n"), "echo [status]\n") << "request " << i;
  }
}

TEST_F(ServerTest, BeyondTheConnectionLimitAClientIsToldSo) {
  std::vector<int> held;
  for (size_t i = 0; i < bridge::kMaxConnections; ++i) {
    held.push_back(connect_client());  // connected, silent
  }
  // Served once the accept loop has seen them all; the reply comes after the line is read.
  const std::string reply = ask("status\n");
  EXPECT_EQ(reply.rfind("error: more than 128 connections are open", 0), 0u) << reply;
  for (const int fd : held) {
    ::close(fd);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::string later;
  while ((later = ask("status\n")) != "echo [status]\n" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(later, "echo [status]\n");
}

TEST_F(ServerTest, AnOverlongLineGetsAnError) {
  const std::string reply = ask(std::string(bridge::kMaxCommandBytes + 10, 'x') + "\n");
  EXPECT_EQ(reply.rfind("error: command line longer than", 0), 0u) << reply;
}

TEST_F(ServerTest, ManyClientsAtOnceAreAllServed) {
  std::vector<int> fds;
  for (int i = 0; i < 40; ++i) {
    fds.push_back(connect_client());
  }
  for (size_t i = 0; i < fds.size(); ++i) {
    send_text(fds[i], "n" + std::to_string(i) + "\n");
  }
  for (size_t i = fds.size(); i-- > 0;) {
    EXPECT_EQ(read_all(fds[i]), "echo [n" + std::to_string(i) + "]\n");
    ::close(fds[i]);
  }
}

TEST_F(ServerTest, TheSocketFileGoesWithTheServer) {
  EXPECT_TRUE(std::filesystem::exists(socket_path_));
  io_.post([this] { server_.reset(); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::filesystem::exists(socket_path_) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_FALSE(std::filesystem::exists(socket_path_));
}

}  // namespace
