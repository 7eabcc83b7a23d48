// The CH34x encoder checked by the simulator's independent decoding: transport's requests go
// to a simulated CH340 / CH341A (genuine, old, or a limited clone) through the USB backend
// seam, and the rate the chip then runs at, decoded by the simulator from registers 0x12 and
// 0x13 (sim/ch34x.hpp, which shares no code with transport/), must be the rate transport
// reported. The simulator's decoder also goes through all 2^16 register values for the best
// rate a part can make, so "baud_unreachable" is checked against ground truth.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "hostkit/ioreturn.hpp"
#include "sim/ch34x.hpp"
#include "sim/sim.hpp"
#include "transport/chips/ch34x.hpp"
#include "transport/kern_status.hpp"

namespace {

// transport's ControlSink over a simulated device's endpoint 0.
class SimSink final : public transport::ControlSink {
 public:
  explicit SimSink(sim::SimDevice& device) : device_(device) {}
  transport::Status control(const transport::ControlRequest& r, std::span<uint8_t> data,
                            uint16_t& transferred) override {
    const hostkit::UsbSetup setup{r.bmRequestType, r.bRequest, r.wValue, r.wIndex, r.wLength};
    return transport::kern::to_status(device_.control(setup, data, transferred));
  }

 private:
  sim::SimDevice& device_;
};

// 40 Bd to 4 MBd: the classic rates, odd ones, the data sheets' ends (50 Bd, 2 MBd), the
// generator's ends (45.78 Bd, 3 MBd) and the gaps near the top (1.33, 1.5, 2 MBd).
const std::vector<uint32_t> kRates = {
    40,        45,        46,        50,        75,        110,       134,       150,
    300,       600,       1'200,     1'800,     2'400,     4'800,     7'200,     9'600,
    14'400,    19'200,    23'077,    28'800,    31'250,    38'400,    56'000,    57'600,
    74'880,    76'800,    100'000,   115'200,   128'000,   153'600,   230'400,   250'000,
    256'000,   307'200,   460'800,   500'000,   576'000,   921'600,   1'000'000, 1'152'000,
    1'333'333, 1'400'000, 1'456'311, 1'500'000, 1'600'000, 1'800'000, 1'941'748, 2'000'000,
    2'100'000, 3'000'000, 4'000'000};

// The smallest relative error any valid register setting gives, by the simulator's decoder.
double best_error_fraction(uint32_t rate, bool clone) {
  static std::map<std::pair<uint32_t, bool>, double> cache;
  const auto key = std::make_pair(rate, clone);
  if (auto it = cache.find(key); it != cache.end()) {
    return it->second;
  }
  double best = 1e9;
  for (unsigned prescaler = 0; prescaler < 8; ++prescaler) {  // bits 0-2; bit 7 is no rate
    for (unsigned divisor = 0; divisor < 256; ++divisor) {
      const sim::ch34x::DivisorDecode d = sim::ch34x::decode_divisor(
          static_cast<uint8_t>(prescaler), static_cast<uint8_t>(divisor), clone);
      if (d.valid) {
        best = std::min(best, std::fabs(d.baud - rate) / rate);
      }
    }
  }
  cache[key] = best;
  return best;
}

struct Part {
  const char* chip;
  transport::ChipVariant variant;
  uint8_t version;
  bool clone;
};

void PrintTo(const Part& part, std::ostream* out) {
  *out << part.chip << " version 0x" << std::hex << int{part.version}
       << (part.clone ? " clone" : "");
}

class Ch34xCrossCheck : public ::testing::TestWithParam<Part> {};

TEST_P(Ch34xCrossCheck, EncoderAndChipAgreeAtEveryRate) {
  const Part part = GetParam();
  sim::Bus bus(sim::ClockMode::manual);
  sim::ch34x::Ch34xDevice device(bus, *sim::ch34x::find_variant(part.chip), {},
                                 sim::ch34x::Quirks{part.version, part.clone});
  SimSink sink(device);
  transport::chips::Ch34x chip;
  transport::PortConfig config;
  config.variant = part.variant;
  config.bulk_in_max_packet = 32;
  ASSERT_EQ(chip.configure(config), transport::Status::ok);
  ASSERT_EQ(chip.open(sink), transport::Status::ok);
  EXPECT_EQ(chip.traits().version, part.version);
  EXPECT_EQ(chip.traits().limited_prescaler, part.clone);  // found by the STALL, not told

  for (const uint32_t rate : kRates) {
    SCOPED_TRACE(std::string(part.chip) + " at " + std::to_string(rate));
    const auto before = device.port(0).snapshot();
    uint32_t actual = 0;
    const transport::Status status = chip.set_line(sink, {rate, 8}, actual);
    const auto after = device.port(0).snapshot();
    const double best = best_error_fraction(rate, part.clone);
    const bool in_range = rate >= 46 && rate <= 2'000'000;
    if (status == transport::Status::ok) {
      EXPECT_TRUE(in_range);
      EXPECT_FALSE(after.chip.baud_invalid);
      EXPECT_FALSE(after.garbled);
      EXPECT_NEAR(after.line.baud, actual, 0.5);  // the chip runs at the rate we reported
      const double error = std::fabs(after.line.baud - rate) / rate;
      EXPECT_LE(error, 0.03);
      EXPECT_LE(error, best + 1e-12);  // no setting the chip accepts would have been closer
      // The chip sends short packets at this version (ch341.c's BIT(7) rule).
      EXPECT_TRUE(sim::ch34x::sends_partial_packets(device.reg(0x12), device.version()));
    } else {
      EXPECT_EQ(status, transport::Status::baud_unreachable);
      EXPECT_TRUE(!in_range || best > 0.03) << "the chip could have made this rate within 3 %";
      EXPECT_EQ(after.counters.control_requests, before.counters.control_requests);
      EXPECT_EQ(after.line.baud, before.line.baud);
    }
    EXPECT_EQ(after.counters.invalid_settings, 0u);
    EXPECT_EQ(after.counters.stalled_requests, part.clone ? 1u : 0u);  // only the probe
  }
}

INSTANTIATE_TEST_SUITE_P(
    Parts, Ch34xCrossCheck,
    ::testing::Values(Part{"ch340", transport::ChipVariant::ch340, 0x31, false},
                      Part{"ch341a", transport::ChipVariant::ch341a, 0x30, false},
                      Part{"ch340", transport::ChipVariant::ch340, 0x31, true},
                      Part{"ch341a", transport::ChipVariant::ch341a, 0x27, false},
                      Part{"ch340", transport::ChipVariant::ch340, 0x2F, false}),
    [](const auto& param_info) {
      const Part& p = param_info.param;
      return std::string(p.chip) + "_v" + std::to_string(p.version) + (p.clone ? "_clone" : "");
    });

TEST(Ch34xCrossCheck, FormatsReachTheChipFromVersion0x30) {
  sim::Bus bus(sim::ClockMode::manual);
  auto device = sim::make_device("ch340", bus, {});
  SimSink sink(*device);
  transport::chips::Ch34x chip;
  transport::PortConfig config;
  config.variant = transport::ChipVariant::ch340;
  config.bulk_in_max_packet = 32;
  ASSERT_EQ(chip.configure(config), transport::Status::ok);
  ASSERT_EQ(chip.open(sink), transport::Status::ok);
  using TP = transport::Parity;
  using TS = transport::StopBits;
  const std::vector<std::pair<transport::LineSettings, sim::LineFormat>> cases = {
      {{9600, 8, TP::none, TS::one}, {0, 8, sim::Parity::none, sim::StopBits::one}},
      {{9600, 7, TP::even, TS::two}, {0, 7, sim::Parity::even, sim::StopBits::two}},
      {{9600, 6, TP::odd, TS::one}, {0, 6, sim::Parity::odd, sim::StopBits::one}},
      {{9600, 5, TP::mark, TS::two}, {0, 5, sim::Parity::mark, sim::StopBits::two}},
      {{9600, 8, TP::space, TS::one}, {0, 8, sim::Parity::space, sim::StopBits::one}},
  };
  for (const auto& [line, expected] : cases) {
    uint32_t actual = 0;
    ASSERT_EQ(chip.set_line(sink, line, actual), transport::Status::ok);
    const sim::LineFormat got = device->port(0).snapshot().line;
    EXPECT_EQ(got.data_bits, expected.data_bits);
    EXPECT_EQ(got.parity, expected.parity);
    EXPECT_EQ(got.stop_bits, expected.stop_bits);
  }
  // Modem control and status through the same seam: active low both ways.
  sim::connect_loopback(device->port(0));
  ASSERT_EQ(chip.set_modem_control(sink, {true, true}), transport::Status::ok);
  bus.run_until_idle();
  EXPECT_TRUE(device->port(0).snapshot().dtr);
  transport::ModemStatus modem;
  ASSERT_EQ(chip.get_modem_status(sink, modem), transport::Status::ok);
  EXPECT_EQ(modem, (transport::ModemStatus{true, true, false, true}));
  // Break on and off through register 0x05.
  ASSERT_EQ(chip.set_break(sink, true), transport::Status::ok);
  EXPECT_TRUE(device->port(0).snapshot().break_on);
  ASSERT_EQ(chip.set_break(sink, false), transport::Status::ok);
  EXPECT_FALSE(device->port(0).snapshot().break_on);
  EXPECT_EQ(device->port(0).snapshot().counters.invalid_settings, 0u);
  EXPECT_EQ(device->port(0).snapshot().counters.stalled_requests, 0u);
}

TEST(Ch34xCrossCheck, TheEmulatedBreakOfACloneIsASpaceTheFarEndSeesAsBreak) {
  sim::Bus bus(sim::ClockMode::manual);
  sim::SimOptions paced;
  paced.paced = true;
  sim::ch34x::Ch34xDevice clone(bus, *sim::ch34x::find_variant("ch340"), paced,
                                sim::ch34x::Quirks{std::nullopt, true});
  sim::Terminal far(bus, "far", true);
  sim::connect_null_modem(clone.port(0), far.port());
  SimSink sink(clone);
  transport::chips::Ch34x chip;
  transport::PortConfig config;
  config.variant = transport::ChipVariant::ch340;
  config.bulk_in_max_packet = 32;
  ASSERT_EQ(chip.configure(config), transport::Status::ok);
  ASSERT_EQ(chip.open(sink), transport::Status::ok);
  uint32_t actual = 0;
  ASSERT_EQ(chip.set_line(sink, {115200, 8}, actual), transport::Status::ok);
  far.configure(clone.port(0).snapshot().line);
  EXPECT_EQ(chip.set_break(sink, true), transport::Status::unsupported);

  std::span<const uint8_t> fill;
  ASSERT_EQ(chip.begin_emulated_break(sink, fill), transport::Status::ok);
  EXPECT_NEAR(clone.port(0).snapshot().line.baud, 48e6 / (4096 * 256), 1e-9);
  // The data path's part: the NUL on bulk OUT.
  std::vector<uint8_t> out(fill.begin(), fill.end());
  clone.submit(0x02, out, [](hostkit::IOReturnValue, uint32_t) {});
  bus.advance(std::chrono::microseconds(transport::chips::Ch34x::emulated_break_hold_us()));
  ASSERT_EQ(chip.end_emulated_break(sink), transport::Status::ok);
  EXPECT_NEAR(clone.port(0).snapshot().line.baud, actual, 0.5);
  bus.advance(std::chrono::milliseconds(5));
  const auto received = far.read();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].value, 0x00);
  EXPECT_NE(received[0].flags & sim::rx_flag::kBreak, 0);
  EXPECT_EQ(far.port().snapshot().counters.breaks, 1u);
}

}  // namespace
