// End to end over a real pty: the port is configured by TtyPort exactly as for a USB adapter,
// and a thread on the pty master plays the loopback plug (pty_plug.hpp).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "kernel_termios.hpp"
#include "latency.hpp"
#include "pattern.hpp"
#include "platform.hpp"
#include "pty_plug.hpp"
#include "report.hpp"
#include "session.hpp"
#include "stream_runner.hpp"
#include "tty_port.hpp"

namespace {

using loopback::RunConfig;
using loopback::RunResult;
using loopback::TtyPort;
using loopback_test::PlugBehaviour;
using loopback_test::Pty;
using loopback_test::PtyPlug;

constexpr uint64_t k16MiB = 16ULL << 20;

TtyPort open_port(const Pty& pty, uint32_t baud = 115200, bool rtscts = false) {
  std::string error;
  std::optional<TtyPort> port = TtyPort::open(pty.slave_path(), {baud, rtscts}, &error);
  if (!port) {
    throw std::runtime_error(error);
  }
  return std::move(*port);
}

RunConfig config(uint64_t total, double timeout_s = 10) {
  RunConfig c;
  c.total_bytes = total;
  c.chunk = 4096;
  c.timeout_s = timeout_s;
  return c;
}

TEST(TtyPort, ConfiguresRaw8N1AtAStandardRate) {
  Pty pty;
  TtyPort port = open_port(pty, 115200);
  EXPECT_EQ(port.actual_baud(), 115200U);
  termios t{};
  ASSERT_EQ(::tcgetattr(port.fd(), &t), 0);
  EXPECT_EQ(t.c_lflag & (ICANON | ECHO | ISIG | IEXTEN), 0U);
  EXPECT_EQ(t.c_iflag & (IXON | IXOFF | ICRNL | INLCR | ISTRIP), 0U);
  EXPECT_EQ(t.c_oflag & OPOST, 0U);
  EXPECT_EQ(t.c_cflag & CSIZE, static_cast<tcflag_t>(CS8));
  EXPECT_EQ(t.c_cflag & (PARENB | CSTOPB | CRTSCTS), 0U);
  EXPECT_EQ(t.c_cflag & (CLOCAL | CREAD), static_cast<tcflag_t>(CLOCAL | CREAD));
  EXPECT_EQ(::cfgetospeed(&t), static_cast<speed_t>(B115200));
}

TEST(TtyPort, AnyIntegerRateGoesThroughBother) {
  // 250000 baud (DMX512) has no B-constant; Linux takes it as BOTHER with the integer rate.
  Pty pty;
  TtyPort port = open_port(pty, 250000);
  EXPECT_EQ(port.actual_baud(), 250000U);
  const loopback_test::KernelTermios k = loopback_test::read_kernel_termios(port.fd());
  ASSERT_TRUE(k.ok);
  EXPECT_TRUE(k.bother);
  EXPECT_EQ(k.ospeed, 250000U);
  EXPECT_EQ(k.ispeed, 250000U);
}

TEST(TtyPort, RtsCtsIsSetWhenAsked) {
  Pty pty;
  TtyPort port = open_port(pty, 921600, true);
  EXPECT_TRUE(port.rtscts());
  EXPECT_EQ(port.actual_baud(), 921600U);
  termios t{};
  ASSERT_EQ(::tcgetattr(port.fd(), &t), 0);
  EXPECT_EQ(t.c_cflag & CRTSCTS, static_cast<tcflag_t>(CRTSCTS));
}

TEST(TtyPort, RestoresTheSettingsOnClose) {
  Pty pty;
  termios before{};
  {
    const int fd = ::open(pty.slave_path().c_str(), O_RDWR | O_NOCTTY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::tcgetattr(fd, &before), 0);
    ::close(fd);
  }
  { TtyPort port = open_port(pty, 57600); }
  const int fd = ::open(pty.slave_path().c_str(), O_RDWR | O_NOCTTY);
  ASSERT_GE(fd, 0);
  termios after{};
  ASSERT_EQ(::tcgetattr(fd, &after), 0);
  ::close(fd);
  EXPECT_EQ(after.c_lflag, before.c_lflag);
  EXPECT_EQ(after.c_cflag, before.c_cflag);
}

TEST(TtyPort, RateRefusedAfterTheFactIsCaught) {
  // Emulates the harness's asynchronous tty side: as soon as the requested rate shows up in
  // termios, "the driver" refuses it and puts another rate back. The read-back waits
  // kRateSettleMs, so the port is refused instead of being tested at the wrong rate.
  Pty pty;
  std::atomic<bool> done{false};
  std::thread driver([&pty, &done] {
    while (!done.load()) {
      const loopback_test::KernelTermios k = loopback_test::read_kernel_termios(pty.slave());
      if (k.ok && k.ospeed == 3000000) {
        termios t{};
        ::tcgetattr(pty.slave(), &t);
        ::cfsetspeed(&t, B9600);
        ::tcsetattr(pty.slave(), TCSANOW, &t);
        return;
      }
      ::usleep(500);
    }
  });
  std::string error;
  const std::optional<TtyPort> port = TtyPort::open(pty.slave_path(), {3000000, false}, &error);
  done.store(true);
  driver.join();
  EXPECT_FALSE(port.has_value());
  EXPECT_NE(error.find("holds 9600 baud after 3000000 baud was requested"), std::string::npos)
      << error;
}

TEST(TtyPort, RateWithinThreePercentIsAcceptedAndReported) {
  // A driver that rounds 3000000 to 3000000 * 1.02 (2 % off) is accepted, and the rate it
  // holds is what the port reports.
  Pty pty;
  std::atomic<bool> done{false};
  std::thread driver([&pty, &done] {
    while (!done.load()) {
      const loopback_test::KernelTermios k = loopback_test::read_kernel_termios(pty.slave());
      if (k.ok && k.ospeed == 3000000) {
        loopback::set_any_rate(pty.slave(), 3060000);
        return;
      }
      ::usleep(500);
    }
  });
  std::string error;
  const std::optional<TtyPort> port = TtyPort::open(pty.slave_path(), {3000000, false}, &error);
  done.store(true);
  driver.join();
  ASSERT_TRUE(port.has_value()) << error;
  EXPECT_EQ(port->actual_baud(), 3060000U);
}

TEST(TtyPort, ClearErrors) {
  std::string error;
  EXPECT_FALSE(TtyPort::open("/nonexistent/ttyUSB7", {115200, false}, &error));
  EXPECT_NE(error.find("cannot open /nonexistent/ttyUSB7"), std::string::npos) << error;
  EXPECT_NE(error.find("No such file"), std::string::npos) << error;
  EXPECT_FALSE(TtyPort::open("/dev/null", {115200, false}, &error));
  EXPECT_NE(error.find("not a terminal"), std::string::npos) << error;
}

TEST(StreamPty, SixteenMiBComeBackIntact) {
  Pty pty;
  PtyPlug plug(pty);
  TtyPort port = open_port(pty);
  const RunResult r = loopback::run_stream(port.fd(), port.fd(), config(k16MiB));
  EXPECT_EQ(r.bytes_sent, k16MiB);
  EXPECT_EQ(r.verify.received, k16MiB);
  EXPECT_EQ(r.verify.verified, k16MiB);
  EXPECT_EQ(r.verify.wrong, 0U);
  EXPECT_EQ(r.verify.lost, 0U);
  EXPECT_EQ(r.verify.extra, 0U);
  EXPECT_FALSE(r.timed_out);
  EXPECT_TRUE(r.write_error.empty()) << r.write_error;
  EXPECT_TRUE(r.read_error.empty()) << r.read_error;
  EXPECT_EQ(r.crc32_sent, r.verify.crc32);
  EXPECT_GT(r.transfer_seconds, 0.0);
  EXPECT_GT(r.rx_bytes_per_second(), 0.0);
  ASSERT_TRUE(r.first_byte_seconds.has_value());
  EXPECT_LE(*r.first_byte_seconds, r.transfer_seconds);

  loopback::Report report;
  report.ports.emplace_back().run = r;
  loopback::judge(report);
  EXPECT_EQ(report.verdict, loopback::Verdict::pass) << report.reason;
}

TEST(StreamPty, CorruptByteIsReportedAtItsExactOffset) {
  const uint64_t bad = 12345677;  // inside a 4 KiB write, not at a boundary
  Pty pty;
  PlugBehaviour b;
  b.corrupt_at = bad;
  PtyPlug plug(pty, b);
  TtyPort port = open_port(pty);
  const RunResult r = loopback::run_stream(port.fd(), port.fd(), config(k16MiB));
  ASSERT_TRUE(r.verify.first_error.has_value());
  EXPECT_EQ(r.verify.first_error->offset, bad);
  EXPECT_EQ(r.verify.first_error->expected, loopback::pattern_byte(bad));
  EXPECT_EQ(r.verify.first_error->actual, static_cast<uint8_t>(loopback::pattern_byte(bad) ^ 0x5A));
  EXPECT_EQ(r.verify.wrong, 1U);
  EXPECT_EQ(r.verify.lost, 0U);
  EXPECT_EQ(r.verify.extra, 0U);
  EXPECT_NE(r.crc32_sent, r.verify.crc32);

  loopback::Report report;
  report.ports.emplace_back().run = r;
  loopback::judge(report);
  EXPECT_EQ(report.verdict, loopback::Verdict::fail);
  EXPECT_EQ(report.exit_code, 1);
  EXPECT_NE(report.reason.find("offset 12345677"), std::string::npos) << report.reason;
}

TEST(StreamPty, DroppedTailIsLossAfterTheTimeout) {
  const uint64_t total = 4ULL << 20;
  const uint64_t echoed = total - 10000;
  const double timeout = 0.5;
  Pty pty;
  PlugBehaviour b;
  b.echo_limit = echoed;
  PtyPlug plug(pty, b);
  TtyPort port = open_port(pty);
  const auto start = std::chrono::steady_clock::now();
  const RunResult r = loopback::run_stream(port.fd(), port.fd(), config(total, timeout));
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.bytes_sent, total);
  EXPECT_EQ(r.verify.received, echoed);
  EXPECT_EQ(r.verify.verified, echoed);
  EXPECT_EQ(r.verify.wrong, 0U);
  EXPECT_EQ(r.verify.lost, 10000U);
  // The run waited for the timeout after the last byte, and not much longer.
  EXPECT_GE(r.elapsed_seconds - r.transfer_seconds, timeout);
  EXPECT_LT(r.elapsed_seconds - r.transfer_seconds, timeout + 1.0);
  EXPECT_LT(took, r.transfer_seconds + timeout + 2.0);

