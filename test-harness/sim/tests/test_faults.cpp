// Fault injection and the UsbDeviceBackend contract: stall / clear_halt,
// babble, abort, unplug with pending transfers, malformed descriptors, and
// endpoint 0's standard requests (USB 2.0 §9.4).
#include <gtest/gtest.h>

#include <mutex>

#include "sim_test_util.hpp"

namespace {

using namespace simtest;
using namespace std::chrono_literals;

TEST(Faults, StallAndClearHalt) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232r", bus);
  Pipe in(*dev, 0x81);
  in.submit_in(64);
  bus.run_until_idle();
  dev->stall(0x81);
  bus.run_until_idle();
  auto done = in.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].status, kIOUSBPipeStalled);
  // Still halted: a new transfer fails the same way.
  EXPECT_EQ(in.submit_in(64), kIOReturnSuccess);
  bus.run_until_idle();
  done = in.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].status, kIOUSBPipeStalled);
  // GET_STATUS(endpoint) shows the halt.
  auto st = control_in(*dev, 0x82, 0x00, 0, 0x81, 2);
  EXPECT_EQ(st.second, (std::vector<uint8_t>{1, 0}));
  EXPECT_EQ(dev->clear_halt(0x81), kIOReturnSuccess);
  st = control_in(*dev, 0x82, 0x00, 0, 0x81, 2);
  EXPECT_EQ(st.second, (std::vector<uint8_t>{0, 0}));
  in.submit_in(64);
  bus.advance(16ms);
  done = in.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].status, kIOReturnSuccess);
}

TEST(Faults, ClearFeatureEndpointHaltViaControl) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("cdc-acm", bus);
  EXPECT_EQ(control_out(*dev, 0x02, 0x03, 0, 0x02), kIOReturnSuccess);  // SET_FEATURE(HALT)
  Pipe out(*dev, 0x02);
  out.submit_out({1, 2, 3});
  bus.run_until_idle();
  EXPECT_EQ(out.take().at(0).status, kIOUSBPipeStalled);
  EXPECT_EQ(control_out(*dev, 0x02, 0x01, 0, 0x02), kIOReturnSuccess);  // CLEAR_FEATURE(HALT)
  out.submit_out({1, 2, 3});
  bus.run_until_idle();
  auto done = out.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].status, kIOReturnSuccess);
  EXPECT_EQ(done[0].actual, 3u);
}

TEST(Faults, StallEndpointZeroRefusesTheNextRequestOnly) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232r", bus);
  dev->stall(0);
  EXPECT_EQ(control_out(*dev, 0x40, 0x01, 0x0101, 0), kIOUSBPipeStalled);
  EXPECT_EQ(control_out(*dev, 0x40, 0x01, 0x0101, 0), kIOReturnSuccess);
}

TEST(Faults, BabbleOnTheNextInTransfer) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232r", bus);
  Pipe in(*dev, 0x81);
  dev->inject_babble(0x81);  // nothing pending: armed for the next one
  in.submit_in(64);
  in.submit_in(64);
  bus.advance(16ms);
  auto done = in.take();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].status, kIOReturnOverrun);
  EXPECT_EQ(done[1].status, kIOReturnSuccess);
  // Pending transfer: completes at once.
  in.submit_in(64);
  bus.run_until_idle();
  dev->inject_babble(0x81);
  bus.run_until_idle();
  done = in.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].status, kIOReturnOverrun);
}

TEST(Faults, PacketLargerThanTheBufferIsBabble) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232r", bus);
  sim::connect_loopback(dev->port(0));
  Pipe out(*dev, 0x02);
  out.submit_out(pattern(100));
  bus.run_until_idle();
  Pipe in(*dev, 0x81);
  in.submit_in(32);  // not a multiple of wMaxPacketSize; a full packet is 64
  bus.run_until_idle();
  auto done = in.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].status, kIOReturnOverrun);
}

