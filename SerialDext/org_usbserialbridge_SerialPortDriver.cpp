// org_usbserialbridge_SerialPortDriver: the IOUserSerial class. It opens its
// pipes itself and moves bytes between them and the rings it shares with the
// kernel, with transport's bulk pipeline deciding every step (how many
// transfers, what each completion status means, when a byte may move). The
// body it shares with the IOUserUSBSerial class (SerialPortBody.h) does all the
// rest. Everything runs on the driver's queue.

#include <DriverKit/DriverKit.h>
#include <SerialDriverKit/SerialDriverKit.h>
#include <SerialDriverKit/SerialPortInterface.h>
#include <USBDriverKit/USBDriverKit.h>
#include <os/log.h>
#include <time.h>

#include <new>

#include "SerialPortBody.h"
#include "org_usbserialbridge_SerialPortDriver.h"
#include "transport/bulk_pipeline.hpp"
#include "transport/descriptors.hpp"
#include "transport/kern_status.hpp"
#include "transport/serial_queue.hpp"

namespace {

constexpr const char* kClassName = "SerialPortDriver";
constexpr uint8_t kReads = transport::kMaxReadsInFlight;
constexpr uint8_t kWrites = transport::kWritesInFlight;

// What an action's reference holds: the slot of its transfer.
struct TransferRef {
  uint32_t slot;
};

struct Pipes;

// transport's I/O seams over IOUSBHostPipe::AsyncIO.
struct ReadIo final : transport::InPipeIo {
  Pipes* pipes = nullptr;
  transport::Status submit_in(uint8_t slot, std::span<uint8_t> buffer) override;
};
struct WriteIo final : transport::OutPipeIo {
  Pipes* pipes = nullptr;
  transport::Status submit_out(uint8_t slot, std::span<const uint8_t> data) override;
};
struct InterruptIo final : transport::InPipeIo {
  Pipes* pipes = nullptr;
  transport::Status submit_in(uint8_t slot, std::span<uint8_t> buffer) override;
};

// The open data path: pipes, one buffer and one action per transfer in flight.
struct Pipes {
  IOUSBHostPipe* in = nullptr;
  IOUSBHostPipe* out = nullptr;
  IOUSBHostPipe* interrupt = nullptr;
  IOBufferMemoryDescriptor* read_buffers[kReads] = {};
  OSAction* read_actions[kReads] = {};
  IOBufferMemoryDescriptor* write_buffers[kWrites] = {};
  OSAction* write_actions[kWrites] = {};
  IOBufferMemoryDescriptor* interrupt_buffer = nullptr;
  OSAction* interrupt_action = nullptr;
  transport::BulkInQueue rx;
  transport::BulkOutQueue tx;
  transport::BulkInQueue interrupts;
  ReadIo read_io;
  WriteIo write_io;
  InterruptIo interrupt_io;
};

uint8_t* bytes_of(IOBufferMemoryDescriptor* buffer) {
  IOAddressSegment range{};
  buffer->GetAddressRange(&range);
  return reinterpret_cast<uint8_t*>(range.address);
}

transport::Status ReadIo::submit_in(uint8_t slot, std::span<uint8_t> buffer) {
  return transport::kern::to_status(pipes->in->AsyncIO(pipes->read_buffers[slot],
                                                       static_cast<uint32_t>(buffer.size()),
                                                       pipes->read_actions[slot], 0));
}

transport::Status WriteIo::submit_out(uint8_t slot, std::span<const uint8_t> data) {
  // Every transfer starts at its slot buffer's first byte (BulkOutQueue).
  return transport::kern::to_status(pipes->out->AsyncIO(pipes->write_buffers[slot],
                                                        static_cast<uint32_t>(data.size()),
                                                        pipes->write_actions[slot], 0));
}

transport::Status InterruptIo::submit_in(uint8_t, std::span<uint8_t> buffer) {
  return transport::kern::to_status(pipes->interrupt->AsyncIO(
      pipes->interrupt_buffer, static_cast<uint32_t>(buffer.size()), pipes->interrupt_action, 0));
}

}  // namespace

