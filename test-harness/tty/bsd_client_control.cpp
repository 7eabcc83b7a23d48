// BsdClient's control socket: what the client shim asks for that a pty cannot
// carry (client_protocol.hpp). Runs on the driver queue like the rest of BsdClient.
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <DriverKit/IOLib.h>
#include <SerialDriverKit/SerialDriverKit.h>
#include <USBSerialDriverKit/USBSerialDriverKit.h>
#include <os/log.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <utility>

#include "bsd_client.hpp"

namespace tty {
namespace {

wire::Line to_wire(const LineState& line) {
  wire::Line out;
  out.baud = line.baud;
  out.data_bits = line.data_bits;
  out.half_stop_bits = line.half_stop_bits;
  out.parity = line.parity;
  out.flow = line.flow;
  out.xon = line.xon;
  out.xoff = line.xoff;
  return out;
}

LineState from_wire(const wire::Line& line) {
  LineState out;
  out.baud = line.baud;
  out.data_bits = line.data_bits;
  out.half_stop_bits = line.half_stop_bits;
  out.parity = line.parity;
  out.flow = line.flow;
  out.xon = line.xon;
  out.xoff = line.xoff;
  return out;
}

void copy_text(char* out, size_t size, const std::string& text) {
  const size_t n = std::min(size - 1, text.size());
  std::memcpy(out, text.data(), n);
  out[n] = '\0';
}

int32_t clamp32(uint64_t value) {
  return static_cast<int32_t>(std::min<uint64_t>(value, INT32_MAX));
}

}  // namespace

bool BsdClient::listen(dev_t pts_device, dev_t pts_rdev, std::string& error) {
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("cannot create the control socket: ") + std::strerror(errno);
    return false;
  }
  const std::string name = wire::socket_name(pts_device, pts_rdev);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path + 1, name.data(), name.size());  // abstract: sun_path[0] = 0
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0 ||
      ::listen(fd, 16) != 0) {
    error = "cannot serve @" + name + ": " + std::strerror(errno);
    ::close(fd);
    return false;
  }
  listener_ =
      std::make_unique<boost::asio::posix::stream_descriptor>(runtime_.queue().context(), fd);
  return true;
}

void BsdClient::accept_next() {
  listener_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                        [this, alive = alive_](const boost::system::error_code& ec) {
                          if (!*alive || ec || !listener_) {
                            return;
                          }
                          for (;;) {
                            const int fd = ::accept4(listener_->native_handle(), nullptr, nullptr,
                                                     SOCK_NONBLOCK | SOCK_CLOEXEC);
                            if (fd < 0) {
                              break;
                            }
                            auto connection = std::make_shared<Connection>();
                            connection->socket =
                                std::make_unique<boost::asio::posix::stream_descriptor>(
                                    runtime_.queue().context(), fd);
                            connections_.push_back(connection);
                            receive_next(connection);
                          }
                          accept_next();
                        });
}

void BsdClient::receive_next(const std::shared_ptr<Connection>& connection) {
  connection->socket->async_wait(
      boost::asio::posix::stream_descriptor::wait_read,
      [this, alive = alive_,
       weak = std::weak_ptr<Connection>(connection)](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (!*alive || ec || !self) {
          return;
        }
        wire::Request request;
        const ssize_t n = ::recv(self->socket->native_handle(), &request, sizeof request, 0);
        if (n < 0 && errno == EAGAIN) {
          receive_next(self);
          return;
        }
        if (n != static_cast<ssize_t>(sizeof request) || request.magic != wire::kMagic) {
          if (n > 0) {
            answer(self, EPROTO, "the client shim and the bridge are of different versions");
          }
          drop(self);
          return;
        }
        ++counters_.shim_requests;
        serve_request(self, request);
        receive_next(self);
      });
}

void BsdClient::drop(const std::shared_ptr<Connection>& connection) {
  if (connection->session != 0 && connection->session == exclusive_owner_) {
    exclusive_owner_ = 0;
  }
  connection->socket->close();
  connections_.remove(connection);
}

wire::Reply BsdClient::reply(int error, const std::string& message) {
  wire::Reply r;
  r.error = error;
  r.line = to_wire(line_);
  r.modem = modem_bits();
  r.counters = icount_;
  r.counters.rx = clamp32(counters_.bytes_to_client);
  r.counters.tx = clamp32(counters_.bytes_to_device);
  r.state = active_ ? wire::kStateActive : 0;
  copy_text(r.name, sizeof r.name, name_);
  copy_text(r.message, sizeof r.message, message);
  return r;
}

