#include "rate_model.hpp"

#include <algorithm>
#include <cmath>

namespace loopback {

namespace {

// Keeps the candidate rate closest to the request; on a tie, the lower rate.
struct Closest {
  double requested;
  double best = 0;
  void offer(double rate) {
    const double distance = std::fabs(rate - requested);
    const double best_distance = std::fabs(best - requested);
    if (best == 0 || distance < best_distance || (distance == best_distance && rate < best)) {
      best = rate;
    }
  }
};

DocumentedRate within_policy(double requested, double actual) {
  if (actual <= 0 || std::fabs(actual - requested) > kRatePolicyTolerance * requested) {
    return {};
  }
  return {true, actual};
}

// §2.4: 3 MHz / d, d = 1 (3 MBd), 1.5 (2 MBd), or n + k/8 with 2 <= n <= 16383.
DocumentedRate ftdi_3mhz(uint32_t requested) {
  constexpr double kReference = 3'000'000;
  constexpr double kLowest = 184;  // below it the 14-bit integer part overflows
  if (requested < kLowest) {
    return {};
  }
  Closest closest{static_cast<double>(requested)};
  closest.offer(kReference / 1.0);
  closest.offer(kReference / 1.5);
  const double eighths = 8 * kReference / requested;
  for (const double d8 : {std::floor(eighths), std::ceil(eighths)}) {
    const double clamped = std::clamp(d8, 16.0, 16383.0 * 8 + 7);
    closest.offer(kReference / (clamped / 8));
  }
  return within_policy(requested, closest.best);
}

// cp210x.md: 48 MHz / (2 x prescale x divider) on the CP2102N, 300 .. 3 000 000 Bd.
DocumentedRate cp210x_divider(uint32_t requested) {
  constexpr double kClock = 48'000'000;
  constexpr double kMin = 300, kMax = 3'000'000;
  constexpr double kMaxDivider = 65535;  // 16 bits: why prescale 4 takes over at 365 Bd
  const double wanted = std::clamp(static_cast<double>(requested), kMin, kMax);
  const double prescale = wanted <= 365 ? 4 : 1;
  const double divider = kClock / (2 * prescale * wanted);
  Closest closest{wanted};
  for (const double d : {std::floor(divider), std::ceil(divider)}) {
    const double rate = kClock / (2 * prescale * std::clamp(d, 1.0, kMaxDivider));
    if (rate <= kMax) {
      closest.offer(rate);
    }
  }
  return within_policy(requested, closest.best);
}

// ch34x.md: 48 MHz / (2^(12 - 3 ps - fact) x div), every setting tried.
DocumentedRate ch34x(uint32_t requested) {
  constexpr double kClock = 48'000'000;
  if (requested < 46 || requested > 2'000'000) {
    return {};  // the data sheets' range
  }
  Closest closest{static_cast<double>(requested)};
  for (int ps = 0; ps <= 3; ++ps) {
    for (int fact = 0; fact <= 1; ++fact) {
      const double base = kClock / std::ldexp(1.0, 12 - 3 * ps - fact);
      for (int div = fact == 1 ? 9 : 2; div <= 256; ++div) {
        closest.offer(base / div);
      }
    }
  }
  return within_policy(requested, closest.best);
}

// pl2303.md: the direct rates a divisor type knows, or 384 MHz / (m x 4^e) on an HX.
DocumentedRate pl2303_divider(uint32_t requested) {
  constexpr uint32_t kDirect[] = {75,      150,     300,     600,    1200,   1800,   2400,
                                  3600,    4800,    7200,    9600,   14400,  19200,  28800,
                                  38400,   57600,   115200,  230400, 460800, 614400, 921600,
                                  1228800, 2457600, 3000000, 6000000};
  constexpr double kClock = 384'000'000;
  constexpr double kMax = 6'000'000;
  if (requested < 46 || requested > kMax) {
    return {};
  }
  if (std::find(std::begin(kDirect), std::end(kDirect), requested) != std::end(kDirect)) {
    return {true, static_cast<double>(requested)};
  }
  Closest closest{static_cast<double>(requested)};
  for (int e = 0; e <= 7; ++e) {
    const double scale = std::ldexp(1.0, 2 * e);
    const double m = kClock / (scale * requested);
    for (const double candidate : {std::floor(m), std::ceil(m)}) {
      const double clamped = std::clamp(candidate, 1.0, 511.0);
      const double rate = kClock / (clamped * scale);
      if (rate <= kMax) {
        closest.offer(rate);
      }
    }
  }
  return within_policy(requested, closest.best);
}

}  // namespace

std::optional<MatrixChip> find_matrix_chip(std::string_view chip) {
  for (const MatrixChip& entry : kMatrixChips) {
    if (chip == entry.chip) {
      return entry;
    }
  }
  return std::nullopt;
}

DocumentedRate documented_rate(RateGenerator generator, uint32_t requested) {
  if (requested == 0) {
    return {};
  }
  switch (generator) {
    case RateGenerator::exact:
      return {true, static_cast<double>(requested)};
    case RateGenerator::ftdi_3mhz:
      return ftdi_3mhz(requested);
    case RateGenerator::cp210x_divider:
      return cp210x_divider(requested);
    case RateGenerator::ch34x:
      return ch34x(requested);
    case RateGenerator::pl2303_divider:
      return pl2303_divider(requested);
  }
  return {};
}

LinkExpectation expect_link(double tx_baud, double rx_baud) {
  constexpr double kLow = 9.0 / 9.5;  // receiver bit time / transmitter bit time
  constexpr double kHigh = 10.0 / 9.5;
  if (tx_baud <= 0 || rx_baud <= 0) {
    return LinkExpectation::garbled;
  }
  const double ratio = tx_baud / rx_baud;  // = T_rx / T_tx
  if (ratio > kLow + kLinkMargin && ratio < kHigh - kLinkMargin) {
    return LinkExpectation::clean;
  }
  if (ratio > kNoiseRatio) {
    return LinkExpectation::noise;
  }
  if (ratio < kLow - kLinkMargin || ratio > kHigh + kLinkMargin) {
    return LinkExpectation::garbled;
  }
  return LinkExpectation::marginal;
}

const char* to_string(LinkExpectation expectation) {
  switch (expectation) {
    case LinkExpectation::clean:
      return "clean";
    case LinkExpectation::garbled:
      return "garbled";
    case LinkExpectation::noise:
      return "noise";
    case LinkExpectation::marginal:
      return "marginal";
  }
  return "marginal";
}

}  // namespace loopback
