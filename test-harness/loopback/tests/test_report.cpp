// The report: the verdict rules, the JSON document's shape (parsed back with
// Boost.PropertyTree), and the facts the summary must state.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>

#include "latency.hpp"
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
  r.kind = loopback::PortKind::real;
  r.paced = true;
  loopback::PortReport port;
  port.path = "/dev/ttyUSB0";
  port.actual_baud = 115200;
  port.rate_source = loopback::RateSource::termios;
  port.run = run;
  r.ports.push_back(port);
  return r;
}

Report simulated_report(const RunResult& run, bool paced, int bridge_status) {
  Report r;
  r.options.bytes = run.verify.expected_total;
  r.options.bridge_args = paced ? std::vector<std::string>{"--paced"} : std::vector<std::string>{};
  r.started_utc = "2024-01-02T03:04:05Z";
  r.kind = loopback::PortKind::simulated;
  r.paced = paced;
  loopback::PortReport port;
  port.path = "/tmp/run/cu.usbserial-SIM0";
  port.actual_baud = 115200;
  port.rate_source = loopback::RateSource::driver;
  port.run = run;
  r.ports.push_back(port);
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

// The first element of the document's `ports` array.
const ptree& first_port(const ptree& t) {
  return t.get_child("ports").begin()->second;
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
  r.ports[0].baud_after_run = 9600;
  loopback::judge(r);
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_NE(r.reason.find("rate changed from 115200 to 9600 baud"), std::string::npos) << r.reason;
  const ptree t = parse(loopback::report_json(r));
  EXPECT_EQ(as_uint(first_port(t), "baud_after_run"), 9600U);

  Report same = real_port_report(clean_run(1000));
  same.ports[0].baud_after_run = 115200;
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
  RunResult run = clean_run(16 << 20);
  run.transfer_seconds = 1600;  // 10485.76 B/s: 91.02 % of the 11520 B/s line rate
  Report r = real_port_report(run);
  r.options.json_path = "out.json";
  loopback::judge(r);
  const ptree t = parse(loopback::report_json(r));
  const ptree& p = first_port(t);

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

  EXPECT_EQ(t.get<std::string>("kind"), "real");
  EXPECT_EQ(t.get<std::string>("paced"), "true");
  EXPECT_EQ(t.get_child("modes").begin()->second.get_value<std::string>(), "throughput");
  ASSERT_EQ(t.get_child("ports").size(), 1U);
  EXPECT_EQ(p.get<std::string>("path"), "/dev/ttyUSB0");
  EXPECT_EQ(as_uint(p, "pattern_offset"), 0U);
  EXPECT_EQ(as_uint(p, "requested_baud"), 115200U);
  EXPECT_EQ(as_uint(p, "actual_baud"), 115200U);
  EXPECT_EQ(as_double(p, "rate_error_percent"), 0.0);
  EXPECT_EQ(p.get<std::string>("rate_source"), "termios");
  EXPECT_EQ(p.get<std::string>("framing"), "8N1");
  // 8N1: 10 bits per byte, so 115200 baud carries 11520 bytes per second.
  EXPECT_DOUBLE_EQ(as_double(p, "line_rate_ceiling_bytes_per_s"), 11520.0);
  EXPECT_EQ(p.get<std::string>("latency"), "null");
  EXPECT_EQ(p.get<std::string>("sweep"), "null");

  EXPECT_EQ(t.get<std::string>("pattern"), "splitmix64-le");

  EXPECT_EQ(as_uint(p, "transfer.bytes_requested"), 16777216U);
  EXPECT_EQ(as_uint(p, "transfer.bytes_sent"), 16777216U);
  EXPECT_EQ(as_uint(p, "transfer.bytes_received"), 16777216U);
  EXPECT_EQ(as_uint(p, "transfer.bytes_verified"), 16777216U);
  EXPECT_EQ(as_uint(p, "transfer.wrong_bytes"), 0U);
  EXPECT_EQ(p.get<std::string>("transfer.first_error"), "null");
  EXPECT_EQ(as_uint(p, "transfer.lost_bytes"), 0U);
  EXPECT_EQ(as_uint(p, "transfer.extra_bytes"), 0U);
  EXPECT_EQ(p.get<std::string>("transfer.crc32_sent"), "0x12345678");
  EXPECT_EQ(p.get<std::string>("transfer.crc32_received"), "0x12345678");
  EXPECT_EQ(p.get<std::string>("transfer.timed_out"), "false");
  EXPECT_EQ(p.get<std::string>("transfer.cancelled"), "false");
  EXPECT_EQ(p.get<std::string>("transfer.write_error"), "null");
  EXPECT_EQ(p.get<std::string>("transfer.read_error"), "null");

  EXPECT_DOUBLE_EQ(as_double(p, "timing.transfer_seconds"), 1600.0);
  EXPECT_DOUBLE_EQ(as_double(p, "timing.write_seconds"), 1.9);
  EXPECT_DOUBLE_EQ(as_double(p, "timing.elapsed_seconds"), 2.2);
  EXPECT_DOUBLE_EQ(as_double(p, "timing.first_byte_ms"), 1.0);
  // 16777216 bytes in 1600 s = 10485.76 B/s (1 MB = 10^6 bytes).
  EXPECT_NEAR(as_double(p, "timing.mb_per_s"), 0.01048576, 1e-9);
  EXPECT_NEAR(as_double(p, "timing.tx_mb_per_s"), 16.777216 / 1.9, 1e-6);
  EXPECT_NEAR(as_double(p, "timing.percent_of_line_rate"), 100.0 * 10485.76 / 11520.0, 1e-6);
  EXPECT_EQ(p.get<std::string>("timing.figure"), "uart");

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
  const ptree& p = first_port(t);
  EXPECT_EQ(as_uint(p, "transfer.wrong_bytes"), 2U);
  EXPECT_EQ(as_uint(p, "transfer.first_error.offset"), 100U);
  EXPECT_EQ(as_uint(p, "transfer.first_error.expected"), 0x11U);
  EXPECT_EQ(as_uint(p, "transfer.first_error.received"), 0x13U);
  EXPECT_EQ(p.get<std::string>("transfer.write_error"), "write: Input/output error");
}

TEST(ReportJson, UnpacedSimulationIsADriverPathFigure) {
  Report r = simulated_report(clean_run(1000), false, 0);
  loopback::judge(r);
  const ptree t = parse(loopback::report_json(r));
  const ptree& p = first_port(t);
  EXPECT_EQ(t.get<std::string>("kind"), "simulated");
  EXPECT_EQ(t.get<std::string>("paced"), "false");
  EXPECT_EQ(p.get<std::string>("rate_source"), "driver-registry");
  EXPECT_EQ(p.get<std::string>("line_rate_ceiling_bytes_per_s"), "null");
  EXPECT_EQ(p.get<std::string>("timing.percent_of_line_rate"), "null");
  EXPECT_EQ(p.get<std::string>("timing.figure"), "driver-path");
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
  RunResult run = clean_run(1000);
  run.transfer_seconds = 0.1;  // 10000 B/s
  Report r = simulated_report(run, true, 0);
  loopback::judge(r);
  const ptree t = parse(loopback::report_json(r));
  const ptree& p = first_port(t);
  EXPECT_EQ(t.get<std::string>("paced"), "true");
  EXPECT_DOUBLE_EQ(as_double(p, "line_rate_ceiling_bytes_per_s"), 11520.0);
  EXPECT_EQ(p.get<std::string>("timing.figure"), "uart");
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
  EXPECT_EQ(t.get_child("ports").size(), 0U);
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
  r.ports[0].run->transfer_seconds = 100;  // 10000 B/s
  loopback::judge(r);
  const std::string s = loopback::summary_text(r);
  EXPECT_NE(s.find("/dev/ttyUSB0"), std::string::npos) << s;
  EXPECT_NE(s.find("115200 baud requested, 115200 programmed (+0.00 %, read from termios)"),
            std::string::npos)
      << s;
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

TEST(Summary, ARealPortFasterThanItsLineRateGetsNoPercentage) {
  // 1000 bytes in 2 s through a 115200 baud port is plausible; 1 MB in 0.01 s is not: such
  // a port is not paced by a UART (a pty), and the report says so instead of "8680 %".
  RunResult run = clean_run(1000000);
  run.transfer_seconds = 0.01;
  Report r = real_port_report(run);
  loopback::judge(r);
  const std::string s = loopback::summary_text(r);
  EXPECT_NE(s.find("measured above the 8N1 line rate, so no UART paces this port"),
            std::string::npos)
      << s;
  EXPECT_EQ(s.find("% of it"), std::string::npos) << s;
  const ptree t = parse(loopback::report_json(r));
  EXPECT_EQ(first_port(t).get<std::string>("timing.percent_of_line_rate"), "null");
  EXPECT_EQ(first_port(t).get<std::string>("timing.figure"), "driver-path");
}

TEST(Summary, AHarnessPortShowsTheProgrammedRateAndItsError) {
  Report r = real_port_report(clean_run(1000));
  r.kind = loopback::PortKind::harness;
  r.paced = false;
  r.options.baud = 1234567;
  r.ports[0].path = "/run/user/0/usbserial-bridge/cu.usbserial-SIM1";
  r.ports[0].actual_baud = 1263158;
  r.ports[0].rate_source = loopback::RateSource::driver;
  loopback::judge(r);
  const std::string s = loopback::summary_text(r);
  EXPECT_NE(s.find("1234567 baud requested, 1263158 programmed (+2.32 %, read from the driver's "
                   "registry)"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("a usbserial-bridge port, unpaced"), std::string::npos) << s;
  EXPECT_NE(s.find("usbserial-bridge --paced simulates UART timing"), std::string::npos) << s;
  const ptree t = parse(loopback::report_json(r));
  EXPECT_EQ(t.get<std::string>("kind"), "harness");
  EXPECT_NEAR(as_double(first_port(t), "rate_error_percent"), 2.3158, 1e-3);
}

TEST(RateError, IsSignedAndRelativeToTheRequest) {
  EXPECT_DOUBLE_EQ(loopback::rate_error_percent(100, 103), 3.0);
  EXPECT_DOUBLE_EQ(loopback::rate_error_percent(100, 97), -3.0);
  EXPECT_DOUBLE_EQ(loopback::rate_error_percent(115200, 115200), 0.0);
  EXPECT_NEAR(loopback::rate_error_percent(57600, 57554), -0.0799, 1e-4);
}

TEST(Judge, SeveralPortsNameThePortThatFailed) {
  Report r = simulated_report(clean_run(1000), false, 0);
  loopback::PortReport second = r.ports[0];
  second.path = "/tmp/run/cu.usbserial-SIM0B";
  second.run->verify.wrong = 5;
  second.run->verify.first_error = loopback::FirstError{7, 1, 2};
  r.ports.push_back(second);
  loopback::judge(r);
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_EQ(r.reason.rfind("cu.usbserial-SIM0B: 5 wrong bytes, the first at offset 7", 0), 0U)
      << r.reason;
  r.ports[1].run->verify.wrong = 0;
  r.ports[1].run->verify.first_error.reset();
  loopback::judge(r);
  EXPECT_EQ(r.reason, "all 1000 bytes came back intact on each of 2 ports");
  const ptree t = parse(loopback::report_json(r));
  auto it = t.get_child("ports").begin();
  ++it;
  EXPECT_EQ(as_uint(it->second, "pattern_offset"), 1ULL << 40);
}

loopback::LatencyResult latency_result(std::vector<double> samples_ms) {
  loopback::LatencyResult l;
  l.round_trips_requested = samples_ms.size();
  l.message_bytes = 1;
  for (const double ms : samples_ms) {
    l.samples_s.push_back(ms / 1e3);
  }
  return l;
}

TEST(Latency, NearestRankPercentilesFromATable) {
  // 1..100 ms: p50 is the 50th value, p90 the 90th, p99 the 99th, p99.9 rounds up to 100th.
  std::vector<double> hundred;
  for (int i = 100; i >= 1; --i) {
    hundred.push_back(i / 1e3);
  }
  const loopback::LatencyStats s = loopback::latency_stats(hundred);
  EXPECT_EQ(s.count, 100U);
  EXPECT_DOUBLE_EQ(s.min, 0.001);
  EXPECT_DOUBLE_EQ(s.p50, 0.050);
  EXPECT_DOUBLE_EQ(s.p90, 0.090);
  EXPECT_DOUBLE_EQ(s.p99, 0.099);
  EXPECT_DOUBLE_EQ(s.p999, 0.100);
  EXPECT_DOUBLE_EQ(s.max, 0.100);
  EXPECT_NEAR(s.mean, 0.0505, 1e-12);
  // One sample: every percentile is it. None: all zero.
  const loopback::LatencyStats one = loopback::latency_stats({0.004});
  EXPECT_DOUBLE_EQ(one.p50, 0.004);
  EXPECT_DOUBLE_EQ(one.p999, 0.004);
  EXPECT_EQ(loopback::latency_stats({}).count, 0U);
  // Boundaries of the nearest rank: 10 samples, p90 is the 9th, p91 the 10th.
  const std::vector<double> ten{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_EQ(loopback::nearest_rank(ten, 90), 9);
  EXPECT_EQ(loopback::nearest_rank(ten, 91), 10);
  EXPECT_EQ(loopback::nearest_rank(ten, 10), 1);
  EXPECT_EQ(loopback::nearest_rank(ten, 0.1), 1);
}

TEST(Latency, ReportedAndJudged) {
  Report r = real_port_report(clean_run(1000));
  r.options.modes = {loopback::Mode::latency};
  r.ports[0].run.reset();
  r.ports[0].latency = latency_result({0.5, 0.6, 0.7, 2.0});
  loopback::judge(r);
  EXPECT_EQ(r.verdict, Verdict::pass) << r.reason;
  EXPECT_EQ(r.reason, "4 round trips came back intact");
  const std::string s = loopback::summary_text(r);
  EXPECT_NE(
      s.find("4 of 4 round trips of 1 byte: min 0.5, p50 0.6, p90 2, p99 2, p99.9 2, max 2 ms"),
      std::string::npos)
      << s;
  const ptree t = parse(loopback::report_json(r));
  const ptree& l = first_port(t).get_child("latency");
  EXPECT_EQ(as_uint(l, "round_trips_completed"), 4U);
  EXPECT_NEAR(as_double(l, "p50_ms"), 0.6, 1e-9);
  EXPECT_NEAR(as_double(l, "max_ms"), 2.0, 1e-9);
  EXPECT_EQ(l.get_child("samples_ms").size(), 4U);

  r.ports[0].latency->wrong_round_trips = 1;
  r.ports[0].latency->timed_out = true;
  loopback::judge(r);
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_NE(r.reason.find("round trip 5 of 4 did not come back within 10 s"), std::string::npos)
      << r.reason;
  EXPECT_NE(r.reason.find("1 of 4 round trips came back with wrong bytes"), std::string::npos)
      << r.reason;
}

TEST(Sweep, RefusedRatesAreReportedNotFailed) {
  Report r = real_port_report(clean_run(1000));
  r.options.modes = {loopback::Mode::sweep};
  r.ports[0].run.reset();
  loopback::SweepPoint ok{9600, 9600, "", "", clean_run(1000)};
  ok.run->transfer_seconds = 0.5;  // 2000 B/s of 960: above the line rate -> no percentage
  loopback::SweepPoint close{57600, 57554, "", "", clean_run(1000)};
  close.run->transfer_seconds = 0.25;  // 4000 B/s of 5755.4: 69.5 %
  loopback::SweepPoint refused{5000000, 0, "the driver refused 5000000 baud", "", std::nullopt};
  r.ports[0].sweep = {ok, close, refused};
  loopback::judge(r);
  EXPECT_EQ(r.verdict, Verdict::pass) << r.reason;
  EXPECT_EQ(r.reason, "2 rates passed (1 refused by the driver)");
  const std::string s = loopback::summary_text(r);
  EXPECT_NE(s.find("57600       57554    -0.08 %"), std::string::npos) << s;
  EXPECT_NE(s.find("69.5 %  ok"), std::string::npos) << s;
  EXPECT_NE(s.find("refused: the driver refused 5000000 baud"), std::string::npos) << s;
  const ptree t = parse(loopback::report_json(r));
  const ptree& sweep = first_port(t).get_child("sweep");
  ASSERT_EQ(sweep.size(), 3U);
  auto it = sweep.begin();
  EXPECT_EQ(it->second.get<std::string>("timing.percent_of_line_rate"), "null");
  ++it;
  EXPECT_EQ(as_uint(it->second, "actual_baud"), 57554U);
  EXPECT_NEAR(as_double(it->second, "timing.percent_of_line_rate"), 69.499, 1e-3);
  ++it;
  EXPECT_EQ(it->second.get<std::string>("refused"), "the driver refused 5000000 baud");
  EXPECT_EQ(it->second.get<std::string>("transfer"), "null");

  // A data error at one rate fails the sweep; every rate refused fails it too.
  r.ports[0].sweep[1].run->verify.lost = 3;
  loopback::judge(r);
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_NE(r.reason.find("at 57600 baud: 3 of 1000 sent bytes never came back"), std::string::npos)
      << r.reason;
  r.ports[0].sweep = {refused};
  loopback::judge(r);
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_EQ(r.reason, "no rate of the sweep could be tested");
}

TEST(Progress, Text) {
  // 5 MB of 10 MB sent, 4 MB back after 2 s: 2 MB/s, 40 %.
  const loopback::Progress p{5000000, 4000000, 10000000, 2.0};
  EXPECT_EQ(loopback::progress_text(p), "tx 5.00 MB  rx 4.00 MB  2.00 MB/s  40.0%");
}

}  // namespace