void BsdClient::send(const std::shared_ptr<Connection>& connection, const wire::Reply& r) {
  if (connection->socket->is_open()) {
    (void)::send(connection->socket->native_handle(), &r, sizeof r, MSG_NOSIGNAL);
  }
}

void BsdClient::answer(const std::shared_ptr<Connection>& connection, int error,
                       const std::string& message) {
  send(connection, reply(error, message));
}

void BsdClient::answer_pending_opens(int error) {
  for (const auto& weak : pending_opens_) {
    if (auto connection = weak.lock()) {
      wire::Reply r = reply(error, error == 0 ? "" : "the driver refused to open the port");
      if (error == 0) {
        connection->session = next_session_id_++;
        if (std::exchange(session_fresh_, false)) {
          r.state |= wire::kStateFreshSession;
        }
      }
      send(connection, r);
    }
  }
  pending_opens_.clear();
}

uint32_t BsdClient::modem_bits() const {
  return (dtr_ ? TIOCM_DTR : 0) | (rts_ ? TIOCM_RTS : 0) | (cts_ ? TIOCM_CTS : 0) |
         (dsr_ ? TIOCM_DSR : 0) | (ri_ ? TIOCM_RNG : 0) | (dcd_ ? TIOCM_CAR : 0);
}

void BsdClient::wake_modem_waiters() {
  std::erase_if(modem_waiters_, [this](const ModemWaiter& waiter) {
    auto connection = waiter.connection.lock();
    if (!connection) {
      return true;
    }
    const wire::Counters& a = waiter.start;
    const bool changed = ((waiter.mask & TIOCM_CTS) != 0 && a.cts != icount_.cts) ||
                         ((waiter.mask & TIOCM_DSR) != 0 && a.dsr != icount_.dsr) ||
                         ((waiter.mask & TIOCM_RNG) != 0 && a.rng != icount_.rng) ||
                         ((waiter.mask & TIOCM_CAR) != 0 && a.dcd != icount_.dcd);
    if (changed) {
      answer(connection, 0);
    }
    return changed;
  });
}

