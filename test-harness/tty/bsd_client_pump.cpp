// The pump: the data path of an active session, on a thread of the port's own.
//
// On a Mac the tty layer runs in the kernel, beside the dext's queue, and the
// two share the rings (docs/driverkit-reference.md §1.4): the kernel fills TX
// and empties RX while the driver does the other halves, and each learns of the
// other's progress from a message (TxDataAvailable, RxFreeSpaceAvailable) that
// reaches the dext's queue posted. The pump is that kernel half: it reads the
// client's bytes from the master into the TX ring and writes the RX ring to the
// master, and it posts those two calls to the queue. The driver's
// RxDataAvailable and TxFreeSpaceAvailable wake it.
//
// Everything else stays on the queue: sessions, termios, flushes, drains, the
// control socket. Before the queue reads the master's data or touches a ring
// itself it parks the pump (park_pump waits until the pump touches neither),
// and what the pump finds that the queue must handle first (a TIOCPKT status, a
// slave opened or closed, a hang-up) parks the pump until the queue has looked
// (on_pump_attention). So a tcflush or a tcsetattr is taken before any byte the
// client wrote after it is read, as with the queue reading the master itself.
#include "bsd_client.hpp"

#include <poll.h>
#include <unistd.h>

#include <SerialDriverKit/SerialDriverKit.h>

#include <algorithm>
#include <atomic>
#include <cerrno>

namespace tty {
namespace {

// TX ring space the pump waits for before it reads the client again.
constexpr uint32_t kTxReadBatchBytes = 4096;
// With less space than that free, the pump looks again after this long and
// reads what fits: a driver that frees space without a TxFreeSpaceAvailable,
// or short of a batch, is not left waiting for it.
constexpr int kTxLateReadMs = 20;

}  // namespace

bool BsdClient::tx_room_to_read(transport::SerialQueue& tx) {
  const uint32_t capacity = tx.capacity();
  const uint32_t free_space = tx.free_space();
  return free_space > 0 && (free_space >= std::min<uint32_t>(capacity / 4, kTxReadBatchBytes) ||
                            free_space == capacity);
}

void BsdClient::pump_loop() {
  std::unique_lock lock(pump_mutex_);
  for (;;) {
    if (pump_holds_ > 0 || pump_stop_) {
      pump_parked_ = true;
      pump_cv_.notify_all();
      pump_cv_.wait(lock, [this] { return pump_stop_ || pump_holds_ == 0; });
      if (pump_stop_) {
        return;
      }
      pump_parked_ = false;
    }
    lock.unlock();
    const PumpAttention attention = pump_step();
    lock.lock();
    if (attention.any()) {
      ++pump_holds_;  // until the queue has looked
      runtime_.queue().post(
          hostkit::with_memory(attention_memory_, [this, alive = alive_, attention] {
            if (*alive) {
              on_pump_attention(attention);
            }
          }));
    }
  }
}

BsdClient::PumpAttention BsdClient::pump_step() {
  transport::SerialQueue& tx = rings_.tx();
  transport::SerialQueue& rx = rings_.rx();
  auto want_read = [&] {
    return !output_held_ && (tx_room_to_read(tx) || (pump_read_late_ && tx.free_space() > 0));
  };
  auto want_write = [&] { return rx_go_ && !rx.empty(); };
  const bool reading = want_read();
  const bool writing = want_write();
  const bool short_of_room = !reading && !output_held_;  // full, or short of a batch
  pollfd fds[3] = {
      {master_, static_cast<short>(POLLPRI | (reading ? POLLIN : 0) | (writing ? POLLOUT : 0)), 0},
      {inotify_, POLLIN, 0},
      {pump_event_, POLLIN, 0},
  };
  // A wake that comes from now on writes pump_event_ (if the pump waits for
  // it: a wake to read while it polls to read is none); one that came before
  // this changed what the two looks above saw, and the looks are taken again.
  pump_sleeps_for_ =
      static_cast<uint8_t>((reading ? 0 : kWakeToRead) | (writing ? 0 : kWakeToWrite));
  const bool changed = want_read() != reading || want_write() != writing;
  const int ready = ::poll(fds, 3, changed ? 0 : short_of_room ? kTxLateReadMs : -1);
  pump_sleeps_for_ = 0;
  PumpAttention attention;
  if (ready <= 0) {
    pump_read_late_ = ready == 0 && short_of_room;
    return attention;  // EINTR, a change, or the late read's time: look again
  }
  if ((fds[2].revents & POLLIN) != 0) {
    uint64_t wakes = 0;
    (void)::read(pump_event_, &wakes, sizeof wakes);
  }
  // What the queue handles comes before any byte moves: a session change before
  // the bytes of the next session, a flush or termios change before the bytes
  // written after it.
  attention.opens = (fds[1].revents & POLLIN) != 0;
  attention.status = (fds[0].revents & POLLPRI) != 0;
  attention.hung_up = (fds[0].revents & (POLLHUP | POLLERR)) != 0;
  if (attention.any()) {
    return attention;
  }
  if (reading && (fds[0].revents & POLLIN) != 0) {
    const size_t room = std::min<size_t>(tx.free_space(), kReadChunk);
    const ssize_t n = ::read(master_, pump_buffer_.data(), room + 1);
    if (n < 0 && errno == EIO) {
      attention.hung_up = true;  // the slave closed after the poll
      return attention;
    }
    if (n > 0 && pump_buffer_[0] != kPacketData) {
      attention.status_read = pump_buffer_[0];
      return attention;
    }
    pump_read_late_ = false;
    if (n > 1) {
      const auto bytes = static_cast<uint32_t>(n - 1);
      tx.write({pump_buffer_.data() + 1, bytes});
      bytes_to_device_ += bytes;
      session_ring_in_ += bytes;
      tell_driver(kTellTxDataAvailable);
    }
  }
  if (writing && (fds[0].revents & POLLOUT) != 0) {
    const ssize_t n = write_to_client(rx.read_span());
    if (n > 0) {
      rx.commit_read(static_cast<uint32_t>(n));
      bytes_to_client_ += static_cast<uint64_t>(n);
      tell_driver(kTellRxFreeSpaceAvailable);
    }
    if (rx.empty()) {
      // The batch is out. Bytes the driver put in the ring after the look
      // above may have had their go already: they keep it.
      rx_go_ = false;
      if (!rx.empty()) {
        rx_go_ = true;
      }
    }
  }
  return attention;
}

void BsdClient::wake_pump(PumpWake why) {
  // What the caller stored before (a ring index the driver moved, rx_go_) is
  // seen by a pump that goes to sleep after this look, or this look sees it
  // asleep: the fence keeps the store from passing the load.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if ((pump_sleeps_for_ & why) != 0) {
    uint64_t one = 1;
    (void)::write(pump_event_, &one, sizeof one);
  }
}

