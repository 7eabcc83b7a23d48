// The bridge child-process handling, against fake_bridge.py (a stand-in that follows the
// bridge's stdout contract and echoes its pty), so this part is tested before the real
// usbserial-bridge exists. The modes of the fake are described at the top of the script.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bridge_child.hpp"
#include "session.hpp"

#ifndef FAKE_BRIDGE_PATH
#error "FAKE_BRIDGE_PATH must name fake_bridge.py"
#endif

namespace {

using loopback::BridgeChild;
using loopback::BridgeConfig;
using loopback::BridgeStartError;

class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/loopback-bridge-test-XXXXXX";
    path_ = ::mkdtemp(name);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

BridgeConfig fake_config(const std::string& run_dir, const std::string& mode,
                         double ready_timeout_s = 10) {
  BridgeConfig c;
  c.path = FAKE_BRIDGE_PATH;
  c.args = {"--sim", "ft232r", "--run-dir", run_dir, "--mode=" + mode};
  c.ready_timeout_s = ready_timeout_s;
  return c;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(BridgeChild, StartsReportsThePortAndStopsCleanly) {
  TempDir dir;
  BridgeChild bridge;
  std::string error;
  ASSERT_TRUE(bridge.start(fake_config(dir.path(), "ok"), &error)) << error;
  EXPECT_EQ(bridge.start_error(), BridgeStartError::none);
  ASSERT_EQ(bridge.ports().size(), 1U);
  EXPECT_EQ(bridge.ports()[0], dir.path() + "/cu.usbserial-FAKE0");
  // Its own process group, so a terminal's Ctrl-C reaches only the loopback tool.
  EXPECT_EQ(::getpgid(bridge.pid()), bridge.pid());
  // The informational lines before `port` are kept, and show the arguments it received.
  const std::vector<std::string> info = bridge.info_lines();
  ASSERT_GE(info.size(), 1U);
  EXPECT_TRUE(contains(info[0], "\"--sim\", \"ft232r\", \"--run-dir\", \"" + dir.path() + "\""))
      << info[0];

  const std::optional<loopback::BridgeExit> exit = bridge.stop(5);
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->exited);
  EXPECT_EQ(exit->code, 0);
  EXPECT_TRUE(exit->clean());
  EXPECT_EQ(exit->describe(), "exited with status 0");
  // Repeated stops give the same answer.
  EXPECT_EQ(bridge.stop(5)->code, 0);
}

TEST(BridgeChild, EarlyExitIsReportedWithItsStatusAndStderr) {
  TempDir dir;
  BridgeChild bridge;
  std::string error;
  EXPECT_FALSE(bridge.start(fake_config(dir.path(), "fail-early"), &error));
  EXPECT_EQ(bridge.start_error(), BridgeStartError::died);
  EXPECT_TRUE(contains(error, "exited with status 3 before it printed 'ready'")) << error;
  EXPECT_TRUE(contains(error, "simulated startup failure: no such chip simulator")) << error;
  ASSERT_TRUE(bridge.exit_status().has_value());
  EXPECT_EQ(bridge.exit_status()->code, 3);
}

TEST(BridgeChild, NeverReadyTimesOutAndIsStopped) {
  TempDir dir;
  BridgeChild bridge;
  std::string error;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(bridge.start(fake_config(dir.path(), "never-ready", 1.0), &error));
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(bridge.start_error(), BridgeStartError::not_ready);
  EXPECT_TRUE(contains(error, "did not print 'ready' within 1 s")) << error;
  EXPECT_GE(took, 1.0);
  EXPECT_LT(took, 5.0);
  ASSERT_TRUE(bridge.exit_status().has_value());  // it was stopped, not left running
  EXPECT_EQ(bridge.exit_status()->code, 0);       // the fake exits 0 on SIGTERM
}

TEST(BridgeChild, MissingProgramCannotRun) {
  BridgeChild bridge;
  BridgeConfig c;
  c.path = "/nonexistent/usbserial-bridge";
  std::string error;
  EXPECT_FALSE(bridge.start(c, &error));
  EXPECT_EQ(bridge.start_error(), BridgeStartError::cannot_run);
  EXPECT_TRUE(contains(error, "cannot run the bridge /nonexistent/usbserial-bridge")) << error;
  EXPECT_TRUE(contains(error, "No such file or directory")) << error;
}

TEST(BridgeChild, NonExecutableProgramCannotRun) {
  TempDir dir;
  const std::string path = dir.path() + "/not-executable";
  std::ofstream(path) << "#!/bin/sh\necho ready\n";
  ::chmod(path.c_str(), 0644);
  BridgeChild bridge;
  BridgeConfig c;
  c.path = path;
  std::string error;
  EXPECT_FALSE(bridge.start(c, &error));
  EXPECT_EQ(bridge.start_error(), BridgeStartError::cannot_run);
  EXPECT_TRUE(contains(error, "Permission denied")) << error;
}

TEST(BridgeChild, MissingInterpreterIsExplained) {
  TempDir dir;
  const std::string path = dir.path() + "/bad-interpreter";
  std::ofstream(path) << "#!/nonexistent/interpreter\n";
  ::chmod(path.c_str(), 0755);
  BridgeChild bridge;
  BridgeConfig c;
  c.path = path;
  std::string error;
  EXPECT_FALSE(bridge.start(c, &error));
  EXPECT_EQ(bridge.start_error(), BridgeStartError::cannot_run);
  EXPECT_TRUE(contains(error, "interpreter is probably missing")) << error;
}

TEST(BridgeChild, ReadyWithoutAPortIsAProtocolError) {
  TempDir dir;
  const std::string path = dir.path() + "/no-port";
  std::ofstream(path) << "#!/bin/sh\necho starting\necho ready\nsleep 30\n";
  ::chmod(path.c_str(), 0755);
  BridgeChild bridge;
  BridgeConfig c;
  c.path = path;
  std::string error;
  EXPECT_FALSE(bridge.start(c, &error));
  EXPECT_EQ(bridge.start_error(), BridgeStartError::protocol);
  EXPECT_TRUE(contains(error, "'ready' without a 'port <path>' line")) << error;
}

TEST(BridgeChild, RelativePortPathIsAProtocolError) {
  TempDir dir;
  const std::string path = dir.path() + "/relative-port";
  std::ofstream(path) << "#!/bin/sh\necho port ttyS0\necho ready\nsleep 30\n";
  ::chmod(path.c_str(), 0755);
  BridgeChild bridge;
  BridgeConfig c;
  c.path = path;
  std::string error;
  EXPECT_FALSE(bridge.start(c, &error));
  EXPECT_EQ(bridge.start_error(), BridgeStartError::protocol);
  EXPECT_TRUE(contains(error, "without an absolute path: 'port ttyS0'")) << error;
}

TEST(BridgeChild, NonZeroExitOnSigtermIsReported) {
  TempDir dir;
  BridgeChild bridge;
  std::string error;
  ASSERT_TRUE(bridge.start(fake_config(dir.path(), "bad-exit"), &error)) << error;
  const std::optional<loopback::BridgeExit> exit = bridge.stop(5);
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->code, 4);
  EXPECT_FALSE(exit->clean());
  EXPECT_TRUE(contains(bridge.stderr_tail(), "simulated shutdown failure")) << bridge.stderr_tail();
}

