// Vendor bulk simulator ("tetra-pei"): the descriptors of a TETRA radio's PEI
// port (VID 0x0CAD, PID 0x9016, interfaces 0 and 1 of class 0xFF with one bulk
// pair each, high speed, no serial-number string), no vendor requests, and a
// bulk data path per interface that the loopback plug and the null-modem cable
// wire like any other simulator's ports.
#include <gtest/gtest.h>

#include "sim_test_util.hpp"

namespace {

using namespace simtest;
using namespace std::chrono_literals;

TEST(VendorBulkDescriptors, TetraPeiRadio) {
  sim::Bus bus(sim::ClockMode::manual);
  sim::SimOptions o;
  o.serial = "IGNORED";  // the radio has no serial-number string
  auto dev = sim::make_device("tetra-pei", bus, o);
  ASSERT_NE(dev, nullptr);
  EXPECT_EQ(dev->chip(), "tetra-pei");
  EXPECT_EQ(dev->port_count(), 2u);
  EXPECT_EQ(dev->speed(), hostkit::UsbSpeed::high);
  const auto d = dev->device_descriptor();
  ASSERT_EQ(d.size(), 18u);
  EXPECT_EQ(d[2] | (d[3] << 8), 0x0200);  // bcdUSB 2.0
  EXPECT_EQ(d[4], 0x00);                  // class per interface
  EXPECT_EQ(d[8] | (d[9] << 8), 0x0CAD);
  EXPECT_EQ(d[10] | (d[11] << 8), 0x9016);
  EXPECT_EQ(d[16], 0);  // iSerialNumber
  EXPECT_EQ(d[17], 1);  // one configuration
  EXPECT_NE(ascii_of(dev->string_descriptor(d[15])).find("TETRA"), std::string::npos);
  const auto ifs = walk_config(dev->configuration_descriptor());
  ASSERT_EQ(ifs.size(), 2u);
  for (uint8_t i = 0; i < 2; ++i) {
    SCOPED_TRACE(int{i});
    EXPECT_EQ(ifs[i].number, i);
    EXPECT_EQ(ifs[i].cls, 0xFF);
    EXPECT_EQ(ifs[i].num_endpoints, 2);
    ASSERT_EQ(ifs[i].endpoints.size(), 2u);
    EXPECT_EQ(ifs[i].endpoints[0].address, 0x81 + i);
    EXPECT_EQ(ifs[i].endpoints[1].address, 0x01 + i);
    for (const DescEndpoint& ep : ifs[i].endpoints) {
      EXPECT_EQ(ep.attributes, 0x02);  // bulk
      EXPECT_EQ(ep.max_packet, 512);   // the high-speed bulk size
    }
    EXPECT_TRUE(ifs[i].functional.empty());
  }
}

TEST(VendorBulkDescriptors, FullSpeedPortGivesSixtyFourBytePackets) {
  sim::Bus bus(sim::ClockMode::manual);
  sim::SimOptions o;
  o.full_speed_port = true;
  auto dev = sim::make_device("tetra-pei", bus, o);
  EXPECT_EQ(dev->speed(), hostkit::UsbSpeed::full);
  for (const DescInterface& itf : walk_config(dev->configuration_descriptor())) {
    for (const DescEndpoint& ep : itf.endpoints) {
      EXPECT_EQ(ep.max_packet, 64);
    }
  }
}

TEST(VendorBulkRequests, EveryVendorAndClassRequestStalls) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("tetra-pei", bus);
  EXPECT_EQ(control_out(*dev, 0x40, 0x01, 0x0101, 0), kIOUSBPipeStalled);     // FTDI-like
  EXPECT_EQ(control_out(*dev, 0x21, 0x22, 0x0003, 1), kIOUSBPipeStalled);     // CDC DTR/RTS
  EXPECT_EQ(control_in(*dev, 0xC0, 0x05, 0, 1, 2).first, kIOUSBPipeStalled);  // vendor IN
  EXPECT_EQ(control_out(*dev, 0x41, 0x00, 0, 9), kIOUSBPipeStalled);          // no interface 9
  EXPECT_EQ(dev->port(0).snapshot().counters.control_requests, 2u);           // wIndex 0, and 9
  EXPECT_EQ(dev->port(1).snapshot().counters.control_requests, 2u);
  EXPECT_EQ(dev->port(1).snapshot().counters.stalled_requests, 2u);
  // The modem lines stay as they were: the device has none to program.
  EXPECT_FALSE(dev->port(0).snapshot().dtr);
  EXPECT_FALSE(dev->port(1).snapshot().rts);
}