// A babbling packet is lost with what it held; the transfer it was going into
// ends with the bytes that came before it, and the chip counts the loss.
TEST(Faults, ABabblingPacketIsLostAndItsTransferKeepsWhatCameBefore) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("cdc-acm", bus);
  sim::connect_loopback(dev->port(0));
  const std::vector<uint8_t> data = pattern(200);  // 64 + 64 + 64 + 8 at the device
  Pipe out(*dev, 0x02);
  out.submit_out(data);
  bus.advance(5ms);
  Pipe in(*dev, 0x81);
  in.submit_in(128);
  bus.advance(5ms);
  dev->inject_babbling_packet(0x81);
  in.submit_in(128);
  in.submit_in(128);
  bus.advance(5ms);
  const auto done = in.take();
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done[0].status, kIOReturnSuccess);
  EXPECT_EQ(done[0].data, std::vector<uint8_t>(data.begin(), data.begin() + 128));
  EXPECT_EQ(done[1].status, kIOReturnOverrun);  // the third packet babbled: lost
  EXPECT_EQ(done[1].actual, 0u);
  EXPECT_EQ(done[2].status, kIOReturnSuccess);  // the stream goes on after it
  EXPECT_EQ(done[2].data, std::vector<uint8_t>(data.begin() + 192, data.end()));
  const sim::PortCounters c = dev->port(0).snapshot().counters;
  EXPECT_EQ(c.usb_in_lost_bytes, 64u);
  EXPECT_EQ(c.usb_in_bytes, 136u);
}

// A device that halts mid-transfer: the transfer in progress ends with the
// bytes it carried (IN: received, OUT: accepted), the others queued with none.
TEST(Faults, StallAfterHaltsInTheMiddleOfATransfer) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("cdc-acm", bus);
  sim::connect_loopback(dev->port(0));
  dev->stall_after(0x02, 2);  // OUT: after two packets
  const std::vector<uint8_t> data = pattern(200);
  Pipe out(*dev, 0x02);
  out.submit_out(data);
  out.submit_out({1, 2, 3});
  bus.advance(5ms);
  auto sent = out.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].status, kIOUSBPipeStalled);
  EXPECT_EQ(sent[0].actual, 128u);
  EXPECT_EQ(sent[1].status, kIOUSBPipeStalled);
  EXPECT_EQ(sent[1].actual, 0u);
  dev->stall_after(0x81, 1, 2);  // IN: after one packet, twice
  Pipe in(*dev, 0x81);
  in.submit_in(128);
  in.submit_in(128);
  bus.advance(5ms);
  auto got = in.take();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].status, kIOUSBPipeStalled);
  EXPECT_EQ(got[0].data, std::vector<uint8_t>(data.begin(), data.begin() + 64));
  EXPECT_EQ(got[1].status, kIOUSBPipeStalled);
  EXPECT_EQ(got[1].actual, 0u);
  EXPECT_EQ(dev->clear_halt(0x81), kIOReturnSuccess);
  in.submit_in(128);
  bus.advance(5ms);
  got = in.take();
  ASSERT_EQ(got.size(), 1u);  // the second halt, one packet later
  EXPECT_EQ(got[0].status, kIOUSBPipeStalled);
  EXPECT_EQ(got[0].data, std::vector<uint8_t>(data.begin() + 64, data.begin() + 128));
  EXPECT_EQ(dev->clear_halt(0x81), kIOReturnSuccess);
  EXPECT_EQ(dev->clear_halt(0x02), kIOReturnSuccess);
  out.submit_out(std::vector<uint8_t>(data.begin() + 128, data.end()));
  in.submit_in(128);
  bus.advance(5ms);
  got = in.take();
  ASSERT_EQ(got.size(), 1u);  // no more halts
  EXPECT_EQ(got[0].status, kIOReturnSuccess);
  EXPECT_EQ(got[0].data, std::vector<uint8_t>(data.begin() + 128, data.end()));
}

