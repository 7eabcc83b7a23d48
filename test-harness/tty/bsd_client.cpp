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

#include <sys/stat.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

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
// RX bytes the tty side lets gather in the ring (while more keep coming) before
// it writes them to the client in one go.
constexpr uint32_t kRxBatchBytes = 8192;
// TX ring space the tty side waits for before it reads the client again.
constexpr uint32_t kTxReadBatchBytes = 4096;

// While a close or a drain waits for the TX path, it is looked at this often.
constexpr auto kTickInterval = std::chrono::milliseconds(2);

// The O_PATH descriptor the links lead to gets a high number: a /proc/<pid>/fd/<n>
// link of a dead bridge whose pid was reused then most likely leads nowhere.
constexpr int kLinkFdFloor = 900;

// Closes `fd` through the asio watch that owns it, if there is one; both are gone after.
void close_watched(std::unique_ptr<boost::asio::posix::stream_descriptor>& watch, int& fd) {
  if (watch) {
    watch->close();
    watch.reset();
  } else if (fd >= 0) {
    ::close(fd);
  }
  fd = -1;
}

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

// Opens our own pty's slave with the system call itself: a bridge started under
// usbserial-run must not have the client shim take its own port for a client's
// (the shim would ask this very thread and wait for ever).
int open_own_slave(const char* path, int flags) {
  return static_cast<int>(::syscall(SYS_openat, AT_FDCWD, path, flags));
}

char parity_letter(uint8_t parity) {
  switch (parity) {
    case pd::kParityOdd:
      return 'O';
    case pd::kParityEven:
      return 'E';
    case pd::kParityMark:
      return 'M';
    case pd::kParitySpace:
      return 'S';
    default:
      return 'N';
  }
}

// "115200 Bd 7E1"
std::string describe(const LineState& line) {
  char text[64];
  std::snprintf(text, sizeof text, "%u Bd %u%c%s", line.baud, line.data_bits,
                parity_letter(line.parity),
                line.half_stop_bits == pd::kHalfStopBitsTwo ? "2" : "1");
  return text;
}

// What of `wanted` differs from `now`, in words: "7 data bits, even parity".
std::string describe_change(const LineState& wanted, const LineState& now) {
  std::string text;
  auto add = [&text](const std::string& part) { text += (text.empty() ? "" : ", ") + part; };
  static const char* const kParityNames[] = {"default", "no", "odd", "even", "mark", "space"};
  if (wanted.baud != now.baud) {
    add(std::to_string(wanted.baud) + " Bd");
  }
  if (wanted.data_bits != now.data_bits) {
    add(std::to_string(wanted.data_bits) + " data bits");
  }
  if (wanted.parity != now.parity && wanted.parity <= pd::kParitySpace) {
    add(std::string(kParityNames[wanted.parity]) + " parity");
  }
  if (wanted.half_stop_bits != now.half_stop_bits) {
    add(wanted.half_stop_bits == pd::kHalfStopBitsTwo ? "2 stop bits" : "1 stop bit");
  }
  if (wanted.flow != now.flow || wanted.xon != now.xon || wanted.xoff != now.xoff) {
    char flow[48];
    std::snprintf(flow, sizeof flow, "flow control 0x%x", wanted.flow);
    add(flow);
  }
  return text;
}

// The reason the driver gave, as the Statistics/LastError it set says.
std::string last_error_of(IOUserSerial* service, kern_return_t result) {
  OSDictionary* properties = service->hostkitCopyDriverProperties();
  std::string reason;
  if (properties != nullptr) {
    if (auto* stats = OSDynamicCast(OSDictionary, properties->getObject("Statistics"))) {
      if (auto* text = OSDynamicCast(OSString, stats->getObject("LastError"))) {
        reason = text->getCStringNoCopy();
      }
    }
    properties->release();
  }
  if (reason.empty() || reason == "ok") {
    char code[16];
    std::snprintf(code, sizeof code, "0x%x", static_cast<unsigned>(result));
    reason = code;
  }
  return reason;
}

uint64_t number_of(OSDictionary* dictionary, const char* key) {
  auto* number =
      dictionary != nullptr ? OSDynamicCast(OSNumber, dictionary->getObject(key)) : nullptr;
  return number != nullptr ? number->unsigned64BitValue() : 0;
}