// Constructed with placement new in init() and destroyed in free(): DriverKit's
// IONewZero is raw zeroed memory, which would leave every vtable null.
struct org_usbserialbridge_SerialPortDriver_IVars {
  SerialPortBody body{kClassName};
  // The provider is an interface (the port's only one: FTDI) or the device (a
  // CDC-ACM function, whose two interfaces the driver finds and opens itself).
  IOUSBHostDevice* device = nullptr;      // the provider when matched on the device; opened
  IOUSBHostInterface* control = nullptr;  // the port's interface (CDC: communication); retained
  IOUSBHostInterface* data = nullptr;     // holds the bulk pair (may be `control`); retained
  bool interfaces_open = false;
  // The rings ConnectQueues shared with the kernel, mapped.
  IOMemoryMap* control_map = nullptr;
  IOMemoryMap* rx_map = nullptr;
  IOMemoryMap* tx_map = nullptr;
  transport::SerialQueue rx_ring;  // the driver produces
  transport::SerialQueue tx_ring;  // the driver consumes
  // Frees TX ring bytes once sent or dropped, so the kernel's drain and close
  // wait for bytes still in flight.
  transport::SendReleasedReader tx_reader{tx_ring};
  Pipes pipes;
  bool active = false;
  bool parked = false;  // RX payload waits in read slots (the ring was full)
  IOTimerDispatchSource* back_off_timer = nullptr;
  OSAction* back_off_action = nullptr;
  OSAction* statistics_action = nullptr;
};

using IVars = org_usbserialbridge_SerialPortDriver_IVars;

