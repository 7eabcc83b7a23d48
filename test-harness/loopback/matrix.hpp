// The cross-family null-modem matrix (--mode matrix): for every pair of chips, two simulated
// adapters joined by a null-modem cable in one paced usbserial-bridge, and through their ttys, at
// every rate: set the rate on both sides, send a short burst each way at once, and compare what
// happened with what the documentation predicts (rate_model.hpp).
//
// Per side and rate the driver must refuse exactly the rates the docs say the chip cannot make
// within 3 % (tcsetattr fails with EINVAL, which needs usbserial-run on a harness port), report
// the rate the docs give (Statistics ActualBaud), and that must be the rate the simulated chip
// really runs at. A side that refuses keeps its previous rate. Per direction, the rates the two
// drivers report decide the outcome (expect_link): the bytes arrive intact with no line error,
// or they arrive garbled and the receiving driver counts framing errors (or breaks).
//
// N chips make N (N + 1) / 2 bridges (a chip is also paired with itself); each carries both
// directions at once, so the N x N table of (transmitter, receiver) cells comes from them.
// --jobs bridges run at the same time.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bridge_child.hpp"
#include "rate_model.hpp"

namespace hostutil {
class JsonWriter;
}

namespace loopback {

struct MatrixConfig {
  std::vector<std::string> chips;  // names from kMatrixChips
  std::vector<uint32_t> rates;     // in the order they are set (a refusal keeps the previous)
  unsigned jobs = 2;
  std::string bridge_path;
  std::vector<std::string> bridge_args;  // added to --sim A --sim B --paced --run-dir DIR
  double timeout_s = 10;                 // for the bridge to start, and for a silent burst
  const std::atomic<bool>* cancel = nullptr;
  // Called (from worker threads, one at a time) with a line of progress.
  std::function<void(const std::string&)> on_progress;
  // Called (one at a time) with a line when a pair is done.
  std::function<void(const std::string&)> on_pair_done;
};

// One adapter after a rate was set.
struct MatrixSide {
  std::string chip;
  bool expected_accept = false;  // the docs say the chip makes the rate within 3 %
  bool accepted = false;         // tcsetattr succeeded
  std::string set_error;         // a failure other than the refusal (EINVAL)
  double documented_baud = 0;    // the rate the docs say the chip now runs at
  uint32_t driver_baud = 0;      // Statistics ActualBaud
  double chip_baud = 0;          // the simulated chip's UART
  bool unexpected = false;       // one of the above disagrees with the docs
};

// One direction of a cell: what the transmitter sent and what the receiver got.
struct MatrixFlow {
  size_t tx = 0;  // side index, 0 or 1
  size_t rx = 1;
  uint64_t bytes = 0;  // the burst
  uint64_t sent = 0;
  uint64_t received = 0;
  uint64_t wrong = 0;  // compared position by position
  uint64_t lost = 0;
  uint64_t extra = 0;
  bool timed_out = false;
  std::string io_error;
  // Counted by the receiving driver during the burst.
  uint64_t framing_errors = 0;
  uint64_t breaks = 0;
  uint64_t parity_errors = 0;
  uint64_t overruns = 0;
  LinkExpectation expected = LinkExpectation::clean;
  bool unexpected = false;  // the outcome is not the expected one

  bool intact() const {
    return sent == bytes && wrong == 0 && lost == 0 && extra == 0 && line_errors() == 0;
  }
  uint64_t line_errors() const { return framing_errors + breaks + parity_errors + overruns; }
};

struct MatrixCell {
  uint32_t rate = 0;
  MatrixSide sides[2];
  std::vector<MatrixFlow> flows;      // both directions (empty when the cell could not run)
  std::vector<std::string> problems;  // every disagreement with the expectation
  double seconds = 0;
};

struct MatrixPair {
  std::string chips[2];
  std::vector<MatrixCell> cells;
  std::string error;  // the pair could not run (bridge, ports); the cells stop there
  std::optional<BridgeExit> bridge_exit;
  std::string bridge_stderr_tail;
};

struct MatrixResult {
  std::vector<std::string> chips;
  std::vector<uint32_t> rates;
  std::vector<MatrixPair> pairs;
  double seconds = 0;
  bool cancelled = false;
};

MatrixResult run_matrix(const MatrixConfig& config);

// The checks of one side after a rate was set (what the driver did against the docs and the
// chip), and of one direction after its burst (the outcome against flow.expected). They add
// sentences to `problems` and set `unexpected`.
void judge_side(MatrixSide& side, uint32_t rate, std::vector<std::string>& problems);
void judge_flow(const MatrixCell& cell, MatrixFlow& flow, std::vector<std::string>& problems);

// Every disagreement, each prefixed with its pair and rate; empty when the matrix passed.
std::vector<std::string> matrix_problems(const MatrixResult& result);

// The tables for the summary: outcome per (transmitter, receiver) and rate, and the rate each
// chip ran at per rate.
std::string matrix_text(const MatrixResult& result);

// The text of one direction's cell: "pass", "FE 12", "bad" (garbled, no framing error counted);
// "T:" / "R:" / "B:" before it when the transmitter / receiver / both refused the rate; "!" after
// it when it is not what was expected.
std::string matrix_cell_text(const MatrixCell& cell, const MatrixFlow& flow);

// The "matrix" object of the JSON report (README.md lists its fields).
void write_matrix_json(hostutil::JsonWriter& json, const MatrixResult& result);

}  // namespace loopback