// The USB identity of the port's device for its record: VID/PID from the device
// descriptor, the serial string (ASCII of its UTF-16LE) through the backend.
// The provider is the port's interface, or the device itself (a CDC-ACM
// function matched by the IOUserSerial class).
void fill_usb_identity(IOUserSerial* service, registry::PortRecord& record) {
  hostkit::UsbDevice* usb = nullptr;
  if (auto* interface = OSDynamicCast(IOUSBHostInterface, service->hostkitProvider())) {
    record.interface_number = interface->hostkitNumber();
    usb = interface->hostkitDevice().get();
  } else if (auto* whole = OSDynamicCast(IOUSBHostDevice, service->hostkitProvider())) {
    usb = whole->hostkitDevice().get();
  }
  if (usb == nullptr) {
    return;
  }
  const std::vector<uint8_t>& device = usb->device_descriptor();
  if (device.size() < 18) {
    return;
  }
  record.vendor_id = static_cast<uint16_t>(device[8] | device[9] << 8);
  record.product_id = static_cast<uint16_t>(device[10] | device[11] << 8);
  if (device[16] == 0) {
    return;
  }
  const std::vector<uint8_t> text = usb->backend().string_descriptor(device[16]);
  for (size_t i = 2; i + 1 < text.size() && i < text[0]; i += 2) {
    const uint16_t unit = static_cast<uint16_t>(text[i] | text[i + 1] << 8);
    record.serial_number += unit >= 0x20 && unit < 0x7f ? static_cast<char>(unit) : '?';
  }
}

}  // namespace

BsdClient::BsdClient(hostkit::Runtime& runtime, IOUserSerial* service, std::string name,
                     std::filesystem::path run_dir)
    : runtime_(runtime),
      service_(service),
      name_(std::move(name)),
      run_dir_(std::move(run_dir)),
      status_poll_(runtime.queue().context()),
      tick_timer_(runtime.queue().context()),
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
  tick_timer_.cancel();
  withdraw();
  service_->release();
}

