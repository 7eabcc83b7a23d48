// The CP210x simulator's rate decoding at the documents' boundaries: AN205 Table 1 (every
// range edge, the undefined rows) and the data sheets' divider equations.
#include <gtest/gtest.h>

#include "sim/cp210x_baud.hpp"

namespace {

using sim::cp210x::an205_rate;
using sim::cp210x::divider_setting;
using sim::cp210x::RateRule;
using sim::cp210x::uart_rate;

TEST(Cp210xAn205, RangeEdges) {
  struct Edge {
    uint32_t request;
    uint32_t rate;  // 0: undefined
  };
  // Low and high end of ranges, written out from AN205 Table 1.
  const Edge edges[] = {
      {0, 0},           {56, 0},          {57, 300},        {300, 300},       {301, 600},
      {600, 600},       {601, 1200},      {1801, 2400},     {2401, 4000},     {4000, 4000},
      {4001, 4800},     {4803, 4800},     {4804, 7200},     {7207, 7200},     {7208, 9600},
      {9612, 9600},     {9613, 14400},    {14429, 16000},   {16063, 19200},   {19251, 28800},
      {28913, 38400},   {38602, 51200},   {51559, 56000},   {56281, 57600},   {58054, 64000},
      {64112, 76800},   {77609, 115200},  {117028, 115200}, {117029, 128000}, {129348, 153600},
      {156869, 230400}, {237833, 250000}, {254235, 256000}, {273067, 460800}, {491520, 460800},
      {491521, 500000}, {567139, 576000}, {670254, 576000}, {670255, 921600}, {1053257, 921600},
      {1053258, 0},     {1474561, 0},     {2457601, 0},     {0xFFFFFFFF, 0},
  };
  for (const Edge& e : edges) {
    const auto got = an205_rate(e.request);
    if (e.rate == 0) {
      EXPECT_FALSE(got.has_value()) << e.request;
    } else {
      ASSERT_TRUE(got.has_value()) << e.request;
      EXPECT_EQ(*got, e.rate) << e.request;
    }
  }
}

TEST(Cp210xDivider, DataSheetEquations) {
  struct Case {
    uint32_t request;
    uint32_t prescale;
    uint32_t divider;
  };
  const Case cases[] = {
      {300, 4, 20000},                     // 48 MHz / (8 x 300)
      {365, 4, 16438},                     // 16438.36
      {366, 1, 65574},                     // 65573.77: prescale 1 above 365
      {9600, 1, 2500},  {115200, 1, 208},  // 208.33
      {128000, 1, 188},                    // 187.5 rounds up
      {1454630, 1, 16},                    // 16.499 rounds down
      {2000000, 1, 12}, {3000000, 1, 8},
  };
  for (const Case& c : cases) {
    const auto s = divider_setting(c.request);
    EXPECT_EQ(s.prescale, c.prescale) << c.request;
    EXPECT_EQ(s.divider, c.divider) << c.request;
    EXPECT_DOUBLE_EQ(s.rate, 48e6 / (2.0 * c.prescale * c.divider)) << c.request;
  }
}

TEST(Cp210xUartRate, RulesAndTheExactRangeAbove1MBd) {
  EXPECT_FALSE(uart_rate(RateRule::divider, 0).has_value());
  EXPECT_DOUBLE_EQ(*uart_rate(RateRule::divider, 921600), 48e6 / 52);
  EXPECT_DOUBLE_EQ(*uart_rate(RateRule::an205_table, 921600), 921600.0);
  EXPECT_DOUBLE_EQ(*uart_rate(RateRule::an205_table, 999999), 921600.0);
  EXPECT_FALSE(uart_rate(RateRule::an205_table, 1500000).has_value());
  // CP2108: from 1 MBd the request itself.
  EXPECT_DOUBLE_EQ(*uart_rate(RateRule::an205_table, 999999, 1000000), 921600.0);
  EXPECT_DOUBLE_EQ(*uart_rate(RateRule::an205_table, 1000000, 1000000), 1000000.0);
  EXPECT_DOUBLE_EQ(*uart_rate(RateRule::an205_table, 1843200, 1000000), 1843200.0);
}

}  // namespace