namespace {

DataPathStats data_path_stats(IVars* ivars) {
  const Pipes& p = ivars->pipes;
  return {&p.rx.stats(), &p.tx.stats(), p.interrupt != nullptr ? &p.interrupts.stats() : nullptr,
          p.rx.parked_bytes()};
}

void release_pipes(IOService* self, IVars* ivars) {
  Pipes& p = ivars->pipes;
  auto cancel = [](OSAction*& action) {
    if (action != nullptr) {
      action->Cancel(nullptr);  // no completion of this activation reaches a later one
      action->release();
      action = nullptr;
    }
  };
  for (uint8_t i = 0; i < kReads; ++i) {
    cancel(p.read_actions[i]);
    OSSafeReleaseNULL(p.read_buffers[i]);
  }
  for (uint8_t i = 0; i < kWrites; ++i) {
    cancel(p.write_actions[i]);
    OSSafeReleaseNULL(p.write_buffers[i]);
  }
  cancel(p.interrupt_action);
  OSSafeReleaseNULL(p.interrupt_buffer);
  OSSafeReleaseNULL(p.in);
  OSSafeReleaseNULL(p.out);
  OSSafeReleaseNULL(p.interrupt);
  if (ivars->interfaces_open) {
    ivars->control->Close(self, 0);
    if (ivars->data != ivars->control) {
      ivars->data->Close(self, 0);
    }
    ivars->interfaces_open = false;
  }
}

void unmap_rings(IVars* ivars) {
  ivars->rx_ring.detach();
  ivars->tx_ring.detach();
  OSSafeReleaseNULL(ivars->control_map);
  OSSafeReleaseNULL(ivars->rx_map);
  OSSafeReleaseNULL(ivars->tx_map);
}

// Maps the control block and the two rings ConnectQueues returned, and reads
// the rings' places and sizes from the control block by field name (§1.4).
kern_return_t map_rings(IVars* ivars, IOBufferMemoryDescriptor* ifmd, IOMemoryDescriptor* rxqmd,
                        IOMemoryDescriptor* txqmd) {
  unmap_rings(ivars);
  kern_return_t result = ifmd->CreateMapping(0, 0, 0, 0, 0, &ivars->control_map);
  if (result == kIOReturnSuccess) {
    result = rxqmd->CreateMapping(0, 0, 0, 0, 0, &ivars->rx_map);
  }
  if (result == kIOReturnSuccess) {
    result = txqmd->CreateMapping(0, 0, 0, 0, 0, &ivars->tx_map);
  }
  if (result != kIOReturnSuccess) {
    unmap_rings(ivars);
    return result;
  }
  using driverkit::serial::SerialPortInterface;
  if (ivars->control_map->GetLength() < sizeof(SerialPortInterface)) {
    unmap_rings(ivars);
    return kIOReturnBadArgument;
  }
  auto* shared = reinterpret_cast<SerialPortInterface*>(ivars->control_map->GetAddress());
  auto ring = [](IOMemoryMap* map, uint32_t offset, uint8_t logsz) -> std::span<uint8_t> {
    if (logsz >= 32 || offset > map->GetLength() ||
        (uint64_t{1} << logsz) > map->GetLength() - offset) {
      return {};
    }
    return {reinterpret_cast<uint8_t*>(map->GetAddress()) + offset, size_t{1} << logsz};
  };
  if (!ivars->rx_ring.attach(ring(ivars->rx_map, shared->rxqoffset, shared->rxqlogsz),
                             &shared->rxPI, &shared->rxCI) ||
      !ivars->tx_ring.attach(ring(ivars->tx_map, shared->txqoffset, shared->txqlogsz),
                             &shared->txPI, &shared->txCI)) {
    unmap_rings(ivars);
    return kIOReturnBadArgument;
  }
  ivars->tx_reader.forget();
  return kIOReturnSuccess;
}

// The device's interface `number`, retained; null when it has none.
IOUSBHostInterface* copy_interface(IOUSBHostDevice* device, uint8_t number) {
  uintptr_t iterator = 0;
  if (device->CreateInterfaceIterator(&iterator) != kIOReturnSuccess) {
    return nullptr;
  }
  IOUSBHostInterface* found = nullptr;
  for (;;) {
    IOUSBHostInterface* candidate = nullptr;
    if (device->CopyInterface(iterator, &candidate) != kIOReturnSuccess || candidate == nullptr) {
      break;
    }
    const IOUSBConfigurationDescriptor* config = candidate->CopyConfigurationDescriptor();
    const IOUSBInterfaceDescriptor* descriptor =
        config != nullptr ? candidate->GetInterfaceDescriptor(config) : nullptr;
    const bool wanted = descriptor != nullptr && descriptor->bInterfaceNumber == number;
    if (config != nullptr) {
      IOUSBHostFreeDescriptor(config);
    }
    if (wanted && found == nullptr) {
      found = candidate;
    } else {
      candidate->release();
    }
  }
  device->DestroyInterfaceIterator(iterator);
  return found;
}

// Matched on the device (a CDC-ACM function): open a session on it, select its
// configuration (the device is ours, so nobody else has), and find the port's
// interface; its requests then go to the device, on our session.
kern_return_t open_device(IOService* self, IVars* ivars, IOUSBHostDevice* device) {
  kern_return_t result = device->Open(self, 0, 0);
  if (result != kIOReturnSuccess) {
    DEXT_LOG(kClassName, "Start: cannot open the device: 0x%x", result);
    return result;
  }
  ivars->device = device;
  const IOUSBDeviceDescriptor* device_descriptor = device->CopyDeviceDescriptor();
  const IOUSBConfigurationDescriptor* config_descriptor = device->CopyConfigurationDescriptor(0);
  transport::usb::DeviceDescriptor parsed_device;
  transport::usb::Configuration parsed_config;
  uint8_t port_interface = 0;
  transport::Status status = parse_and_free_descriptors(device_descriptor, config_descriptor,
                                                        parsed_device, parsed_config);
  if (status == transport::Status::ok) {
    status = transport::device_port_interface(parsed_device, parsed_config, port_interface);
  }
  if (status != transport::Status::ok) {
    DEXT_LOG(kClassName, "Start: %04x:%04x has no port this class can drive: %{public}s",
             parsed_device.vendor_id, parsed_device.product_id, transport::to_string(status));
    return transport::kern::from_status(status);
  }
  result = device->SetConfiguration(parsed_config.value, false);
  if (result != kIOReturnSuccess) {
    DEXT_LOG(kClassName, "Start: SetConfiguration(%u) failed: 0x%x", parsed_config.value, result);
    return result;
  }
  ivars->control = copy_interface(device, port_interface);
  if (ivars->control == nullptr) {
    DEXT_LOG(kClassName, "Start: the device has no interface %u", port_interface);
    return kIOReturnNotFound;
  }
  return ivars->body.sink().attach(device, self);
}

void close_device(IOService* self, IVars* ivars) {
  OSSafeReleaseNULL(ivars->control);
  OSSafeReleaseNULL(ivars->data);
  if (ivars->device != nullptr) {
    ivars->device->Close(self, 0);
    ivars->device = nullptr;
  }
}

void publish(IVars* ivars) {
  const DataPathStats stats = data_path_stats(ivars);
  ivars->body.publish_statistics(&stats);
}

void publish_now_and_then(IVars* ivars) {
  const DataPathStats stats = data_path_stats(ivars);
  // Payload starting to wait in the read slots (the client stopped reading) is
  // news, published within 50 ms; not at once, since under a steady stream it
  // starts and ends with nearly every completion.
  const bool parked = ivars->pipes.rx.parked_bytes() > 0;
  if (parked && !ivars->parked) {
    ivars->body.note_event();
  }
  ivars->body.publish_statistics_now_and_then(&stats);
  ivars->parked = parked;
}

// ------------------------------------------------------------------ data path

void deliver_rx(org_usbserialbridge_SerialPortDriver* self, IVars* ivars) {
  if (ivars->rx_ring.attached() && ivars->pipes.rx.drain(ivars->rx_ring) > 0) {
    self->RxDataAvailable();
  }
}

void pump_rx(IVars* ivars) {
  if (!ivars->active) {
    return;
  }
  const transport::Status status =
      ivars->pipes.rx.pump(ivars->pipes.read_io, ivars->rx_ring.free_space());
  if (status != transport::Status::ok) {
    DEXT_LOG(kClassName, "cannot queue a bulk IN read: %{public}s", transport::to_string(status));
  }
}

void pump_tx(org_usbserialbridge_SerialPortDriver* self, IVars* ivars) {
  if (!ivars->active) {
    return;
  }
  (void)ivars->pipes.tx.pump(ivars->pipes.write_io, ivars->tx_reader);
  if (ivars->tx_reader.release_sent(ivars->pipes.tx.pending()) > 0) {
    self->TxFreeSpaceAvailable();
  }
}

void pump_interrupts(IVars* ivars) {
  if (ivars->active && ivars->pipes.interrupt != nullptr) {
    (void)ivars->pipes.interrupts.pump(ivars->pipes.interrupt_io, UINT32_MAX);
  }
}

// One ClearStall per halt (BulkInQueue/BulkOutQueue tell the first of its
// completions from the rest). A clear that fails is the pipe's last error; the
// next transfer on the still halted pipe stalls again and asks for another.
void clear_stall(IVars* ivars, IOUSBHostPipe* pipe, transport::FaultSite site) {
  const kern_return_t cleared = pipe->ClearStall(true);
  if (cleared != kIOReturnSuccess) {
    DEXT_LOG(kClassName, "%{public}s: ClearStall failed: 0x%x", transport::to_string(site),
             cleared);
    ivars->body.pipe_error(site, transport::kern::to_status(cleared));
  }
}

void back_off(IVars* ivars, const char* pipe, IOReturn status) {
  DEXT_LOG(kClassName, "%{public}s error 0x%x; retrying in %u ms", pipe, status,
           transport::kBackOffMs);
  ivars->back_off_timer->WakeAtTime(
      kIOTimerClockMonotonicRaw,
      clock_gettime_nsec_np(CLOCK_MONOTONIC_RAW) + uint64_t{transport::kBackOffMs} * 1'000'000, 0);
}

uint32_t slot_of(OSAction* action) {
  return static_cast<const TransferRef*>(action->GetReference())->slot;
}

// Opens the interfaces and pipes, makes one buffer and one action per transfer,
// and configures the pipeline.
kern_return_t open_pipes(org_usbserialbridge_SerialPortDriver* self, IVars* ivars) {
  Pipes& p = ivars->pipes;
  const transport::PortPipes& endpoints = ivars->body.identity().pipes;
  kern_return_t result = ivars->control->Open(self, 0, nullptr);
  ivars->interfaces_open = result == kIOReturnSuccess;
  if (result == kIOReturnSuccess && ivars->data != ivars->control) {
    result = ivars->data->Open(self, 0, nullptr);
    if (result != kIOReturnSuccess) {
      ivars->control->Close(self, 0);
      ivars->interfaces_open = false;
    }
  }
  if (result == kIOReturnSuccess) {
    result = ivars->data->CopyPipe(endpoints.data_in.address, &p.in);
  }
  if (result == kIOReturnSuccess) {
    result = ivars->data->CopyPipe(endpoints.data_out.address, &p.out);
  }
  if (result == kIOReturnSuccess && endpoints.has_interrupt) {
    result = ivars->control->CopyPipe(endpoints.interrupt.address, &p.interrupt);
  }
  const transport::ChipFamily family = ivars->body.identity().family;
  const uint8_t reads = transport::reads_in_flight(family);
  const uint32_t read_size =
      uint32_t{endpoints.data_in.max_packet} * transport::packets_per_read(family);
  const uint32_t write_size = uint32_t{endpoints.data_out.max_packet} * transport::kPacketsPerWrite;
  uint8_t* read_slots[kReads] = {};
  uint8_t* write_slots[kWrites] = {};
  auto make = [&](IOUSBHostInterface* interface, uint64_t direction, uint32_t size,
                  IOBufferMemoryDescriptor*& buffer, uint8_t*& bytes) {
    if (result == kIOReturnSuccess) {
      result = interface->CreateIOBuffer(direction, size, &buffer);
    }
    if (result == kIOReturnSuccess) {
      bytes = bytes_of(buffer);
    }
  };
  auto reference = [&](OSAction* action, uint32_t slot) {
    static_cast<TransferRef*>(action->GetReference())->slot = slot;
  };
  for (uint8_t i = 0; i < reads && result == kIOReturnSuccess; ++i) {
    make(ivars->data, kIOMemoryDirectionIn, read_size, p.read_buffers[i], read_slots[i]);
    if (result == kIOReturnSuccess) {
      result = self->CreateActionReadComplete(sizeof(TransferRef), &p.read_actions[i]);
    }
    if (result == kIOReturnSuccess) {
      reference(p.read_actions[i], i);
    }
  }
  for (uint8_t i = 0; i < kWrites && result == kIOReturnSuccess; ++i) {
    make(ivars->data, kIOMemoryDirectionOut, write_size, p.write_buffers[i], write_slots[i]);
    if (result == kIOReturnSuccess) {
      result = self->CreateActionWriteComplete(sizeof(TransferRef), &p.write_actions[i]);
    }
    if (result == kIOReturnSuccess) {
      reference(p.write_actions[i], i);
    }
  }
  uint8_t* interrupt_slot = nullptr;
  if (p.interrupt != nullptr) {
    make(ivars->control, kIOMemoryDirectionIn, endpoints.interrupt.max_packet, p.interrupt_buffer,
         interrupt_slot);
    if (result == kIOReturnSuccess) {
      result = self->CreateActionInterruptComplete(sizeof(TransferRef), &p.interrupt_action);
    }
  }
  if (result != kIOReturnSuccess) {
    DEXT_LOG(kClassName, "HwActivate: cannot open the pipes: 0x%x", result);
    release_pipes(self, ivars);
    return result;
  }
  const transport::InQueueConfig read_config{reads, read_size, false};
  if (p.rx.configure(read_config, endpoints.data_in.max_packet,
                     std::span<uint8_t* const>(read_slots, reads)) != transport::Status::ok ||
      p.tx.configure(write_slots, write_size) != transport::Status::ok ||
      (p.interrupt != nullptr &&
       p.interrupts.configure(
           {1, endpoints.interrupt.max_packet, false}, endpoints.interrupt.max_packet,
           std::span<uint8_t* const>(&interrupt_slot, 1)) != transport::Status::ok)) {
    DEXT_LOG(kClassName, "HwActivate: the pipes' packet sizes cannot be queued");
    release_pipes(self, ivars);
    return kIOReturnBadArgument;
  }
  return kIOReturnSuccess;
}

// Stops the data path: nothing more is submitted, every transfer is aborted and
// no completion of this activation is delivered any more.
void close_pipes(org_usbserialbridge_SerialPortDriver* self, IVars* ivars) {
  Pipes& p = ivars->pipes;
  if (!ivars->active && p.in == nullptr) {
    return;
  }
  ivars->active = false;
  p.rx.stop();
  p.tx.stop();
  p.interrupts.stop();
  for (IOUSBHostPipe* pipe : {p.in, p.out, p.interrupt}) {
    if (pipe != nullptr) {
      pipe->Abort(0, kIOReturnAborted, self);
    }
  }
  // What was taken for transfers that will never complete is dropped.
  if (ivars->tx_ring.attached()) {
    (void)ivars->tx_reader.release_sent(0);
  }
  ivars->tx_reader.forget();
  release_pipes(self, ivars);
}

}  // namespace