void BsdClient::withdraw() {
  // Closing the master hangs up the slave: a reader blocked in read() gets EIO.
  // First, so that a client that sees its control request fail (below) finds its
  // pty hung up too.
  close_watched(master_watch_, master_);
  // Clients of the control socket see it close: their requests fail with EIO.
  drain_waiters_.clear();
  modem_waiters_.clear();
  pending_opens_.clear();
  for (const auto& connection : connections_) {
    connection->socket->close();
  }
  connections_.clear();
  if (listener_) {
    listener_->close();
    listener_.reset();
  }
  close_watched(inotify_watch_, inotify_);
  for (const auto& link : links_) {
    registry::remove_link(link, link_target_);
  }
  links_.clear();
  claim_.reset();
  if (path_fd_ >= 0) {
    ::close(path_fd_);
    path_fd_ = -1;
  }
  open_count_ = 0;
  session_ = Session::idle;
  exclusive_owner_ = 0;
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
  struct stat pts_stat {};
  const int path_fd = open_own_slave(pts, O_PATH | O_CLOEXEC);
  if (path_fd < 0 || ::fstat(path_fd, &pts_stat) != 0) {
    error = std::string("cannot open ") + pts + ": " + std::strerror(errno);
    return false;
  }
  path_fd_ = ::fcntl(path_fd, F_DUPFD_CLOEXEC, kLinkFdFloor);
  ::close(path_fd);
  if (path_fd_ < 0) {
    error = std::string("cannot keep a descriptor of ") + pts + ": " + std::strerror(errno);
    return false;
  }
  link_target_ = registry::proc_fd_path(path_fd_);
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
  // The master shows POLLHUP only once a slave has been opened and closed; one
  // open and close now (before the watch) makes POLLHUP mean "no slave open".
  if (const int slave = open_own_slave(pts, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
      slave >= 0) {
    ::close(slave);
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
  if (!listen(pts_stat.st_dev, pts_stat.st_rdev, error)) {
    return false;
  }

  // The record first (it says the name is taken and by whom), then the links.
  claim_ = registry::Claim::take(run_dir_, name_, error);
  if (!claim_) {
    return false;
  }
  registry::PortRecord record;
  record.name = name_;
  record.callout = (run_dir_ / ("cu." + name_)).string();
  record.dialin = (run_dir_ / ("tty." + name_)).string();
  record.pts = pts_path_;
  record.bridge_pid = ::getpid();
  OSDictionary* properties = service_->hostkitCopyDriverProperties();
  if (properties != nullptr) {
    if (auto* chip = OSDynamicCast(OSString, properties->getObject("USBSerialBridgeChip"))) {
      record.chip = chip->getCStringNoCopy();
    }
    properties->release();
  }
  fill_usb_identity(service_, record);
  std::vector<std::filesystem::path> wanted = {record.callout, record.dialin};
  if (options_.dev_names) {
    wanted.push_back("/dev/cu." + name_);
    wanted.push_back("/dev/tty." + name_);
  }
  for (const auto& link : wanted) {
    if (!registry::make_link(link, link_target_, error)) {
      return false;
    }
    links_.push_back(link);
    record.links.push_back(link.string());
  }
  if (!claim_->write(record, error)) {
    return false;
  }
  ++counters_.publications;
  hanging_up_ = false;
  watch_opens();
  accept_next();
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
  port.dtr = dtr_;
  port.rts = rts_;
  port.output_held = output_held_;
  port.last_refusal = last_refusal_;
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
  // Every open of the slave gives an IN_OPEN and every last close of an open
  // file an IN_CLOSE, in order: counting them tells where a session ends even
  // when a client closes and opens again before we look. But inotify merges an
  // event into an identical one still unread before it (two opens in a row count
  // as one), so the master's POLLHUP, which says whether any slave descriptor
  // is open, has the last word.
  alignas(inotify_event) char events[4096];
  bool any = false;
  for (;;) {
    const ssize_t n = ::read(inotify_, events, sizeof events);
    if (n <= 0) {
      break;
    }
    any = true;
    for (ssize_t offset = 0; offset < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(events + offset);
      offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      if ((event->mask & IN_OPEN) != 0 && ++open_count_ == 1 && session_ == Session::idle) {
        activate();
      }
      if ((event->mask & (IN_CLOSE_WRITE | IN_CLOSE_NOWRITE)) != 0 && open_count_ > 0 &&
          --open_count_ == 0 && session_ == Session::active) {
        start_closing();
      }
    }
  }
  // With no event since the last look an active session's slave cannot have
  // closed (every last close gives an IN_CLOSE), and polling the master costs a
  // wait for the pty's buffer worker while the client writes.
  if (any || session_ != Session::active) {
    resync_opens();
  }
}

bool BsdClient::slave_closed() const {
  pollfd p{master_, POLLIN, 0};
  return ::poll(&p, 1, 0) >= 0 && (p.revents & POLLHUP) != 0;
}

void BsdClient::resync_opens() {
  if (slave_closed()) {
    open_count_ = 0;
    if (session_ == Session::active) {
      start_closing();
    }
  } else {
    open_count_ = std::max(open_count_, 1);
    if (session_ == Session::idle) {
      activate();
    }
  }
}

void BsdClient::activate() {
  if (hanging_up_) {
    return;  // this pty's open was refused; its clients are hung up, not retried
  }
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
    answer_pending_opens(EIO);
    hanging_up_ = true;
    hang_up_refused_open();
    return;
  }
  active_ = true;
  session_ = Session::active;
  session_fresh_ = true;
  dtr_ = rts_ = true;
  output_held_ = false;
  output_dropped_ = false;
  session_ring_in_ = session_ring_cleared_ = 0;
  service_->HwResetFIFO(true, false);
  service_->HwResetFIFO(false, true);
  bool cts = false, dsr = false, ri = false, dcd = false;
  if (service_->HwGetModemStatus(&cts, &dsr, &ri, &dcd) == kIOReturnSuccess) {
    modem_status_changed(cts, dsr, ri, dcd);
  }
  // The chip first gets the line in force (the power-on line, or what the last
  // session left), then the client's termios is applied as an ordinary change.
  apply_line(line_);
  apply_termios(true);
  flush_slave_input();
  // A bulk-IN read started by HwActivate may complete with what the chip had
  // received before the session (while the port was closed); its completion is
  // queued behind this call, so this runs after it and drops that data too.
  boost::asio::post(runtime_.queue().context(), [this, alive = alive_] {
    if (!*alive) {
      return;
    }
    if (active_ && rings_.mapped()) {
      rings_.rx().clear();
      if (auto* usb = OSDynamicCast(IOUserUSBSerial, service_)) {
        usb->hostkitDiscardRx();
      }
    }
    answer_pending_opens(active_ ? 0 : EIO);
    arm_read();
  });
}

void BsdClient::deactivate() {
  active_ = false;
  status_poll_.cancel();
  status_poll_armed_ = false;
  termios2 t{};
  if (::ioctl(master_, TCGETS2, &t) == 0 && (t.c_cflag & HUPCL) != 0 &&
      service_->HwProgramMCR(false, false) == kIOReturnSuccess) {
    dtr_ = rts_ = false;
  }
  service_->HwDeactivate();
  service_->DisconnectQueues();
  rings_.unmap();
  writing_ = false;
  rx_pending_ = false;
  output_held_ = false;
}

void BsdClient::start_closing() {
  // As a tty's last close: what the client wrote still goes out, for at most
  // the closing wait; what the device sends from now on is nobody's.
  session_ = Session::closing;
  closing_deadline_ = std::chrono::steady_clock::now() + options_.closing_wait;
  flush_input();
  if (!ticking_) {
    ticking_ = true;
    boost::asio::post(runtime_.queue().context(), [this, alive = alive_] {
      if (*alive) {
        tick();
      }
    });
  }
}

void BsdClient::finish_closing() {
  output_dropped_ = false;
  deactivate();
  session_ = Session::idle;
  exclusive_owner_ = 0;
  flush_slave_input();  // then whoever opened meanwhile starts the next session
}

void BsdClient::flush_slave_input() {
  // What the last session left unread in the slave would be the next one's
  // first bytes: a pty keeps its input across closes. This runs when a session
  // ends and, in case a client opened again before we could, when one starts
  // (then a client that reads at once may be quicker; the shim flushes before
  // its open returns). The slave is ours (its master is open here), so opening
  // it by its /dev/pts path is safe.
  const int slave = open_own_slave(pts_path_.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (slave < 0) {
    return;
  }
  int unread = 0;
  if (::ioctl(slave, FIONREAD, &unread) == 0 && unread > 0) {
    ::ioctl(slave, TCFLSH, TCIFLUSH);
    // That left a TIOCPKT_FLUSHREAD for the master; it concerns nobody.
    pollfd pending{master_, POLLPRI, 0};
    uint8_t status = 0;
    if (::poll(&pending, 1, 0) == 1 && (pending.revents & POLLPRI) != 0) {
      (void)::read(master_, &status, 1);
    }
  }
  ::close(slave);
  // Our own open and close are no session: their events are dropped, and with
  // them perhaps a client's; resync_opens() looks at the master afterwards.
  alignas(inotify_event) char events[4096];
  while (::read(inotify_, events, sizeof events) > 0) {
  }
  boost::asio::post(runtime_.queue().context(), [this, alive = alive_] {
    if (*alive) {
      resync_opens();
    }
  });
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

void BsdClient::apply_termios(bool force) {
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
  const LineState seen = line_from(t);
  // Only what changed in the slave since we last looked is a request: a change
  // the shim made (and the driver accepted) before this one reached the slave
  // must not be undone by an older termios.
  if (force || !(seen == pty_seen_)) {
    pty_seen_ = seen;
    // A pty holds CS8 and no parity whatever the client asked; data bits and
    // parity stay as programmed (through the shim).
    LineState wanted = seen;
    wanted.data_bits = line_.data_bits;
    wanted.parity = line_.parity;
    std::string refusal;
    if (!(wanted == line_) && !program(wanted, refusal)) {
      put_back = true;
    }
  }
  if (put_back) {
    restore(t, line_);
    ::ioctl(master_, TCSETS2, &t);
    pty_seen_ = line_from(t);
  }
}

bool BsdClient::program(const LineState& wanted, std::string& refusal) {
  const LineState before = line_;
  kern_return_t result = kIOReturnSuccess;
  if (!same_uart(wanted, line_)) {
    ++counters_.termios_changes;
    const bool speed_only = wanted.data_bits == line_.data_bits &&
                            wanted.half_stop_bits == line_.half_stop_bits &&
                            wanted.parity == line_.parity;
    result = speed_only ? service_->HwProgramBaudRate(wanted.baud)
                        : service_->HwProgramUART(wanted.baud, wanted.data_bits,
                                                  wanted.half_stop_bits, wanted.parity);
    if (result == kIOReturnSuccess) {
      line_.baud = wanted.baud;
      line_.data_bits = wanted.data_bits;
      line_.half_stop_bits = wanted.half_stop_bits;
      line_.parity = wanted.parity;
    }
  }
  if (result == kIOReturnSuccess && !same_flow(wanted, line_)) {
    result = service_->HwProgramFlowControl(wanted.flow, wanted.xon, wanted.xoff);
    if (result == kIOReturnSuccess) {
      line_.flow = wanted.flow;
      line_.xon = wanted.xon;
      line_.xoff = wanted.xoff;
      if ((line_.flow & pd::kFlowTxo) == 0) {
        set_output_held(false);
      }
    } else if (!same_uart(before, line_)) {
      // All or nothing: the rate and framing accepted a moment ago go back.
      service_->HwProgramUART(before.baud, before.data_bits, before.half_stop_bits, before.parity);
      line_ = before;
    }
  }
  if (result == kIOReturnSuccess) {
    return true;
  }
  ++counters_.refused_changes;
  refusal = describe_change(wanted, before) + " refused by the driver (" +
            last_error_of(service_, result) + "); the line stays " + describe(line_);
  last_refusal_ = refusal;
  os_log(OS_LOG_DEFAULT, "tty %{public}s: %{public}s", name_.c_str(), refusal.c_str());
  return false;
}

void BsdClient::arm_read() {
  // Not while closing: the master of a closed slave is always readable (POLLHUP);
  // the tick reads what is left.
  if (reading_ || session_ != Session::active) {
    return;
  }
  reading_ = true;
  master_watch_->async_wait(
      boost::asio::posix::stream_descriptor::wait_read,
      hostkit::with_memory(read_wait_memory_,
                           [this, alive = alive_](const boost::system::error_code& ec) {
                             if (!*alive) {
                               return;
                             }
                             reading_ = false;
                             if (!ec) {
                               on_readable();
                             }
                           }));
}

void BsdClient::poll_status_later() {
  if (status_poll_armed_) {
    return;  // one poll at a time: re-arming per TX completion would cost a timer syscall each
  }
  status_poll_armed_ = true;
  status_poll_.expires_after(kStatusPollInterval);
  status_poll_.async_wait(hostkit::with_memory(
      status_poll_memory_, [this, alive = alive_](const boost::system::error_code& ec) {
        if (!*alive || ec) {
          return;
        }
        status_poll_armed_ = false;
        if (!active_) {
          return;
        }
        take_pending_status();
        on_readable();
      }));
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
  on_open_events();  // what is read now belongs to the session in force
  if (!active_) {
    return;
  }
  if (!rings_.mapped()) {
    return;
  }
  if (output_held_ || rings_.tx().free_space() == 0) {
    // Held by XOFF, or the driver frees space and calls tx_free_space_available;
    // termios changes and flushes are still taken meanwhile.
    poll_status_later();
    return;
  }
  if (!pull_from_master(false) && rings_.tx().free_space() == 0) {
    poll_status_later();
    return;
  }
  arm_read_later();
}

void BsdClient::arm_read_later() {
  // Arming polls the master, and a poll that finds no input waits for the pty's
  // buffer worker still moving the client's next bytes. Posted, the arming comes
  // after the driver and the simulator have taken what was just read, by when
  // the worker is done: the wait becomes work done meanwhile.
  if (read_arm_posted_) {
    return;
  }
  read_arm_posted_ = true;
  runtime_.queue().post(hostkit::with_memory(read_arm_memory_, [this, alive = alive_] {
    if (!*alive) {
      return;
    }
    read_arm_posted_ = false;
    arm_read();
  }));
}

bool BsdClient::pull_from_master(bool to_empty) {
  if (!active_ || !rings_.mapped()) {
    return true;
  }
  for (;;) {
    if (output_held_) {
      take_pending_status();
      int waiting = 0;
      return ::ioctl(master_, FIONREAD, &waiting) == 0 && waiting == 0;
    }
    const size_t room = std::min<size_t>(rings_.tx().free_space(), kReadChunk);
    if (room == 0) {
      return false;
    }
    const ssize_t n = ::read(master_, buffer_.data(), room + 1);
    if (n <= 0) {
      // EAGAIN: nothing more now; EIO: the slave is closed and everything is read.
      if (n < 0 && errno == EIO) {
        // The slave closed after on_open_events looked: its IN_CLOSE is still
        // unread, and the master, readable from now on, is looked at here.
        resync_opens();
        return true;
      }
      return n == 0 || errno == EAGAIN;
    }
    if (buffer_[0] != kPacketData) {
      handle_packet_status(buffer_[0]);
      if (!active_) {
        return true;
      }
      continue;
    }
    const auto bytes = static_cast<uint32_t>(n - 1);
    if (bytes > 0) {
      rings_.tx().write({buffer_.data() + 1, bytes});
      counters_.bytes_to_device += bytes;
      session_ring_in_ += bytes;
      service_->TxDataAvailable();
    }
    // A read shorter than asked took all the line discipline held. On a pty an
    // empty non-blocking read first waits for the kernel's buffer worker, a
    // sleep and a wake-up per read; the next readiness says when more is there.
    if (!to_empty && static_cast<size_t>(n) <= room) {
      return true;
    }
  }
}

void BsdClient::handle_packet_status(uint8_t status) {
  if ((status & kPacketFlushRead) != 0) {
    flush_input();  // tcflush(TCIFLUSH)
  }
  if ((status & kPacketFlushWrite) != 0) {
    flush_output();  // tcflush(TCOFLUSH)
  }
  if ((status & kPacketIoctl) != 0) {
    apply_termios(false);
  }
}

void BsdClient::flush_input() {
  // Drop what the device sent and the client has not read, wherever it waits.
  if (!rings_.mapped()) {
    return;
  }
  ++counters_.flushes;
  counters_.bytes_to_client_at_input_flush = counters_.bytes_to_client;
  rings_.rx().clear();
  if (auto* usb = OSDynamicCast(IOUserUSBSerial, service_)) {
    usb->hostkitDiscardRx();
  }
  service_->HwResetFIFO(false, true);
  service_->RxFreeSpaceAvailable();
}

void BsdClient::flush_output() {
  // Drop what the client wrote and the device has not sent. The TX ring's
  // consumer index is the driver's, so the driver empties it [U]:
  // IOUserUSBSerial's framework here, an IOUserSerial dext in HwResetFIFO(tx).
  if (!rings_.mapped()) {
    return;
  }
  ++counters_.flushes;
  const uint32_t in_ring = rings_.tx().size();
  if (auto* usb = OSDynamicCast(IOUserUSBSerial, service_)) {
    usb->hostkitDiscardTx();
  }
  service_->HwResetFIFO(true, false);
  const uint32_t left = rings_.tx().size();
  session_ring_cleared_ += in_ring > left ? in_ring - left : 0;
}

void BsdClient::drop_unsent_output() {
  ++counters_.closing_discards;
  os_log(OS_LOG_DEFAULT, "tty %{public}s: closing wait over; %u unsent bytes dropped",
         name_.c_str(), tx_pending());
  flush_output();
  output_dropped_ = true;
}

void BsdClient::set_output_held(bool held) {
  if (held == output_held_) {
    return;
  }
  output_held_ = held;
  if (!held && active_) {
    // Posted: this runs inside write_rx and apply_termios, which must not see
    // the master read (and a flush it may carry) under their feet.
    status_poll_.cancel();
    status_poll_armed_ = false;
    boost::asio::post(runtime_.queue().context(), [this, alive = alive_] {
      if (*alive) {
        on_readable();
      }
    });
  }
}

uint32_t BsdClient::tx_pending() {
  // Bytes taken from the ring and not yet confirmed sent (or dropped) by the
  // data path; the ring's own content on top. A driver that runs its own data
  // path (IOUserSerial) is seen as the kernel sees it: by its ring alone, which
  // such a driver keeps until the bytes are sent (docs/driverkit-assumptions.md item 43).
  if (!rings_.mapped()) {
    return 0;
  }
  const uint64_t in_ring = rings_.tx().size();
  uint64_t taken = session_ring_in_ - session_ring_cleared_;
  taken = taken > in_ring ? taken - in_ring : 0;
  uint64_t done = taken;
  if (auto* usb = OSDynamicCast(IOUserUSBSerial, service_)) {
    OSDictionary* stats = usb->hostkitCopyDataPathStatistics();
    done = number_of(stats, "TxBytes") + number_of(stats, "TxDiscardedBytes");
    OSSafeReleaseNULL(stats);
  }
  return static_cast<uint32_t>(in_ring + (taken > done ? taken - done : 0));
}

bool BsdClient::tx_path_empty() {
  return tx_pending() == 0;
}

void BsdClient::wait_for_drain(std::chrono::steady_clock::time_point deadline,
                               std::function<void(bool)> done) {
  if (!active_) {
    done(false);  // nothing is sent while the port is closed
    return;
  }
  drain_waiters_.push_back({deadline, std::move(done)});
  if (!ticking_) {
    ticking_ = true;
    boost::asio::post(runtime_.queue().context(), [this, alive = alive_] {
      if (*alive) {
        tick();
      }
    });
  }
}

void BsdClient::tick() {
  ticking_ = false;
  const bool empty = !active_ || (pull_from_master() && tx_path_empty());
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::pair<std::function<void(bool)>, bool>> finished;
  std::erase_if(drain_waiters_, [&](DrainWaiter& waiter) {
    if (!empty && now < waiter.deadline) {
      return false;
    }
    finished.emplace_back(std::move(waiter.done), !empty);
    return true;
  });
  for (auto& [done, timed_out] : finished) {
    done(timed_out);
  }
  if (session_ == Session::closing && (empty || output_dropped_ || now >= closing_deadline_)) {
    if (!empty && !output_dropped_) {
      drop_unsent_output();
    }
    // After a drop the session ends at once: deactivating aborts the transfer
    // in flight, which would otherwise go on feeding the chip.
    finish_closing();
  }
  if ((session_ == Session::closing || !drain_waiters_.empty()) && !ticking_) {
    ticking_ = true;
    tick_timer_.expires_after(kTickInterval);
    tick_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
      if (*alive && !ec) {
        tick();
      }
    });
  }
}

void BsdClient::rx_data_available() {
  // Posted, so the driver's call returns before we call back into it.
  if (rx_pending_) {
    return;
  }
  rx_pending_ = true;
  post_write_rx();
}

void BsdClient::post_write_rx() {
  runtime_.queue().post(hostkit::with_memory(write_rx_memory_, [this, alive = alive_] {
    if (!*alive) {
      return;
    }
    // While the driver keeps filling the ring (completions queued behind this
    // turn), let them go first, up to a batch: one write to the client then
    // carries what several transfers brought, as a tty's flip buffer does. Two
    // turns in a row without growth end the wait (the driver's next completions
    // may sit one turn behind the simulator's).
    const uint32_t level = rings_.mapped() ? rings_.rx().size() : 0;
    if (level < kRxBatchBytes) {
      rx_idle_turns_ = level > rx_seen_level_ ? 0 : rx_idle_turns_ + 1;
      rx_seen_level_ = level;
      if (rx_idle_turns_ < 2) {
        post_write_rx();
        return;
      }
    }
    rx_seen_level_ = 0;
    rx_idle_turns_ = 0;
    rx_pending_ = false;
    write_rx();
  }));
}

void BsdClient::write_rx() {
  // A client that closed (and maybe opened again) since we last looked must not
  // get what arrived for the session before: session changes are taken first.
  on_open_events();
  if (!active_ || writing_ || !rings_.mapped()) {
    return;
  }
  if (session_ == Session::closing) {
    if (rings_.rx().clear() > 0) {
      service_->RxFreeSpaceAvailable();
    }
    return;
  }
  bool freed = false;
  for (;;) {
    // A client's tcflush(TCIFLUSH) empties the slave's input and so makes the
    // master writable; its FLUSHREAD status is taken before every write, or bytes
    // received before the flush would be written after it.
    if (rings_.rx().empty()) {
      break;  // a status that comes now is read with the client's next bytes
    }
    take_pending_status();
    if (!active_ || rings_.rx().empty()) {
      break;
    }
    const std::span<const uint8_t> span = rings_.rx().read_span();
    const ssize_t n = write_to_client(span);
    if (n > 0) {
      rings_.rx().commit_read(static_cast<uint32_t>(n));
      counters_.bytes_to_client += static_cast<uint64_t>(n);
      freed = true;
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      writing_ = true;
      master_watch_->async_wait(
          boost::asio::posix::stream_descriptor::wait_write,
          hostkit::with_memory(write_wait_memory_,
                               [this, alive = alive_](const boost::system::error_code& ec) {
                                 if (!*alive) {
                                   return;
                                 }
                                 writing_ = false;
                                 if (!ec) {
                                   write_rx();
                                 }
                               }));
    }
    break;
  }
  if (freed) {
    service_->RxFreeSpaceAvailable();
  }
}

ssize_t BsdClient::write_to_client(std::span<const uint8_t> bytes) {
  if ((line_.flow & pd::kFlowTxo) == 0) {
    return ::write(master_, bytes.data(), bytes.size());
  }
  // IXON: XOFF and XON are consumed here and hold or release the client's output.
  const uint8_t xon = line_.xon;
  const uint8_t xoff = line_.xoff;
  size_t done = 0;
  while (done < bytes.size()) {
    const uint8_t c = bytes[done];
    if (c == xoff || c == xon) {
      set_output_held(c == xoff);
      ++done;
      continue;
    }
    if ((line_.flow & pd::kFlowXany) != 0) {
      set_output_held(false);
    }
    size_t end = done;
    while (end < bytes.size() && bytes[end] != xon && bytes[end] != xoff) {
      ++end;
    }
    const ssize_t n = ::write(master_, bytes.data() + done, end - done);
    if (n <= 0) {
      return done > 0 ? static_cast<ssize_t>(done) : n;
    }
    done += static_cast<size_t>(n);
    if (done < end) {
      break;
    }
  }
  return static_cast<ssize_t>(done);
}

void BsdClient::tx_free_space_available() {
  if (!active_ || reading_ || !rings_.mapped()) {
    return;
  }
  // Read the client again once a good part of the ring is free (or all of it),
  // not for every few bytes the driver sends: one read then takes a block. The
  // status poll still looks at termios changes and flushes meanwhile.
  const uint32_t capacity = rings_.tx().capacity();
  const uint32_t free_space = rings_.tx().free_space();
  if (free_space >= std::min<uint32_t>(capacity / 4, kTxReadBatchBytes) || free_space == capacity) {
    on_readable();
  }
}

void BsdClient::modem_status_changed(bool cts, bool dsr, bool ri, bool dcd) {
  // TIOCGICOUNT counts every change of each input.
  icount_.cts += cts != cts_ ? 1 : 0;
  icount_.dsr += dsr != dsr_ ? 1 : 0;
  icount_.rng += ri != ri_ ? 1 : 0;
  icount_.dcd += dcd != dcd_ ? 1 : 0;
  cts_ = cts;
  dsr_ = dsr;
  ri_ = ri;
  dcd_ = dcd;
  wake_modem_waiters();
}

void BsdClient::rx_error(bool overrun, bool got_break, bool framing, bool parity) {
  counters_.overruns += overrun ? 1 : 0;
  counters_.breaks += got_break ? 1 : 0;
  counters_.framing_errors += framing ? 1 : 0;
  counters_.parity_errors += parity ? 1 : 0;
  icount_.overrun += overrun ? 1 : 0;
  icount_.brk += got_break ? 1 : 0;
  icount_.frame += framing ? 1 : 0;
  icount_.parity += parity ? 1 : 0;
}

// ------------------------------------------------------------------ SerialFamily

SerialFamily::SerialFamily(hostkit::Runtime& runtime, std::filesystem::path run_dir,
                           PortOptions options)
    : runtime_(runtime), run_dir_(std::move(run_dir)), options_(options) {
  std::string error;
  if (!registry::prepare_run_dir(run_dir_, error)) {
    throw std::runtime_error(error);
  }
  for (const std::string& name : registry::remove_stale(run_dir_)) {
    os_log(OS_LOG_DEFAULT, "tty: removed the stale port %{public}s (its bridge is gone)",
           name.c_str());
  }
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
  client->configure(options_);
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
