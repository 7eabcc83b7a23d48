// transport's CP210x protocol against the CP210x simulator's independent reading of AN571,
// AN205 and the data sheets: the requests go to the simulated chip through the USB backend
// seam, and what the chip then does must be what transport reported.
//   - Rates: the chip runs at the rate transport reported; an unreachable rate is one no
//     value the chip accepts would bring within 3 % (searched with the simulator's decoder),
//     and nothing reaches the chip then.
//   - Part detection: GET_PARTNUM and the quirk probes, answered by the simulator.
//   - Formats: what transport refuses the chip could not do, and what it sends the chip takes.
//   - Line errors: the simulator's event insertion, decoded by transport, counts every error
//     the simulated UART saw.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "hostkit/ioreturn.hpp"
#include "sim/cp210x.hpp"
#include "sim/sim.hpp"
#include "transport/chips/cp210x.hpp"
#include "transport/kern_status.hpp"

namespace {

using namespace std::chrono_literals;

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
    50,        110,       150,       291,       292,       300,       365,       366,
    600,       1'200,     2'330,     2'331,     2'400,     4'800,     4'803,     4'804,
    9'600,     9'612,     9'613,     14'400,    19'200,    31'250,    38'400,    56'000,
    57'600,    74'880,    76'800,    100'000,   115'200,   128'000,   230'400,   250'000,
    256'000,   460'800,   500'000,   576'000,   921'600,   950'103,   950'104,   1'000'000,
    1'152'000, 1'454'630, 1'500'000, 1'843'200, 2'000'000, 2'061'855, 2'061'856, 2'500'000,
    2'700'000, 3'000'000, 3'092'783, 3'092'784, 3'500'000, 4'000'000};