bool org_usbserialbridge_SerialPortDriver::init() {
  if (!super::init()) {
    return false;
  }
  void* memory = IOMallocZero(sizeof(IVars));
  if (memory == nullptr) {
    return false;
  }
  ivars = new (memory) IVars();
  ivars->pipes.read_io.pipes = &ivars->pipes;
  ivars->pipes.write_io.pipes = &ivars->pipes;
  ivars->pipes.interrupt_io.pipes = &ivars->pipes;
  return true;
}

void org_usbserialbridge_SerialPortDriver::free() {
  if (ivars != nullptr) {
    ivars->~IVars();
    IOFree(ivars, sizeof(IVars));
    ivars = nullptr;
  }
  super::free();
}

// -------------------------------------------------------------------- lifecycle

kern_return_t org_usbserialbridge_SerialPortDriver::Start_Impl(IOService* provider) {
  kern_return_t result = Start(provider, SUPERDISPATCH);
  if (result != kIOReturnSuccess) {
    DEXT_LOG(kClassName, "Start: IOUserSerial::Start failed 0x%x", result);
    return result;
  }
  if (auto* interface = OSDynamicCast(IOUSBHostInterface, provider)) {
    // One interface holds the whole port (FTDI): the one matched.
    interface->retain();
    ivars->control = interface;
    result = ivars->body.sink().attach(interface);
  } else if (auto* device = OSDynamicCast(IOUSBHostDevice, provider)) {
    result = open_device(this, ivars, device);
  } else {
    DEXT_LOG(kClassName, "Start: the provider is neither an interface nor a device");
    result = kIOReturnNoDevice;
  }
  if (result == kIOReturnSuccess) {
    result = CreateActionStatisticsDue(0, &ivars->statistics_action);
  }
  if (result == kIOReturnSuccess) {
    result = ivars->body.start(this, ivars->control, ivars->statistics_action);
  }
  if (result == kIOReturnSuccess) {
    // The bulk pair's interface: the same one, or CDC's data interface.
    const uint8_t data_interface = ivars->body.identity().config.data_interface;
    if (ivars->device == nullptr ||
        data_interface == ivars->body.identity().config.interface_number) {
      ivars->control->retain();
      ivars->data = ivars->control;
    } else {
      ivars->data = copy_interface(ivars->device, data_interface);
      if (ivars->data == nullptr) {
        DEXT_LOG(kClassName, "Start: the device has no data interface %u", data_interface);
        result = kIOReturnNotFound;
      }
    }
  }
  IODispatchQueue* queue = nullptr;
  if (result == kIOReturnSuccess) {
    result = CopyDispatchQueue(kIOServiceDefaultQueueName, &queue);
  }
  if (result == kIOReturnSuccess) {
    result = IOTimerDispatchSource::Create(queue, &ivars->back_off_timer);
  }
  OSSafeReleaseNULL(queue);
  if (result == kIOReturnSuccess) {
    result = CreateActionBackOffEnded(0, &ivars->back_off_action);
  }
  if (result == kIOReturnSuccess) {
    result = ivars->back_off_timer->SetHandler(ivars->back_off_action);
  }
  if (result == kIOReturnSuccess) {
    result = ivars->back_off_timer->SetEnable(true);
  }
  if (result != kIOReturnSuccess) {
    Stop_Impl(provider);
    return result;
  }
  return RegisterService();
}

