// The matrix's expectations: every chip's documented rates (the examples and range ends the
// docs give, and the 3 % boundaries on either side), and the receiver's tolerance window.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "rate_model.hpp"

namespace {

using loopback::documented_rate;
using loopback::LinkExpectation;
using loopback::RateGenerator;

struct Row {
  uint32_t requested;
  double actual;  // 0: refused
};

void expect_rates(RateGenerator generator, std::initializer_list<Row> rows) {
  for (const Row& row : rows) {
    const loopback::DocumentedRate got = documented_rate(generator, row.requested);
    if (row.actual == 0) {
      EXPECT_FALSE(got.accepted) << row.requested << " Bd runs at " << got.actual;
    } else {
      EXPECT_TRUE(got.accepted) << row.requested << " Bd refused";
      EXPECT_NEAR(got.actual, row.actual, 0.05) << row.requested << " Bd";
    }
  }
}

TEST(DocumentedRate, CdcAcmRunsAtTheRequest) {
  expect_rates(RateGenerator::exact, {{1, 1}, {300, 300}, {1800000, 1800000}, {12000000, 12e6}});
  EXPECT_FALSE(documented_rate(RateGenerator::exact, 0).accepted);
}

TEST(DocumentedRate, Ftdi3MHzReference) {
  expect_rates(RateGenerator::ftdi_3mhz,
               {
                   {183, 0},  // the 14-bit integer part overflows
                   {184, 3e6 / 16304.25},
                   {300, 300},
                   {57600, 3e6 / 52.125},   // 57553.96
                   {921600, 3e6 / 3.25},    // 923076.92
                   {1234567, 3e6 / 2.375},  // test_loopback_tool.py's example
                   {1456311, 1500000},      // divisor 2, 3.0 % below the request
                   {1546391, 1500000},
                   {1546392, 0},  // 3.0001 % off 1.5 MBd, 29 % off 2 MBd
                   {1800000, 0},  // needs a divisor between 1.5 and 2
                   {1941747, 0},
                   {1941748, 2000000},  // divisor 1.5
                   {2061855, 2000000},
                   {2061856, 0},
                   {2500000, 0},
                   {2912621, 0},
                   {2912622, 3000000},  // divisor 1
                   {3000000, 3000000},
                   {3092783, 3000000},
                   {3092784, 0},
               });
}

TEST(DocumentedRate, Cp2102nDivider) {
  expect_rates(RateGenerator::cp210x_divider,
               {
                   {291, 0},  // brought up to 300, then 3.09 % off the request
                   {292, 300},
                   {300, 300},
                   {365, 48e6 / (8 * 16438.0)},  // prescale 4
                   {366, 48e6 / (2 * 65535.0)},  // prescale 1 (366.2 Bd)
                   {115200, 48e6 / 416},         // 115384.6, as cp210x.md says
                   {921600, 48e6 / 52},          // 923076.9
                   {1454630, 48e6 / 34},         // 1411764.7: the driver picks the closer divider
                   {1800000, 48e6 / 26},         // 1846153.8, 2.56 % above
                   {2500000, 0},                 // 2.4 MBd (-4 %) or 2.67 MBd (+6.7 %)
                   {3000000, 3000000},
                   {3090000, 3000000},  // brought down to 3 MBd, 2.9 % off
                   {3093000, 0},
               });
}

TEST(DocumentedRate, Ch34xTableAndRangeEnds) {
  expect_rates(RateGenerator::ch34x,
               {
                   {45, 0},
                   {46, 48e6 / (4096.0 * 255)},  // 45.96 Bd; the slowest setting is 45.78 Bd
                   {300, 300.48},
                   {9600, 9615.38},
                   {115200, 115384.62},
                   {250000, 250000},
                   {921600, 923076.92},
                   {1000000, 1000000},
                   {1333333, 1333333.33},
                   {1456310, 0},  // ch34x.md: 1 456 311 - 1 546 391 give 1.5 MBd
                   {1456311, 1500000},
                   {1546391, 1500000},
                   {1546392, 0},
                   {1800000, 0},
                   {1941747, 0},  // 1 941 748 - 2 000 000 give 2 MBd
                   {1941748, 2000000},
                   {2000000, 2000000},
                   {2000001, 0},  // above the data sheets' 2 MBd
                   {3000000, 0},
               });
}

TEST(DocumentedRate, Pl2303HxDirectAndDivisor) {
  expect_rates(RateGenerator::pl2303_divider,
               {
                   {45, 0},
                   {46, 384e6 / (510.0 * 16384)},   // 45.96 Bd; the slowest divisor is 45.86 Bd
                   {110, 384e6 / (213.0 * 16384)},  // 110.04, pl2303.md's example
                   {300, 300},                      // direct
                   {56000, 384e6 / (429.0 * 16)},   // 55944, pl2303.md's example
                   {250000, 250000},                // 1536 x 4^0 does not fit 9 bits: 384 x 4
                   {921600, 921600},                // direct
                   {1800000, 384e6 / 213},          // 1802816.9
                   {2500000, 384e6 / 154},          // 2493506.5
                   {3000000, 3000000},              // direct
                   {6000000, 6000000},              // direct
                   {6000001, 0},
               });
}

TEST(ExpectLink, TheMidBitSamplingWindow) {
  using loopback::expect_link;
  EXPECT_EQ(expect_link(115200, 115200), LinkExpectation::clean);
  // 115200 on one side, 115384.6 on the other: 0.16 %.
  EXPECT_EQ(expect_link(115200, 115384.6), LinkExpectation::clean);
  // T_rx / T_tx = tx / rx; the window is [9/9.5, 10/9.5) = [0.9474, 1.0526).
  EXPECT_EQ(expect_link(1.0526 - 0.0051, 1), LinkExpectation::clean);
  EXPECT_EQ(expect_link(1.0526 - 0.0049, 1), LinkExpectation::marginal);
  EXPECT_EQ(expect_link(1.0526 + 0.0049, 1), LinkExpectation::marginal);
  EXPECT_EQ(expect_link(1.0526 + 0.0051, 1), LinkExpectation::garbled);
  EXPECT_EQ(expect_link(0.9474 + 0.0051, 1), LinkExpectation::clean);
  EXPECT_EQ(expect_link(0.9474 - 0.0051, 1), LinkExpectation::garbled);
  // What the matrix meets: a refusing side left at 2 MBd against 3 MBd, both ways.
  EXPECT_EQ(expect_link(3e6, 2e6), LinkExpectation::garbled);
  EXPECT_EQ(expect_link(2e6, 3e6), LinkExpectation::garbled);
  // A receiver more than 4 times slower sees noise; a faster one still frames (garbage).
  EXPECT_EQ(expect_link(4 * 9600 - 1, 9600), LinkExpectation::garbled);
  EXPECT_EQ(expect_link(4 * 9600 + 1, 9600), LinkExpectation::noise);
  EXPECT_EQ(expect_link(2500000, 9615), LinkExpectation::noise);
  EXPECT_EQ(expect_link(9615, 2500000), LinkExpectation::garbled);
  // CP2102N at 1.8 MBd (1846154) against a PL2303HX (1802817) and a CDC-ACM (1800000).
  EXPECT_EQ(expect_link(48e6 / 26, 384e6 / 213), LinkExpectation::clean);
  EXPECT_EQ(expect_link(1800000, 48e6 / 26), LinkExpectation::clean);
}

}  // namespace
