// The soak's judgement (bytes, changes, and growth of the bridge's memory, threads and
// descriptors) on results made up here, and the /proc sampling on this very process;
// the soak itself runs against the real bridge in CTest (e2e.loopback_soak_*).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <sstream>
#include <thread>

#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>

#include "process_sample.hpp"
#include "report.hpp"
#include "soak.hpp"

namespace {

using loopback::ProcessSample;
using loopback::SoakResult;

ProcessSample at(uint64_t rss_kib, uint32_t threads, uint32_t fds, uint64_t bytes = 0) {
  ProcessSample s;
  s.rss_kib = rss_kib;
  s.threads = threads;
  s.open_fds = fds;
  s.bytes = bytes;
  return s;
}

SoakResult clean_soak(uint64_t total) {
  SoakResult r;
  r.verify.expected_total = r.verify.sent = r.verify.received = r.verify.verified = total;
  r.bytes_sent = total;
  r.seconds = 4;
  r.writes = 100;
  r.reads = 300;
  r.smallest_write = 1;
  r.largest_write = 65536;
  r.changes.line = 30;
  r.changes.line_refused = 2;
  r.changes.dtr = 25;
  r.changes.rts = 10;
  r.dsr_checked = true;
  r.bridge_pid = 1234;
  r.samples = {at(4900, 3, 21, 0), at(5000, 3, 21, total / 8), at(5100, 3, 21, total)};
  r.warm = r.samples[1];
  r.end = r.samples[2];
  return r;
}

TEST(SoakJudge, ACleanSoakPasses) {
  EXPECT_TRUE(loopback::soak_problems(clean_soak(1 << 20)).empty());
}

TEST(SoakJudge, LossAndWrongBytesFail) {
  SoakResult r = clean_soak(1 << 20);
  r.verify.received -= 3;
  r.verify.verified -= 100;
  r.verify.lost = 3;
  r.verify.wrong = 97;
  r.verify.first_error = loopback::FirstError{4096, 1, 2};
  const std::vector<std::string> problems = loopback::soak_problems(r);
  ASSERT_EQ(problems.size(), 2U);
  EXPECT_EQ(problems[0], "97 wrong bytes, the first at offset 4096");
  EXPECT_EQ(problems[1], "3 bytes lost");
}

TEST(SoakJudge, AChangeThatDidNotTakeFails) {
  SoakResult r = clean_soak(1 << 20);
  r.changes.problems = {"DSR did not follow DTR off within 1 s"};
  EXPECT_EQ(loopback::soak_problems(r), r.changes.problems);
}

TEST(SoakJudge, GrowthOfTheBridgeFails) {
  SoakResult r = clean_soak(1 << 20);
  r.end = at(r.warm->rss_kib + loopback::kRssSlackKib, 3, 21);  // at the slack: fine
  EXPECT_TRUE(loopback::soak_problems(r).empty());
  r.end = at(r.warm->rss_kib + loopback::kRssSlackKib + 1, 4, 23);
  const std::vector<std::string> problems = loopback::soak_problems(r);
  ASSERT_EQ(problems.size(), 3U);
  EXPECT_EQ(problems[0], "the bridge's open descriptors went from 21 to 23");
  EXPECT_EQ(problems[1], "the bridge's threads went from 3 to 4");
  EXPECT_EQ(problems[2],
            "the bridge's resident memory grew from 5000 KiB to 7049 KiB (more than "
            "2048 KiB)");
  r.end.reset();  // the bridge could not be sampled at the end: no claim can be made
  EXPECT_EQ(loopback::soak_problems(r),
            std::vector<std::string>{"the bridge (pid 1234) could not be sampled after the "
                                     "warm-up and at the end"});
  r.bridge_pid = 0;  // a real port: no bridge to sample
  EXPECT_TRUE(loopback::soak_problems(r).empty());
}

TEST(SoakJudge, ASanitizedBridgeIsJudgedOnThreadsAndDescriptorsOnly) {
  SoakResult r = clean_soak(1 << 20);
  r.bridge_asan = true;
  r.end = at(r.warm->rss_kib * 4, 3, 21);  // the quarantine fills
  EXPECT_TRUE(loopback::soak_problems(r).empty());
  r.end = at(r.warm->rss_kib * 4, 3, 22);
  EXPECT_EQ(loopback::soak_problems(r),
            std::vector<std::string>{"the bridge's open descriptors went from 21 to 22"});
}

TEST(SoakReport, SummaryAndJson) {
  loopback::Report report;
  report.options.modes = {loopback::Mode::soak};
  report.options.rtscts = true;
  report.kind = loopback::PortKind::simulated;
  loopback::PortReport port;
  port.path = "/tmp/x/cu.usbserial-SIM1";
  port.actual_baud = 115385;
  port.soak = clean_soak(1 << 20);
  report.ports.push_back(port);
  loopback::judge(report);
  ASSERT_EQ(report.verdict, loopback::Verdict::pass) << report.reason;
  EXPECT_EQ(report.reason,
            "soak: all 1048576 bytes came back intact through 65 line and modem changes; the "
            "bridge's memory, threads and descriptors did not grow");
  const std::string text = loopback::summary_text(report);
  EXPECT_NE(text.find("soak        1048576 of 1048576 bytes back intact in 4.0 s, 0.26 MB/s each "
                      "way; 100 writes of 1..65536 bytes, 300 reads\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("changes     30 line settings (2 more refused), 25 DTR toggles (DSR "
                      "followed each), 10 RTS drops\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("bridge      pid 1234; start 4.8 MiB RSS, 21 fds, 3 threads; after warm-up "
                      "4.9 MiB RSS, 21 fds, 3 threads; end 5.0 MiB RSS, 21 fds, 3 threads\n"),
            std::string::npos)
      << text;
  boost::property_tree::ptree tree;
  std::istringstream in(loopback::report_json(report));
  boost::property_tree::read_json(in, tree);
  const auto& soak = tree.get_child("ports").front().second.get_child("soak");
  EXPECT_EQ(soak.get<std::string>("bytes_verified"), "1048576");
  EXPECT_EQ(soak.get<std::string>("line_changes"), "30");
  EXPECT_EQ(soak.get<std::string>("warm.rss_kib"), "5000");
  EXPECT_EQ(soak.get<std::string>("end.open_fds"), "21");
  EXPECT_EQ(soak.get_child("samples").size(), 3U);
}

TEST(ProcessSample, SeesThisProcessGrow) {
  const std::optional<ProcessSample> before = loopback::sample_process(::getpid());
  ASSERT_TRUE(before.has_value());
  EXPECT_GT(before->rss_kib, 0U);
  EXPECT_GE(before->threads, 1U);
  EXPECT_GE(before->open_fds, 3U);  // stdin, stdout, stderr at least

  // One more descriptor, one more thread, 32 MiB more touched memory.
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  constexpr size_t kBytes = 32u << 20;
  std::unique_ptr<char[]> block(new char[kBytes]);
  std::memset(block.get(), 1, kBytes);
  std::atomic<bool> sampled{false};
  std::optional<ProcessSample> during;
  std::thread extra([&] {
    during = loopback::sample_process(::getpid());
    sampled = true;
  });
  extra.join();
  ::close(fd);
  ASSERT_TRUE(sampled && during.has_value());
  EXPECT_EQ(during->open_fds, before->open_fds + 1);
  EXPECT_EQ(during->threads, before->threads + 1);
  EXPECT_GE(during->rss_kib, before->rss_kib + (kBytes >> 10) * 9 / 10);
  EXPECT_EQ(block[kBytes - 1], 1);

  EXPECT_FALSE(loopback::sample_process(0).has_value());
#if defined(__SANITIZE_ADDRESS__)
  EXPECT_TRUE(loopback::process_runs_asan(::getpid()));
#else
  EXPECT_FALSE(loopback::process_runs_asan(::getpid()));
#endif
}

}  // namespace
