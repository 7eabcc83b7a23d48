// The PL2303 encoder checked by the simulator's independent decoding: transport's Pl2303
// opens a simulated chip (type probe, init sequence) and sets every rate; the rate the chip
// then runs at, decoded by the simulator from the line coding, must be the rate transport
// reported. Ground truth for "the closest rate the part can make" is also the simulator's:
// every divisor encoding of the type and every direct rate is sent to a second simulated chip
// and the rate it runs at recorded, so baud_unreachable is checked against what the chip
// does, not against the encoder's arithmetic.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "hostkit/ioreturn.hpp"
#include "sim/pl2303.hpp"
#include "sim/sim.hpp"
#include "transport/chips/pl2303.hpp"
#include "transport/kern_status.hpp"

namespace {

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

const std::vector<uint32_t> kRates = {
    5,         6,         30,         45,         46,         50,        75,        110,
    134,       150,       200,        300,        600,        1'200,     1'800,     2'400,
    4'800,     7'200,     9'600,      14'400,     19'200,     28'800,    31'250,    38'400,
    56'000,    57'600,    74'880,     76'800,     100'000,    115'200,   128'000,   153'600,
    230'400,   250'000,   256'000,    460'800,    500'000,    614'400,   921'600,   1'000'000,
    1'228'800, 1'500'000, 2'000'000,  2'457'600,  3'000'000,  4'000'000, 5'000'000, 6'000'000,
    6'000'001, 8'000'000, 10'000'000, 12'000'000, 12'000'001, 15'000'000};

struct Part {
  const char* chip;                   // simulator
  transport::ChipVariant configured;  // what the descriptors say
  transport::ChipVariant driven;      // what the open decides
  bool initialised;                   // the vendor init sequence must reach the chip
  unsigned mantissa_bits, exponent_max, exponent_step;  // 0 bits: no divisors
  uint32_t min_baud, max_baud;  // the type's declared range (docs/chips/pl2303.md)
};

void PrintTo(const Part& part, std::ostream* out) {
  *out << part.chip;
}

std::vector<uint8_t> coding(uint32_t field) {
  return {static_cast<uint8_t>(field),
          static_cast<uint8_t>(field >> 8),
          static_cast<uint8_t>(field >> 16),
          static_cast<uint8_t>(field >> 24),
          0,
          0,
          8};
}

// Every rate the simulated part runs at for some line coding: all divisor encodings of its
// layout and all direct values in the table (the G series: its whole direct range).
std::vector<double> achievable(const Part& part) {
  sim::Bus bus(sim::ClockMode::manual);
  auto device = sim::make_device(part.chip, bus, {});
  std::vector<double> rates;
  auto run = [&](const std::vector<uint8_t>& c) {
    std::vector<uint8_t> data = c;
    uint16_t actual = 0;
    const hostkit::UsbSetup setup{0x21, 0x20, 0, 0, 7};
    if (device->control(setup, data, actual) != kIOReturnSuccess) {
      return;
    }
    const auto s = device->port(0).snapshot();
    if (!s.garbled && !s.chip.baud_invalid) {
      rates.push_back(s.line.baud);
    }
  };
  if (part.mantissa_bits == 0) {
    return {};  // the G series takes every rate directly: the best error is 0 in range
  }
  const uint32_t mantissa_max = (1u << part.mantissa_bits) - 1;
  for (uint32_t e = 0; e <= part.exponent_max; ++e) {
    for (uint32_t m = 1; m <= mantissa_max; ++m) {
      std::vector<uint8_t> c(7, 0);
      c[0] = static_cast<uint8_t>(m);
      if (part.exponent_step == 2) {
        c[1] = static_cast<uint8_t>((e << 1) | (m >> 8));
      } else {
        c[1] = static_cast<uint8_t>(((e & ~1u) << 4) | (m >> 8));
        c[2] = static_cast<uint8_t>(e & 1u);
      }
      c[3] = 0x80;
      c[6] = 8;
      run(c);
    }
  }
  for (const uint32_t direct :
       {75u,     150u,    300u,    600u,     1200u,    1800u,    2400u,   3600u,   4800u,
        7200u,   9600u,   14400u,  19200u,   28800u,   38400u,   57600u,  115200u, 230400u,
        460800u, 614400u, 921600u, 1228800u, 2457600u, 3000000u, 6000000u}) {
    run(coding(direct));
  }
  return rates;
}

double best_error_fraction(const Part& part, const std::vector<double>& rates, uint32_t rate) {
  if (part.mantissa_bits == 0) {
    return rate <= part.max_baud ? 0.0 : 1.0;
  }
  double best = 1e9;
  for (const double r : rates) {
    best = std::min(best, std::fabs(r - rate) / rate);
  }
  return best;
}

class Pl2303CrossCheck : public ::testing::TestWithParam<Part> {};

TEST_P(Pl2303CrossCheck, EncoderAndChipAgreeAtEveryRate) {
  const Part part = GetParam();
  const std::vector<double> ground_truth = achievable(part);
  sim::Bus bus(sim::ClockMode::manual);
  auto device = sim::make_device(part.chip, bus, {});
  ASSERT_NE(device, nullptr);
  SimSink sink(*device);
  transport::chips::Pl2303 chip;
  transport::PortConfig config;
  config.variant = part.configured;
  config.bulk_in_max_packet = 64;
  config.interrupt_max_packet = 10;
  ASSERT_EQ(chip.configure(config), transport::Status::ok);
  ASSERT_EQ(chip.open(sink), transport::Status::ok);
  EXPECT_EQ(chip.variant(), part.driven);
  auto& pl = static_cast<sim::pl2303::Pl2303Device&>(*device);
  EXPECT_EQ(pl.observed().initialised, part.initialised);

  for (const uint32_t rate : kRates) {
    SCOPED_TRACE(std::string(part.chip) + " at " + std::to_string(rate));
    const auto before = device->port(0).snapshot();
    uint32_t actual = 0;
    const transport::Status status = chip.set_line(sink, {rate, 8}, actual);
    const auto after = device->port(0).snapshot();
    const double best = best_error_fraction(part, ground_truth, rate);
    if (status == transport::Status::ok) {
      EXPECT_FALSE(after.chip.baud_invalid);  // never a direct value the chip does not know
      EXPECT_FALSE(after.garbled);
      EXPECT_NEAR(after.line.baud, actual, 0.5);  // the chip runs at the rate we reported
      const double error = std::fabs(after.line.baud - rate) / rate;
      EXPECT_LE(error, 0.03);
      EXPECT_LE(error, best + 1e-9);  // no coding the chip accepts comes closer
    } else {
      EXPECT_EQ(status, transport::Status::baud_unreachable);
      // Refused only when the chip cannot make it within 3 %, or outside the type's range.
      EXPECT_TRUE(best > 0.03 || rate < part.min_baud || rate > part.max_baud) << best;
      EXPECT_EQ(after.counters.control_requests, before.counters.control_requests);
      EXPECT_EQ(after.line.baud, before.line.baud);
    }
    EXPECT_EQ(after.counters.invalid_settings, 0u);
  }
}

using transport::ChipVariant;
INSTANTIATE_TEST_SUITE_P(
    EveryType, Pl2303CrossCheck,
    ::testing::Values(Part{"pl2303-h", ChipVariant::pl2303_h, ChipVariant::pl2303_h, true, 9, 7, 2,
                           46, 1'228'800},
                      Part{"pl2303-hx", ChipVariant::pl2303_hx, ChipVariant::pl2303_hx, true, 9, 7,
                           2, 46, 6'000'000},
                      // No HXD simulator: it is the HX's layout with a 12 MBd cap (encoder tables).
                      Part{"pl2303-ta", ChipVariant::pl2303_ta, ChipVariant::pl2303_ta, true, 11,
                           15, 1, 6, 6'000'000},
                      Part{"pl2303-tb", ChipVariant::pl2303_tb, ChipVariant::pl2303_tb, true, 11,
                           15, 1, 6, 12'000'000},
                      Part{"pl2303-hxn", ChipVariant::pl2303_hxn, ChipVariant::pl2303_hxn, false, 0,
                           0, 0, 75, 12'000'000},
                      // A G-series part with a TA's descriptors (a PL2303GT): the probe is refused
                      // and the rates go directly.
                      Part{"pl2303-hxn", ChipVariant::pl2303_ta, ChipVariant::pl2303_hxn, false, 0,
                           0, 0, 75, 12'000'000}),
    [](const auto& param_info) {
      std::string name = param_info.param.chip;
      std::erase(name, '-');
      return name + "_" + std::to_string(param_info.index);
    });

TEST(Pl2303CrossCheck, FormatsAndLinesReachTheChip) {
  sim::Bus bus(sim::ClockMode::manual);
  auto device = sim::make_device("pl2303-tb", bus, {});
  SimSink sink(*device);
  transport::chips::Pl2303 chip;
  transport::PortConfig config;
  config.variant = transport::ChipVariant::pl2303_tb;
  config.bulk_in_max_packet = 64;
  config.interrupt_max_packet = 10;
  ASSERT_EQ(chip.configure(config), transport::Status::ok);
  ASSERT_EQ(chip.open(sink), transport::Status::ok);
  const std::vector<std::pair<transport::LineSettings, sim::LineFormat>> cases = {
      {{9600, 5, transport::Parity::mark, transport::StopBits::one_and_half},
       {9600, 5, sim::Parity::mark, sim::StopBits::one_and_half}},
      {{9600, 6, transport::Parity::space, transport::StopBits::two},
       {9600, 6, sim::Parity::space, sim::StopBits::two}},
      {{9600, 7, transport::Parity::even, transport::StopBits::one},
       {9600, 7, sim::Parity::even, sim::StopBits::one}},
      {{9600, 8, transport::Parity::odd, transport::StopBits::one},
       {9600, 8, sim::Parity::odd, sim::StopBits::one}},
  };
  for (const auto& [line, expected] : cases) {
    uint32_t actual = 0;
    ASSERT_EQ(chip.set_line(sink, line, actual), transport::Status::ok);
    const sim::LineFormat got = device->port(0).snapshot().line;
    EXPECT_EQ(got.data_bits, expected.data_bits);
    EXPECT_EQ(got.parity, expected.parity);
    EXPECT_EQ(got.stop_bits, expected.stop_bits);
  }
  auto& pl = static_cast<sim::pl2303::Pl2303Device&>(*device);
  const uint32_t sent = pl.observed().set_line_requests;
  uint32_t actual = 0;
  ASSERT_EQ(chip.set_line(sink, cases.back().first, actual), transport::Status::ok);
  EXPECT_EQ(pl.observed().set_line_requests, sent);  // unchanged: not sent again

  ASSERT_EQ(chip.set_modem_control(sink, {true, false}), transport::Status::ok);
  EXPECT_TRUE(device->port(0).snapshot().dtr);
  EXPECT_FALSE(device->port(0).snapshot().rts);
  transport::FlowControl flow;
  flow.modes = transport::flow::kRtsCts;
  ASSERT_EQ(chip.set_flow_control(sink, flow), transport::Status::ok);
  EXPECT_EQ(device->port(0).snapshot().flow, sim::flow_mode::kRtsCts);
  flow.modes = transport::flow::kXonXoffOut | transport::flow::kXonXoffIn;
  ASSERT_EQ(chip.set_flow_control(sink, flow), transport::Status::ok);
  EXPECT_EQ(device->port(0).snapshot().flow, sim::flow_mode::kXonXoff);
  ASSERT_EQ(chip.set_break(sink, true), transport::Status::ok);
  EXPECT_TRUE(device->port(0).snapshot().break_on);
  ASSERT_EQ(chip.close(sink), transport::Status::ok);
  const auto s = device->port(0).snapshot();
  EXPECT_EQ(s.flow, sim::flow_mode::kNone);
  EXPECT_FALSE(s.dtr);
  EXPECT_FALSE(s.rts);
  EXPECT_FALSE(s.break_on);
  EXPECT_EQ(s.counters.invalid_settings, 0u);
  EXPECT_EQ(s.counters.stalled_requests, 0u);
}

}  // namespace
