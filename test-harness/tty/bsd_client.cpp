#include "bsd_client.hpp"

// <asm/termbits.h> gives termios2/BOTHER; it clashes with <termios.h>, so this
// file uses only the raw ioctls.
#include <asm/termbits.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <boost/asio/post.hpp>

#include <DriverKit/IOLib.h>
#include <SerialDriverKit/SerialDriverKit.h>
#include <USBDriverKit/USBDriverKit.h>
#include <USBSerialDriverKit/USBSerialDriverKit.h>
#include <os/log.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "hostkit/usb_device.hpp"
#include "transport/serial_constants.hpp"

namespace tty {
namespace {

namespace pd = transport::pd;

// TIOCPKT status bits (Linux include/uapi/asm-generic/ioctls.h).
constexpr uint8_t kPacketData = 0x00;
constexpr uint8_t kPacketFlushRead = 0x01;
constexpr uint8_t kPacketFlushWrite = 0x02;
constexpr uint8_t kPacketIoctl = 0x40;

// When the TX ring is full the master is not read; a 1-byte read this often
// still picks up termios changes and flushes (a data read of size 1 returns only
// the TIOCPKT_DATA marker and consumes nothing).
constexpr auto kStatusPollInterval = std::chrono::milliseconds(20);

constexpr size_t kReadChunk = 16384;

uint8_t data_bits_of(tcflag_t cflag) {
  switch (cflag & CSIZE) {
    case CS5:
      return 5;
    case CS6:
      return 6;
    case CS7:
      return 7;
    default:
      return 8;
  }
}

LineState line_from(const termios2& t) {
  LineState line;
  line.baud = t.c_ospeed;
  line.data_bits = data_bits_of(t.c_cflag);
  line.half_stop_bits = (t.c_cflag & CSTOPB) != 0 ? pd::kHalfStopBitsTwo : pd::kHalfStopBitsOne;
  if ((t.c_cflag & PARENB) == 0) {
    line.parity = pd::kParityNone;
  } else if ((t.c_cflag & CMSPAR) != 0) {
    line.parity = (t.c_cflag & PARODD) != 0 ? pd::kParityMark : pd::kParitySpace;
  } else {
    line.parity = (t.c_cflag & PARODD) != 0 ? pd::kParityOdd : pd::kParityEven;
  }
  // The flow word IOSerialBSDClient builds (docs/driverkit-reference.md §1.5); Linux's CRTSCTS
  // means both CRTS_IFLOW and CCTS_OFLOW.
  if ((t.c_cflag & CRTSCTS) != 0) {
    line.flow |= pd::kFlowRfr | pd::kFlowCts;
  }
  if ((t.c_iflag & IXON) != 0) {
    line.flow |= pd::kFlowTxo;
  }
  if ((t.c_iflag & IXOFF) != 0) {
    line.flow |= pd::kFlowRxo;
  }
  if ((t.c_iflag & IXANY) != 0) {
    line.flow |= pd::kFlowXany;
  }
  line.xon = t.c_cc[VSTART];
  line.xoff = t.c_cc[VSTOP];
  return line;
}

bool same_uart(const LineState& a, const LineState& b) {
  return a.baud == b.baud && a.data_bits == b.data_bits && a.half_stop_bits == b.half_stop_bits &&
         a.parity == b.parity;
}

bool same_flow(const LineState& a, const LineState& b) {
  return a.flow == b.flow && a.xon == b.xon && a.xoff == b.xoff;
}

// Puts the accepted settings back into a termios2 (the parts a pty keeps).
void restore(termios2& t, const LineState& line) {
  t.c_cflag &= ~(CBAUD | CSTOPB | CRTSCTS);
  t.c_cflag |= BOTHER;
  t.c_ospeed = t.c_ispeed = line.baud;
  if (line.half_stop_bits == pd::kHalfStopBitsTwo) {
    t.c_cflag |= CSTOPB;
  }
  if ((line.flow & (pd::kFlowRfr | pd::kFlowCts)) != 0) {
    t.c_cflag |= CRTSCTS;
  }
  t.c_iflag &= ~(IXON | IXOFF | IXANY);
  t.c_iflag |= ((line.flow & pd::kFlowTxo) != 0 ? IXON : 0) |
               ((line.flow & pd::kFlowRxo) != 0 ? IXOFF : 0) |
               ((line.flow & pd::kFlowXany) != 0 ? IXANY : 0);
  t.c_cc[VSTART] = line.xon;
  t.c_cc[VSTOP] = line.xoff;
}

}  // namespace

BsdClient::BsdClient(hostkit::Runtime& runtime, IOUserSerial* service, std::string name,
                     std::filesystem::path run_dir)
    : runtime_(runtime),
      service_(service),
      name_(std::move(name)),
      run_dir_(std::move(run_dir)),
      status_poll_(runtime.queue().context()),
      buffer_(kReadChunk + 1) {
  service_->retain();
  service_->hostkitSetClient(this);
}

BsdClient::~BsdClient() {
  *alive_ = false;
  if (active_) {
    deactivate();
  }
  service_->hostkitSetClient(nullptr);
  status_poll_.cancel();
  withdraw();
  service_->release();
}

void BsdClient::withdraw() {
  // Closing the master hangs up the slave: a reader blocked in read() gets EIO.
  if (master_watch_) {
    master_watch_->close();
    master_watch_.reset();
  } else if (master_ >= 0) {
    ::close(master_);
  }
  master_ = -1;
  if (inotify_watch_) {
    inotify_watch_->close();
    inotify_watch_.reset();
  } else if (inotify_ >= 0) {
    ::close(inotify_);
  }
  inotify_ = -1;
  std::error_code ignored;
  std::filesystem::remove(run_dir_ / ("cu." + name_), ignored);
  std::filesystem::remove(run_dir_ / ("tty." + name_), ignored);
}

void BsdClient::hang_up_refused_open() {
  // On macOS a refused HwActivate fails the client's open(). A pty's open cannot
  // fail, so the slave the client holds is hung up (its reads and writes get
  // EIO) and a fresh pty is published under the same name for the next open.
  // Deferred: this runs inside the inotify handler whose descriptor it replaces.
  boost::asio::post(runtime_.queue().context(), [this, alive = alive_] {
    if (!*alive) {
      return;
    }
    withdraw();
    std::string error;
    if (!publish(error)) {
      os_log(OS_LOG_DEFAULT, "tty %{public}s: cannot publish the port again: %{public}s",
             name_.c_str(), error.c_str());
    }
  });
}

bool BsdClient::publish(std::string& error) {
  // [U] The kernel's own suffix is the raw USB serial string; what devfs does
  // with a '/' in it is unknown (docs/driverkit-assumptions.md item 26).
  if (name_.find('/') != std::string::npos) {
    error = "the port name '" + name_ + "' contains '/', which a device node name cannot";
    return false;
  }
  master_ = ::posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (master_ < 0 || ::grantpt(master_) != 0 || ::unlockpt(master_) != 0) {
    error = std::string("cannot create a pty: ") + std::strerror(errno);
    return false;
  }
  char pts[64];
  if (::ptsname_r(master_, pts, sizeof pts) != 0) {
    error = "ptsname failed";
    return false;
  }
  pts_path_ = pts;
  int one = 1;
  if (::ioctl(master_, TIOCPKT, &one) != 0) {
    error = std::string("TIOCPKT failed: ") + std::strerror(errno);
    return false;
  }
  // The port starts raw at 9600 8N1 with the modem lines ignored (CLOCAL), and
  // EXTPROC so that every later tcsetattr reaches us as TIOCPKT_IOCTL.
  termios2 t{};
  ::ioctl(master_, TCGETS2, &t);
  t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXOFF);
  t.c_oflag &= ~OPOST;
  t.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
  t.c_lflag |= EXTPROC;
  t.c_cflag &= ~(CSIZE | PARENB | CBAUD);
  t.c_cflag |= CS8 | CREAD | CLOCAL | BOTHER;
  t.c_ispeed = t.c_ospeed = 9600;
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  if (::ioctl(master_, TCSETS2, &t) != 0) {
    error = std::string("TCSETS2 failed: ") + std::strerror(errno);
    return false;
  }
  // The initial TIOCPKT_IOCTL from our own change is drained by the first read.
  inotify_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_ < 0 ||
      ::inotify_add_watch(inotify_, pts, IN_OPEN | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE) < 0) {
    error = std::string("inotify on ") + pts + " failed: " + std::strerror(errno);
    return false;
  }
  auto& context = runtime_.queue().context();
  master_watch_ = std::make_unique<boost::asio::posix::stream_descriptor>(context, master_);
  inotify_watch_ = std::make_unique<boost::asio::posix::stream_descriptor>(context, inotify_);

  std::error_code ec;
  std::filesystem::create_directories(run_dir_, ec);
  for (const char* prefix : {"cu.", "tty."}) {
    const auto link = run_dir_ / (prefix + name_);
    std::filesystem::remove(link, ec);
    std::filesystem::create_symlink(pts_path_, link, ec);
    if (ec) {
      error = "cannot create " + link.string() + ": " + ec.message();
      return false;
    }
  }
  ++counters_.publications;
  watch_opens();
  return true;
}

