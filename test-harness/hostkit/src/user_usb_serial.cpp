// hostkit: IOUserUSBSerial's data path, built on transport's bulk pipeline.
#include <DriverKit/IOLib.h>
#include <USBDriverKit/USBDriverKit.h>
#include <USBSerialDriverKit/USBSerialDriverKit.h>
#include <os/log.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "hostkit/runtime.hpp"
#include "hostkit/serial_client.hpp"
#include "hostkit/usb_device.hpp"
#include "transport/bulk_pipeline.hpp"
#include "transport/descriptors.hpp"
#include "transport/device_table.hpp"
#include "transport/kern_status.hpp"

#define LOG_PREFIX "hostkit IOUserUSBSerial"

namespace hostkit {

struct Endpoints {
  transport::usb::Endpoint in;
  transport::usb::Endpoint out;
  bool has_interrupt = false;
  transport::usb::Endpoint interrupt;
};

// Chooses the pipes of a port [U: Apple's rule is unknown]: the first bulk IN,
// bulk OUT and interrupt IN of the matched interface. Nothing outside it is
// reachable: IOUSBHostInterface offers no way to another interface.
static bool choose_endpoints(const std::vector<uint8_t>& configuration, uint8_t number,
                             Endpoints& out) {
  transport::usb::Configuration config;
  if (transport::usb::parse_configuration(configuration, config) != transport::Status::ok) {
    return false;
  }
  const transport::usb::Interface* itf = config.find_interface(number);
  if (itf == nullptr) {
    return false;
  }
  using transport::usb::TransferType;
  const transport::usb::Endpoint* in = itf->find_endpoint(TransferType::bulk, true);
  const transport::usb::Endpoint* out_ep = itf->find_endpoint(TransferType::bulk, false);
  if (in == nullptr || out_ep == nullptr || in->max_packet == 0 || out_ep->max_packet == 0) {
    return false;
  }
  out.in = *in;
  out.out = *out_ep;
  const transport::usb::Endpoint* irq = itf->find_endpoint(TransferType::interrupt, true);
  out.has_interrupt = irq != nullptr && irq->max_packet != 0;
  if (out.has_interrupt) {
    out.interrupt = *irq;
  }
  return true;
}

struct UsbSerialDataPath : std::enable_shared_from_this<UsbSerialDataPath> {
  struct InIo final : transport::InPipeIo {
    UsbSerialDataPath* path = nullptr;
    bool interrupt = false;
    transport::Status submit_in(uint8_t slot, std::span<uint8_t> buffer) override {
      return path->submit_in(interrupt, slot, buffer);
    }
  };
  struct OutIo final : transport::OutPipeIo {
    UsbSerialDataPath* path = nullptr;
    transport::Status submit_out(uint8_t, std::span<const uint8_t> data) override {
      return path->submit_out(data);
    }
  };

  IOUserUSBSerial* owner = nullptr;
  IOUSBHostInterface* interface = nullptr;  // the provider; not retained
  Endpoints endpoints;
  UsbSerialTuning tuning;
  DriverQueue* queue = nullptr;

  IOUSBHostPipe* in_pipe = nullptr;
  IOUSBHostPipe* out_pipe = nullptr;
  IOUSBHostPipe* interrupt_pipe = nullptr;
  std::vector<IOBufferMemoryDescriptor*> in_buffers;
  std::vector<IOBufferMemoryDescriptor*> interrupt_buffers;
  IOBufferMemoryDescriptor* out_buffer = nullptr;
  std::vector<OSAction*> in_actions;
  std::vector<OSAction*> interrupt_actions;
  OSAction* out_action = nullptr;

  // The rings as the framework maps them at ConnectQueues (the driver's side:
  // it produces RX and consumes TX).
  hostkit::SerialRings rings;
  transport::BulkInQueue rx;
  transport::BulkInQueue interrupts;
  transport::BulkOutQueue tx;
  InIo rx_io;
  InIo interrupt_io;
  OutIo tx_io;
  bool active = false;
  uint64_t generation = 0;  // completions from an earlier activation are ignored

