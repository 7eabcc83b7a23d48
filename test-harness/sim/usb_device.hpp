// SimDevice: the USB side of a simulated chip, behind hostkit's UsbDeviceBackend.
//
// The base class owns the endpoint queues, endpoint 0's standard requests
// (USB 2.0 §9.4), descriptors and fault injection; a chip subclass answers its
// vendor/class requests and moves bytes between its endpoints and its UARTs.
//
// USB semantics modelled (USB 2.0 §5.8.3, §8.5): an IN transfer completes when
// the device sends a short packet (including a zero-length one) or when the
// buffer is full; a packet larger than the space left is babble
// (kIOReturnOverrun): the packet is lost, and the transfer ends with the bytes
// it held before it. An OUT transfer is consumed packet by packet
// (wMaxPacketSize each) as the device accepts them; while it cannot, the host
// sees NAKs and the transfer simply stays pending. An IN transfer of a device
// that has nothing to send stays pending too (NAK): it never completes empty.
// Transfers on one endpoint complete in submission order.
//
// Paced mode models the bus (BusTiming below): time is cut into frames (1 ms at
// full speed, 125 us microframes at high speed), each with room for a fixed
// number of byte times. A bulk or interrupt packet takes its payload plus the
// transaction's protocol overhead; a packet that does not fit waits for the
// next frame, so a full-speed device moves at most 19 x 64-byte packets per
// frame (1.216 MB/s, both directions together) and a high-speed one 13 x 512
// (53.248 MB/s). Bulk endpoints that want more than the bus has share it:
// while another bulk endpoint with a transfer queued found no room in this
// frame or the last, an endpoint starts a packet only while it has taken less
// than an even share of the frame's time, as a host controller serves the
// queue heads of its asynchronous schedule in turn, a transaction each per
// visit (EHCI 1.0 §4.8, park mode off). On a saturated bus a loopback's IN and
// OUT so get a half each, not whatever the first to ask leaves. NAKed polls
// take no room (our choice: a host controller polls a NAKing endpoint with the
// time that is left). A transfer that completes with success is reported to
// the host at the end of the (micro)frame in which its last packet moved, as
// host controllers report at frame boundaries; an error (stall, abort, unplug)
// is reported at once, after every completion queued before it. Unpaced mode
// has no frames: packets move as fast as the simulator runs and completions
// are reported at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hostkit/ioreturn.hpp"
#include "hostkit/usb_backend.hpp"
#include "sim/bus.hpp"
#include "sim/port.hpp"

namespace sim {

using hostkit::IOReturnValue;
using hostkit::UsbCompletion;
using hostkit::UsbSetup;
using hostkit::UsbSpeed;

// The bus time a paced device's transactions take (USB 2.0 §5.8.4, bulk
// transaction limits): a frame has room for `frame_bytes` byte times, a
// transaction takes its payload plus `overhead` (tokens, handshake, CRCs, sync,
// inter-packet gaps). 12 Mb/s x 1 ms = 1500 byte times per full-speed frame and
// 13 bytes of overhead: 19 x (64 + 13) = 1463 fit, 20 do not. 480 Mb/s x 125 us
// = 7500 per high-speed microframe and 55 bytes of overhead: 13 x (512 + 55) =
// 7371 fit, 14 do not.
struct BusTiming {
  SimDuration frame;
  uint32_t frame_bytes;
  uint32_t overhead;
  uint16_t bulk_max_packet;
  // The most bulk payload one (micro)frame carries: 19 x 64 or 13 x 512 bytes.
  uint32_t bulk_bytes_per_frame() const {
    return (frame_bytes / (bulk_max_packet + overhead)) * bulk_max_packet;
  }
  // That as bytes per second: 1,216,000 (full speed) or 53,248,000 (high speed).
  double bulk_bytes_per_second() const {
    return bulk_bytes_per_frame() * 1e9 / static_cast<double>(frame.count());
  }
};
inline constexpr BusTiming kFullSpeedTiming{std::chrono::milliseconds(1), 1500, 13, 64};
inline constexpr BusTiming kHighSpeedTiming{std::chrono::microseconds(125), 7500, 55, 512};
inline const BusTiming& bus_timing(UsbSpeed speed) {
  return speed == UsbSpeed::high ? kHighSpeedTiming : kFullSpeedTiming;
}

struct SimOptions {
  // UART timing at the programmed rate and the bus's frames (else: unpaced, lossless, as fast
  // as the simulator runs).
  bool paced = false;
  std::string serial = "";           // iSerialNumber string; empty -> iSerialNumber = 0 (no string)
  std::optional<uint16_t> vid, pid;  // override the default IDs
  bool full_speed_port = false;      // an H part on a full-speed port: 64-byte bulk packets
  uint8_t cdc_interrupt_max_packet = 16;  // CDC notification endpoint; 8 splits SERIAL_STATE
};

// USB 2.0 Table 9-13 bmAttributes transfer types.
inline constexpr uint8_t kEndpointBulk = 0x02;
inline constexpr uint8_t kEndpointInterrupt = 0x03;

class SimDevice;

// One non-control endpoint and its queue of host transfers (bus thread only).
class Endpoint {
 public:
  Endpoint(SimDevice& device, uint8_t address, uint8_t type, uint16_t max_packet);

