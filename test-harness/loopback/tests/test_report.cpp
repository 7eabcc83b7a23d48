// The report: the verdict rules, the JSON document's shape (parsed back with
// Boost.PropertyTree), and the facts the summary must state.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>

#include "report.hpp"

namespace {

using boost::property_tree::ptree;
using loopback::Report;
using loopback::RunResult;
using loopback::Verdict;

RunResult clean_run(uint64_t total) {
  RunResult run;
  run.bytes_sent = total;
  run.crc32_sent = 0x12345678;
  run.verify.expected_total = total;
  run.verify.sent = total;
  run.verify.received = total;
  run.verify.verified = total;
  run.verify.crc32 = 0x12345678;
  run.transfer_seconds = 2.0;
  run.write_seconds = 1.9;
  run.elapsed_seconds = 2.2;
  run.first_byte_seconds = 0.001;
  return run;
}

Report real_port_report(const RunResult& run) {
  Report r;
  r.options.tty = "/dev/ttyUSB0";
  r.options.bytes = run.verify.expected_total;
  r.options.baud = 115200;
  r.started_utc = "2024-01-02T03:04:05Z";
  r.port_path = "/dev/ttyUSB0";
  r.actual_baud = 115200;
  r.run = run;
  return r;
}

Report simulated_report(const RunResult& run, bool paced, int bridge_status) {
  Report r;
  r.options.bytes = run.verify.expected_total;
  r.options.bridge_args = paced ? std::vector<std::string>{"--paced"} : std::vector<std::string>{};
  r.started_utc = "2024-01-02T03:04:05Z";
  r.port_path = "/tmp/run/cu.usbserial-SIM0";
  r.simulated = true;
  r.paced = paced;
  r.actual_baud = 115200;
  r.run = run;
  loopback::BridgeInfo b;
  b.path = "/opt/bin/usbserial-bridge";
  b.args = {"--sim", "ft232r", "--run-dir", "/tmp/run"};
  b.run_dir = "/tmp/run";
  b.ports = {"/tmp/run/cu.usbserial-SIM0"};
  b.info = {"sim: ft232r ready"};
  loopback::BridgeExit e;
  e.exited = true;
  e.code = bridge_status;
  b.exit = e;
  b.stderr_tail = bridge_status == 0 ? "" : "bridge: boom\n";
  r.bridge = b;
  return r;
}

// Values are read as text and converted here: PropertyTree's typed get<>() trips GCC 12's
// -Wmaybe-uninitialized inside Boost under the sanitizer build.
uint64_t as_uint(const ptree& t, const std::string& path) {
  return std::stoull(t.get<std::string>(path));
}
int as_int(const ptree& t, const std::string& path) {
  return std::stoi(t.get<std::string>(path));
}
double as_double(const ptree& t, const std::string& path) {
  return std::stod(t.get<std::string>(path));
}

ptree parse(const std::string& json) {
  std::istringstream in(json);
  ptree tree;
  boost::property_tree::read_json(in, tree);
  return tree;
}

TEST(Judge, CleanRunPasses) {
  Report r = real_port_report(clean_run(1000));
  loopback::judge(r);
  EXPECT_EQ(r.verdict, Verdict::pass);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.reason, "all 1000 bytes came back intact");
}

TEST(Judge, WrongByteFailsAndNamesTheOffset) {
  RunResult run = clean_run(1000);
  run.verify.wrong = 1;
  run.verify.verified = 999;
  run.verify.first_error = loopback::FirstError{777, 0xAB, 0xCD};
  Report r = real_port_report(run);
  loopback::judge(r);
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.reason.find("1 wrong byte, the first at offset 777 (expected 0xab, received 0xcd)"),
            std::string::npos)
      << r.reason;
}