// Packets a test puts on the wire go out ahead of the chip's data: a
// zero-length packet ends a transfer with nothing, a short one with its bytes.
TEST(Faults, InjectedInPacketsGoOutAheadOfTheChipsData) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232r", bus);
  EXPECT_TRUE(dev->inject_in_packet(0x81, {}));
  EXPECT_TRUE(dev->inject_in_packet(0x81, {0x01}));
  EXPECT_FALSE(dev->inject_in_packet(0x81, std::vector<uint8_t>(65)));  // over wMaxPacketSize
  EXPECT_FALSE(dev->inject_in_packet(0x02, {0x01}));                    // an OUT endpoint
  Pipe in(*dev, 0x81);
  in.submit_in(64);
  in.submit_in(64);
  in.submit_in(64);
  bus.advance(20ms);
  const auto done = in.take();
  ASSERT_GE(done.size(), 3u);
  EXPECT_EQ(done[0].status, kIOReturnSuccess);
  EXPECT_EQ(done[0].actual, 0u);
  EXPECT_EQ(done[1].data, std::vector<uint8_t>{0x01});
  EXPECT_EQ(done[2].actual, 2u);  // then the chip's own: a status-only packet
}

TEST(Faults, AbortCompletesEverythingQueued) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232r", bus);
  Pipe in(*dev, 0x81);
  for (int i = 0; i < 3; ++i) {
    in.submit_in(64);
  }
  bus.run_until_idle();
  dev->abort(0x81);
  bus.run_until_idle();
  auto done = in.take();
  ASSERT_EQ(done.size(), 3u);
  for (auto& d : done) {
    EXPECT_EQ(d.status, kIOReturnAborted);
  }
}

TEST(Faults, UnplugCompletesPendingThenRunsTheHandler) {
  sim::Bus bus(sim::ClockMode::manual);
  sim::SimOptions o;
  o.paced = true;  // 9600 Bd: the OUT transfer below stays pending
  auto dev = sim::make_device("ft232r", bus, o);
  std::mutex mu;
  std::vector<std::string> events;
  dev->set_detach_handler([&] {
    std::lock_guard lock(mu);
    events.push_back("detached");
  });
  std::vector<uint8_t> in_buf(64), out_buf(3000);
  auto record = [&](const char* what) {
    return [&, what](hostkit::IOReturnValue status, uint32_t) {
      std::lock_guard lock(mu);
      events.push_back(std::string(what) + (status == kIOReturnNoDevice ? ":nodevice" : ":other"));
    };
  };
  ASSERT_EQ(dev->submit(0x81, in_buf, record("in")), kIOReturnSuccess);
  ASSERT_EQ(dev->submit(0x02, out_buf, record("out")), kIOReturnSuccess);  // waits: nothing drains
  bus.run_until_idle();
  dev->unplug();
  bus.run_until_idle();
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0], "in:nodevice");
    EXPECT_EQ(events[1], "out:nodevice");
    EXPECT_EQ(events[2], "detached");
  }
  EXPECT_TRUE(dev->detached());
  EXPECT_EQ(dev->submit(0x81, in_buf, record("late")), kIOReturnNoDevice);
  EXPECT_EQ(control_out(*dev, 0x40, 0x01, 0x0101, 0), kIOReturnNoDevice);
  EXPECT_EQ(dev->clear_halt(0x81), kIOReturnNoDevice);
  EXPECT_TRUE(dev->device_descriptor().empty());
  EXPECT_TRUE(dev->configuration_descriptor().empty());
  bus.run_until_idle();
  std::lock_guard lock(mu);
  EXPECT_EQ(events.size(), 3u);  // the refused submit never completes
}