void BsdClient::serve_request(const std::shared_ptr<Connection>& connection,
                              const wire::Request& request) {
  using wire::Op;
  // Every request but these concerns a port someone has open.
  const bool any_time =
      request.op == Op::open || request.op == Op::get_line || request.op == Op::counters;
  if (!any_time && !active_) {
    answer(connection, EIO, "the port is not open");
    return;
  }
  switch (request.op) {
    case Op::open: {
      on_open_events();  // the client's open may not have been looked at yet
      if (exclusive_owner_ != 0) {
        answer(connection, EBUSY, "the port is in exclusive use (TIOCEXCL)");
      } else if (session_ == Session::active) {
        connection->session = next_session_id_++;
        wire::Reply r = reply(0);
        if (std::exchange(session_fresh_, false)) {
          r.state |= wire::kStateFreshSession;
        }
        send(connection, r);
      } else if (session_ == Session::closing) {
        pending_opens_.push_back(connection);  // answered when the next session starts
      } else {
        answer(connection, EIO, "the port could not be opened (see the bridge's log)");
      }
      return;
    }
    case Op::set_line: {
      take_pending_status();  // an earlier tcsetattr's termios must not come after this one
      auto apply = [this, connection, wanted = from_wire(request.line)] {
        if (!active_) {
          answer(connection, EIO, "the port is not open");
          return;
        }
        std::string refusal;
        if (wanted == line_ || program(wanted, refusal)) {
          answer(connection, 0);
        } else {
          answer(connection, EINVAL, refusal);
        }
      };
      if (request.when == TCSANOW) {
        apply();
      } else {
        wait_for_drain(std::chrono::steady_clock::time_point::max(),
                       [this, apply, flush = request.when == TCSAFLUSH](bool) {
                         if (flush) {
                           flush_input();
                         }
                         apply();
                       });
      }
      return;
    }
    case Op::get_line:
    case Op::counters:
      answer(connection, 0);
      return;
    case Op::modem_get: {
      bool cts = false, dsr = false, ri = false, dcd = false;
      if (service_->HwGetModemStatus(&cts, &dsr, &ri, &dcd) == kIOReturnSuccess) {
        modem_status_changed(cts, dsr, ri, dcd);
      }
      answer(connection, 0);
      return;
    }
    case Op::modem_set: {
      const auto bits = static_cast<uint32_t>(request.value);
      bool dtr = dtr_, rts = rts_;
      if (request.arg == TIOCMSET) {
        dtr = (bits & TIOCM_DTR) != 0;
        rts = (bits & TIOCM_RTS) != 0;
      } else if (request.arg == TIOCMBIS) {
        dtr = dtr || (bits & TIOCM_DTR) != 0;
        rts = rts || (bits & TIOCM_RTS) != 0;
      } else if (request.arg == TIOCMBIC) {
        dtr = dtr && (bits & TIOCM_DTR) == 0;
        rts = rts && (bits & TIOCM_RTS) == 0;
      } else {
        answer(connection, EINVAL, "not a modem-line ioctl");
        return;
      }
      if (service_->HwProgramMCR(dtr, rts) != kIOReturnSuccess) {
        answer(connection, EIO,
               "the driver could not set DTR/RTS (" + std::string(dtr ? "DTR on" : "DTR off") +
                   ", " + (rts ? "RTS on" : "RTS off") + ")");
        return;
      }
      dtr_ = dtr;
      rts_ = rts;
      answer(connection, 0);
      return;
    }
    case Op::modem_wait: {
      const auto mask =
          static_cast<uint32_t>(request.value) & (TIOCM_CTS | TIOCM_DSR | TIOCM_RNG | TIOCM_CAR);
      if (mask == 0) {
        answer(connection, EINVAL, "TIOCMIWAIT needs TIOCM_CTS, DSR, RNG or CD in its mask");
        return;
      }
      modem_waiters_.push_back({connection, mask, icount_});
      return;
    }
    case Op::set_break: {
      const bool on = request.value != 0;
      if (service_->HwSendBreak(on) != kIOReturnSuccess) {
        answer(connection, EIO,
               on ? "the driver could not start a break" : "the driver could not end a break");
        return;
      }
      answer(connection, 0);
      return;
    }
    case Op::timed_break: {
      // As TCSBRK: what is written goes out first, then the line is held low.
      const auto duration = std::chrono::milliseconds(std::clamp<int64_t>(request.value, 1, 60000));
      wait_for_drain(std::chrono::steady_clock::time_point::max(), [this, connection,
                                                                    duration](bool) {
        if (!active_ || service_->HwSendBreak(true) != kIOReturnSuccess) {
          answer(connection, EIO, "the driver could not start a break");
          return;
        }
        runtime_.queue().post_after(duration, [this, alive = alive_, connection] {
          if (!*alive) {
            return;
          }
          const bool ended = !active_ || service_->HwSendBreak(false) == kIOReturnSuccess;
          answer(connection, ended ? 0 : EIO, ended ? "" : "the driver could not end the break");
        });
      });
      return;
    }
    case Op::drain:
      wait_for_drain(std::chrono::steady_clock::time_point::max(),
                     [this, connection](bool) { answer(connection, 0); });
      return;
    case Op::close_drain:
      wait_for_drain(std::chrono::steady_clock::now() + options_.closing_wait, [this, connection](
                                                                                   bool timed_out) {
        if (timed_out) {
          ++counters_.closing_discards;
          os_log(OS_LOG_DEFAULT, "tty %{public}s: closing wait over; %u unsent bytes dropped",
                 name_.c_str(), tx_pending());
          flush_output();
        }
        answer(connection, 0,
               timed_out ? "the closing wait ran out; unsent bytes were dropped" : "");
      });
      return;
    case Op::queues: {
      // What the client wrote may still sit in the pty's buffers, where FIONREAD
      // does not count it yet; reading it in first puts it where it is counted.
      pull_from_master();
      wire::Reply r = reply(0);
      uint64_t in = rings_.mapped() ? rings_.rx().size() : 0;
      if (auto* usb = OSDynamicCast(IOUserUSBSerial, service_)) {
        OSDictionary* stats = usb->hostkitCopyDataPathStatistics();
        auto* parked =
            stats != nullptr ? OSDynamicCast(OSNumber, stats->getObject("RxParkedBytes")) : nullptr;
        in += parked != nullptr ? parked->unsigned64BitValue() : 0;
        OSSafeReleaseNULL(stats);
      }
      int unread = 0;  // what the client wrote that we have not read from the master yet
      if (::ioctl(master_, FIONREAD, &unread) != 0) {
        unread = 0;
      }
      r.in_queue = static_cast<uint32_t>(in);
      r.out_queue = static_cast<uint32_t>(unread) + tx_pending();
      send(connection, r);
      return;
    }
    case Op::flush:
      // The client's tcflush already reached the pty; its status is taken now,
      // so the driver's FIFOs are purged before tcflush returns.
      take_pending_status();
      answer(connection, 0);
      return;
    case Op::exclusive:
      if (request.value != 0 && connection->session == 0) {
        answer(connection, EINVAL, "TIOCEXCL on a connection without a session");
        return;
      }
      exclusive_owner_ = request.value != 0 ? connection->session : 0;
      answer(connection, 0);
      return;
  }
  answer(connection, EINVAL, "unknown request");
}

}  // namespace tty
