// The Linux tty side of hostkit: what IOSerialBSDClient does on macOS.
//
// Every serial service that registers gets a pty, published in a run directory
// under a macOS-style name (<run-dir>/cu.usbserial-<suffix> and tty.<...>; see
// port_registry.hpp for the links and the record that says the port is live).
// The pty's master side is the "kernel":
//   - sessions: every open and close of the slave is counted (inotify IN_OPEN /
//     IN_CLOSE). The first open starts a session: ConnectQueues, DTR+RTS up,
//     HwActivate, HwResetFIFO(tx) and (rx), HwGetModemStatus, then the client's
//     current termios, as IOSerialBSDClient's initSession does
//     (docs/driverkit-reference.md §1.3); when the driver refuses the open, the client's slave is
//     hung up and a fresh pty is published under the same name;
//   - the last close ends it like a tty's close: what the client wrote is still
//     sent (bounded by the closing wait, 30 s by default as Linux's
//     closing_wait), what arrives meanwhile is dropped, then DTR+RTS go down if
//     HUPCL, HwDeactivate, DisconnectQueues, and whatever the client left unread
//     is flushed, so a later session never sees an earlier one's bytes;
//   - termios changes: the master runs in packet mode (TIOCPKT) and the slave
//     keeps EXTPROC set, so every tcsetattr of the client arrives as
//     TIOCPKT_IOCTL; the master reads the slave's termios2 (TCGETS2 acts on the
//     slave) and calls HwProgramUART / HwProgramBaudRate / HwProgramFlowControl
//     for what changed of what a pty can hold (rate, CSTOPB, flow control). A
//     call the driver refuses (e.g. an unreachable rate) puts the slave's termios
//     back to what is in force, so tcgetattr tells the truth;
//   - tcflush: TIOCPKT_FLUSHREAD -> the RX ring is emptied (the kernel consumes
//     it) and HwResetFIFO(rx) is called; FLUSHWRITE -> HwResetFIFO(tx), and the
//     TX ring's consumer, the driver, empties it [U];
//   - IXON: a received XOFF holds the client's output back (the master is not
//     read, so the client's writes block once the pty is full) until XON, or any
//     character with IXANY; both characters are consumed, as a tty does (EXTPROC
//     turns the pty's own IXON handling off);
//   - data: the queue protocol every serial service speaks
//     (docs/driverkit-reference.md §1.4): the descriptors ConnectQueues returns
//     are mapped (hostkit::SerialRings); master reads -> TX ring (txPI) ->
//     TxDataAvailable; RxDataAvailable -> RX ring (rxCI) -> master writes ->
//     RxFreeSpaceAvailable.
// A pty cannot carry data bits, parity, modem lines, break, drain or queue
// depths; the client shim (test-harness/shim) asks for them over the port's
// control socket (client_protocol.hpp), served here by serve_request().
// Everything runs on the runtime's driver queue.
#pragma once

#include <sys/types.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hostkit/runtime.hpp"
#include "hostkit/serial_client.hpp"
#include "tty/client_protocol.hpp"
#include "tty/port_registry.hpp"

class IOUserSerial;
class OSDictionary;