kern_return_t org_usbserialbridge_SerialPortDriver::Stop_Impl(IOService* provider) {
  close_pipes(this, ivars);
  unmap_rings(ivars);
  ivars->body.stop();
  if (ivars->back_off_timer != nullptr) {
    ivars->back_off_timer->Cancel(nullptr);
    OSSafeReleaseNULL(ivars->back_off_timer);
  }
  if (ivars->back_off_action != nullptr) {
    ivars->back_off_action->Cancel(nullptr);  // it holds a reference on this driver
    OSSafeReleaseNULL(ivars->back_off_action);
  }
  if (ivars->statistics_action != nullptr) {
    ivars->statistics_action->Cancel(nullptr);
    OSSafeReleaseNULL(ivars->statistics_action);
  }
  close_device(this, ivars);
  return Stop(provider, SUPERDISPATCH);
}

kern_return_t org_usbserialbridge_SerialPortDriver::ConnectQueues_Impl(
    IOBufferMemoryDescriptor** ifmd, IOMemoryDescriptor** rxqmd, IOMemoryDescriptor** txqmd,
    IOMemoryDescriptor* in_rxqmd, IOMemoryDescriptor* in_txqmd, uint32_t in_rxqoffset,
    uint32_t in_txqoffset, uint8_t in_rxqlogsz, uint8_t in_txqlogsz) {
  // The superclass makes the shared memory and hands the caller a reference to
  // each part; the driver maps them (the maps keep them alive until unmapped).
  kern_return_t result = ConnectQueues(ifmd, rxqmd, txqmd, in_rxqmd, in_txqmd, in_rxqoffset,
                                       in_txqoffset, in_rxqlogsz, in_txqlogsz, SUPERDISPATCH);
  if (result != kIOReturnSuccess) {
    return result;
  }
  if (ifmd == nullptr || rxqmd == nullptr || txqmd == nullptr || *ifmd == nullptr ||
      *rxqmd == nullptr || *txqmd == nullptr) {
    result = kIOReturnBadArgument;
  } else {
    result = map_rings(ivars, *ifmd, *rxqmd, *txqmd);
  }
  if (result != kIOReturnSuccess) {
    DEXT_LOG(kClassName, "ConnectQueues: cannot map the rings: 0x%x", result);
  }
  return result;
}