  loopback::Report report;
  report.options.timeout_s = timeout;
  report.ports.emplace_back().run = r;
  loopback::judge(report);
  EXPECT_EQ(report.verdict, loopback::Verdict::fail);
  EXPECT_NE(report.reason.find("10000 of 4194304 sent bytes never came back"), std::string::npos)
      << report.reason;
  EXPECT_NE(report.reason.find("nothing received for 0.5 s"), std::string::npos) << report.reason;
}

TEST(StreamPty, ExtraBytesAfterTheEndAreCounted) {
  const uint64_t total = 1ULL << 20;
  Pty pty;
  PlugBehaviour b;
  b.extra_after = total;
  b.extra = {0xDE, 0xAD, 0xBE};
  PtyPlug plug(pty, b);
  TtyPort port = open_port(pty);
  const RunResult r = loopback::run_stream(port.fd(), port.fd(), config(total));
  EXPECT_EQ(r.verify.received, total + 3);
  EXPECT_EQ(r.verify.verified, total);
  EXPECT_EQ(r.verify.wrong, 0U);
  EXPECT_EQ(r.verify.extra, 3U);
  EXPECT_FALSE(r.timed_out);
}

TEST(StreamPty, WriterBlockedByAPlugThatNeverReadsTimesOut) {
  // Nothing is read on the far side, so the pty's buffers fill and writes stop; the timeout
  // must still end the run, writer included.
  const uint64_t total = 8ULL << 20;
  Pty pty;
  PlugBehaviour b;
  b.deaf = true;
  PtyPlug plug(pty, b);
  TtyPort port = open_port(pty);
  const auto start = std::chrono::steady_clock::now();
  const RunResult r = loopback::run_stream(port.fd(), port.fd(), config(total, 0.5));
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(r.bytes_sent, total);
  EXPECT_EQ(r.verify.received, 0U);
  EXPECT_EQ(r.verify.lost, r.bytes_sent);
  EXPECT_LT(took, 3.0);

  loopback::Report report;
  report.ports.emplace_back().run = r;
  loopback::judge(report);
  EXPECT_NE(report.reason.find("bytes could be written"), std::string::npos) << report.reason;
}

