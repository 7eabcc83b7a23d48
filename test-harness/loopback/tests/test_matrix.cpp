// The null-modem matrix's judgement (what counts as a disagreement with the docs), its cell
// texts, its table and its JSON, on cells made up here; test-harness/e2e/test_matrix.py runs it
// against the real bridge.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>

#include "matrix.hpp"
#include "report.hpp"

namespace {

using loopback::LinkExpectation;
using loopback::MatrixCell;
using loopback::MatrixFlow;
using loopback::MatrixSide;

MatrixSide side(const char* chip, bool expected, bool accepted, double documented, uint32_t driver,
                double chip_baud) {
  MatrixSide s;
  s.chip = chip;
  s.expected_accept = expected;
  s.accepted = accepted;
  s.documented_baud = documented;
  s.driver_baud = driver;
  s.chip_baud = chip_baud;
  return s;
}

MatrixFlow flow(size_t tx, LinkExpectation expected, uint64_t bytes) {
  MatrixFlow f;
  f.tx = tx;
  f.rx = 1 - tx;
  f.expected = expected;
  f.bytes = f.sent = f.received = bytes;
  return f;
}

std::vector<std::string> judge(MatrixSide s, uint32_t rate) {
  std::vector<std::string> problems;
  loopback::judge_side(s, rate, problems);
  EXPECT_EQ(s.unexpected, !problems.empty());
  return problems;
}

TEST(MatrixSide, AgreesWithTheDocsAndTheChip) {
  // CH340 at 1.8 MBd: refused, as documented, still at 923077 Bd from 921600.
  EXPECT_TRUE(judge(side("ch340", false, false, 923076.9, 923077, 923076.9), 1800000).empty());
  // CP2102N at 1.8 MBd: 1846154.
  EXPECT_TRUE(judge(side("cp2102n", true, true, 1846153.8, 1846154, 1846153.8), 1800000).empty());
}

TEST(MatrixSide, EveryDisagreementIsNamed) {
  auto one = [](const MatrixSide& s, uint32_t rate, const std::string& expected) {
    const std::vector<std::string> problems = judge(s, rate);
    ASSERT_EQ(problems.size(), 1U) << expected;
    EXPECT_EQ(problems[0], expected);
  };
  one(side("ft232r", false, true, 0, 2500000, 2500000), 2500000,
      "ft232r: the driver accepted 2500000 Bd; the docs say the chip cannot make it within 3 %");
  one(side("pl2303-hx", true, false, 2000000, 2000000, 2000000), 2500000,
      "pl2303-hx: the driver refused 2500000 Bd; the docs say the chip makes it");
  one(side("ch340", true, true, 9615.4, 9600, 9600), 9600,
      "ch340: the driver reports 9600 Bd; the docs say the chip runs at 9615.4");
  one(side("ft232r", true, true, 57554.0, 57554, 57600), 57600,
      "ft232r: the driver reports 57554 Bd, but the chip runs at 57600.0");
  MatrixSide failed = side("cdc-acm", true, false, 300, 300, 300);
  failed.set_error = "Input/output error";
  one(failed, 9600, "cdc-acm: setting 9600 Bd failed: Input/output error");
}

TEST(MatrixFlow, IntactWhereExpectedGarbledWithFramingErrorsElsewhere) {
  MatrixCell cell;
  cell.rate = 3000000;
  cell.sides[0] = side("ft232r", true, true, 3e6, 3000000, 3e6);
  cell.sides[1] = side("ch340", false, false, 2e6, 2000000, 2e6);
  auto problems = [&cell](MatrixFlow f) {
    std::vector<std::string> out;
    loopback::judge_flow(cell, f, out);
    EXPECT_EQ(f.unexpected, !out.empty());
    return out;
  };

  MatrixFlow good = flow(0, LinkExpectation::clean, 256);
  EXPECT_TRUE(problems(good).empty());
  MatrixFlow lost = good;
  lost.received = 200;
  lost.lost = 56;
  lost.overruns = 1;
  ASSERT_EQ(problems(lost).size(), 1U);
  EXPECT_EQ(problems(lost)[0],
            "ft232r -> ch340: expected intact at 3000000 -> 2000000 Bd, got 200 of 256 bytes, "
            "0 wrong, 1 line errors");
  MatrixFlow noisy = good;  // every byte right, but an error counted: not intact either
  noisy.parity_errors = 1;
  EXPECT_EQ(problems(noisy).size(), 1U);

  MatrixFlow garbled = flow(1, LinkExpectation::garbled, 36);
  garbled.received = 30;
  garbled.wrong = 29;
  garbled.lost = 6;
  garbled.framing_errors = 5;
  EXPECT_TRUE(problems(garbled).empty());
  MatrixFlow breaks_only = garbled;
  breaks_only.framing_errors = 0;
  breaks_only.breaks = 2;
  EXPECT_TRUE(problems(breaks_only).empty());
  MatrixFlow silent = garbled;
  silent.framing_errors = 0;
  EXPECT_EQ(problems(silent),
            std::vector<std::string>{"ch340 -> ft232r: the receiving driver counted no framing "
                                     "error or break (30 of 36 bytes arrived, 29 wrong)"});
  MatrixFlow noise = silent;  // far too slow a receiver: only the loss is predicted
  noise.expected = LinkExpectation::noise;
  EXPECT_TRUE(problems(noise).empty());
  noise.received = noise.wrong = noise.lost = 0;
  noise.bytes = noise.sent = noise.received = 36;
  EXPECT_EQ(problems(noise).size(), 1U);  // but not intact data
  MatrixFlow clean = flow(1, LinkExpectation::garbled, 36);
  EXPECT_EQ(problems(clean),
            std::vector<std::string>{"ch340 -> ft232r: expected garbage between 2000000 and "
                                     "3000000 Bd, but every byte arrived intact"});
  MatrixFlow marginal = silent;  // no prediction: whatever happened is accepted
  marginal.expected = LinkExpectation::marginal;
  EXPECT_TRUE(problems(marginal).empty());
  MatrixFlow short_write = good;
  short_write.sent = 100;
  EXPECT_EQ(problems(short_write),
            std::vector<std::string>{"ft232r -> ch340: only 100 of 256 bytes could be written"});
}

loopback::MatrixResult small_matrix() {
  // ft232r and ch340 at 2 MBd (both make it) and 3 MBd (the CH340 refuses and stays at 2 MBd).
  loopback::MatrixResult result;
  result.chips = {"ft232r", "ch340"};
  result.rates = {2000000, 3000000};
  result.seconds = 1.5;
  auto cell = [](const char* a, const char* b, uint32_t rate, bool b_refuses) {
    MatrixCell c;
    c.rate = rate;
    c.sides[0] = side(a, true, true, rate, rate, rate);
    const double b_rate = b_refuses ? 2e6 : rate;
    c.sides[1] = side(b, !b_refuses, !b_refuses, b_rate, static_cast<uint32_t>(b_rate), b_rate);
    for (size_t tx = 0; tx < 2; ++tx) {
      MatrixFlow f = flow(tx, b_refuses ? LinkExpectation::garbled : LinkExpectation::clean, 256);
      if (b_refuses) {
        f.received = 170;
        f.wrong = 160;
        f.lost = 86;
        f.framing_errors = tx == 0 ? 6 : 150;
      }
      c.flows.push_back(f);
    }
    return c;
  };
  for (const auto& [a, b] :
       {std::pair{"ft232r", "ft232r"}, std::pair{"ft232r", "ch340"}, std::pair{"ch340", "ch340"}}) {
    loopback::MatrixPair pair;
    pair.chips[0] = a;
    pair.chips[1] = b;
    const bool ch340 = std::string(b) == "ch340";
    pair.cells = {cell(a, b, 2000000, false), cell(a, b, 3000000, ch340)};
    if (std::string(a) == "ch340") {  // both refuse: both still at 2 MBd, talking fine
      MatrixCell& both = pair.cells[1];
      both.sides[0] = both.sides[1];
      for (MatrixFlow& f : both.flows) {
        f = flow(f.tx, LinkExpectation::clean, 256);
      }
    }
    pair.bridge_exit = loopback::BridgeExit{true, 0, 0, false, 5};
    result.pairs.push_back(pair);
  }
  return result;
}

TEST(MatrixText, OneRowPerDirectionOneColumnPerRate) {
  const loopback::MatrixResult result = small_matrix();
  EXPECT_TRUE(loopback::matrix_problems(result).empty());
  const std::string text = loopback::matrix_text(result);
  EXPECT_NE(text.find("                                2M        3M\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ft232r -> ft232r              pass      pass\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ft232r -> ch340               pass    R:FE 6\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ch340 -> ft232r               pass  T:FE 150\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ch340 -> ch340                pass    B:pass\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ch340                      2000000   refused\n"), std::string::npos) << text;
  EXPECT_NE(text.find("3 bridges, 12 directions: 10 intact, 2 with framing errors, 0 not as "
                      "expected; 3 refusals at tcsetattr; 1.5 s"),
            std::string::npos)
      << text;
}

TEST(MatrixText, AnUnexpectedCellIsMarkedAndFailsTheRun) {
  loopback::MatrixResult result = small_matrix();
  MatrixCell& cell = result.pairs[1].cells[1];
  cell.flows[0].framing_errors = 0;  // garbage without a framing error
  loopback::judge_flow(cell, cell.flows[0], cell.problems);
  EXPECT_EQ(loopback::matrix_cell_text(cell, cell.flows[0]), "R:bad!");
  const std::vector<std::string> problems = loopback::matrix_problems(result);
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0],
            "ft232r + ch340 at 3000000 Bd: ft232r -> ch340: the receiving driver counted no "
            "framing error or break (170 of 256 bytes arrived, 160 wrong)");
  loopback::Report report;
  report.options.modes = {loopback::Mode::matrix};
  report.matrix = result;
  loopback::judge(report);
  EXPECT_EQ(report.verdict, loopback::Verdict::fail);
  EXPECT_EQ(report.exit_code, loopback::kExitFail);

  // A bridge that does not stop cleanly, and a pair that stopped early, fail it too.
  result = small_matrix();
  result.pairs[0].bridge_exit = loopback::BridgeExit{false, 0, 9, true, 5};
  result.pairs[2].cells.pop_back();
  result.pairs[2].error = "cannot open the port";
  EXPECT_EQ(loopback::matrix_problems(result).size(), 2U);
}