PortInfo BsdClient::info() const {
  PortInfo port;
  port.name = name_;
  port.callout_path = (run_dir_ / ("cu." + name_)).string();
  port.dialin_path = (run_dir_ / ("tty." + name_)).string();
  port.pts_path = pts_path_;
  port.active = active_;
  port.line = line_;
  port.cts = cts_;
  port.dsr = dsr_;
  port.ri = ri_;
  port.dcd = dcd_;
  port.counters = counters_;
  auto released = [](OSDictionary* d) {
    if (d != nullptr) {
      d->release();
    }
  };
  OSDictionary* properties = nullptr;
  service_->CopyProperties(&properties);
  port.properties = std::shared_ptr<OSDictionary>(properties, released);
  port.driver_properties =
      std::shared_ptr<OSDictionary>(service_->hostkitCopyDriverProperties(), released);
  if (auto* usb = OSDynamicCast(IOUserUSBSerial, service_)) {
    port.data_path = std::shared_ptr<OSDictionary>(usb->hostkitCopyDataPathStatistics(), released);
  }
  if (auto* provider = OSDynamicCast(IOUSBHostInterface, service_->hostkitProvider())) {
    port.backend = &provider->hostkitDevice()->backend();
    port.interface_number = provider->hostkitNumber();
  } else if (auto* device = OSDynamicCast(IOUSBHostDevice, service_->hostkitProvider())) {
    port.backend = &device->hostkitDevice()->backend();
  }
  return port;
}