  UsbSerialDataPath() {
    rx_io.path = this;
    interrupt_io.path = this;
    interrupt_io.interrupt = true;
    tx_io.path = this;
  }
  ~UsbSerialDataPath() { release_resources(); }

  transport::Status submit_in(bool interrupt, uint8_t slot, std::span<uint8_t>) {
    IOUSBHostPipe* pipe = interrupt ? interrupt_pipe : in_pipe;
    IOBufferMemoryDescriptor* buffer = interrupt ? interrupt_buffers[slot] : in_buffers[slot];
    OSAction* action = interrupt ? interrupt_actions[slot] : in_actions[slot];
    const uint32_t length = static_cast<uint32_t>(buffer->hostkitLength());
    return transport::kern::to_status(pipe->AsyncIO(buffer, length, action, 0));
  }

  transport::Status submit_out(std::span<const uint8_t> data) {
    // BulkOutQueue hands out spans of out_buffer starting at its first byte.
    return transport::kern::to_status(
        out_pipe->AsyncIO(out_buffer, static_cast<uint32_t>(data.size()), out_action, 0));
  }

  // One completion action per transfer slot, made at activation and used for
  // every transfer of that slot, as a dext does (an action per transfer would
  // allocate per transfer). Completions of an earlier activation are ignored.
  OSAction* make_action(bool interrupt, bool out, uint8_t slot) {
    std::weak_ptr<UsbSerialDataPath> weak = weak_from_this();
    const uint64_t gen = generation;
    return OSAction::hostkitCreateIo(
        [weak, gen, interrupt, out, slot](IOReturn status, uint32_t actual, uint64_t) {
          auto self = weak.lock();
          if (!self || self->generation != gen) {
            return;
          }
          if (out) {
            self->tx_complete(status, actual);
          } else if (interrupt) {
            self->interrupt_complete(slot, status, actual);
          } else {
            self->rx_complete(slot, status, actual);
          }
        });
  }

  void back_off(std::function<void()> resume) {
    std::weak_ptr<UsbSerialDataPath> weak = weak_from_this();
    const uint64_t gen = generation;
    queue->post_after(std::chrono::milliseconds(transport::kBackOffMs), [weak, gen, resume] {
      if (auto self = weak.lock(); self && self->generation == gen && self->active) {
        resume();
      }
    });
  }

  // ------------------------------------------------------------------ RX
  void rx_complete(uint8_t slot, IOReturn status, uint32_t actual) {
    if (!active || owner == nullptr) {
      return;
    }
    const transport::InCompletion done =
        rx.complete(slot, transport::kern::to_status(status), actual);
    if (done.completed && status != kIOReturnSuccess && tuning.discard_failed_rx) {
      rx.drop(slot);
    } else if (done.completed) {
      // A transfer a fault cut short is handed over like any other packet.
      uint8_t* packet = done.payload.data();
      uint32_t size = static_cast<uint32_t>(done.payload.size());
      owner->handleRxPacket(packet, size);
      if (!rx.park(slot, {packet, size})) {
        // [U] Whether Apple's class accepts a packet moved outside its read
        // buffer is undocumented; hostkit cannot keep one, and says so.
        os_log(OS_LOG_DEFAULT,
               LOG_PREFIX " handleRxPacket returned %u bytes outside the read buffer; dropped",
               size);
      }
    }
    switch (done.action) {
      case transport::PipeAction::proceed:
        break;
      case transport::PipeAction::clear_stall:
        os_log(OS_LOG_DEFAULT, LOG_PREFIX " bulk IN 0x%02x stalled; clearing",
               endpoints.in.address);
        in_pipe->ClearStall(true);
        break;
      case transport::PipeAction::back_off:
        os_log(OS_LOG_DEFAULT, LOG_PREFIX " bulk IN error 0x%x; retrying in %u ms", status,
               transport::kBackOffMs);
        back_off([this] {
          rx.end_back_off();
          pump_rx();
        });
        break;
      case transport::PipeAction::stop:
        if (status != kIOReturnAborted) {
          os_log(OS_LOG_DEFAULT, LOG_PREFIX " bulk IN stopped: 0x%x", status);
        }
        break;
    }
    deliver_rx();
    pump_rx();
  }