  uint8_t address() const { return address_; }
  bool is_in() const { return (address_ & 0x80) != 0; }
  uint8_t type() const { return type_; }
  uint16_t max_packet() const { return max_packet_; }
  bool halted() const { return halted_; }

  // IN: a transfer is waiting for data and the bus has room for a packet in
  // this frame (paced; when it has none, the endpoint is looked at again at
  // the next frame).
  bool in_waiting() const;
  size_t in_filled() const { return queue_.empty() ? 0 : queue_.front().actual; }
  // Sends one packet (at most wMaxPacketSize bytes) into the head transfer.
  // False when the host did not get it: babble (the packet is lost) or no
  // transfer waiting; the caller counts what it held as lost.
  bool send_packet(std::span<const uint8_t> packet);

  // OUT: a transfer has a packet for the device and the bus has room for it in
  // this frame (as in_waiting).
  bool out_waiting() const;
  // The next packet of the head transfer (empty for a zero-length transfer).
  std::span<const uint8_t> out_packet() const;
  void consume_out_packet();

 private:
  friend class SimDevice;
  struct Transfer {
    std::span<uint8_t> buffer;
    UsbCompletion done;
    size_t actual = 0;
  };
  void complete_head(IOReturnValue status);
  void fail_all(IOReturnValue status);

  // Sends injected packets into waiting transfers, oldest first.
  void send_injected();
  // A packet went through: counts it towards a stall_after() halt.
  void count_packet();

  SimDevice& device_;
  uint8_t address_;
  uint8_t type_;
  uint16_t max_packet_;
  bool halted_ = false;
  bool babble_ = false;           // the next transfer fails with kIOReturnOverrun
  bool babble_packet_ = false;    // a packet the chip sends babbles: the next one after
  uint32_t babble_skip_ = 0;      // this many
  uint32_t stall_every_ = 0;      // stall_after(): packets between halts
  uint32_t stall_countdown_ = 0;  // packets until the next halt
  uint32_t stalls_left_ = 0;
  mutable bool bus_waiting_ = false;    // refused for want of bus time: wake at the next frame
  mutable int64_t refused_frame_ = -2;  // the last frame in which it was refused bus time
  mutable int64_t frame_index_ = -1;    // the frame frame_time_ counts in
  mutable uint32_t frame_time_ = 0;     // byte times it took in that frame
  RingQueue<Transfer> queue_;
  std::deque<std::vector<uint8_t>> injected_;  // inject_in_packet(), not yet sent
};

class SimDevice : public hostkit::UsbDeviceBackend {
 public:
  ~SimDevice() override;

  virtual std::string_view chip() const = 0;  // "ft232r", "cdc-acm", ...
  virtual size_t port_count() const = 0;
  virtual UartPort& port(size_t index) = 0;