void BsdClient::watch_opens() {
  inotify_watch_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                             [this, alive = alive_](const boost::system::error_code& ec) {
                               if (!*alive || ec) {
                                 return;
                               }
                               on_open_events();
                               watch_opens();
                             });
}

void BsdClient::on_open_events() {
  alignas(inotify_event) char events[4096];
  bool opened = false;
  bool closed = false;
  for (;;) {
    const ssize_t n = ::read(inotify_, events, sizeof events);
    if (n <= 0) {
      break;
    }
    for (ssize_t offset = 0; offset < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(events + offset);
      opened |= (event->mask & IN_OPEN) != 0;
      closed |= (event->mask & (IN_CLOSE_WRITE | IN_CLOSE_NOWRITE)) != 0;
      offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
    }
  }
  if (opened && !active_) {
    activate();
  }
  if (closed && active_) {
    // POLLHUP on the master means no slave file descriptor is left open.
    pollfd p{master_, POLLIN, 0};
    if (::poll(&p, 1, 0) >= 0 && (p.revents & POLLHUP) != 0) {
      deactivate();
    }
  }
}

void BsdClient::activate() {
  ++counters_.opens;
  IOBufferMemoryDescriptor* ifmd = nullptr;
  IOMemoryDescriptor* rxqmd = nullptr;
  IOMemoryDescriptor* txqmd = nullptr;
  kern_return_t result =
      service_->ConnectQueues(&ifmd, &rxqmd, &txqmd, nullptr, nullptr, 0, 0, 0, 0);
  if (result == kIOReturnSuccess) {
    // The kernel's side of the queue protocol: it produces TX and consumes RX.
    result = rings_.map(ifmd, rxqmd, txqmd);
  }
  OSSafeReleaseNULL(ifmd);  // the mappings keep what they map
  OSSafeReleaseNULL(rxqmd);
  OSSafeReleaseNULL(txqmd);
  if (result == kIOReturnSuccess) {
    // initSession raises DTR (docs/driverkit-reference.md §1.3); Linux ttys raise RTS with it.
    result = service_->HwProgramMCR(true, true);
  }
  if (result == kIOReturnSuccess) {
    result = service_->HwActivate();
  }
  if (result != kIOReturnSuccess) {
    os_log(OS_LOG_DEFAULT, "tty %{public}s: open failed: driver returned 0x%x", name_.c_str(),
           result);
    ++counters_.refused_opens;
    service_->DisconnectQueues();
    rings_.unmap();
    hang_up_refused_open();
    return;
  }
  active_ = true;
  service_->HwResetFIFO(true, false);
  service_->HwResetFIFO(false, true);
  service_->HwGetModemStatus(&cts_, &dsr_, &ri_, &dcd_);
  // The chip first gets the line in force (the power-on line, or what the last
  // session left), then the client's termios is applied as an ordinary change.
  apply_line(line_);
  apply_termios();
  arm_read();
}

