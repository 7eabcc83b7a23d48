// CP210x simulator bulk IN: raw data, event insertion (ESC 00 literal, ESC 01 LSR DATA for an
// errored character, ESC 02 LSR for a lost one, ESC 03 MSR for a modem-line change), escape
// sequences split across packets, and packet timing. Layouts: reference §3.4.
#include <gtest/gtest.h>

#include "sim/cp210x.hpp"
#include "sim_test_util.hpp"

namespace {

using namespace simtest;
using namespace std::chrono_literals;

constexpr uint8_t kOut = 0x41;
constexpr uint8_t E = 0xEC;

struct Rig {
  sim::Bus bus{sim::ClockMode::manual};
  std::unique_ptr<sim::SimDevice> dev;
  sim::Terminal far;
  explicit Rig(bool events = true, bool paced = false) : far(bus, "far", paced) {
    sim::SimOptions options;
    options.paced = paced;
    dev = sim::make_device("cp2104", bus, options);
    EXPECT_EQ(control_out(*dev, kOut, 0x00, 1, 0), kIOReturnSuccess);
    if (events) {
      EXPECT_EQ(control_out(*dev, kOut, 0x15, E, 0), kIOReturnSuccess);
    }
    sim::connect_null_modem(dev->port(0), far.port());
    bus.run_until_idle();
    in = std::make_unique<Pipe>(*dev, 0x81);
    modem_event = receive(1);  // the far end's DTR and RTS came up: ESC 03 MSR
  }
  std::vector<uint8_t> modem_event;
  std::unique_ptr<Pipe> in;
  // Everything that arrives within 5 ms in `transfers` more 64-byte IN transfers (one that is
  // not completed stays queued for the next call).
  std::vector<uint8_t> receive(size_t transfers = 4) {
    for (size_t i = 0; i < transfers; ++i) {
      in->submit_in(64);
    }
    bus.advance(5ms);
    std::vector<uint8_t> all;
    for (const Done& d : in->take()) {
      EXPECT_EQ(d.status, kIOReturnSuccess);
      all.insert(all.end(), d.data.begin(), d.data.end());
    }
    return all;
  }
};

TEST(Cp210xIn, RawWithoutEventInsertion) {
  Rig r(false);
  r.far.write({1, E, 3});
  r.bus.run_until_idle();
  EXPECT_EQ(r.receive(), (std::vector<uint8_t>{1, E, 3}));
}

TEST(Cp210xIn, TheEscapeCharacterIsDoubledAsEsc00) {
  Rig r;
  r.far.write({1, E, 3, E});
  r.bus.run_until_idle();
  EXPECT_EQ(r.receive(), (std::vector<uint8_t>{1, E, 0x00, 3, E, 0x00}));
}

TEST(Cp210xIn, AParityErrorComesWithItsLineStatus) {
  Rig r;
  // The chip at 8E1; the far end sends 0x03 at 8O1: parity bit wrong.
  ASSERT_EQ(control_out(*r.dev, kOut, 0x03, 0x0820, 0), kIOReturnSuccess);
  sim::LineFormat odd;
  odd.parity = sim::Parity::odd;
  r.far.configure(odd);
  r.far.write({0x03});
  r.bus.run_until_idle();
  EXPECT_EQ(r.receive(), (std::vector<uint8_t>{E, 0x01, 0x04, 0x03}));
}

TEST(Cp210xIn, ABreakIsANulWithTheBreakBit) {
  Rig r;
  r.far.set_break(true);
  r.bus.advance(10ms);
  r.far.set_break(false);
  r.bus.run_until_idle();
  const auto got = r.receive();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], E);
  EXPECT_EQ(got[1], 0x01);
  EXPECT_EQ(got[2] & 0x10, 0x10);
  EXPECT_EQ(got[3], 0x00);
}