namespace tty {

// The line as the driver has accepted it. Before the first open it is the
// port's power-on line, 9600 8N1 without flow control (what publish() puts in
// the slave's termios): a first rate the driver refuses leaves the port there,
// as a refused tcsetattr on macOS leaves the previous settings in force.
struct LineState {
  uint32_t baud = 9600;
  uint8_t data_bits = 8;
  uint8_t half_stop_bits = 2;
  uint8_t parity = 1;  // PD_RS232_PARITY_NONE
  uint32_t flow = 0;   // PD_RS232_A_* word
  uint8_t xon = 0x11;
  uint8_t xoff = 0x13;
  friend bool operator==(const LineState&, const LineState&) = default;
};

struct PortCounters {
  uint64_t bytes_to_device = 0;  // read from the client, put in the TX ring
  uint64_t bytes_to_client = 0;  // taken from the RX ring, written to the client
  uint64_t publications = 0;     // ptys created for the port: 1, plus one per refused open
  uint64_t opens = 0;
  uint64_t refused_opens = 0;  // HwActivate failed: the client's slave was hung up
  uint64_t termios_changes = 0;
  uint64_t refused_changes = 0;  // Hw* calls that failed; termios was put back
  uint64_t flushes = 0;
  // bytes_to_client when the last input flush (FLUSHREAD) was taken: what the
  // client may still find after its tcflush(TCIFLUSH) is at most what was written
  // between the flush and this moment (a pty sets FLUSHREAD after it empties the
  // client's input, and has no atomic check-and-write).
  uint64_t bytes_to_client_at_input_flush = 0;
  uint64_t shim_requests = 0;     // requests served on the control socket
  uint64_t closing_discards = 0;  // closes whose closing wait ran out (unsent bytes dropped)
  uint64_t overruns = 0, breaks = 0, framing_errors = 0, parity_errors = 0;  // RxError
};

struct PortInfo {
  std::string name;          // "usbserial-FT1234A"
  std::string callout_path;  // <run-dir>/cu.<name>
  std::string dialin_path;   // <run-dir>/tty.<name>
  std::string pts_path;      // /dev/pts/N
  bool active = false;
  LineState line;
  bool dtr = false, rts = false;  // as last programmed
  bool cts = false, dsr = false, ri = false, dcd = false;
  bool output_held = false;  // an XOFF (IXON) holds the client's output back
  std::string last_refusal;  // the last change the driver refused, in words
  PortCounters counters;
  // The service's registry properties as ioreg would show them, the part of
  // them the driver set with SetProperties (top level or IOUserServiceProperties,
  // per hostkit::SetPropertiesModel), and hostkit's data-path counters (copies).
  std::shared_ptr<OSDictionary> properties;
  std::shared_ptr<OSDictionary> driver_properties;
  std::shared_ptr<OSDictionary> data_path;
  // Where the port lives: the USB backend and interface number of its provider.
  const void* backend = nullptr;
  uint8_t interface_number = 0;
};

// How ports are published (the bridge's options).
struct PortOptions {
  bool dev_names = false;  // also /dev/cu.<name> and /dev/tty.<name> (needs root)
  std::chrono::milliseconds closing_wait{30000};
};

class BsdClient final : public hostkit::SerialClient {
 public:
  BsdClient(hostkit::Runtime& runtime, IOUserSerial* service, std::string name,
            std::filesystem::path run_dir);
  ~BsdClient() override;  // on the queue: deactivates, closes the master, removes the links

  void configure(const PortOptions& options) { options_ = options; }
  // Creates the pty, its control socket, the record and the links; false (with
  // `error`) when it cannot.
  bool publish(std::string& error);
  PortInfo info() const;
  IOUserSerial* service() const { return service_; }

  // hostkit::SerialClient (driver -> kernel)
  void rx_data_available() override;
  void tx_free_space_available() override;
  void modem_status_changed(bool cts, bool dsr, bool ri, bool dcd) override;
  void rx_error(bool overrun, bool got_break, bool framing, bool parity) override;

 private:
  enum class Session { idle, active, closing };
  // One client of the control socket.
  struct Connection {
    std::unique_ptr<boost::asio::posix::stream_descriptor> socket;
    uint64_t session = 0;  // non-zero once an `open` request succeeded on it
  };
  // Something waiting for the TX path to empty (tcdrain, a drained tcsetattr,
  // a timed break, close): `done` runs when it has, or with timed_out at `deadline`.
  struct DrainWaiter {
    std::chrono::steady_clock::time_point deadline;
    std::function<void(bool timed_out)> done;
  };
  struct ModemWaiter {
    std::weak_ptr<Connection> connection;
    uint32_t mask = 0;
    wire::Counters start;
  };

  void watch_opens();
  void on_open_events();
  bool slave_closed() const;  // no descriptor of the slave is open anywhere
  void resync_opens();
  void activate();
  void deactivate();
  void start_closing();
  void finish_closing();
  void flush_slave_input();
  void hang_up_refused_open();
  void withdraw();  // closes the master (hanging up the slave) and removes the links
  void arm_read();
  void arm_read_later();
  void on_readable();
  // Reads the client's bytes into the TX ring; true when the master had nothing more
  // to give. `to_empty` reads until EAGAIN, whose read also waits for the pty's
  // pending input to reach the master (tcdrain, queue counts); otherwise a short
  // read ends it, and the master's next readiness brings the rest.
  bool pull_from_master(bool to_empty = true);
  void handle_packet_status(uint8_t status);
  void take_pending_status();
  void flush_input();
  void flush_output();
  void apply_line(const LineState& line);
  void apply_termios(bool force);
  bool program(const LineState& wanted, std::string& refusal);
  void write_rx();
  void post_write_rx();
  ssize_t write_to_client(std::span<const uint8_t> bytes);
  void set_output_held(bool held);
  void drop_unsent_output();  // the closing wait ran out
  void poll_status_later();
  bool tx_path_empty();
  uint32_t tx_pending();
  void wait_for_drain(std::chrono::steady_clock::time_point deadline,
                      std::function<void(bool)> done);
  void tick();