TEST(BridgeChild, IgnoringSigtermEndsInSigkill) {
  TempDir dir;
  BridgeChild bridge;
  std::string error;
  ASSERT_TRUE(bridge.start(fake_config(dir.path(), "ignore-term"), &error)) << error;
  const auto start = std::chrono::steady_clock::now();
  const std::optional<loopback::BridgeExit> exit = bridge.stop(0.5);
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->killed_after_grace);
  EXPECT_FALSE(exit->exited);
  EXPECT_EQ(exit->signal, SIGKILL);
  EXPECT_FALSE(exit->clean());
  EXPECT_TRUE(contains(exit->describe(), "did not exit within 0.5 s of SIGTERM"))
      << exit->describe();
  EXPECT_GE(took, 0.5);
  EXPECT_LT(took, 3.0);
}

TEST(BridgeChild, CancelWhileWaiting) {
  TempDir dir;
  BridgeChild bridge;
  std::atomic<bool> cancel{true};
  BridgeConfig c = fake_config(dir.path(), "never-ready", 30);
  c.cancel = &cancel;
  std::string error;
  EXPECT_FALSE(bridge.start(c, &error));
  EXPECT_EQ(bridge.start_error(), BridgeStartError::cancelled);
}

// The whole session through the fake bridge, as `usbserial-loopback --bridge fake_bridge.py`.

loopback::Options fake_session_options(const std::string& mode) {
  loopback::Options o;
  o.bridge_path = FAKE_BRIDGE_PATH;
  o.bridge_args = {"--mode=" + mode};
  o.bytes = 1ULL << 20;
  o.timeout_s = 5;
  o.bridge_stop_grace_s = 1;
  return o;
}

struct SessionRun {
  loopback::Report report;
  std::string out;
  std::string err;
};

SessionRun run(const loopback::Options& o) {
  std::ostringstream out;
  std::ostringstream err;
  SessionRun r{loopback::run_session(o, {&out, &err, false, nullptr}), "", ""};
  r.out = out.str();
  r.err = err.str();
  return r;
}

