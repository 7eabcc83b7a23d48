// PtyPlug: a software loopback plug for tests. It owns pty pairs; a thread reads what the
// tool writes to a port (the pty master's input) and writes it back into a port (the master's
// output), optionally misbehaving at known offsets.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace loopback_test {

struct PlugBehaviour {
  std::optional<uint64_t> corrupt_at;   // XOR 0x5A into the echoed byte at this offset
  std::optional<uint64_t> echo_limit;   // echo only bytes before this offset; drop the rest
  std::optional<uint64_t> extra_after;  // once this many bytes were echoed, send extra bytes
  std::vector<uint8_t> extra;
  bool deaf = false;  // never read: the tool's writes back up
  // Once this many bytes were seen, set the port's rate to retune_speed behind the tool's
  // back (a driver that changes the rate on its own).
  std::optional<uint64_t> retune_after;
  speed_t retune_speed = B9600;
};

class Pty {
 public:
  Pty() {
    master_ = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master_ < 0 || ::grantpt(master_) != 0 || ::unlockpt(master_) != 0) {
      throw std::runtime_error("cannot create a pty");
    }
    char name[128];
    if (::ptsname_r(master_, name, sizeof name) != 0) {
      throw std::runtime_error("ptsname_r failed");
    }
    slave_path_ = name;
    // Hold the slave open, as the harness does, so the master never reads EIO while the
    // tool has the port closed.
    slave_ = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave_ < 0) {
      throw std::runtime_error("cannot open the pty slave");
    }
    ::fcntl(master_, F_SETFL, ::fcntl(master_, F_GETFL) | O_NONBLOCK);
  }
  ~Pty() {
    ::close(slave_);
    ::close(master_);
  }
  Pty(const Pty&) = delete;
  Pty& operator=(const Pty&) = delete;

  int master() const { return master_; }
  int slave() const { return slave_; }  // this object's own open of the slave side
  const std::string& slave_path() const { return slave_path_; }

 private:
  int master_ = -1;
  int slave_ = -1;
  std::string slave_path_;
};

class PtyPlug {
 public:
  // Loopback: bytes written to `pty`'s port come back on the same port.
  explicit PtyPlug(Pty& pty, PlugBehaviour b = {}) : PtyPlug(pty, pty, std::move(b)) {}
  // Crossover: bytes written to `from`'s port arrive on `to`'s port.
  PtyPlug(Pty& from, Pty& to, PlugBehaviour b = {})
      : in_(from.master()), out_(to.master()), slave_(from.slave()), b_(std::move(b)) {
    thread_ = std::thread([this] { loop(); });
  }
  ~PtyPlug() {
    stop_.store(true);
    thread_.join();
  }
  PtyPlug(const PtyPlug&) = delete;
  PtyPlug& operator=(const PtyPlug&) = delete;

  uint64_t seen() const { return seen_.load(); }

 private:
  bool write_all(const uint8_t* data, size_t n) {
    while (n > 0 && !stop_.load()) {
      pollfd p{out_, POLLOUT, 0};
      if (::poll(&p, 1, 20) <= 0) {
        continue;
      }
      const ssize_t w = ::write(out_, data, n);
      if (w < 0) {
        if (errno == EAGAIN || errno == EINTR) {
          continue;
        }
        return false;
      }
      data += w;
      n -= static_cast<size_t>(w);
    }
    return n == 0;
  }

  void loop() {
    std::vector<uint8_t> buffer(65536);
    uint64_t offset = 0;
    bool extra_sent = false;
    bool retuned = false;
    while (!stop_.load()) {
      if (b_.deaf) {
        ::usleep(10000);
        continue;
      }
      pollfd p{in_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) {
        continue;
      }
      const ssize_t got = ::read(in_, buffer.data(), buffer.size());
      if (got <= 0) {
        ::usleep(1000);  // EAGAIN, or EIO while no one has the port open
        continue;
      }
      size_t n = static_cast<size_t>(got);
      if (b_.corrupt_at && *b_.corrupt_at >= offset && *b_.corrupt_at < offset + n) {
        buffer[*b_.corrupt_at - offset] ^= 0x5A;
      }
      size_t echo = n;
      if (b_.echo_limit) {
        echo = offset >= *b_.echo_limit
                   ? 0
                   : static_cast<size_t>(std::min<uint64_t>(n, *b_.echo_limit - offset));
      }
      write_all(buffer.data(), echo);
      offset += n;
      seen_.store(offset);
      if (b_.retune_after && !retuned && offset >= *b_.retune_after) {
        termios t{};
        ::tcgetattr(slave_, &t);
        ::cfsetspeed(&t, b_.retune_speed);
        ::tcsetattr(slave_, TCSANOW, &t);
        retuned = true;
      }
      if (b_.extra_after && !extra_sent && offset >= *b_.extra_after) {
        write_all(b_.extra.data(), b_.extra.size());
        extra_sent = true;
      }
    }
  }

  int in_;
  int out_;
  int slave_;
  PlugBehaviour b_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> seen_{0};
  std::thread thread_;
};

}  // namespace loopback_test