  // Control socket (client_protocol.hpp).
  bool listen(dev_t pts_device, dev_t pts_rdev, std::string& error);
  void accept_next();
  void receive_next(const std::shared_ptr<Connection>& connection);
  void serve_request(const std::shared_ptr<Connection>& connection, const wire::Request& request);
  wire::Reply reply(int error, const std::string& message = {});
  void send(const std::shared_ptr<Connection>& connection, const wire::Reply& reply);
  void answer(const std::shared_ptr<Connection>& connection, int error,
              const std::string& message = {});
  void drop(const std::shared_ptr<Connection>& connection);
  void answer_pending_opens(int error);
  void wake_modem_waiters();
  uint32_t modem_bits() const;

  hostkit::Runtime& runtime_;
  IOUserSerial* service_;
  std::string name_;
  std::filesystem::path run_dir_;
  PortOptions options_;
  std::string pts_path_;
  int master_ = -1;
  int inotify_ = -1;
  int path_fd_ = -1;         // O_PATH descriptor of the slave: what the links lead to
  std::string link_target_;  // /proc/<pid>/fd/<path_fd_>
  std::vector<std::filesystem::path> links_;
  std::unique_ptr<registry::Claim> claim_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> master_watch_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> inotify_watch_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> listener_;
  std::list<std::shared_ptr<Connection>> connections_;
  boost::asio::steady_timer status_poll_;
  bool status_poll_armed_ = false;
  boost::asio::steady_timer tick_timer_;
  bool ticking_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  Session session_ = Session::idle;
  bool session_fresh_ = false;  // no shim has opened in this session yet
  bool hanging_up_ = false;     // the driver refused this pty's open (see hang_up_refused_open)
  bool active_ = false;         // the driver is activated (session active or closing)
  int open_count_ = 0;          // slave opens minus closes (see on_open_events)
  std::chrono::steady_clock::time_point closing_deadline_;
  bool reading_ = false;
  bool read_arm_posted_ = false;
  bool writing_ = false;
  bool rx_pending_ = false;
  uint32_t rx_seen_level_ = 0;  // RX ring level at the last deferral of write_rx
  int rx_idle_turns_ = 0;       // deferrals in a row that saw no growth
  // Memory for the asio operations of the data path (none allocates per transfer),
  // shared with the operations: one may still be queued when this port goes.
  std::shared_ptr<hostkit::HandlerMemory> write_rx_memory_ =
      std::make_shared<hostkit::HandlerMemory>();
  std::shared_ptr<hostkit::HandlerMemory> read_wait_memory_ =
      std::make_shared<hostkit::HandlerMemory>();
  std::shared_ptr<hostkit::HandlerMemory> read_arm_memory_ =
      std::make_shared<hostkit::HandlerMemory>();
  std::shared_ptr<hostkit::HandlerMemory> write_wait_memory_ =
      std::make_shared<hostkit::HandlerMemory>();
  std::shared_ptr<hostkit::HandlerMemory> status_poll_memory_ =
      std::make_shared<hostkit::HandlerMemory>();
  bool output_held_ = false;
  bool output_dropped_ = false;  // this session's end dropped unsent bytes
  LineState line_;
  LineState pty_seen_;  // the slave's termios as last read
  bool dtr_ = false, rts_ = false;
  bool cts_ = false, dsr_ = false, ri_ = false, dcd_ = false;
  uint64_t session_ring_in_ = 0;       // bytes put in the TX ring this session
  uint64_t session_ring_cleared_ = 0;  // of those, dropped from the ring by a flush
  uint64_t exclusive_owner_ = 0;       // session id holding TIOCEXCL, 0 if none
  uint64_t next_session_id_ = 1;
  std::vector<std::weak_ptr<Connection>> pending_opens_;
  std::vector<DrainWaiter> drain_waiters_;
  std::vector<ModemWaiter> modem_waiters_;
  wire::Counters icount_;
  std::string last_refusal_;
  PortCounters counters_;
  hostkit::SerialRings rings_;  // mapped from ConnectQueues while the port is open
  std::vector<uint8_t> buffer_;
};

// Gives every registered serial service of a runtime its BsdClient.
class SerialFamily final : public hostkit::SerialFamilyObserver {
 public:
  // Removes what stale bridges left in `run_dir` (port_registry.hpp) first.
  SerialFamily(hostkit::Runtime& runtime, std::filesystem::path run_dir, PortOptions options = {});
  ~SerialFamily() override;

  void serial_registered(IOUserSerial* service) override;
  void serial_terminating(IOUserSerial* service) override;

  // Thread-safe snapshot of the published ports.
  std::vector<PortInfo> ports();

 private:
  hostkit::Runtime& runtime_;
  std::filesystem::path run_dir_;
  PortOptions options_;
  std::vector<std::unique_ptr<BsdClient>> clients_;  // queue-only
  unsigned next_unit_ = 0;
};

}  // namespace tty