TEST(Judge, LossAndTimeoutFail) {
  RunResult run = clean_run(1000);
  run.verify.received = 900;
  run.verify.verified = 900;
  run.verify.lost = 100;
  run.timed_out = true;
  Report r = real_port_report(run);
  r.options.timeout_s = 2.5;
  loopback::judge(r);
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_NE(r.reason.find("100 of 1000 sent bytes never came back (lost)"), std::string::npos)
      << r.reason;
  EXPECT_NE(r.reason.find("nothing received for 2.5 s"), std::string::npos) << r.reason;
}

TEST(Judge, ExtraBytesFail) {
  RunResult run = clean_run(1000);
  run.verify.received = 1003;
  run.verify.extra = 3;
  Report r = real_port_report(run);
  loopback::judge(r);
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_NE(r.reason.find("3 extra bytes"), std::string::npos) << r.reason;
}

TEST(Judge, StalledWriterFails) {
  RunResult run = clean_run(1000);
  run.bytes_sent = 600;
  run.verify.sent = 600;
  run.verify.received = 600;
  run.verify.verified = 600;
  run.timed_out = true;
  Report r = real_port_report(run);
  loopback::judge(r);
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_NE(r.reason.find("only 600 of 1000 bytes could be written"), std::string::npos)
      << r.reason;
}

TEST(Judge, IoErrorsAndInterruptFail) {
  RunResult run = clean_run(1000);
  run.read_error = "read: Input/output error";
  run.cancelled = true;
  Report r = real_port_report(run);
  loopback::judge(r);
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_NE(r.reason.find("interrupted after 1000 of 1000 bytes were sent"), std::string::npos)
      << r.reason;
  EXPECT_NE(r.reason.find("Input/output error"), std::string::npos);
}

TEST(Judge, InterruptedRunDoesNotCallInFlightBytesLost) {
  RunResult run = clean_run(1000);
  run.bytes_sent = 800;
  run.verify.sent = 800;
  run.verify.received = 700;
  run.verify.verified = 700;
  run.verify.lost = 100;
  run.cancelled = true;
  Report r = real_port_report(run);
  loopback::judge(r);
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_EQ(r.reason, "interrupted after 800 of 1000 bytes were sent");
  EXPECT_NE(loopback::summary_text(r).find("100 not back yet when interrupted"), std::string::npos);
}

TEST(Judge, RateChangedDuringTheRunFails) {
  Report r = real_port_report(clean_run(1000));
  r.baud_after_run = 9600;
  loopback::judge(r);
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_NE(r.reason.find("rate changed from 115200 to 9600 baud"), std::string::npos) << r.reason;
  const ptree t = parse(loopback::report_json(r));
  EXPECT_EQ(as_uint(t, "port.baud_after_run"), 9600U);

  Report same = real_port_report(clean_run(1000));
  same.baud_after_run = 115200;
  loopback::judge(same);
  EXPECT_EQ(same.verdict, Verdict::pass);
}

TEST(Judge, NonZeroBridgeExitFailsAnOtherwiseCleanRun) {
  Report r = simulated_report(clean_run(1000), false, 3);
  loopback::judge(r);
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.reason.find("the bridge exited with status 3"), std::string::npos) << r.reason;

  Report ok = simulated_report(clean_run(1000), false, 0);
  loopback::judge(ok);
  EXPECT_EQ(ok.verdict, Verdict::pass);
}

TEST(Judge, BridgeKilledAfterGraceFails) {
  Report r = simulated_report(clean_run(1000), false, 0);
  r.bridge->exit->exited = false;
  r.bridge->exit->signal = 9;
  r.bridge->exit->killed_after_grace = true;
  r.bridge->exit->grace_s = 5;
  loopback::judge(r);
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_NE(r.reason.find("did not exit within 5 s of SIGTERM"), std::string::npos) << r.reason;
}