void BsdClient::deactivate() {
  active_ = false;
  status_poll_.cancel();
  termios2 t{};
  if (::ioctl(master_, TCGETS2, &t) == 0 && (t.c_cflag & HUPCL) != 0) {
    service_->HwProgramMCR(false, false);
  }
  service_->HwDeactivate();
  service_->DisconnectQueues();
  rings_.unmap();
  writing_ = false;
  rx_pending_ = false;
}

void BsdClient::apply_line(const LineState& line) {
  const kern_return_t uart =
      service_->HwProgramUART(line.baud, line.data_bits, line.half_stop_bits, line.parity);
  const kern_return_t flow = service_->HwProgramFlowControl(line.flow, line.xon, line.xoff);
  if (uart != kIOReturnSuccess || flow != kIOReturnSuccess) {
    os_log(OS_LOG_DEFAULT, "tty %{public}s: the driver refused the line in force (0x%x, 0x%x)",
           name_.c_str(), uart, flow);
  }
}

void BsdClient::apply_termios() {
  termios2 t{};
  if (::ioctl(master_, TCGETS2, &t) != 0) {
    return;
  }
  bool put_back = false;
  if ((t.c_lflag & EXTPROC) == 0) {
    // A client cleared EXTPROC; without it later changes would go unnoticed.
    t.c_lflag |= EXTPROC;
    put_back = true;
  }
  const LineState wanted = line_from(t);
  if (!same_uart(wanted, line_)) {
    ++counters_.termios_changes;
    const bool speed_only = wanted.data_bits == line_.data_bits &&
                            wanted.half_stop_bits == line_.half_stop_bits &&
                            wanted.parity == line_.parity;
    const kern_return_t result =
        speed_only ? service_->HwProgramBaudRate(wanted.baud)
                   : service_->HwProgramUART(wanted.baud, wanted.data_bits, wanted.half_stop_bits,
                                             wanted.parity);
    if (result == kIOReturnSuccess) {
      line_.baud = wanted.baud;
      line_.data_bits = wanted.data_bits;
      line_.half_stop_bits = wanted.half_stop_bits;
      line_.parity = wanted.parity;
    } else {
      ++counters_.refused_changes;
      os_log(OS_LOG_DEFAULT,
             "tty %{public}s: %u Bd refused by the driver (0x%x); termios put back to %u Bd",
             name_.c_str(), wanted.baud, result, line_.baud);
      put_back = true;
    }
  }
  if (!same_flow(wanted, line_)) {
    const kern_return_t result =
        service_->HwProgramFlowControl(wanted.flow, wanted.xon, wanted.xoff);
    if (result == kIOReturnSuccess) {
      line_.flow = wanted.flow;
      line_.xon = wanted.xon;
      line_.xoff = wanted.xoff;
    } else {
      ++counters_.refused_changes;
      os_log(OS_LOG_DEFAULT, "tty %{public}s: flow control 0x%x refused by the driver (0x%x)",
             name_.c_str(), wanted.flow, result);
      put_back = true;
    }
  }
  if (put_back) {
    restore(t, line_);
    ::ioctl(master_, TCSETS2, &t);
  }
}