  void deliver_rx() {
    if (!rings.mapped()) {
      return;
    }
    if (rx.drain(rings.rx()) > 0) {
      owner->RxDataAvailable();
    }
  }

  void pump_rx() {
    if (!active || !rings.mapped()) {
      return;
    }
    const transport::Status status = rx.pump(rx_io, rings.rx().free_space());
    if (status != transport::Status::ok) {
      os_log(OS_LOG_DEFAULT, LOG_PREFIX " cannot queue bulk IN: %{public}s",
             transport::to_string(status));
    }
  }

  // ------------------------------------------------------------ interrupt
  void interrupt_complete(uint8_t slot, IOReturn status, uint32_t actual) {
    if (!active || owner == nullptr) {
      return;
    }
    const transport::InCompletion done =
        interrupts.complete(slot, transport::kern::to_status(status), actual);
    if (done.completed) {
      owner->handleInterruptPacket(done.payload.data(), static_cast<uint32_t>(done.payload.size()));
      interrupts.release(slot);
    }
    const transport::PipeAction action = done.action;
    if (action == transport::PipeAction::clear_stall) {
      interrupt_pipe->ClearStall(true);
    } else if (action == transport::PipeAction::back_off) {
      back_off([this] {
        interrupts.end_back_off();
        pump_interrupts();
      });
    }
    pump_interrupts();
  }

  void pump_interrupts() {
    if (active && interrupt_pipe != nullptr) {
      (void)interrupts.pump(interrupt_io, UINT32_MAX);
    }
  }

  // ------------------------------------------------------------------ TX
  void pump_tx() {
    if (!active || !rings.mapped()) {
      return;
    }
    if (tx.pump(tx_io, rings.tx()) > 0) {
      owner->TxFreeSpaceAvailable();
    }
  }

  void tx_complete(IOReturn status, uint32_t actual) {
    if (!active || owner == nullptr) {
      return;
    }
    const transport::PipeAction action = tx.complete(transport::kern::to_status(status), actual);
    if (action == transport::PipeAction::clear_stall) {
      os_log(OS_LOG_DEFAULT, LOG_PREFIX " bulk OUT 0x%02x stalled; clearing",
             endpoints.out.address);
      out_pipe->ClearStall(true);
    } else if (action == transport::PipeAction::back_off) {
      back_off([this] {
        tx.end_back_off();
        pump_tx();
      });
    } else if (action == transport::PipeAction::stop && status != kIOReturnAborted) {
      os_log(OS_LOG_DEFAULT, LOG_PREFIX " bulk OUT stopped: 0x%x", status);
    }
    pump_tx();
  }

  // hostkit's deep mode (not Apple's, which reads one packet at a time [RE]):
  // several packets per read only where every burst ends in a short packet.
  uint16_t rx_packets_per_transfer() const {
    transport::usb::DeviceDescriptor device;
    if (transport::usb::parse_device_descriptor(interface->hostkitDevice()->device_descriptor(),
                                                device) != transport::Status::ok) {
      return 1;
    }
    const transport::DeviceEntry* entry =
        transport::find_device(device.vendor_id, device.product_id);
    return entry != nullptr && transport::bulk_in_bursts_end_short(entry->family)
               ? tuning.rx_packets_per_transfer
               : 1;
  }