TEST(StreamPty, CancelStopsPromptly) {
  Pty pty;
  PlugBehaviour b;
  b.deaf = true;
  PtyPlug plug(pty, b);
  TtyPort port = open_port(pty);
  std::atomic<bool> cancel{false};
  RunConfig c = config(k16MiB, 60);
  c.cancel = &cancel;
  std::thread canceller([&cancel] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel.store(true);
  });
  const RunResult r = loopback::run_stream(port.fd(), port.fd(), c);
  canceller.join();
  EXPECT_TRUE(r.cancelled);
  EXPECT_FALSE(r.timed_out);
  EXPECT_LT(r.elapsed_seconds, 2.0);
}

TEST(StreamPty, TwoPortsWithACrossoverCable) {
  // TX on one port, RX on another (a null-modem pair), each configured like a real port.
  const uint64_t total = 2ULL << 20;
  Pty a;
  Pty b;
  PtyPlug cable(a, b);
  TtyPort tx = open_port(a);
  TtyPort rx = open_port(b);
  const RunResult r = loopback::run_stream(tx.fd(), rx.fd(), config(total));
  EXPECT_EQ(r.verify.verified, total);
  EXPECT_TRUE(r.verify.clean());
  EXPECT_FALSE(r.timed_out);
}

TEST(StreamPty, ProgressIsReported) {
  Pty pty;
  PtyPlug plug(pty);
  TtyPort port = open_port(pty);
  RunConfig c = config(1ULL << 20);
  c.progress_interval_s = 0.01;
  std::vector<loopback::Progress> seen;
  c.on_progress = [&seen](const loopback::Progress& p) { seen.push_back(p); };
  const RunResult r = loopback::run_stream(port.fd(), port.fd(), c);
  ASSERT_FALSE(seen.empty());
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_GE(seen[i].received, seen[i - 1].received);
    EXPECT_GE(seen[i].sent, seen[i - 1].sent);
  }
  EXPECT_EQ(seen.back().received, r.verify.received);  // the last call has the final counts
  EXPECT_EQ(seen.back().total, 1ULL << 20);
}