TEST(BridgeSession, PassThroughTheSimulatedPort) {
  const SessionRun r = run(fake_session_options("ok"));
  EXPECT_EQ(r.report.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.report.verdict, loopback::Verdict::pass);
  EXPECT_EQ(r.report.kind, loopback::PortKind::simulated);
  EXPECT_FALSE(r.report.paced);
  ASSERT_TRUE(r.report.bridge.has_value());
  const loopback::BridgeInfo& b = *r.report.bridge;
  ASSERT_EQ(b.ports.size(), 1U);
  ASSERT_EQ(r.report.ports.size(), 1U);
  EXPECT_EQ(r.report.ports[0].path, b.ports[0]);
  EXPECT_EQ(b.args,
            (std::vector<std::string>{"--sim", "ft232r", "--run-dir", b.run_dir, "--mode=ok"}));
  EXPECT_TRUE(b.exit->clean());
  // The run directory was fresh (the fake refuses a non-empty one) and is gone afterwards.
  EXPECT_EQ(b.run_dir.rfind("/", 0), 0U);
  EXPECT_FALSE(std::filesystem::exists(b.run_dir));
  EXPECT_TRUE(contains(r.out, "unpaced")) << r.out;
  EXPECT_TRUE(contains(r.out, "driver-path figure")) << r.out;
  EXPECT_TRUE(contains(r.out, "exited with status 0")) << r.out;
}