kern_return_t org_usbserialbridge_SerialPortDriver::DisconnectQueues_Impl() {
  close_pipes(this, ivars);
  unmap_rings(ivars);
  return DisconnectQueues(SUPERDISPATCH);
}

kern_return_t org_usbserialbridge_SerialPortDriver::HwActivate_Impl() {
  kern_return_t result = HwActivate(SUPERDISPATCH);
  if (result != kIOReturnSuccess) {
    DEXT_LOG(kClassName, "HwActivate: IOUserSerial::HwActivate failed 0x%x", result);
    return result;
  }
  if (!ivars->rx_ring.attached() || !ivars->tx_ring.attached()) {
    DEXT_LOG(kClassName, "HwActivate: no rings (ConnectQueues did not succeed)");
    return kIOReturnNotOpen;
  }
  result = open_pipes(this, ivars);
  if (result == kIOReturnSuccess) {
    result = ivars->body.activate();
    if (result != kIOReturnSuccess) {
      release_pipes(this, ivars);  // nothing was submitted yet
    }
  }
  if (result == kIOReturnSuccess) {
    ivars->active = true;
    pump_rx(ivars);
    pump_interrupts(ivars);
    pump_tx(this, ivars);
  }
  publish(ivars);
  return result;
}

kern_return_t org_usbserialbridge_SerialPortDriver::HwDeactivate_Impl() {
  (void)ivars->body.deactivate();
  close_pipes(this, ivars);
  publish(ivars);
  return HwDeactivate(SUPERDISPATCH);
}