TEST(Faults, OverriddenDescriptors) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232r", bus);
  const std::vector<uint8_t> bad_config{9, 2, 0xFF, 0xFF, 1, 1, 0, 0x80, 50, 0, 4};
  dev->override_descriptors(std::vector<uint8_t>{18, 1, 0}, bad_config);
  EXPECT_EQ(dev->device_descriptor(), (std::vector<uint8_t>{18, 1, 0}));
  EXPECT_EQ(dev->configuration_descriptor(), bad_config);
  // GET_DESCRIPTOR on endpoint 0 answers the same bytes.
  auto got = control_in(*dev, 0x80, 0x06, 0x0200, 0, 255);
  EXPECT_EQ(got.first, kIOReturnSuccess);
  EXPECT_EQ(got.second, bad_config);
  dev->override_descriptors(std::nullopt, std::nullopt);
  EXPECT_EQ(dev->device_descriptor().size(), 18u);
}

TEST(Faults, ContractViolationsAreRefused) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232r", bus);
  std::vector<uint8_t> buf(64);
  EXPECT_EQ(dev->submit(0x85, buf, [](hostkit::IOReturnValue, uint32_t) {}),
            kIOReturnBadArgument);  // no such endpoint
  EXPECT_EQ(dev->submit(0x81, std::span<uint8_t>(), [](hostkit::IOReturnValue, uint32_t) {}),
            kIOReturnBadArgument);  // empty IN buffer
  hostkit::UsbSetup s{0xC0, 0x05, 0, 0, 2};
  uint16_t actual = 0;
  EXPECT_EQ(dev->control(s, std::span<uint8_t>(buf.data(), 1), actual), kIOReturnBadArgument);
  EXPECT_EQ(sim::make_device("pl2303", bus), nullptr);
  EXPECT_EQ(sim::chip_names(),
            (std::vector<std::string>{
                "cdc-acm",   "ft232bm",   "ft232r",    "ft-x",   "ft2232c",  "ft232h",
                "ft2232h",   "ft4232h",   "tetra-pei", "cp2102", "cp2102n",  "cp2104",
                "cp2105",    "cp2108",    "ch340",     "ch341a", "pl2303-h", "pl2303-hx",
                "pl2303-ta", "pl2303-tb", "pl2303-hxn"}));
}

TEST(StandardRequests, DescriptorsConfigurationInterface) {
  sim::Bus bus(sim::ClockMode::manual);
  sim::SimOptions o;
  o.serial = "ABC";
  auto dev = sim::make_device("ft2232h", bus, o);
  auto got = control_in(*dev, 0x80, 0x06, 0x0100, 0, 64);
  EXPECT_EQ(got.first, kIOReturnSuccess);
  EXPECT_EQ(got.second, dev->device_descriptor());
  got = control_in(*dev, 0x80, 0x06, 0x0200, 0, 9);  // the usual first read: 9 bytes
  ASSERT_EQ(got.second.size(), 9u);
  const size_t total = got.second[2] | (got.second[3] << 8);
  EXPECT_EQ(total, dev->configuration_descriptor().size());
  got = control_in(*dev, 0x80, 0x06, 0x0303, 0x0409, 255);
  EXPECT_EQ(ascii_of(got.second), "ABC");
  EXPECT_EQ(control_in(*dev, 0x80, 0x06, 0x0304, 0x0409, 255).first, kIOUSBPipeStalled);
  EXPECT_EQ(control_in(*dev, 0x80, 0x06, 0x0600, 0, 10).first, kIOUSBPipeStalled);  // qualifier
  EXPECT_EQ(control_out(*dev, 0x00, 0x09, 1, 0), kIOReturnSuccess);
  EXPECT_EQ(control_in(*dev, 0x80, 0x08, 0, 0, 1).second, (std::vector<uint8_t>{1}));
  EXPECT_EQ(control_out(*dev, 0x00, 0x09, 2, 0), kIOUSBPipeStalled);
  EXPECT_EQ(control_out(*dev, 0x01, 0x0B, 0, 1), kIOReturnSuccess);  // SET_INTERFACE alt 0
  EXPECT_EQ(control_out(*dev, 0x01, 0x0B, 1, 1), kIOUSBPipeStalled);
  // Standard requests are not counted as chip requests.
  EXPECT_EQ(dev->port(0).snapshot().counters.control_requests, 0u);
}

}  // namespace