  // Fault injection (any thread).
  void unplug();                 // detach: pending -> kIOReturnNoDevice, handler runs
  void stall(uint8_t endpoint);  // halt until clear_halt() (endpoint 0: STALL the next request)
  // Halts `endpoint` each time it has carried `packets` more packets (IN: sent,
  // OUT: accepted), `times` times: a device that stalls in the middle of a
  // transfer, wherever the data stream is when the test looks.
  void stall_after(uint8_t endpoint, uint32_t packets, uint32_t times = 1);
  void inject_babble(uint8_t endpoint);  // next IN transfer completes with kIOReturnOverrun
  // The packet the chip sends on IN `endpoint` after `after_packets` more is
  // longer than wMaxPacketSize (a babbling device): the host loses it, and the
  // transfer it was going into ends with kIOReturnOverrun and the bytes before
  // it. The chip counts the packet's payload in PortCounters::usb_in_lost_bytes.
  void inject_babbling_packet(uint8_t endpoint, uint32_t after_packets = 0);
  // `raw` (at most wMaxPacketSize bytes; empty: a zero-length packet) goes out
  // on IN `endpoint` ahead of the chip's own data, into the next transfer
  // waiting there. false for an endpoint that is not IN or a packet too long.
  bool inject_in_packet(uint8_t endpoint, std::vector<uint8_t> raw);
  void inject_interrupt(std::vector<uint8_t> raw);  // raw bytes on the notification endpoint (CDC)
  void override_descriptors(std::optional<std::vector<uint8_t>> device,
                            std::optional<std::vector<uint8_t>> configuration);

  // Sees every packet that moves on a bulk or interrupt endpoint: an IN packet
  // as the device sends it, an OUT packet as the device takes it. Runs on the
  // bus thread; set it (any thread) before traffic starts. For measurements.
  using PacketObserver = std::function<void(uint8_t endpoint, size_t bytes, SimTime at)>;
  void set_packet_observer(PacketObserver observer);
  // Bulk and interrupt transfers completed so far, any status (any thread).
  uint64_t transfers_completed() const {
    return transfers_completed_.load(std::memory_order_relaxed);
  }
  // The bus time this device's transactions take (paced mode).
  const BusTiming& timing() const { return bus_timing(speed_); }

  bool detached() const { return detached_.load(); }
  Bus& bus() const { return bus_; }
  const SimOptions& options() const { return options_; }

  // hostkit::UsbDeviceBackend
  std::vector<uint8_t> device_descriptor() override;
  std::vector<uint8_t> configuration_descriptor() override;
  std::vector<uint8_t> string_descriptor(uint8_t index) override;
  UsbSpeed speed() const override { return speed_; }
  IOReturnValue control(const UsbSetup& setup, std::span<uint8_t> data, uint16_t& actual) override;
  IOReturnValue submit(uint8_t endpoint, std::span<uint8_t> buffer, UsbCompletion done) override;
  void abort(uint8_t endpoint) override;
  IOReturnValue clear_halt(uint8_t endpoint) override;
  void set_detach_handler(std::function<void()> handler) override;

 protected:
  SimDevice(Bus& bus, SimOptions options, UsbSpeed speed);

  // Set up by the subclass constructor (before the device is shared).
  void set_descriptors(std::vector<uint8_t> device, std::vector<uint8_t> configuration,
                       std::vector<std::string> strings);  // strings[i] is index i + 1
  Endpoint& add_endpoint(uint8_t address, uint8_t type, uint16_t max_packet);
  Endpoint* endpoint(uint8_t address);

  // Bus thread hooks.
  // A vendor or class request on endpoint 0 (standard ones are handled here).
  virtual IOReturnValue device_request(const UsbSetup& setup, std::span<uint8_t> data,
                                       uint16_t& actual) = 0;
  // A transfer was queued on `ep`, or its halt was cleared.
  virtual void endpoint_activity(Endpoint& ep) = 0;
  // inject_interrupt(); chips without a notification endpoint ignore it.
  virtual void interrupt_injected(std::vector<uint8_t> raw);
  // Destroys the chip's ports and timers; called once, on the bus thread, by shutdown().
  virtual void teardown() = 0;