// ------------------------------------------------------------------------ Hw*

kern_return_t org_usbserialbridge_SerialPortDriver::HwResetFIFO_Impl(bool tx, bool rx) {
  // Reads in flight may already hold bytes the chip sent before the flush (a
  // read of several packets completes only when full or cut short): they are
  // aborted, and what they carried is dropped, before the chip's FIFO is purged,
  // so that nothing received from here on can land in them.
  if (rx && ivars->active && ivars->pipes.rx.discard_in_flight() > 0) {
    ivars->pipes.in->Abort(0, kIOReturnAborted, this);
  }
  const kern_return_t result = ivars->body.reset_fifo(tx, rx);
  // What the driver itself holds goes with the chip's FIFOs: the TX ring it
  // consumes and the bytes it took from it [U: on TCOFLUSH the kernel leaves
  // emptying the TX ring to its consumer], and payload parked in read slots.
  if (tx && ivars->tx_ring.attached()) {
    ivars->tx_ring.clear();
    ivars->tx_reader.forget();
    ivars->pipes.tx.discard();
  }
  if (rx) {
    ivars->pipes.rx.discard_parked();
    pump_rx(ivars);
  }
  return result;
}

kern_return_t org_usbserialbridge_SerialPortDriver::HwSendBreak_Impl(bool sendBreak) {
  return ivars->body.send_break(sendBreak);
}

kern_return_t org_usbserialbridge_SerialPortDriver::HwGetModemStatus_Impl(bool* cts, bool* dsr,
                                                                          bool* ri, bool* dcd) {
  return ivars->body.modem_status(cts, dsr, ri, dcd);
}

kern_return_t org_usbserialbridge_SerialPortDriver::HwProgramUART_Impl(uint32_t baudRate,
                                                                       uint8_t nDataBits,
                                                                       uint8_t nHalfStopBits,
                                                                       uint8_t parity) {
  return ivars->body.program_uart(baudRate, nDataBits, nHalfStopBits, parity);
}

kern_return_t org_usbserialbridge_SerialPortDriver::HwProgramBaudRate_Impl(uint32_t baudRate) {
  return ivars->body.program_baud(baudRate);
}

kern_return_t org_usbserialbridge_SerialPortDriver::HwProgramMCR_Impl(bool dtr, bool rts) {
  return ivars->body.program_mcr(dtr, rts);
}

kern_return_t org_usbserialbridge_SerialPortDriver::HwProgramLatencyTimer_Impl(uint32_t latency) {
  return ivars->body.program_latency(latency);
}

kern_return_t org_usbserialbridge_SerialPortDriver::HwProgramFlowControl_Impl(uint32_t arg,
                                                                              uint8_t xon,
                                                                              uint8_t xoff) {
  return ivars->body.program_flow(arg, xon, xoff);
}

// ------------------------------------------------------------------ the rings

void org_usbserialbridge_SerialPortDriver::TxDataAvailable_Impl() {
  pump_tx(this, ivars);
}

void org_usbserialbridge_SerialPortDriver::RxFreeSpaceAvailable_Impl() {
  deliver_rx(this, ivars);
  pump_rx(ivars);
}

// ----------------------------------------------------------------- completions