// The closest rate the UART makes for any value it accepts, by the simulator's decoding.
double best_error(const sim::cp210x::UartSpec& spec, uint32_t rate) {
  auto chip_rate = [&](uint32_t value) {
    const auto r = sim::cp210x::uart_rate(spec.rule, value, spec.exact_from);
    return r ? *r : -1e12;
  };
  double best = 1e9;
  auto consider = [&](uint32_t value) {
    if (value >= spec.min_baud && value <= spec.max_baud) {
      best = std::min(best, std::fabs(chip_rate(value) - rate) / rate);
    }
  };
  if (spec.rule == sim::cp210x::RateRule::divider) {
    // The rate never falls as the value rises: the best is next to where it crosses `rate`.
    uint32_t lo = spec.min_baud;
    uint32_t hi = spec.max_baud;
    while (lo < hi) {
      const uint32_t mid = lo + (hi - lo) / 2;
      if (chip_rate(mid) < rate) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    consider(lo);
    consider(lo - 1);
  } else {
    for (const uint32_t table_rate : sim::cp210x::an205_rates()) {
      consider(table_rate);  // every rate of the table, sent as itself
    }
    if (spec.exact_from != 0) {
      consider(std::clamp(rate, spec.exact_from, spec.max_baud));
    }
  }
  return best;
}

struct Part {
  const char* chip;
  transport::ChipVariant variant;  // what the device table gives the port
  uint8_t port;
  const char* detected;
};

void PrintTo(const Part& part, std::ostream* out) {
  *out << part.chip << " port " << static_cast<int>(part.port);
}

class Cp210xCrossCheck : public ::testing::TestWithParam<Part> {
 protected:
  void SetUp() override {
    const Part& part = GetParam();
    device_ = sim::make_device(part.chip, bus_, {});
    ASSERT_NE(device_, nullptr);
    sink_ = std::make_unique<SimSink>(*device_);
    transport::PortConfig config;
    config.variant = part.variant;
    config.port_index = part.port;
    config.interface_number = part.port;
    config.data_interface = part.port;
    config.bulk_in_max_packet = 64;
    ASSERT_EQ(chip_.configure(config), transport::Status::ok);
    ASSERT_EQ(chip_.open(*sink_), transport::Status::ok);
  }
  const sim::cp210x::UartSpec& spec() const {
    return sim::cp210x::find_variant(GetParam().chip)->uarts[GetParam().port];
  }

  sim::Bus bus_{sim::ClockMode::manual};
  std::unique_ptr<sim::SimDevice> device_;
  std::unique_ptr<SimSink> sink_;
  transport::chips::Cp210x chip_;
};

TEST_P(Cp210xCrossCheck, TheSimulatedPartIsDetectedAndEnabled) {
  EXPECT_STREQ(chip_.name(), GetParam().detected);
  auto& cp = static_cast<sim::cp210x::Cp210xDevice&>(*device_);
  EXPECT_TRUE(cp.state(GetParam().port).enabled);
  EXPECT_EQ(cp.state(GetParam().port).escape, 0xEC);
  EXPECT_TRUE(chip_.event_mode());
  EXPECT_EQ(device_->port(GetParam().port).snapshot().counters.stalled_requests, 0u);
}

TEST_P(Cp210xCrossCheck, EncoderAndChipAgreeAtEveryRate) {
  const uint8_t port = GetParam().port;
  for (const uint32_t rate : kRates) {
    SCOPED_TRACE(std::to_string(rate) + " Bd");
    const auto before = device_->port(port).snapshot();
    uint32_t actual = 0;
    const transport::Status status = chip_.set_line(*sink_, {rate, 8}, actual);
    const auto after = device_->port(port).snapshot();
    const double best = best_error(spec(), rate);
    if (status == transport::Status::ok) {
      EXPECT_FALSE(after.chip.baud_invalid);
      EXPECT_NEAR(after.line.baud, actual, 0.5);  // the chip runs at the rate we reported
      const double error = std::fabs(after.line.baud - rate) / rate;
      EXPECT_LE(error, 0.03);
      EXPECT_LE(error, best + 1e-9);  // no value the chip takes would have come closer
    } else {
      EXPECT_EQ(status, transport::Status::baud_unreachable);
      EXPECT_GT(best, 0.03) << "the chip could have made this rate within 3 %";
      EXPECT_EQ(after.counters.control_requests, before.counters.control_requests);
      EXPECT_EQ(after.line.baud, before.line.baud);
    }
    EXPECT_EQ(after.counters.invalid_settings, 0u);
    EXPECT_EQ(after.counters.stalled_requests, 0u);
  }
}

TEST_P(Cp210xCrossCheck, FormatsTransportSendsAreTakenAndThoseItRefusesAreNotTheChips) {
  const uint8_t port = GetParam().port;
  const transport::Parity parities[] = {transport::Parity::none, transport::Parity::odd,
                                        transport::Parity::even, transport::Parity::mark,
                                        transport::Parity::space};
  const transport::StopBits stops[] = {transport::StopBits::one, transport::StopBits::one_and_half,
                                       transport::StopBits::two};
  for (uint8_t bits = 5; bits <= 8; ++bits) {
    for (const transport::Parity parity : parities) {
      for (const transport::StopBits stop : stops) {
        const auto before = device_->port(port).snapshot();
        uint32_t actual = 0;
        const transport::Status status = chip_.set_line(*sink_, {9600, bits, parity, stop}, actual);
        const auto after = device_->port(port).snapshot();
        SCOPED_TRACE(std::to_string(bits) + " bits, parity " + std::to_string(int(parity)) +
                     ", stop " + std::to_string(int(stop)));
        if (status == transport::Status::ok) {
          EXPECT_FALSE(after.chip.format_invalid);
          EXPECT_EQ(after.line.data_bits, bits);
          EXPECT_EQ(static_cast<int>(after.line.parity), static_cast<int>(parity));
          EXPECT_EQ(static_cast<int>(after.line.stop_bits), static_cast<int>(stop));
        } else {
          EXPECT_EQ(status, transport::Status::unsupported);
          EXPECT_EQ(after.counters.control_requests, before.counters.control_requests);
          // Sent anyway, the chip would not have it either.
          const uint16_t raw = static_cast<uint16_t>((bits << 8) | (int(parity) << 4) | int(stop));
          hostkit::UsbSetup setup{0x41, 0x03, raw, port, 0};
          uint16_t transferred = 0;
          EXPECT_EQ(device_->control(setup, {}, transferred), hostkit::IOReturnValue{0});
          const auto refused = device_->port(port).snapshot();
          EXPECT_TRUE(refused.chip.format_invalid);
          EXPECT_EQ(refused.line, after.line);  // and it kept the format it had
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    EveryUart, Cp210xCrossCheck,
    ::testing::Values(Part{"cp2102", transport::ChipVariant::cp210x, 0, "cp2102"},
                      Part{"cp2102n", transport::ChipVariant::cp210x, 0, "cp2102n"},
                      Part{"cp2104", transport::ChipVariant::cp210x, 0, "cp2104"},
                      Part{"cp2105", transport::ChipVariant::cp2105, 0, "cp2105"},
                      Part{"cp2105", transport::ChipVariant::cp2105, 1, "cp2105"},
                      Part{"cp2108", transport::ChipVariant::cp2108, 2, "cp2108"}),
    [](const auto& param_info) {
      return std::string(param_info.param.chip) + "_port" + std::to_string(param_info.param.port);
    });

// Line errors end to end below the tty: the simulated UART sees parity errors, its event
// insertion encodes them, transport's decode_rx counts them and returns the data.
TEST(Cp210xEventsCrossCheck, EveryParityErrorTheUartSawIsCounted) {
  sim::Bus bus(sim::ClockMode::manual);
  auto device = sim::make_device("cp2102n", bus, {});
  SimSink sink(*device);
  transport::chips::Cp210x chip;
  transport::PortConfig config;
  config.variant = transport::ChipVariant::cp210x;
  config.bulk_in_max_packet = 64;
  ASSERT_EQ(chip.configure(config), transport::Status::ok);
  ASSERT_EQ(chip.open(sink), transport::Status::ok);
  uint32_t actual = 0;
  ASSERT_EQ(
      chip.set_line(sink, {9600, 8, transport::Parity::even, transport::StopBits::one}, actual),
      transport::Status::ok);
  sim::Terminal far(bus);
  sim::connect_null_modem(device->port(0), far.port());
  sim::LineFormat odd;
  odd.parity = sim::Parity::odd;
  far.configure(odd);
  std::vector<uint8_t> sent;
  for (int i = 0; i < 300; ++i) {
    sent.push_back(static_cast<uint8_t>(i * 37));  // includes 0xEC, which arrives escaped
  }
  far.write(sent);
  bus.run_until_idle();

  std::vector<uint8_t> received;
  transport::RxReport report;
  for (int round = 0; round < 20; ++round) {
    auto buffer = std::make_shared<std::vector<uint8_t>>(64);
    auto got = std::make_shared<uint32_t>(0);
    ASSERT_EQ(
        device->submit(0x81, *buffer, [got](hostkit::IOReturnValue, uint32_t n) { *got = n; }),
        hostkit::IOReturnValue{0});
    bus.advance(2ms);
    const uint32_t n = chip.decode_rx({buffer->data(), *got}, report);
    received.insert(received.end(), buffer->begin(), buffer->begin() + n);
  }
  EXPECT_EQ(received, sent);  // every character, errored or not, and 0xEC as itself
  const auto counters = device->port(0).snapshot().counters;
  EXPECT_EQ(counters.parity_errors, 300u);  // odd parity against even: every one
  EXPECT_EQ(report.errors.parity, counters.parity_errors);
  EXPECT_EQ(report.malformed, 0u);
}

}  // namespace