  // The subclass destructor calls this first: fails every transfer with
  // kIOReturnNoDevice and runs teardown() on the bus thread.
  void shutdown();

 private:
  friend class Endpoint;
  IOReturnValue standard_request(const UsbSetup& setup, std::span<uint8_t> data, uint16_t& actual);
  struct Completion {
    UsbCompletion done;
    IOReturnValue status = 0;
    uint32_t actual = 0;
    int64_t ready_at = 0;  // bus time (ns) at which the host learns of it
  };
  void post_completion(UsbCompletion done, IOReturnValue status, uint32_t actual);
  void run_completions();
  void fail_everything(IOReturnValue status);
  IOReturnValue do_clear_halt(uint8_t endpoint);
  // Paced bus model: room for a transaction of `bytes` in the current frame;
  // take() charges one.
  bool bus_room(const Endpoint& ep, size_t bytes) const;
  bool within_bulk_share(const Endpoint& ep) const;
  void start_frame_count(const Endpoint& ep) const;  // ep's frame_time_ counts this frame
  void bus_take(const Endpoint& ep, size_t bytes);
  void roll_frame() const;    // starts a fresh budget when a new frame has begun
  int64_t frame_end() const;  // end of the current frame (ns)
  void arm_frame_timer(int64_t at) const;
  void frame_tick();

  Bus& bus_;
  SimOptions options_;
  UsbSpeed speed_;
  std::atomic<bool> detached_{false};
  bool shut_down_ = false;
  std::function<void()> detach_handler_;
  bool detach_handler_ran_ = false;
  bool stall_next_control_ = false;
  uint8_t configuration_ = 0;

  mutable std::mutex desc_mu_;
  std::vector<uint8_t> device_desc_;
  std::vector<uint8_t> config_desc_;
  std::optional<std::vector<uint8_t>> device_override_;
  std::optional<std::vector<uint8_t>> config_override_;
  std::vector<std::string> strings_;

  std::vector<std::unique_ptr<Endpoint>> endpoints_;

  // Completions on their way to the host, in order (bus thread).
  RingQueue<Completion> completions_;
  Bus::Task completion_task_;
  PacketObserver packet_observer_;
  std::atomic<uint64_t> transfers_completed_{0};
  // Paced bus model (bus thread).
  mutable int64_t frame_index_ = -1;
  mutable uint32_t frame_used_ = 0;
  mutable Bus::TimerId frame_timer_ = 0;
  mutable int64_t frame_timer_at_ = 0;
};

// Descriptor builders (USB 2.0 §9.6).
namespace usbdesc {

std::vector<uint8_t> device(uint16_t bcd_usb, uint8_t device_class, uint8_t subclass,
                            uint8_t protocol, uint8_t max_packet0, uint16_t vid, uint16_t pid,
                            uint16_t bcd_device, uint8_t i_manufacturer, uint8_t i_product,
                            uint8_t i_serial);

class ConfigBuilder {
 public:
  ConfigBuilder(uint8_t attributes, uint8_t max_power_2ma);
  ConfigBuilder& interface(uint8_t number, uint8_t num_endpoints, uint8_t cls, uint8_t subclass,
                           uint8_t protocol, uint8_t i_interface);
  ConfigBuilder& endpoint(uint8_t address, uint8_t attributes, uint16_t max_packet,
                          uint8_t interval);
  ConfigBuilder& raw(std::initializer_list<uint8_t> bytes);
  // Fills in wTotalLength and bNumInterfaces.
  std::vector<uint8_t> finish() const;

 private:
  std::vector<uint8_t> bytes_;
  uint8_t interfaces_ = 0;
};

// A string descriptor from ASCII/Latin-1 text (UTF-16LE), at most 126 characters.
std::vector<uint8_t> string(std::string_view text);

}  // namespace usbdesc

}  // namespace sim