// The whole session with a TTY path, as `usbserial-loopback /dev/pts/N --json FILE` runs it.
TEST(SessionTty, PassWritesSummaryAndJson) {
  Pty pty;
  PtyPlug plug(pty);
  char json_path[] = "/tmp/loopback-test-XXXXXX";
  const int json_fd = ::mkstemp(json_path);
  ASSERT_GE(json_fd, 0);
  ::close(json_fd);

  loopback::Options o;
  o.tty = pty.slave_path();
  o.bytes = 1ULL << 20;
  o.baud = 3000000;
  o.json_path = json_path;
  std::ostringstream out;
  std::ostringstream err;
  const loopback::Report r = loopback::run_session(o, {&out, &err, false, nullptr});
  EXPECT_EQ(r.exit_code, 0) << out.str() << err.str();
  EXPECT_EQ(r.verdict, loopback::Verdict::pass);
  ASSERT_EQ(r.ports.size(), 1U);
  EXPECT_EQ(r.ports[0].actual_baud, 3000000U);
  EXPECT_NE(out.str().find("PASS"), std::string::npos);
  // A pty has no UART: it moves far more than the 0.3 MB/s of a 3 Mbaud 8N1 line, and the
  // report says so instead of claiming thousands of percent of the line rate.
  EXPECT_NE(out.str().find("measured above the 8N1 line rate"), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find("% of it"), std::string::npos) << out.str();

  std::ifstream in(json_path);
  std::stringstream json;
  json << in.rdbuf();
  ::unlink(json_path);
  EXPECT_NE(json.str().find("\"verdict\": \"PASS\""), std::string::npos) << json.str();
  EXPECT_NE(json.str().find("\"kind\": \"real\""), std::string::npos) << json.str();
}

TEST(SessionTty, RateChangedDuringTheRunFails) {
  Pty pty;
  PlugBehaviour b;
  b.retune_after = 100000;
  b.retune_speed = B9600;
  PtyPlug plug(pty, b);
  loopback::Options o;
  o.tty = pty.slave_path();
  o.bytes = 1ULL << 20;
  std::ostringstream out;
  std::ostringstream err;
  const loopback::Report r = loopback::run_session(o, {&out, &err, false, nullptr});
  EXPECT_EQ(r.exit_code, 1) << out.str();
  ASSERT_EQ(r.ports.size(), 1U);
  EXPECT_EQ(r.ports[0].actual_baud, 115200U);
  EXPECT_EQ(r.ports[0].baud_after_run, 9600U);
  EXPECT_NE(r.reason.find("rate changed from 115200 to 9600 baud during the run"),
            std::string::npos)
      << r.reason;
}

TEST(SessionTty, QuietPrintsOnlyTheVerdict) {
  Pty pty;
  PtyPlug plug(pty);
  loopback::Options o;
  o.tty = pty.slave_path();
  o.bytes = 65536;
  o.quiet = true;
  std::ostringstream out;
  std::ostringstream err;
  const loopback::Report r = loopback::run_session(o, {&out, &err, true, nullptr});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(out.str(), "PASS: all 65536 bytes came back intact\n");
  EXPECT_EQ(err.str(), "");
}