void BsdClient::arm_read() {
  if (reading_ || !active_) {
    return;
  }
  reading_ = true;
  master_watch_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                            [this, alive = alive_](const boost::system::error_code& ec) {
                              if (!*alive) {
                                return;
                              }
                              reading_ = false;
                              if (!ec) {
                                on_readable();
                              }
                            });
}

void BsdClient::poll_status_later() {
  status_poll_.expires_after(kStatusPollInterval);
  status_poll_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!*alive || ec || !active_) {
      return;
    }
    take_pending_status();
    on_readable();
  });
}

void BsdClient::take_pending_status() {
  // In packet mode a pending status makes the master POLLPRI, and a read returns it
  // alone; a 1-byte read with no status pending returns TIOCPKT_DATA and consumes
  // no data.
  pollfd pending{master_, POLLPRI, 0};
  if (::poll(&pending, 1, 0) != 1 || (pending.revents & POLLPRI) == 0) {
    return;
  }
  uint8_t status = 0;
  if (::read(master_, &status, 1) == 1 && status != kPacketData) {
    handle_packet_status(status);
  }
}

void BsdClient::on_readable() {
  if (!active_) {
    return;
  }
  if (!rings_.mapped()) {
    return;
  }
  for (int round = 0; round < 16; ++round) {
    const size_t room = std::min<size_t>(rings_.tx().free_space(), kReadChunk);
    if (room == 0) {
      poll_status_later();  // the driver frees space and calls tx_free_space_available
      return;
    }
    const ssize_t n = ::read(master_, buffer_.data(), room + 1);
    if (n <= 0) {
      break;  // EAGAIN; EIO while no slave is open
    }
    if (buffer_[0] != kPacketData) {
      handle_packet_status(buffer_[0]);
      if (!active_) {
        return;
      }
      continue;
    }
    const auto bytes = static_cast<uint32_t>(n - 1);
    if (bytes > 0) {
      rings_.tx().write({buffer_.data() + 1, bytes});
      counters_.bytes_to_device += bytes;
      service_->TxDataAvailable();
    }
  }
  arm_read();
}

void BsdClient::handle_packet_status(uint8_t status) {
  if ((status & kPacketFlushRead) != 0 && rings_.mapped()) {
    // tcflush(TCIFLUSH): drop what the device sent and the client has not read.
    ++counters_.flushes;
    rings_.rx().clear();
    if (auto* usb = OSDynamicCast(IOUserUSBSerial, service_)) {
      usb->hostkitDiscardRx();
    }
    service_->HwResetFIFO(false, true);
    service_->RxFreeSpaceAvailable();
  }
  if ((status & kPacketFlushWrite) != 0 && rings_.mapped()) {
    // tcflush(TCOFLUSH): drop what the client wrote and the device has not sent.
    // The TX ring's consumer index is the driver's, so the driver empties it [U]:
    // IOUserUSBSerial's framework here, an IOUserSerial dext in HwResetFIFO(tx).
    ++counters_.flushes;
    if (auto* usb = OSDynamicCast(IOUserUSBSerial, service_)) {
      usb->hostkitDiscardTx();
    }
    service_->HwResetFIFO(true, false);
  }
  if ((status & kPacketIoctl) != 0) {
    apply_termios();
  }
}

void BsdClient::rx_data_available() {
  // Posted, so the driver's call returns before we call back into it.
  if (rx_pending_) {
    return;
  }
  rx_pending_ = true;
  runtime_.queue().post([this, alive = alive_] {
    if (*alive) {
      rx_pending_ = false;
      write_rx();
    }
  });
}

