// What the documentation says a chip does with a requested rate, and what a UART receiver
// makes of a transmitter at another rate. The null-modem matrix (matrix.hpp) computes its
// expectations from these, so they are written from docs/ (the chips' rate generators and the
// driver's 3 % policy), never from transport/'s encoders: if the two disagree, the matrix says so.
//
// Sources, by chip:
//   cdc-acm    docs/usb-serial-reference.md §1.2: dwDTERate is a 32-bit rate in bit/s; the
//              simulated function runs its UART at that rate exactly (test-harness/sim/README.md).
//   ft232r     §2.4: 3 MHz / d with d = 1, 1.5 or n + k/8 (2 <= n <= 16383); a driver refuses
//              below 184 Bd, where the integer part overflows 14 bits.
//   cp2102n    docs/chips/cp210x.md "Rates": 48 MHz / (2 x prescale x divider), prescale 4 up to
//              365 Bd; 300 .. 3 000 000 Bd, a request outside brought to the nearest end before
//              the 3 % check; the driver sends the divider whose rate is closest.
//   ch340      docs/chips/ch34x.md "Rates": 48 MHz / (2^(12 - 3 ps - fact) x div), ps 0..3,
//              fact 0/1, div 2..256 (9..256 with fact 1); closest setting, ties to the lower
//              rate; below 46 Bd and above the data sheets' 2 MBd refused.
//   pl2303-hx  docs/chips/pl2303.md: 46 .. 6 000 000 Bd; the listed direct rates exactly,
//              every other rate as 384 MHz / (m x 4^e), m <= 511, e <= 7, closest and never
//              above the maximum.
// Every chip: a rate more than 3 % from what the chip can make is refused (docs/architecture.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace loopback {

enum class RateGenerator { exact, ftdi_3mhz, cp210x_divider, ch34x, pl2303_divider };

// One chip of the matrix: the name --sim takes and the family it stands for.
struct MatrixChip {
  const char* chip;
  const char* family;
  RateGenerator generator;
};

// One representative per family (why these: docs/null-modem-matrix.md).
inline constexpr MatrixChip kMatrixChips[] = {
    {"cdc-acm", "CDC-ACM", RateGenerator::exact},
    {"ft232r", "FTDI", RateGenerator::ftdi_3mhz},
    {"cp2102n", "CP210x", RateGenerator::cp210x_divider},
    {"ch340", "CH34x", RateGenerator::ch34x},
    {"pl2303-hx", "PL2303", RateGenerator::pl2303_divider},
};

// The matrix's ten rates, 300 Bd to 3 MBd: common rates, 250 000 (DMX, exact everywhere), and
// 1.8, 2.5 and 3 MBd, where some families refuse and the others run on.
inline constexpr uint32_t kMatrixRates[] = {300,    9600,    57600,   115200,  250000,
                                            921600, 1800000, 2000000, 2500000, 3000000};

std::optional<MatrixChip> find_matrix_chip(std::string_view chip);

// What the driver does with a request.
struct DocumentedRate {
  bool accepted = false;
  double actual = 0;  // the rate the chip then runs at (0 when refused)
};
DocumentedRate documented_rate(RateGenerator generator, uint32_t requested);

// The policy's tolerance, as a fraction of the request.
inline constexpr double kRatePolicyTolerance = 0.03;

// What a receiver at rx_baud decodes from a transmitter at tx_baud, 8N1. The receiver (as the
// simulator's, test-harness/sim/uart.hpp) times every bit from the start bit's falling edge and
// samples it in its middle at its own rate, so bit k (start 0, stop 9) is right while
// k x T_tx <= (k + 0.5) x T_rx < (k + 1) x T_tx: every frame is intact for
// 9 / 9.5 <= T_rx / T_tx < 10 / 9.5 (clean). Outside that window the stop bit (or a data bit) is
// sampled in the wrong place: random data gives framing errors (or breaks) (garbled). A receiver
// more than kNoiseRatio times slower than its transmitter sees a line that toggles many times per
// bit: most start bits fail the mid-bit check, and it decodes few characters or none (noise:
// only the loss of the data is predicted). Within kLinkMargin of the window's bounds the outcome
// depends on the data and the gaps between frames, so it is not predicted (marginal).
enum class LinkExpectation { clean, garbled, noise, marginal };
inline constexpr double kLinkMargin = 0.005;
inline constexpr double kNoiseRatio = 4;
LinkExpectation expect_link(double tx_baud, double rx_baud);
const char* to_string(LinkExpectation expectation);  // "clean", "garbled", "noise", "marginal"

}  // namespace loopback