TEST(ReportJson, PassOnARealPortHasEveryField) {
  Report r = real_port_report(clean_run(16 << 20));
  r.options.json_path = "out.json";
  loopback::judge(r);
  const ptree t = parse(loopback::report_json(r));

  EXPECT_EQ(t.get<std::string>("tool"), "usbserial-loopback");
  EXPECT_FALSE(t.get<std::string>("version").empty());
  EXPECT_EQ(t.get<std::string>("verdict"), "PASS");
  EXPECT_EQ(as_int(t, "exit_code"), 0);
  EXPECT_EQ(t.get<std::string>("started_utc"), "2024-01-02T03:04:05Z");

  EXPECT_EQ(t.get<std::string>("options.tty"), "/dev/ttyUSB0");
  EXPECT_EQ(t.get<std::string>("options.sim"), "null");  // no simulation with a TTY
  EXPECT_EQ(as_uint(t, "options.bytes"), 16777216U);
  EXPECT_EQ(as_uint(t, "options.baud"), 115200U);
  EXPECT_EQ(t.get<std::string>("options.rtscts"), "false");
  EXPECT_EQ(as_double(t, "options.timeout_s"), 10.0);
  EXPECT_EQ(as_uint(t, "options.chunk"), 4096U);
  EXPECT_EQ(t.get<std::string>("options.json"), "out.json");
  EXPECT_EQ(t.get_child("options.bridge_args").size(), 0U);
  EXPECT_EQ(t.get<std::string>("options.quiet"), "false");

  EXPECT_EQ(t.get<std::string>("port.path"), "/dev/ttyUSB0");
  EXPECT_EQ(t.get<std::string>("port.kind"), "real");
  EXPECT_EQ(t.get<std::string>("port.paced"), "null");
  EXPECT_EQ(as_uint(t, "port.requested_baud"), 115200U);
  EXPECT_EQ(as_uint(t, "port.actual_baud"), 115200U);
  EXPECT_EQ(t.get<std::string>("port.framing"), "8N1");
  // 8N1: 10 bits per byte, so 115200 baud carries 11520 bytes per second.
  EXPECT_DOUBLE_EQ(as_double(t, "port.line_rate_ceiling_bytes_per_s"), 11520.0);

  EXPECT_EQ(t.get<std::string>("pattern"), "splitmix64-le");

  EXPECT_EQ(as_uint(t, "transfer.bytes_requested"), 16777216U);
  EXPECT_EQ(as_uint(t, "transfer.bytes_sent"), 16777216U);
  EXPECT_EQ(as_uint(t, "transfer.bytes_received"), 16777216U);
  EXPECT_EQ(as_uint(t, "transfer.bytes_verified"), 16777216U);
  EXPECT_EQ(as_uint(t, "transfer.wrong_bytes"), 0U);
  EXPECT_EQ(t.get<std::string>("transfer.first_error"), "null");
  EXPECT_EQ(as_uint(t, "transfer.lost_bytes"), 0U);
  EXPECT_EQ(as_uint(t, "transfer.extra_bytes"), 0U);
  EXPECT_EQ(t.get<std::string>("transfer.crc32_sent"), "0x12345678");
  EXPECT_EQ(t.get<std::string>("transfer.crc32_received"), "0x12345678");
  EXPECT_EQ(t.get<std::string>("transfer.timed_out"), "false");
  EXPECT_EQ(t.get<std::string>("transfer.cancelled"), "false");
  EXPECT_EQ(t.get<std::string>("transfer.write_error"), "null");
  EXPECT_EQ(t.get<std::string>("transfer.read_error"), "null");

  EXPECT_DOUBLE_EQ(as_double(t, "timing.transfer_seconds"), 2.0);
  EXPECT_DOUBLE_EQ(as_double(t, "timing.write_seconds"), 1.9);
  EXPECT_DOUBLE_EQ(as_double(t, "timing.elapsed_seconds"), 2.2);
  EXPECT_DOUBLE_EQ(as_double(t, "timing.first_byte_ms"), 1.0);
  // 16777216 bytes in 2 s = 8388608 B/s = 8.388608 MB/s (1 MB = 10^6 bytes).
  EXPECT_NEAR(as_double(t, "timing.mb_per_s"), 8.388608, 1e-6);
  EXPECT_NEAR(as_double(t, "timing.tx_mb_per_s"), 16.777216 / 1.9, 1e-6);
  EXPECT_NEAR(as_double(t, "timing.percent_of_line_rate"), 100.0 * 8388608.0 / 11520.0, 1e-3);
  EXPECT_EQ(t.get<std::string>("timing.figure"), "uart");

  EXPECT_EQ(t.get<std::string>("bridge"), "null");
}