void BsdClient::write_rx() {
  if (!active_ || writing_ || !rings_.mapped()) {
    return;
  }
  bool freed = false;
  for (;;) {
    // A client's tcflush(TCIFLUSH) empties the slave's input and so makes the
    // master writable; its FLUSHREAD status is taken before every write, or bytes
    // received before the flush would be written after it.
    take_pending_status();
    if (!active_ || rings_.rx().empty()) {
      break;
    }
    const std::span<const uint8_t> span = rings_.rx().read_span();
    const ssize_t n = ::write(master_, span.data(), span.size());
    if (n > 0) {
      rings_.rx().commit_read(static_cast<uint32_t>(n));
      counters_.bytes_to_client += static_cast<uint64_t>(n);
      freed = true;
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      writing_ = true;
      master_watch_->async_wait(boost::asio::posix::stream_descriptor::wait_write,
                                [this, alive = alive_](const boost::system::error_code& ec) {
                                  if (!*alive) {
                                    return;
                                  }
                                  writing_ = false;
                                  if (!ec) {
                                    write_rx();
                                  }
                                });
    }
    break;
  }
  if (freed) {
    service_->RxFreeSpaceAvailable();
  }
}

void BsdClient::tx_free_space_available() {
  if (active_ && !reading_) {
    status_poll_.cancel();
    on_readable();
  }
}

void BsdClient::modem_status_changed(bool cts, bool dsr, bool ri, bool dcd) {
  cts_ = cts;
  dsr_ = dsr;
  ri_ = ri;
  dcd_ = dcd;
}

void BsdClient::rx_error(bool overrun, bool got_break, bool framing, bool parity) {
  counters_.overruns += overrun ? 1 : 0;
  counters_.breaks += got_break ? 1 : 0;
  counters_.framing_errors += framing ? 1 : 0;
  counters_.parity_errors += parity ? 1 : 0;
}

// ------------------------------------------------------------------ SerialFamily

SerialFamily::SerialFamily(hostkit::Runtime& runtime, std::filesystem::path run_dir)
    : runtime_(runtime), run_dir_(std::move(run_dir)) {
  runtime_.set_serial_observer(this);
}

SerialFamily::~SerialFamily() {
  runtime_.queue().sync([this] { clients_.clear(); });
  runtime_.set_serial_observer(nullptr);
}

void SerialFamily::serial_registered(IOUserSerial* service) {
  OSDictionary* properties = nullptr;
  service->CopyProperties(&properties);
  auto text = [properties](const char* key) -> std::string {
    auto* value =
        properties != nullptr ? OSDynamicCast(OSString, properties->getObject(key)) : nullptr;
    return value != nullptr ? value->getCStringNoCopy() : "";
  };
  std::string base = text(kIOTTYBaseNameKey);
  std::string suffix = text(kIOTTYSuffixKey);
  OSSafeReleaseNULL(properties);
  ++next_unit_;
  // IOSerialBSDClient: a suffix already in use is replaced by the unit number
  // (docs/driverkit-reference.md §3.3).
  for (const auto& client : clients_) {
    if (client->info().name == base + suffix) {
      suffix = std::to_string(next_unit_);
      break;
    }
  }
  auto client = std::make_unique<BsdClient>(runtime_, service, base + suffix, run_dir_);
  std::string error;
  if (!client->publish(error)) {
    os_log(OS_LOG_DEFAULT, "tty %{public}s%{public}s: not published: %{public}s", base.c_str(),
           suffix.c_str(), error.c_str());
    return;
  }
  clients_.push_back(std::move(client));
}

void SerialFamily::serial_terminating(IOUserSerial* service) {
  std::erase_if(clients_, [service](const auto& client) { return client->service() == service; });
}

std::vector<PortInfo> SerialFamily::ports() {
  std::vector<PortInfo> ports;
  runtime_.queue().sync([&] {
    for (const auto& client : clients_) {
      ports.push_back(client->info());
    }
  });
  return ports;
}

}  // namespace tty