TEST(BridgeSession, SimOptionReachesTheBridge) {
  loopback::Options o = fake_session_options("ok");
  o.sim = "ft2232h";
  o.bridge_args.push_back("--paced");
  const SessionRun r = run(o);
  EXPECT_EQ(r.report.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(r.report.paced);
  const std::vector<std::string> info = r.report.bridge->info;
  ASSERT_GE(info.size(), 2U);
  EXPECT_EQ(info[1], "fake-bridge: simulating ft2232h");
  EXPECT_TRUE(contains(info[0], "\"--paced\"")) << info[0];
  // Paced, so the line rate would apply; but the fake's pty is far faster than the line,
  // which the report says instead of printing a share of the line rate above 100 %.
  EXPECT_TRUE(contains(r.out, "measured above the 8N1 line rate")) << r.out;
  EXPECT_FALSE(contains(r.out, "% of it")) << r.out;
}

TEST(BridgeSession, ChattyBridgeDoesNotStallTheRun) {
  // About 1 MB on each of stdout and stderr while echoing: more than a pipe holds, so this
  // passes only if the tool keeps draining both pipes after `ready`.
  const SessionRun r = run(fake_session_options("chatty"));
  EXPECT_EQ(r.report.exit_code, 0) << r.out << r.err;
  EXPECT_LE(r.report.bridge->stderr_tail.size(), loopback::kStderrKeep);
  EXPECT_TRUE(contains(r.report.bridge->stderr_tail, "fake-bridge: chatter"));
}

TEST(BridgeSession, EarlyBridgeFailureFailsWithItsStderr) {
  const SessionRun r = run(fake_session_options("fail-early"));
  EXPECT_EQ(r.report.exit_code, 1);
  EXPECT_EQ(r.report.verdict, loopback::Verdict::fail);
  EXPECT_TRUE(r.report.ports.empty());
  EXPECT_TRUE(contains(r.report.reason, "exited with status 3")) << r.report.reason;
  EXPECT_TRUE(contains(r.report.reason, "simulated startup failure")) << r.report.reason;
  EXPECT_TRUE(contains(r.out, "FAIL")) << r.out;
  EXPECT_FALSE(std::filesystem::exists(r.report.bridge->run_dir));
}

TEST(BridgeSession, NonZeroBridgeExitFailsTheRun) {
  const SessionRun r = run(fake_session_options("bad-exit"));
  EXPECT_EQ(r.report.exit_code, 1);
  ASSERT_EQ(r.report.ports.size(), 1U);
  ASSERT_TRUE(r.report.ports[0].run.has_value());
  EXPECT_TRUE(r.report.ports[0].run->verify.clean());  // the data was fine; the bridge was not
  EXPECT_TRUE(contains(r.report.reason, "the bridge exited with status 4")) << r.report.reason;
  EXPECT_TRUE(contains(r.out, "simulated shutdown failure")) << r.out;  // its stderr is shown
}

TEST(BridgeSession, MissingBridgeIsASetupError) {
  loopback::Options o = fake_session_options("ok");
  o.bridge_path = "/nonexistent/usbserial-bridge";
  const SessionRun r = run(o);
  EXPECT_EQ(r.report.exit_code, 2);
  EXPECT_EQ(r.report.verdict, loopback::Verdict::error);
  EXPECT_TRUE(contains(r.err, "/nonexistent/usbserial-bridge")) << r.err;
}

TEST(BridgeSession, FindBridgeLooksNextToItselfThenInTheBuildTreeLayout) {
  TempDir root;
  const std::string self_dir = root.path() + "/loopback";
  const std::string build_dir = root.path() + "/bridge";
  std::filesystem::create_directories(self_dir);
  std::filesystem::create_directories(build_dir);
  const std::string beside = self_dir + "/usbserial-bridge";
  const std::string in_build = build_dir + "/usbserial-bridge";
  loopback::Options o;
  std::string looked_at;
  // Nothing in either place: not found, and the message says where it looked.
  EXPECT_EQ(loopback::find_bridge(o, self_dir, &looked_at), "");
  EXPECT_EQ(looked_at, beside + ", " + self_dir + "/../bridge/usbserial-bridge");
  // The build tree's layout (../bridge, relative to the program) is the fallback.
  std::ofstream(in_build) << "#!/bin/sh\n";
  ::chmod(in_build.c_str(), 0755);
  EXPECT_EQ(loopback::find_bridge(o, self_dir, &looked_at), in_build);
  // A file beside the program that is not executable is passed over...
  std::ofstream(beside) << "#!/bin/sh\n";
  ::chmod(beside.c_str(), 0644);
  EXPECT_EQ(loopback::find_bridge(o, self_dir, &looked_at), in_build);
  // ...an executable one is preferred (where `cmake --install` puts both)...
  ::chmod(beside.c_str(), 0755);
  EXPECT_EQ(loopback::find_bridge(o, self_dir, &looked_at), beside);
  // ...and --bridge beats both.
  o.bridge_path = "/explicit/path";
  EXPECT_EQ(loopback::find_bridge(o, self_dir, &looked_at), "/explicit/path");
  // Unknown own directory.
  loopback::Options bare;
  EXPECT_EQ(loopback::find_bridge(bare, "", &looked_at), "");
  EXPECT_TRUE(contains(looked_at, "directory is unknown")) << looked_at;
}

TEST(BridgeSession, AChipTheBridgeDoesNotSimulateIsAUsageError) {
  loopback::Options o = fake_session_options("ok");
  o.sim = "cdc_acm";
  const SessionRun r = run(o);
  EXPECT_EQ(r.report.exit_code, 2);
  EXPECT_EQ(r.report.verdict, loopback::Verdict::error);
  EXPECT_TRUE(contains(r.err,
                       "--sim 'cdc_acm' is not a chip the bridge simulates (known: "
                       "cdc-acm ft232r ft2232h)"))
      << r.err;
  EXPECT_FALSE(r.report.bridge.has_value());  // nothing was started
}

TEST(BridgeSession, TheBridgesOwnUsageErrorIsAUsageError) {
  const SessionRun r = run(fake_session_options("usage-error"));
  EXPECT_EQ(r.report.exit_code, 2) << r.out << r.err;
  EXPECT_EQ(r.report.verdict, loopback::Verdict::error);
  EXPECT_TRUE(contains(r.err, "exited with status 2")) << r.err;
}

TEST(BridgeSession, AllPortsStreamsThroughEveryPortAtOnce) {
  loopback::Options o = fake_session_options("two-ports");
  o.all_ports = true;
  const SessionRun r = run(o);
  EXPECT_EQ(r.report.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(r.report.ports.size(), 2U);
  for (const loopback::PortReport& port : r.report.ports) {
    ASSERT_TRUE(port.run.has_value());
    EXPECT_TRUE(port.run->verify.clean());
  }
  // Different parts of the pattern: the CRCs differ.
  EXPECT_NE(r.report.ports[0].run->crc32_sent, r.report.ports[1].run->crc32_sent);
  EXPECT_TRUE(contains(r.report.reason, "on each of 2 ports")) << r.report.reason;
}

TEST(BridgeSession, AllPortsCatchesBytesCrossingBetweenPorts) {
  // The fake's "crossed" mode echoes each port's bytes out of the other one: each stream
  // is intact, but on the wrong port.
  loopback::Options o = fake_session_options("crossed");
  o.all_ports = true;
  const SessionRun r = run(o);
  EXPECT_EQ(r.report.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.report.reason, "wrong byte")) << r.report.reason;
}

TEST(BridgeSession, PacedDetection) {
  EXPECT_TRUE(loopback::bridge_args_paced({"--paced"}));
  EXPECT_TRUE(loopback::bridge_args_paced({"--x", "--paced=1"}));
  EXPECT_FALSE(loopback::bridge_args_paced({}));
  EXPECT_FALSE(loopback::bridge_args_paced({"--pacedx", "paced"}));
}

}  // namespace