TEST(Cp210xIn, ASequenceThatDoesNotFitTheEndOfAPacketGoesOnInTheNext) {
  Rig r;
  ASSERT_EQ(control_out(*r.dev, kOut, 0x03, 0x0820, 0), kIOReturnSuccess);  // 8E1
  sim::LineFormat odd;
  odd.parity = sim::Parity::odd;
  // 62 good characters at 8E1, then one with the wrong parity: 62 + 4 bytes = 66.
  sim::LineFormat even;
  even.parity = sim::Parity::even;
  r.far.configure(even);
  r.far.write(std::vector<uint8_t>(62, 0x41));
  r.bus.run_until_idle();
  r.far.configure(odd);
  r.far.write({0x03});
  r.bus.run_until_idle();
  r.in->submit_in(64);
  r.in->submit_in(64);
  r.bus.advance(5ms);
  const auto done = r.in->take();
  ASSERT_EQ(done.size(), 2u);
  ASSERT_EQ(done[0].data.size(), 64u);
  EXPECT_EQ(done[0].data[62], E);
  EXPECT_EQ(done[0].data[63], 0x01);
  EXPECT_EQ(done[1].data, (std::vector<uint8_t>{0x04, 0x03}));
}

TEST(Cp210xIn, ModemLineChangesAreInserted) {
  Rig r;
  // A null modem: the far end's RTS is our CTS, its DTR our DSR and DCD; all came up.
  EXPECT_EQ(r.modem_event, (std::vector<uint8_t>{E, 0x03, 0xB0 | 0x0B}));
  r.far.set_rts(false);
  r.bus.run_until_idle();
  EXPECT_EQ(r.receive(), (std::vector<uint8_t>{E, 0x03, 0xA0 | 0x01}));  // CTS went, changed
  Rig raw(false);
  EXPECT_TRUE(raw.modem_event.empty());
}

TEST(Cp210xIn, ALostCharacterIsReportedBeforeTheNextBytes) {
  Rig r(true, true);
  // Paced at 9600 Bd: more than the 576-byte receive FIFO of a CP2104 arrives with nobody
  // reading, so the rest is lost, and the loss comes as ESC 02 02 before the next bytes.
  r.far.write(std::vector<uint8_t>(600, 0x55));
  r.bus.advance(std::chrono::milliseconds(600 * 10 * 1000 / 9600 + 20));
  EXPECT_EQ(r.dev->port(0).snapshot().counters.overruns, 24u);
  const auto got = r.receive(12);
  ASSERT_EQ(got.size(), 3u + 576u);
  EXPECT_EQ(got[0], E);
  EXPECT_EQ(got[1], 0x02);
  EXPECT_EQ(got[2], 0x02);
  EXPECT_EQ(got[3], 0x55);
  // GET_COMM_STATUS shows it as a queue overrun (bit 3).
  EXPECT_EQ(control_in(*r.dev, 0xC1, 0x10, 0, 0, 19).second[0] & 0x08, 0x08);
}

TEST(Cp210xIn, FullPacketsAtOnceTheRestAtTheNextFrame) {
  Rig r;
  const uint64_t before = r.dev->port(0).snapshot().counters.usb_in_packets;
  r.in->submit_in(256);
  r.far.write(std::vector<uint8_t>(100, 0x42));
  r.bus.run_until_idle();
  EXPECT_EQ(r.in->count(), 0u);  // one full packet is in, the transfer waits for more
  r.bus.advance(1ms);
  const auto done = r.in->take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].actual, 100u);
  EXPECT_EQ(r.dev->port(0).snapshot().counters.usb_in_packets - before, 2u);  // 64 + 36
}

TEST(Cp210xIn, ADisabledUartNaksTheHostsData) {
  Rig r;
  Pipe out(*r.dev, 0x01);
  ASSERT_EQ(control_out(*r.dev, kOut, 0x00, 0, 0), kIOReturnSuccess);
  out.submit_out(bytes("held"));
  r.bus.run_until_idle();
  EXPECT_EQ(out.count(), 0u);
  EXPECT_TRUE(r.far.read().empty());
  ASSERT_EQ(control_out(*r.dev, kOut, 0x00, 1, 0), kIOReturnSuccess);
  r.bus.run_until_idle();
  EXPECT_EQ(out.count(), 1u);
  EXPECT_EQ(r.far.read().size(), 4u);
}

}  // namespace