TEST(VendorBulkData, EachInterfaceLoopsBackOnItself) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("tetra-pei", bus);
  sim::connect_loopback(dev->port(0));
  sim::connect_loopback(dev->port(1));
  Pipe in0(*dev, 0x81), out0(*dev, 0x01), in1(*dev, 0x82), out1(*dev, 0x02);
  const auto a = pattern(3000, 1);
  const auto b = pattern(1000, 2);
  ASSERT_EQ(out0.submit_out(a), kIOReturnSuccess);
  ASSERT_EQ(out1.submit_out(b), kIOReturnSuccess);
  ASSERT_EQ(in0.submit_in(4096), kIOReturnSuccess);
  ASSERT_EQ(in1.submit_in(4096), kIOReturnSuccess);
  bus.advance(1ms);
  const auto got0 = in0.take();
  const auto got1 = in1.take();
  ASSERT_EQ(got0.size(), 1u);
  ASSERT_EQ(got1.size(), 1u);
  EXPECT_EQ(got0[0].data, a);
  EXPECT_EQ(got1[0].data, b);
  EXPECT_EQ(out0.take().at(0).actual, 3000u);
  EXPECT_EQ(out1.take().at(0).actual, 1000u);
  const auto c = dev->port(0).snapshot().counters;
  EXPECT_EQ(c.usb_out_bytes, 3000u);
  EXPECT_EQ(c.usb_in_bytes, 3000u);
  EXPECT_EQ(c.usb_in_packets, 6u);  // five full 512-byte packets and a short one
}

TEST(VendorBulkData, ShortPacketAtTheNextMicroframe) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("tetra-pei", bus);
  sim::connect_loopback(dev->port(1));
  Pipe in(*dev, 0x82), out(*dev, 0x02);
  bus.advance(10us);
  in.submit_in(2048);
  out.submit_out(bytes("AT+CSQ?\r"));
  bus.run_until_idle();
  EXPECT_EQ(in.count(), 0u);
  bus.advance(114us);
  EXPECT_EQ(in.count(), 0u);
  bus.advance(1us);  // 125 µs: the microframe boundary
  const auto done = in.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data, bytes("AT+CSQ?\r"));
}

TEST(VendorBulkData, FullTransferAtOnceAndZeroLengthPacketEndsAFullOne) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("tetra-pei", bus);
  sim::connect_loopback(dev->port(0));
  Pipe in(*dev, 0x81), out(*dev, 0x01);
  out.submit_out(pattern(1024));
  bus.run_until_idle();
  in.submit_in(512);
  bus.run_until_idle();
  ASSERT_EQ(in.count(), 1u);  // full: completes without waiting for a frame
  in.submit_in(2048);
  bus.run_until_idle();
  EXPECT_EQ(in.count(), 1u);  // 512 bytes in, not full, no short packet yet
  bus.advance(125us);
  auto done = in.take();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[1].actual, 512u);  // ended by a zero-length packet
  auto all = done[0].data;
  all.insert(all.end(), done[1].data.begin(), done[1].data.end());
  EXPECT_EQ(all, pattern(1024));
}

TEST(VendorBulkData, OutNaksWhileNothingCanBeTaken) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("tetra-pei", bus);
  sim::connect_loopback(dev->port(0));
  Pipe in(*dev, 0x81), out(*dev, 0x01);
  // Nobody reads: the far side's 4 KiB and the device's 4 KiB fill, then OUT waits.
  out.submit_out(pattern(10000));
  bus.advance(10ms);
  EXPECT_EQ(out.count(), 0u);
  EXPECT_EQ(dev->port(0).snapshot().counters.usb_out_bytes, 8192u);
  std::vector<uint8_t> got;
  while (got.size() < 10000) {
    in.submit_in(4096);
    bus.advance(1ms);
    for (const Done& d : in.take()) {
      got.insert(got.end(), d.data.begin(), d.data.end());
    }
  }
  EXPECT_EQ(got, pattern(10000));
  ASSERT_EQ(out.count(), 1u);
}

TEST(VendorBulkData, NullModemJoinsInterfaceIOfTwoRadios) {
  sim::Bus bus(sim::ClockMode::manual);
  auto a = sim::make_device("tetra-pei", bus);
  auto b = sim::make_device("tetra-pei", bus);
  sim::connect_null_modem(a->port(0), b->port(0));
  sim::connect_null_modem(a->port(1), b->port(1));
  Pipe a_out1(*a, 0x02), b_in1(*b, 0x82), b_out0(*b, 0x01), a_in0(*a, 0x81);
  a_out1.submit_out(bytes("+CTXG: 1\r\n"));
  b_out0.submit_out(bytes("AT\r"));
  b_in1.submit_in(512);
  a_in0.submit_in(512);
  bus.advance(1ms);
  EXPECT_EQ(b_in1.take().at(0).data, bytes("+CTXG: 1\r\n"));
  EXPECT_EQ(a_in0.take().at(0).data, bytes("AT\r"));
}

}  // namespace