void BsdClient::park_pump() {
  std::unique_lock lock(pump_mutex_);
  ++pump_holds_;
  if (pump_parked_) {
    return;
  }
  lock.unlock();
  uint64_t one = 1;
  (void)::write(pump_event_, &one, sizeof one);  // out of its poll(), if it is in it
  lock.lock();
  pump_cv_.wait(lock, [this] { return pump_parked_; });
}

void BsdClient::resume_pump() {
  {
    std::lock_guard lock(pump_mutex_);
    if (--pump_holds_ > 0) {
      return;
    }
  }
  pump_cv_.notify_all();
}

void BsdClient::stop_pump() {
  if (!pump_.joinable()) {
    return;
  }
  {
    std::lock_guard lock(pump_mutex_);
    pump_stop_ = true;
  }
  pump_cv_.notify_all();
  uint64_t one = 1;
  (void)::write(pump_event_, &one, sizeof one);
  pump_.join();
  ::close(pump_event_);
  pump_event_ = -1;
}

void BsdClient::on_pump_attention(const PumpAttention& attention) {
  // The pump is parked by its own hold until the end of this.
  if (attention.status_read >= 0) {
    handle_packet_status(static_cast<uint8_t>(attention.status_read));
  }
  on_open_events();
  if (active_ && attention.status) {
    take_pending_status();
  }
  if (attention.hung_up) {
    resync_opens();
  }
  resume_pump();
}

void BsdClient::tell_driver(uint8_t what) {
  if (driver_told_.fetch_or(what) != 0) {
    return;  // a message on its way carries this too: one wake of the queue for both
  }
  runtime_.queue().post(hostkit::with_memory(tell_memory_, [this, alive = alive_] {
    if (!*alive) {
      return;
    }
    const uint8_t told = driver_told_.exchange(0);
    if (!active_ || !rings_.mapped()) {
      return;
    }
    if ((told & kTellTxDataAvailable) != 0) {
      service_->TxDataAvailable();
    }
    if ((told & kTellRxFreeSpaceAvailable) != 0) {
      service_->RxFreeSpaceAvailable();
    }
  }));
}

}  // namespace tty