  // ------------------------------------------------------------ lifecycle
  kern_return_t activate() {
    if (!rings.mapped()) {
      return kIOReturnNotOpen;  // the kernel calls ConnectQueues before HwActivate
    }
    ++generation;
    kern_return_t result = interface->Open(owner, 0, nullptr);
    if (result == kIOReturnSuccess) {
      result = interface->CopyPipe(endpoints.in.address, &in_pipe);
    }
    if (result == kIOReturnSuccess) {
      result = interface->CopyPipe(endpoints.out.address, &out_pipe);
    }
    if (result == kIOReturnSuccess && endpoints.has_interrupt) {
      result = interface->CopyPipe(endpoints.interrupt.address, &interrupt_pipe);
    }
    if (result != kIOReturnSuccess) {
      os_log(OS_LOG_DEFAULT, LOG_PREFIX " cannot open the pipes: 0x%x", result);
      release_resources();
      return result;
    }

    transport::InQueueConfig rx_config;
    if (tuning.apple_rx) {
      rx_config = {1, endpoints.in.max_packet, true};
    } else {
      rx_config = {tuning.rx_depth,
                   static_cast<uint32_t>(endpoints.in.max_packet) * rx_packets_per_transfer(),
                   false};
    }
    std::vector<uint8_t*> slots;
    for (uint8_t i = 0; i < rx_config.depth; ++i) {
      IOBufferMemoryDescriptor* buffer = nullptr;
      result = interface->CreateIOBuffer(kIOMemoryDirectionIn, rx_config.transfer_size, &buffer);
      if (result != kIOReturnSuccess) {
        release_resources();
        return result;
      }
      in_buffers.push_back(buffer);
      in_actions.push_back(make_action(false, false, i));
      slots.push_back(buffer->hostkitBytes());
    }
    const uint32_t out_size =
        static_cast<uint32_t>(endpoints.out.max_packet) * tuning.tx_packets_per_transfer;
    result = interface->CreateIOBuffer(kIOMemoryDirectionOut, out_size, &out_buffer);
    if (result != kIOReturnSuccess) {
      release_resources();
      return result;
    }
    out_action = make_action(false, true, 0);
    if (rx.configure(rx_config, endpoints.in.max_packet, slots) != transport::Status::ok ||
        tx.configure({out_buffer->hostkitBytes(), out_size}) != transport::Status::ok) {
      release_resources();
      return kIOReturnBadArgument;
    }
    if (interrupt_pipe != nullptr) {
      IOBufferMemoryDescriptor* buffer = nullptr;
      result =
          interface->CreateIOBuffer(kIOMemoryDirectionIn, endpoints.interrupt.max_packet, &buffer);
      if (result != kIOReturnSuccess) {
        release_resources();
        return result;
      }
      interrupt_buffers.push_back(buffer);
      interrupt_actions.push_back(make_action(true, false, 0));
      uint8_t* slot = buffer->hostkitBytes();
      (void)interrupts.configure({1, endpoints.interrupt.max_packet, false},
                                 endpoints.interrupt.max_packet,
                                 std::span<uint8_t* const>(&slot, 1));
    }
    active = true;
    pump_rx();
    pump_interrupts();
    pump_tx();
    return kIOReturnSuccess;
  }

  void deactivate() {
    if (!active) {
      return;
    }
    active = false;
    rx.stop();
    tx.stop();
    interrupts.stop();
    ++generation;  // pending completions now belong to the past
    for (IOUSBHostPipe* pipe : {in_pipe, out_pipe, interrupt_pipe}) {
      if (pipe != nullptr) {
        pipe->Abort(0, kIOReturnAborted, owner);
      }
    }
    release_resources();
  }

  void release_resources() {
    OSSafeReleaseNULL(in_pipe);
    OSSafeReleaseNULL(out_pipe);
    OSSafeReleaseNULL(interrupt_pipe);
    for (IOBufferMemoryDescriptor*& buffer : in_buffers) {
      OSSafeReleaseNULL(buffer);
    }
    for (IOBufferMemoryDescriptor*& buffer : interrupt_buffers) {
      OSSafeReleaseNULL(buffer);
    }
    in_buffers.clear();
    interrupt_buffers.clear();
    OSSafeReleaseNULL(out_buffer);
    for (OSAction*& action : in_actions) {
      OSSafeReleaseNULL(action);
    }
    for (OSAction*& action : interrupt_actions) {
      OSSafeReleaseNULL(action);
    }
    in_actions.clear();
    interrupt_actions.clear();
    OSSafeReleaseNULL(out_action);
    if (interface != nullptr && owner != nullptr) {
      interface->Close(owner, 0);
    }
  }
};

}  // namespace hostkit

HOSTKIT_METACLASS_DEFINE(IOUserUSBSerial, IOUserSerial);