TEST(SessionTty, PortThatCannotBeOpenedIsASetupError) {
  loopback::Options o;
  o.tty = "/nonexistent/ttyACM3";
  std::ostringstream out;
  std::ostringstream err;
  const loopback::Report r = loopback::run_session(o, {&out, &err, false, nullptr});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.verdict, loopback::Verdict::error);
  EXPECT_EQ(out.str(), "");
  EXPECT_NE(err.str().find("cannot open /nonexistent/ttyACM3"), std::string::npos) << err.str();
}

TEST(SessionTty, UnwritableJsonPathIsRefusedBeforeTheRun) {
  loopback::Options o;
  o.tty = "/dev/null";
  o.json_path = "/nonexistent-dir/report.json";
  std::ostringstream out;
  std::ostringstream err;
  const loopback::Report r = loopback::run_session(o, {&out, &err, false, nullptr});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.ports.empty());
  EXPECT_NE(err.str().find("/nonexistent-dir/report.json"), std::string::npos) << err.str();
}

TEST(SessionTty, AllPortsOnAPortNoBridgePublishesIsAUsageError) {
  Pty pty;
  PtyPlug plug(pty);
  loopback::Options o;
  o.tty = pty.slave_path();
  o.all_ports = true;
  std::ostringstream out;
  std::ostringstream err;
  const loopback::Report r = loopback::run_session(o, {&out, &err, false, nullptr});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(err.str().find("--all-ports needs a simulated adapter"), std::string::npos)
      << err.str();
}

TEST(SessionTty, LatencyAndSweepThroughAPlug) {
  Pty pty;
  PtyPlug plug(pty);
  loopback::Options o;
  o.tty = pty.slave_path();
  o.modes = {loopback::Mode::latency, loopback::Mode::sweep};
  o.round_trips = 50;
  o.message_bytes = 16;
  o.rates = {9600, 115200, 1234567};
  o.bytes = 4096;
  o.bytes_given = true;
  std::ostringstream out;
  std::ostringstream err;
  const loopback::Report r = loopback::run_session(o, {&out, &err, false, nullptr});
  EXPECT_EQ(r.exit_code, 0) << out.str() << err.str();
  ASSERT_EQ(r.ports.size(), 1U);
  ASSERT_TRUE(r.ports[0].latency.has_value());
  EXPECT_EQ(r.ports[0].latency->samples_s.size(), 50U);
  EXPECT_EQ(r.ports[0].latency->wrong_round_trips, 0U);
  ASSERT_EQ(r.ports[0].sweep.size(), 3U);
  for (const loopback::SweepPoint& point : r.ports[0].sweep) {
    EXPECT_EQ(point.actual, point.requested);  // a pty holds any rate
    ASSERT_TRUE(point.run.has_value());
    EXPECT_TRUE(point.run->verify.clean());
    EXPECT_EQ(point.run->bytes_sent, 4096U);
  }
  EXPECT_NE(out.str().find("50 of 50 round trips of 16 bytes"), std::string::npos) << out.str();
}

TEST(SessionTty, ALatencyRoundTripThatComesBackWrongIsCounted) {
  Pty pty;
  PlugBehaviour b;
  b.corrupt_at = 20;  // the 21st byte through the plug: in round trip 3 of 8-byte messages
  PtyPlug plug(pty, b);
  TtyPort port = open_port(pty);
  loopback::LatencyConfig config;
  config.round_trips = 10;
  config.message_bytes = 8;
  config.timeout_s = 5;
  const loopback::LatencyResult r = loopback::run_latency(port.fd(), config);
  EXPECT_EQ(r.samples_s.size(), 10U);
  EXPECT_EQ(r.wrong_round_trips, 1U);
  EXPECT_FALSE(r.timed_out);
}

TEST(SessionTty, ALatencyRoundTripThatNeverComesBackTimesOut) {
  Pty pty;
  PlugBehaviour b;
  b.echo_limit = 5;  // the plug loses everything from byte 5 on
  PtyPlug plug(pty, b);
  TtyPort port = open_port(pty);
  loopback::LatencyConfig config;
  config.round_trips = 10;
  config.message_bytes = 2;
  config.timeout_s = 0.3;
  const loopback::LatencyResult r = loopback::run_latency(port.fd(), config);
  EXPECT_EQ(r.samples_s.size(), 2U);  // bytes 0..3 came back; round trip 3 lost its 2nd byte
  EXPECT_TRUE(r.timed_out);
}

}  // namespace