void org_usbserialbridge_SerialPortDriver::ReadComplete_Impl(OSAction* action, IOReturn status,
                                                             uint32_t actualByteCount, uint64_t) {
  if (!ivars->active) {
    return;
  }
  const auto slot = static_cast<uint8_t>(slot_of(action));
  const transport::Status result = transport::kern::to_status(status);
  const transport::InCompletion done = ivars->pipes.rx.complete(slot, result, actualByteCount);
  if (done.completed) {
    // Decoded in place (FTDI status bytes stripped), kept in its slot until the
    // ring has room. The bytes of a transfer a fault cut short go the same way.
    ivars->pipes.rx.park(slot, done.payload.first(ivars->body.rx_transfer(done.payload)));
  }
  ivars->body.pipe_error(transport::FaultSite::bulk_in, result);
  switch (done.action) {
    case transport::PipeAction::proceed:
      break;
    case transport::PipeAction::clear_stall:
      DEXT_LOG(kClassName, "bulk IN stalled after %u bytes, delivered; clearing",
               static_cast<uint32_t>(done.payload.size()));
      clear_stall(ivars, ivars->pipes.in, transport::FaultSite::bulk_in);
      break;
    case transport::PipeAction::back_off:
      back_off(ivars, "bulk IN", status);
      break;
    case transport::PipeAction::stop:
      if (status != kIOReturnAborted) {
        DEXT_LOG(kClassName, "bulk IN stopped: 0x%x", status);
      }
      break;
  }
  deliver_rx(this, ivars);
  pump_rx(ivars);
  publish_now_and_then(ivars);
}

void org_usbserialbridge_SerialPortDriver::WriteComplete_Impl(OSAction*, IOReturn status,
                                                              uint32_t actualByteCount, uint64_t) {
  if (!ivars->active) {
    return;
  }
  const transport::Status result = transport::kern::to_status(status);
  ivars->body.pipe_error(transport::FaultSite::bulk_out, result);
  // Whatever the action, the unsent rest of the transfer goes again from where
  // it stopped (BulkOutQueue), once the pipe is clear.
  switch (ivars->pipes.tx.complete(result, actualByteCount)) {
    case transport::PipeAction::proceed:
      break;
    case transport::PipeAction::clear_stall:
      DEXT_LOG(kClassName, "bulk OUT stalled after %u bytes; clearing", actualByteCount);
      clear_stall(ivars, ivars->pipes.out, transport::FaultSite::bulk_out);
      break;
    case transport::PipeAction::back_off:
      back_off(ivars, "bulk OUT", status);
      break;
    case transport::PipeAction::stop:
      if (status != kIOReturnAborted) {
        DEXT_LOG(kClassName, "bulk OUT stopped: 0x%x", status);
      }
      break;
  }
  pump_tx(this, ivars);
  publish_now_and_then(ivars);
}

void org_usbserialbridge_SerialPortDriver::InterruptComplete_Impl(OSAction*, IOReturn status,
                                                                  uint32_t actualByteCount,
                                                                  uint64_t) {
  if (!ivars->active) {
    return;
  }
  const transport::Status result = transport::kern::to_status(status);
  const transport::InCompletion done = ivars->pipes.interrupts.complete(0, result, actualByteCount);
  if (done.completed) {
    ivars->body.interrupt_transfer(done.payload);
    ivars->pipes.interrupts.release(0);
  }
  ivars->body.pipe_error(transport::FaultSite::interrupt_in, result);
  switch (done.action) {
    case transport::PipeAction::proceed:
      break;
    case transport::PipeAction::clear_stall:
      DEXT_LOG(kClassName, "interrupt IN stalled; clearing");
      clear_stall(ivars, ivars->pipes.interrupt, transport::FaultSite::interrupt_in);
      break;
    case transport::PipeAction::back_off:
      back_off(ivars, "interrupt IN", status);
      break;
    case transport::PipeAction::stop:
      if (status != kIOReturnAborted) {
        DEXT_LOG(kClassName, "interrupt IN stopped: 0x%x", status);
      }
      break;
  }
  pump_interrupts(ivars);
  publish_now_and_then(ivars);
}

void org_usbserialbridge_SerialPortDriver::StatisticsDue_Impl(OSAction*, uint64_t) {
  const DataPathStats stats = data_path_stats(ivars);
  ivars->body.publish_statistics_due(&stats);
}

void org_usbserialbridge_SerialPortDriver::BackOffEnded_Impl(OSAction*, uint64_t) {
  if (!ivars->active) {
    return;
  }
  // One timer serves the three pipes; whichever was backing off resumes.
  ivars->pipes.rx.end_back_off();
  ivars->pipes.tx.end_back_off();
  ivars->pipes.interrupts.end_back_off();
  pump_rx(ivars);
  pump_tx(this, ivars);
  pump_interrupts(ivars);
}