TEST(MatrixJson, EveryCellSideAndDirection) {
  loopback::Report report;
  report.options.modes = {loopback::Mode::matrix};
  report.matrix = small_matrix();
  loopback::judge(report);
  ASSERT_EQ(report.verdict, loopback::Verdict::pass) << report.reason;
  EXPECT_EQ(report.reason, "3 null-modem pairs at 2 rates (6 cells) behaved as documented");
  boost::property_tree::ptree tree;
  std::istringstream in(loopback::report_json(report));
  boost::property_tree::read_json(in, tree);
  const auto& pairs = tree.get_child("matrix.pairs");
  ASSERT_EQ(pairs.size(), 3U);
  const auto& cell = std::next(pairs.begin())->second.get_child("cells").back().second;
  EXPECT_EQ(cell.get<std::string>("rate"), "3000000");
  const auto& b = std::next(cell.get_child("sides").begin())->second;
  EXPECT_EQ(b.get<std::string>("chip"), "ch340");
  EXPECT_EQ(b.get<std::string>("accepted"), "false");
  EXPECT_EQ(b.get<std::string>("expected_accept"), "false");
  EXPECT_EQ(b.get<std::string>("driver_baud"), "2000000");
  const auto& to_ch340 = cell.get_child("flows").front().second;
  EXPECT_EQ(to_ch340.get<std::string>("tx"), "ft232r");
  EXPECT_EQ(to_ch340.get<std::string>("expected"), "garbled");
  EXPECT_EQ(to_ch340.get<std::string>("outcome"), "R:FE 6");
  EXPECT_EQ(to_ch340.get<std::string>("framing_errors"), "6");
  EXPECT_EQ(tree.get<std::string>("verdict"), "PASS");
}

}  // namespace