TEST(ReportJson, FailureCarriesTheFirstError) {
  RunResult run = clean_run(4096);
  run.verify.wrong = 2;
  run.verify.verified = 4094;
  run.verify.first_error = loopback::FirstError{100, 0x11, 0x13};
  run.write_error = "write: Input/output error";
  Report r = real_port_report(run);
  loopback::judge(r);
  const ptree t = parse(loopback::report_json(r));
  EXPECT_EQ(t.get<std::string>("verdict"), "FAIL");
  EXPECT_EQ(as_int(t, "exit_code"), 1);
  EXPECT_EQ(as_uint(t, "transfer.wrong_bytes"), 2U);
  EXPECT_EQ(as_uint(t, "transfer.first_error.offset"), 100U);
  EXPECT_EQ(as_uint(t, "transfer.first_error.expected"), 0x11U);
  EXPECT_EQ(as_uint(t, "transfer.first_error.received"), 0x13U);
  EXPECT_EQ(t.get<std::string>("transfer.write_error"), "write: Input/output error");
}

TEST(ReportJson, UnpacedSimulationIsADriverPathFigure) {
  Report r = simulated_report(clean_run(1000), false, 0);
  loopback::judge(r);
  const ptree t = parse(loopback::report_json(r));
  EXPECT_EQ(t.get<std::string>("port.kind"), "simulated");
  EXPECT_EQ(t.get<std::string>("port.paced"), "false");
  EXPECT_EQ(t.get<std::string>("port.line_rate_ceiling_bytes_per_s"), "null");
  EXPECT_EQ(t.get<std::string>("timing.percent_of_line_rate"), "null");
  EXPECT_EQ(t.get<std::string>("timing.figure"), "driver-path");
  EXPECT_EQ(t.get<std::string>("options.sim"), "ft232r");
  EXPECT_EQ(t.get<std::string>("options.tty"), "null");

  EXPECT_EQ(t.get<std::string>("bridge.path"), "/opt/bin/usbserial-bridge");
  std::vector<std::string> args;
  for (const auto& item : t.get_child("bridge.args")) {
    args.push_back(item.second.get_value<std::string>());
  }
  EXPECT_EQ(args, (std::vector<std::string>{"--sim", "ft232r", "--run-dir", "/tmp/run"}));
  EXPECT_EQ(t.get<std::string>("bridge.run_dir"), "/tmp/run");
  EXPECT_EQ(t.get_child("bridge.ports").begin()->second.get_value<std::string>(),
            "/tmp/run/cu.usbserial-SIM0");
  EXPECT_EQ(t.get_child("bridge.info").size(), 1U);
  EXPECT_EQ(t.get<std::string>("bridge.exit.description"), "exited with status 0");
  EXPECT_EQ(t.get<std::string>("bridge.exit.clean"), "true");
  EXPECT_EQ(as_int(t, "bridge.exit.code"), 0);
  EXPECT_EQ(t.get<std::string>("bridge.exit.signal"), "null");
  EXPECT_EQ(t.get<std::string>("bridge.exit.killed_after_grace"), "false");
  EXPECT_EQ(t.get<std::string>("bridge.stderr_tail"), "");
}

TEST(ReportJson, PacedSimulationHasALineRateCeiling) {
  Report r = simulated_report(clean_run(1000), true, 0);
  loopback::judge(r);
  const ptree t = parse(loopback::report_json(r));
  EXPECT_EQ(t.get<std::string>("port.paced"), "true");
  EXPECT_DOUBLE_EQ(as_double(t, "port.line_rate_ceiling_bytes_per_s"), 11520.0);
  EXPECT_EQ(t.get<std::string>("timing.figure"), "uart");
  EXPECT_EQ(t.get_child("options.bridge_args").begin()->second.get_value<std::string>(), "--paced");
}