kern_return_t IOUserUSBSerial::Start_Impl(IOService* provider) {
  kern_return_t result = IOUserSerial::Start_Impl(provider);
  if (result != kIOReturnSuccess) {
    return result;
  }
  // IOUserUSBSerial works only on an interface nub; with an IOUSBHostDevice
  // provider Start fails with kIOReturnUnsupported (0xE00002C7, docs/driverkit-reference.md §3.2).
  auto* interface = OSDynamicCast(IOUSBHostInterface, provider);
  if (interface == nullptr || hostkitRuntime() == nullptr) {
    os_log(OS_LOG_DEFAULT, LOG_PREFIX " provider is not an IOUSBHostInterface");
    return kIOReturnUnsupported;
  }
  auto path = std::make_shared<hostkit::UsbSerialDataPath>();
  if (!hostkit::choose_endpoints(interface->hostkitDevice()->configuration_descriptor(),
                                 interface->hostkitNumber(), path->endpoints)) {
    os_log(OS_LOG_DEFAULT,
           LOG_PREFIX
           " interface %u has no bulk IN/OUT pair of its own; IOUserUSBSerial "
           "drives only the interface it matched",
           interface->hostkitNumber());
    return kIOReturnUnsupported;
  }
  path->interface = interface;
  path->owner = this;
  path->tuning = hostkitRuntime()->tuning();
  path->queue = &hostkitRuntime()->queue();
  path_ = std::move(path);
  return kIOReturnSuccess;
}

kern_return_t IOUserUSBSerial::Stop_Impl(IOService* provider) {
  if (path_) {
    path_->deactivate();
    path_->owner = nullptr;
  }
  return IOUserSerial::Stop_Impl(provider);
}

kern_return_t IOUserUSBSerial::ConnectQueues_Impl(
    IOBufferMemoryDescriptor** ifmd, IOMemoryDescriptor** rxqmd, IOMemoryDescriptor** txqmd,
    IOMemoryDescriptor* in_rxqmd, IOMemoryDescriptor* in_txqmd, uint32_t in_rxqoffset,
    uint32_t in_txqoffset, uint8_t in_rxqlogsz, uint8_t in_txqlogsz) {
  // The framework maps what the kernel side gets, as a dext overriding
  // ConnectQueues would (docs/driverkit-reference.md §1.4), then passes the references on.
  IOBufferMemoryDescriptor* control = nullptr;
  IOMemoryDescriptor* rx_ring = nullptr;
  IOMemoryDescriptor* tx_ring = nullptr;
  kern_return_t result =
      IOUserSerial::ConnectQueues_Impl(&control, &rx_ring, &tx_ring, in_rxqmd, in_txqmd,
                                       in_rxqoffset, in_txqoffset, in_rxqlogsz, in_txqlogsz);
  if (result == kIOReturnSuccess && path_) {
    result = path_->rings.map(control, rx_ring, tx_ring);
  }
  auto pass_on = [](auto* object, auto** out) {
    if (out != nullptr) {
      *out = object;
    } else if (object != nullptr) {
      object->release();
    }
  };
  pass_on(control, ifmd);
  pass_on(rx_ring, rxqmd);
  pass_on(tx_ring, txqmd);
  return result;
}

kern_return_t IOUserUSBSerial::DisconnectQueues_Impl() {
  if (path_) {
    path_->deactivate();
    path_->rings.unmap();
  }
  return IOUserSerial::DisconnectQueues_Impl();
}

kern_return_t IOUserUSBSerial::HwActivate_Impl() {
  const kern_return_t result = IOUserSerial::HwActivate_Impl();
  if (result != kIOReturnSuccess || !path_) {
    return result != kIOReturnSuccess ? result : kIOReturnNotOpen;
  }
  return path_->activate();
}

kern_return_t IOUserUSBSerial::HwDeactivate_Impl() {
  if (path_) {
    path_->deactivate();
  }
  return IOUserSerial::HwDeactivate_Impl();
}

void IOUserUSBSerial::TxDataAvailable_Impl() {
  if (path_) {
    path_->pump_tx();
  }
}

