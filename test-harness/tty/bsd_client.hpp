// The Linux tty side of hostkit: what IOSerialBSDClient does on macOS.
//
// Every serial service that registers gets a pty, published in a run directory
// under a macOS-style name (<run-dir>/cu.usbserial-<suffix> and tty.<...>, links
// to /dev/pts/N). The pty's master side is the "kernel":
//   - first open of the slave (inotify IN_OPEN): ConnectQueues, DTR+RTS up,
//     HwActivate, HwResetFIFO(tx) and (rx), HwGetModemStatus, then the client's
//     current termios, as IOSerialBSDClient's initSession does (docs/driverkit-reference.md §1.3);
//     when the driver refuses the open, the client's slave is hung up and a
//     fresh pty is published under the same name;
//   - last close (IN_CLOSE + POLLHUP on the master): DTR+RTS down if HUPCL,
//     HwDeactivate, DisconnectQueues;
//   - termios changes: the master runs in packet mode (TIOCPKT) and the slave
//     keeps EXTPROC set, so every tcsetattr of the client arrives as
//     TIOCPKT_IOCTL; the master reads the slave's termios2 (TCGETS2 acts on the
//     slave) and calls HwProgramUART / HwProgramBaudRate / HwProgramFlowControl
//     for what changed. A call the driver refuses (e.g. an unreachable rate) puts
//     the slave's termios back to what is in force, so tcgetattr tells the truth;
//   - tcflush: TIOCPKT_FLUSHREAD -> the RX ring is emptied (the kernel consumes
//     it) and HwResetFIFO(rx) is called; FLUSHWRITE -> HwResetFIFO(tx), and the
//     TX ring's consumer, the driver, empties it [U];
//   - data: the queue protocol every serial service speaks (docs/driverkit-reference.md §1.4):
//     the descriptors ConnectQueues returns are mapped (hostkit::SerialRings);
//     master reads -> TX ring (txPI) -> TxDataAvailable; RxDataAvailable -> RX
//     ring (rxCI) -> master writes -> RxFreeSpaceAvailable.
// A pty cannot carry parity, data bits, modem lines, break or drain; the
// control() methods below are where a later client shim (a preload library
// talking to the bridge) plugs those in.
// Everything runs on the runtime's driver queue.
#pragma once

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "hostkit/runtime.hpp"
#include "hostkit/serial_client.hpp"

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
  uint64_t overruns = 0, breaks = 0, framing_errors = 0, parity_errors = 0;  // RxError
};

struct PortInfo {
  std::string name;          // "usbserial-FT1234A"
  std::string callout_path;  // <run-dir>/cu.<name>
  std::string dialin_path;   // <run-dir>/tty.<name>
  std::string pts_path;      // /dev/pts/N
  bool active = false;
  LineState line;
  bool cts = false, dsr = false, ri = false, dcd = false;
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

class BsdClient final : public hostkit::SerialClient {
 public:
  BsdClient(hostkit::Runtime& runtime, IOUserSerial* service, std::string name,
            std::filesystem::path run_dir);
  ~BsdClient() override;  // on the queue: deactivates, closes the master, removes the links

  // Creates the pty and the links; false (with `error`) when it cannot.
  bool publish(std::string& error);
  PortInfo info() const;
  IOUserSerial* service() const { return service_; }

  // hostkit::SerialClient (driver -> kernel)
  void rx_data_available() override;
  void tx_free_space_available() override;
  void modem_status_changed(bool cts, bool dsr, bool ri, bool dcd) override;
  void rx_error(bool overrun, bool got_break, bool framing, bool parity) override;

 private:
  void watch_opens();
  void on_open_events();
  void activate();
  void deactivate();
  void hang_up_refused_open();
  void withdraw();  // closes the master (hanging up the slave) and removes the links
  void arm_read();
  void on_readable();
  void handle_packet_status(uint8_t status);
  void take_pending_status();
  void apply_line(const LineState& line);
  void apply_termios();
  void write_rx();
  void poll_status_later();

  hostkit::Runtime& runtime_;
  IOUserSerial* service_;
  std::string name_;
  std::filesystem::path run_dir_;
  std::string pts_path_;
  int master_ = -1;
  int inotify_ = -1;
  std::unique_ptr<boost::asio::posix::stream_descriptor> master_watch_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> inotify_watch_;
  boost::asio::steady_timer status_poll_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool active_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool rx_pending_ = false;
  LineState line_;
  bool cts_ = false, dsr_ = false, ri_ = false, dcd_ = false;
  PortCounters counters_;
  hostkit::SerialRings rings_;  // mapped from ConnectQueues while the port is open
  std::vector<uint8_t> buffer_;
};

// Gives every registered serial service of a runtime its BsdClient.
class SerialFamily final : public hostkit::SerialFamilyObserver {
 public:
  SerialFamily(hostkit::Runtime& runtime, std::filesystem::path run_dir);
  ~SerialFamily() override;

  void serial_registered(IOUserSerial* service) override;
  void serial_terminating(IOUserSerial* service) override;

  // Thread-safe snapshot of the published ports.
  std::vector<PortInfo> ports();

 private:
  hostkit::Runtime& runtime_;
  std::filesystem::path run_dir_;
  std::vector<std::unique_ptr<BsdClient>> clients_;  // queue-only
  unsigned next_unit_ = 0;
};

}  // namespace tty