TEST(ReportJson, SetupErrorHasNoTransfer) {
  Report r;
  r.options.tty = "/dev/ttyUSB9";
  r.started_utc = "2024-01-02T03:04:05Z";
  loopback::set_setup_error(r, "cannot open /dev/ttyUSB9: No such file or directory");
  const ptree t = parse(loopback::report_json(r));
  EXPECT_EQ(t.get<std::string>("verdict"), "ERROR");
  EXPECT_EQ(as_int(t, "exit_code"), 2);
  EXPECT_EQ(t.get<std::string>("reason"), "cannot open /dev/ttyUSB9: No such file or directory");
  EXPECT_EQ(t.get<std::string>("port.path"), "null");
  EXPECT_EQ(t.get<std::string>("port.actual_baud"), "null");
  EXPECT_EQ(t.get<std::string>("port.baud_after_run"), "null");
  EXPECT_EQ(t.get<std::string>("transfer"), "null");
  EXPECT_EQ(t.get<std::string>("timing"), "null");
}

TEST(ReportJson, StringsAreEscaped) {
  Report r = simulated_report(clean_run(10), false, 2);
  r.bridge->stderr_tail = "line one\n\"quoted\"\ttab\n";
  loopback::judge(r);
  const ptree t = parse(loopback::report_json(r));
  EXPECT_EQ(t.get<std::string>("bridge.stderr_tail"), "line one\n\"quoted\"\ttab\n");
}

TEST(Summary, RealPortStatesTheFacts) {
  Report r = real_port_report(clean_run(1000000));
  r.run->transfer_seconds = 100;  // 10000 B/s
  loopback::judge(r);
  const std::string s = loopback::summary_text(r);
  EXPECT_NE(s.find("/dev/ttyUSB0"), std::string::npos) << s;
  EXPECT_NE(s.find("115200 baud requested, 115200 reported by the driver"), std::string::npos) << s;
  EXPECT_NE(s.find("1000000 of 1000000 bytes"), std::string::npos) << s;
  EXPECT_NE(s.find("1000000 verified"), std::string::npos) << s;
  EXPECT_NE(s.find("100.000 s"), std::string::npos) << s;
  // 10000 B/s = 0.01 MB/s; ceiling 11520 B/s = 0.01152 MB/s; 10000 / 11520 = 86.8 %.
  EXPECT_NE(s.find("0.01 MB/s each way"), std::string::npos) << s;
  EXPECT_NE(s.find("0.01152 MB/s = baud/10 for 8N1"), std::string::npos) << s;
  EXPECT_NE(s.find("86.8 %"), std::string::npos) << s;
  EXPECT_NE(s.find("PASS: all 1000000 bytes came back intact"), std::string::npos) << s;
}

TEST(Summary, UnpacedSimulationSaysItIsADriverPathFigure) {
  Report r = simulated_report(clean_run(1000), false, 0);
  loopback::judge(r);
  const std::string s = loopback::summary_text(r);
  EXPECT_NE(s.find("unpaced"), std::string::npos) << s;
  EXPECT_NE(s.find("driver-path figure, not a UART one"), std::string::npos) << s;
  EXPECT_EQ(s.find("baud/10"), std::string::npos) << s;
  EXPECT_NE(s.find("exited with status 0"), std::string::npos) << s;
}

TEST(Summary, VerdictLine) {
  Report r = real_port_report(clean_run(10));
  loopback::judge(r);
  EXPECT_EQ(loopback::verdict_line(r), "PASS: all 10 bytes came back intact\n");
}

TEST(Progress, Text) {
  // 5 MB of 10 MB sent, 4 MB back after 2 s: 2 MB/s, 40 %.
  const loopback::Progress p{5000000, 4000000, 10000000, 2.0};
  EXPECT_EQ(loopback::progress_text(p), "tx 5.00 MB  rx 4.00 MB  2.00 MB/s  40.0%");
}

}  // namespace