void IOUserUSBSerial::RxFreeSpaceAvailable_Impl() {
  if (path_) {
    path_->deliver_rx();
    path_->pump_rx();
  }
}

void IOUserUSBSerial::handleRxPacket(uint8_t*&, uint32_t&) {}
void IOUserUSBSerial::handleInterruptPacket(const uint8_t*, uint32_t) {}

void IOUserUSBSerial::hostkitDiscardTx() {
  if (path_) {
    // The driver's side consumes TX, so emptying the ring is its job.
    path_->rings.tx().clear();
    path_->tx.discard();
  }
}

void IOUserUSBSerial::hostkitDiscardRx() {
  if (path_) {
    path_->rx.discard_parked();
  }
}

OSDictionary* IOUserUSBSerial::hostkitCopyDataPathStatistics() const {
  OSDictionary* stats = OSDictionary::withCapacity(16);
  if (!path_) {
    return stats;
  }
  auto put = [stats](const char* key, uint64_t value) {
    OSNumber* number = OSNumber::withNumber(value, 64);
    stats->setObject(key, number);
    number->release();
  };
  const transport::PipeStats& rx = path_->rx.stats();
  const transport::PipeStats& tx = path_->tx.stats();
  const transport::PipeStats& interrupt = path_->interrupts.stats();
  put("RxDepth", path_->rx.config().depth);
  put("RxTransferSize", path_->rx.config().transfer_size);
  put("RxTransfers", rx.transfers);
  put("RxBytes", rx.bytes);
  put("RxStalls", rx.stalls);
  put("RxErrors", rx.errors);
  put("RxBabbles", rx.babbles);
  put("RxRecoveries", rx.recoveries);
  put("RxFaultBytes", rx.fault_bytes);
  put("RxMaxInFlight", rx.max_in_flight);
  put("RxDiscardedBytes", rx.discarded_bytes);
  put("RxParkedBytes", path_->rx.parked_bytes());
  put("TxTransfers", tx.transfers);
  put("TxBytes", tx.bytes);
  put("TxStalls", tx.stalls);
  put("TxErrors", tx.errors);
  put("TxRecoveries", tx.recoveries);
  put("TxResentBytes", tx.fault_bytes);
  put("TxDiscardedBytes", tx.discarded_bytes);
  put("InterruptTransfers", interrupt.transfers);
  put("InterruptStalls", interrupt.stalls);
  put("InterruptErrors", interrupt.errors);
  put("InterruptRecoveries", interrupt.recoveries);
  put("DiscardFailedRx", path_->tuning.discard_failed_rx ? 1 : 0);
  put("AppleRxMode", path_->tuning.apple_rx ? 1 : 0);
  return stats;
}

void IOUserUSBSerial::hostkitKernelTtyName(char* base, size_t base_size, char* suffix,
                                           size_t suffix_size) const {
  std::snprintf(base, base_size, "usbserial-");
  suffix[0] = '\0';
  auto* interface = OSDynamicCast(IOUSBHostInterface, hostkitProvider());
  if (interface == nullptr) {
    return;
  }
  const std::shared_ptr<hostkit::UsbDevice>& device = interface->hostkitDevice();
  transport::usb::DeviceDescriptor descriptor;
  if (transport::usb::parse_device_descriptor(device->device_descriptor(), descriptor) ==
          transport::Status::ok &&
      descriptor.serial_number_index != 0 && !device->detached()) {
    const std::vector<uint8_t> bytes =
        device->backend().string_descriptor(descriptor.serial_number_index);
    size_t length = 0;
    if (transport::usb::decode_string_descriptor(bytes, {suffix, suffix_size}, length) ==
            transport::Status::ok &&
        length > 0) {
      return;
    }
  }
  std::snprintf(suffix, suffix_size, "%x", device->location_id() >> 16);
}

IOUserUSBSerial::~IOUserUSBSerial() = default;

void IOUserUSBSerial::free() {
  if (path_) {
    path_->deactivate();
    path_->rings.unmap();
    path_->owner = nullptr;
  }
  path_.reset();
  IOUserSerial::free();
}
