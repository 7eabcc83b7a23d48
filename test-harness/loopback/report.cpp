#include "report.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <sstream>

#include "pattern.hpp"
#include "tools/common/json_writer.hpp"

namespace loopback {

namespace {

constexpr double kMega = 1e6;  // 1 MB = 10^6 bytes, as the summary says

std::string printf_string(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

// Enough significant digits for both 0.0115 MB/s (115200 baud) and 812.4 MB/s.
std::string format_mb(double bytes) {
  const double mb = bytes / kMega;
  if (mb >= 100) {
    return printf_string("%.1f", mb);
  }
  if (mb >= 1) {
    return printf_string("%.2f", mb);
  }
  return printf_string("%.4g", mb);
}

std::string format_seconds(double s) {
  return printf_string("%.3f", s);
}

std::string hex8(uint8_t value) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02x", value);
  return text;
}

std::string join(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (const std::string& part : parts) {
    if (!out.empty()) {
      out += separator;
    }
    out += part;
  }
  return out;
}

void optional_string(hostutil::JsonWriter& json, const char* name,
                     const std::optional<std::string>& value) {
  json.key(name);
  if (value) {
    json.value(*value);
  } else {
    json.null();
  }
}

void optional_number(hostutil::JsonWriter& json, const char* name,
                     const std::optional<double>& value) {
  json.key(name);
  if (value) {
    json.value(*value);
  } else {
    json.null();
  }
}

void optional_rate(hostutil::JsonWriter& json, const char* name, uint32_t baud) {
  json.key(name);
  if (baud != 0) {
    json.value(baud);
  } else {
    json.null();
  }
}

std::optional<std::string> non_empty(const std::string& text) {
  return text.empty() ? std::nullopt : std::optional<std::string>(text);
}

std::string port_label(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string format_ms(double seconds) {
  const double ms = seconds * 1e3;
  return printf_string(ms >= 100 ? "%.0f" : ms >= 10 ? "%.1f" : "%.3g", ms);
}

std::string signed_percent(double percent) {
  return printf_string("%+.2f", percent) + " %";
}

void string_array(hostutil::JsonWriter& json, const char* name,
                  const std::vector<std::string>& values) {
  json.key(name).begin_array();
  for (const std::string& v : values) {
    json.value(v);
  }
  json.end_array();
}

}  // namespace

const char* to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::pass:
      return "PASS";
    case Verdict::fail:
      return "FAIL";
    case Verdict::error:
      return "ERROR";
  }
  return "ERROR";
}

const char* to_string(PortKind kind) {
  switch (kind) {
    case PortKind::real:
      return "real";
    case PortKind::harness:
      return "harness";
    case PortKind::simulated:
      return "simulated";
  }
  return "real";
}

const char* to_string(RateSource source) {
  switch (source) {
    case RateSource::none:
      return nullptr;
    case RateSource::termios:
      return "termios";
    case RateSource::driver:
      return "driver-registry";
  }
  return nullptr;
}

bool Report::has_mode(Mode mode) const {
  return std::find(options.modes.begin(), options.modes.end(), mode) != options.modes.end();
}

std::string hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::optional<double> percent_of_line_rate(const Report& report, uint32_t actual_baud,
                                           double bytes_per_second) {
  if (!report.paced || actual_baud == 0) {
    return std::nullopt;
  }
  const double percent = 100.0 * bytes_per_second / line_rate_bytes_per_second(actual_baud);
  if (percent > 100.0 * kUnpacedEvidence) {
    return std::nullopt;
  }
  return percent;
}

double rate_error_percent(uint32_t requested, uint32_t actual) {
  return requested == 0 ? 0.0
                        : 100.0 * (static_cast<double>(actual) - static_cast<double>(requested)) /
                              static_cast<double>(requested);
}

void set_setup_error(Report& report, std::string reason) {
  report.verdict = Verdict::error;
  report.reason = std::move(reason);
  report.exit_code = kExitUsage;
}

void set_failure(Report& report, std::string reason) {
  report.verdict = Verdict::fail;
  report.reason = std::move(reason);
  report.exit_code = kExitFail;
}

namespace {

// What went wrong in one throughput stream; `timeout_s` names the silence limit.
void stream_problems(const RunResult& run, double timeout_s, const std::string& prefix,
                     std::vector<std::string>& problems) {
  const VerifyResult& v = run.verify;
  const uint64_t total = v.expected_total;
  auto add = [&](const std::string& text) { problems.push_back(prefix + text); };
  const size_t before = problems.size();
  if (run.cancelled) {
    // Bytes still in flight when the run was stopped are not evidence of loss, so an
    // interrupted run reports how far it got instead of a lost count.
    add("interrupted after " + std::to_string(run.bytes_sent) + " of " + std::to_string(total) +
        " bytes were sent");
  }
  if (!run.write_error.empty()) {
    add(run.write_error);
  }
  if (!run.read_error.empty()) {
    add(run.read_error);
  }
  if (v.wrong != 0 && v.first_error) {
    add(std::to_string(v.wrong) + " wrong byte" + (v.wrong == 1 ? "" : "s") +
        ", the first at offset " + std::to_string(v.first_error->offset) + " (expected " +
        hex8(v.first_error->expected) + ", received " + hex8(v.first_error->actual) + ")");
  }
  if (v.lost != 0 && !run.cancelled) {
    add(std::to_string(v.lost) + " of " + std::to_string(v.sent) +
        " sent bytes never came back (lost)");
  }
  if (run.timed_out) {
    add("timeout: nothing received for " + printf_string("%g", timeout_s) + " s");
  }
  if (run.bytes_sent < total && run.write_error.empty() && !run.cancelled) {
    add("only " + std::to_string(run.bytes_sent) + " of " + std::to_string(total) +
        " bytes could be written");
  }
  if (v.extra != 0) {
    add(std::to_string(v.extra) + " extra byte" + (v.extra == 1 ? "" : "s") +
        " received beyond the " + std::to_string(v.sent) + " sent");
  }
  if (problems.size() == before && run.crc32_sent != v.crc32) {
    // Cannot happen when every byte matched; kept so the two CRCs can never disagree
    // silently.
    add("CRC-32 of the sent data " + hex32(run.crc32_sent) + " differs from the received " +
        hex32(v.crc32));
  }
}

void latency_problems(const LatencyResult& l, double timeout_s, const std::string& prefix,
                      std::vector<std::string>& problems) {
  const uint64_t done = l.samples_s.size();
  if (l.cancelled) {
    problems.push_back(prefix + "latency interrupted after " + std::to_string(done) + " of " +
                       std::to_string(l.round_trips_requested) + " round trips");
  }
  if (!l.error.empty()) {
    problems.push_back(prefix + "latency: " + l.error);
  }
  if (l.timed_out) {
    problems.push_back(prefix + "latency: round trip " + std::to_string(done + 1) + " of " +
                       std::to_string(l.round_trips_requested) + " did not come back within " +
                       printf_string("%g", timeout_s) + " s");
  }
  if (l.wrong_round_trips != 0) {
    problems.push_back(prefix + "latency: " + std::to_string(l.wrong_round_trips) + " of " +
                       std::to_string(done) + " round trips came back with wrong bytes");
  }
}

}  // namespace

void judge(Report& report) {
  std::vector<std::string> problems;
  std::vector<std::string> good;
  const double timeout_s = report.options.timeout_s;
  const bool several = report.ports.size() > 1;
  uint64_t intact_bytes = 0;
  uint64_t round_trips = 0;
  size_t rates_tested = 0;
  size_t rates_refused = 0;
  for (const PortReport& port : report.ports) {
    const std::string prefix = several ? port_label(port.path) + ": " : "";
    if (report.has_mode(Mode::throughput)) {
      if (!port.run) {
        problems.push_back(prefix + "no data was exchanged");
      } else {
        stream_problems(*port.run, timeout_s, prefix, problems);
        intact_bytes = port.run->verify.expected_total;
        if (port.baud_after_run != 0 && port.baud_after_run != port.actual_baud) {
          problems.push_back(prefix + "the driver's rate changed from " +
                             std::to_string(port.actual_baud) + " to " +
                             std::to_string(port.baud_after_run) +
                             " baud during the run, so the data did not cross at the rate "
                             "tested");
        }
      }
    }
    if (report.has_mode(Mode::soak)) {
      if (!port.soak) {
        problems.push_back(prefix + "no soak ran");
      } else {
        for (const std::string& problem : soak_problems(*port.soak)) {
          problems.push_back(prefix + "soak: " + problem);
        }
      }
    }
    if (report.has_mode(Mode::latency)) {
      if (!port.latency) {
        problems.push_back(prefix + "no latency was measured");
      } else {
        latency_problems(*port.latency, timeout_s, prefix, problems);
        round_trips = port.latency->samples_s.size();
      }
    }
    if (report.has_mode(Mode::sweep)) {
      size_t tested = 0;
      for (const SweepPoint& point : port.sweep) {
        const std::string at = prefix + "at " + std::to_string(point.requested) + " baud: ";
        if (!point.error.empty()) {
          problems.push_back(at + point.error);
        } else if (!point.refused.empty()) {
          ++rates_refused;
        } else if (point.run) {
          ++tested;
          stream_problems(*point.run, timeout_s, at, problems);
        }
      }
      rates_tested = tested;
      if (tested == 0) {
        problems.push_back(prefix + "no rate of the sweep could be tested");
      }
    }
  }
  if (report.matrix) {
    for (std::string& problem : matrix_problems(*report.matrix)) {
      problems.push_back(std::move(problem));
    }
  } else if (report.ports.empty()) {
    problems.push_back("no data was exchanged");
  }
  if (report.bridge) {
    if (!report.bridge->exit) {
      problems.push_back("the bridge's exit status is unknown");
    } else if (!report.bridge->exit->clean()) {
      problems.push_back("the bridge " + report.bridge->exit->describe());
    }
  }

  if (!problems.empty()) {
    report.verdict = Verdict::fail;
    report.reason = join(problems, "; ");
    report.exit_code = kExitFail;
    return;
  }
  const std::string each =
      several ? " on each of " + std::to_string(report.ports.size()) + " ports" : "";
  if (report.has_mode(Mode::throughput)) {
    good.push_back("all " + std::to_string(intact_bytes) + " bytes came back intact" + each);
  }
  if (report.has_mode(Mode::latency)) {
    good.push_back(std::to_string(round_trips) + " round trips came back intact" + each);
  }
  if (report.has_mode(Mode::soak) && !report.ports.empty() && report.ports[0].soak) {
    const SoakResult& soak = *report.ports[0].soak;
    good.push_back("soak: all " + std::to_string(soak.verify.expected_total) +
                   " bytes came back intact through " +
                   std::to_string(soak.changes.line + soak.changes.dtr + soak.changes.rts) +
                   " line and modem changes" +
                   (!soak.end          ? std::string()
                    : soak.bridge_asan ? std::string("; the bridge's threads and descriptors did "
                                                     "not grow")
                                       : std::string("; the bridge's memory, threads and "
                                                     "descriptors did not grow")));
  }
  if (report.matrix) {
    size_t cells = 0;
    for (const MatrixPair& pair : report.matrix->pairs) {
      cells += pair.cells.size();
    }
    good.push_back(std::to_string(report.matrix->pairs.size()) + " null-modem pairs at " +
                   std::to_string(report.matrix->rates.size()) + " rates (" +
                   std::to_string(cells) + " cells) behaved as documented");
  }
  if (report.has_mode(Mode::sweep)) {
    good.push_back(std::to_string(rates_tested) + " rates passed" + each +
                   (rates_refused != 0
                        ? " (" + std::to_string(rates_refused) + " refused by the driver)"
                        : ""));
  }
  report.verdict = Verdict::pass;
  report.reason = join(good, "; ");
  report.exit_code = kExitPass;
}

std::string verdict_line(const Report& report) {
  return std::string(to_string(report.verdict)) + ": " + report.reason + "\n";
}

std::string progress_text(const Progress& p) {
  const double rate = p.seconds > 0 ? static_cast<double>(p.received) / p.seconds : 0.0;
  const double percent = p.total > 0 ? 100.0 * static_cast<double>(std::min(p.received, p.total)) /
                                           static_cast<double>(p.total)
                                     : 0.0;
  return "tx " + format_mb(static_cast<double>(p.sent)) + " MB  rx " +
         format_mb(static_cast<double>(p.received)) + " MB  " + format_mb(rate) + " MB/s  " +
         printf_string("%.1f", percent) + "%";
}

namespace {

std::string port_description(const Report& report, const std::string& path) {
  std::string text = path.empty() ? "(none)" : path;
  switch (report.kind) {
    case PortKind::simulated:
      text += " (simulated " + report.options.sim + " via usbserial-bridge, " +
              (report.paced ? "paced at the UART rate" : "unpaced") + ")";
      break;
    case PortKind::harness:
      text += std::string(" (a usbserial-bridge port, ") +
              (report.paced ? "paced at the UART rate" : "unpaced") + ")";
      break;
    case PortKind::real:
      break;
  }
  return text;
}

std::string no_line_rate_text(const Report& report) {
  if (report.paced) {
    return "none: measured above the 8N1 line rate, so no UART paces this port (a pty?); "
           "this is not a line-rate figure";
  }
  return std::string(
             "none: the simulated port is unpaced, so this is a driver-path figure, "
             "not a UART one (") +
         (report.kind == PortKind::simulated ? "--bridge-arg=--paced"
                                             : "usbserial-bridge --paced") +
         " simulates UART timing)";
}

}  // namespace

std::string summary_text(const Report& report) {
  std::ostringstream out;
  auto line = [&out](const char* label, const std::string& text) {
    char padded[16];
    std::snprintf(padded, sizeof padded, "%-12s", label);
    out << padded << text << "\n";
  };
  const Options& o = report.options;
  if (report.matrix) {
    out << matrix_text(*report.matrix);
  } else if (report.ports.empty()) {
    line("port", port_description(report, ""));
  }
  for (size_t index = 0; index < report.ports.size(); ++index) {
    const PortReport& port = report.ports[index];
    if (index != 0) {
      out << "\n";
    }
    line("port", port_description(report, port.path));
    std::string rate = std::to_string(o.baud) + " baud requested";
    if (port.actual_baud != 0) {
      rate += ", " + std::to_string(port.actual_baud) + " programmed (" +
              signed_percent(rate_error_percent(o.baud, port.actual_baud)) + ", read from " +
              (port.rate_source == RateSource::driver ? "the driver's registry" : "termios") + ")";
    }
    rate += "; 8N1; RTS/CTS ";
    rate += o.rtscts ? "on" : "off";
    line("rate", rate);

    if (port.run) {
      const RunResult& run = *port.run;
      const VerifyResult& v = run.verify;
      line("sent", std::to_string(run.bytes_sent) + " of " + std::to_string(v.expected_total) +
                       " bytes, CRC-32 " + hex32(run.crc32_sent));
      line("received", std::to_string(v.received) + " bytes, " + std::to_string(v.verified) +
                           " verified, CRC-32 " + hex32(v.crc32));
      std::string errors = std::to_string(v.wrong) + " wrong, " + std::to_string(v.lost) +
                           (run.cancelled ? " not back yet when interrupted, " : " lost, ") +
                           std::to_string(v.extra) + " extra";
      if (v.first_error) {
        errors += "; first wrong byte at offset " + std::to_string(v.first_error->offset);
      }
      line("errors", errors);
      std::string time = format_seconds(run.transfer_seconds) + " s";
      if (run.first_byte_seconds) {
        time += " (first byte back after " + printf_string("%.2f", *run.first_byte_seconds * 1e3) +
                " ms)";
      }
      if (run.elapsed_seconds - run.transfer_seconds > 0.5) {
        time += ", run ended after " + format_seconds(run.elapsed_seconds) + " s";
      }
      line("time", time);
      line("throughput", format_mb(run.rx_bytes_per_second()) +
                             " MB/s each way (received and checked while sending; 1 MB = 10^6 "
                             "bytes)");
      const std::optional<double> percent =
          percent_of_line_rate(report, port.actual_baud, run.rx_bytes_per_second());
      if (percent) {
        line("ceiling", format_mb(line_rate_bytes_per_second(port.actual_baud)) +
                            " MB/s = baud/10 for 8N1; measured " + printf_string("%.1f", *percent) +
                            " % of it");
      } else if (port.actual_baud != 0) {
        line("ceiling", no_line_rate_text(report));
      }
    }
    if (port.soak) {
      out << soak_text(*port.soak);
    }
    if (port.latency) {
      const LatencyResult& l = *port.latency;
      const LatencyStats s = latency_stats(l.samples_s);
      std::string text = std::to_string(s.count) + " of " +
                         std::to_string(l.round_trips_requested) + " round trips of " +
                         std::to_string(l.message_bytes) + " byte" +
                         (l.message_bytes == 1 ? "" : "s");
      if (s.count != 0) {
        text += ": min " + format_ms(s.min) + ", p50 " + format_ms(s.p50) + ", p90 " +
                format_ms(s.p90) + ", p99 " + format_ms(s.p99) + ", p99.9 " + format_ms(s.p999) +
                ", max " + format_ms(s.max) + " ms";
      }
      line("latency", text);
    }
    if (!port.sweep.empty()) {
      line("sweep", "requested  programmed    error        MB/s  line rate  result");
      for (const SweepPoint& point : port.sweep) {
        char row[160];
        std::string result;
        std::string mb = "-";
        std::string share = "-";
        if (!point.error.empty()) {
          result = "error: " + point.error;
        } else if (!point.refused.empty()) {
          result = "refused: " + point.refused;
        } else if (point.run) {
          std::vector<std::string> problems;
          stream_problems(*point.run, o.timeout_s, "", problems);
          result = problems.empty() ? "ok" : "FAIL: " + join(problems, "; ");
          mb = format_mb(point.run->rx_bytes_per_second());
          const std::optional<double> percent =
              percent_of_line_rate(report, point.actual, point.run->rx_bytes_per_second());
          share = percent ? printf_string("%.1f", *percent) + " %" : "-";
        }
        std::snprintf(
            row, sizeof row, "%9u  %10s  %9s  %10s  %9s  ", point.requested,
            point.actual != 0 ? std::to_string(point.actual).c_str() : "-",
            point.actual != 0
                ? signed_percent(rate_error_percent(point.requested, point.actual)).c_str()
                : "-",
            mb.c_str(), share.c_str());
        line("", row + result);
      }
      if (!report.paced) {
        line("", "(no line rate: " + no_line_rate_text(report).substr(6) + ")");
      }
    }
  }
  if (report.bridge) {
    line("bridge", report.bridge->exit ? report.bridge->exit->describe() : "still running");
  }
  if (report.plot_error) {
    line("plot", "not drawn: " + *report.plot_error);
  } else if (o.plot_path) {
    line("plot", *o.plot_path);
  }
  line("verdict", std::string(to_string(report.verdict)) + ": " + report.reason);
  return out.str();
}

namespace {

void write_transfer(hostutil::JsonWriter& json, const RunResult& run) {
  const VerifyResult& v = run.verify;
  json.begin_object();
  json.field("bytes_requested", v.expected_total);
  json.field("bytes_sent", run.bytes_sent);
  json.field("bytes_received", v.received);
  json.field("bytes_verified", v.verified);
  json.field("wrong_bytes", v.wrong);
  json.key("first_error");
  if (v.first_error) {
    json.begin_object();
    json.field("offset", v.first_error->offset);
    json.field("expected", static_cast<unsigned>(v.first_error->expected));
    json.field("received", static_cast<unsigned>(v.first_error->actual));
    json.end_object();
  } else {
    json.null();
  }
  json.field("lost_bytes", v.lost);
  json.field("extra_bytes", v.extra);
  json.field("crc32_sent", hex32(run.crc32_sent));
  json.field("crc32_received", hex32(v.crc32));
  json.field("timed_out", run.timed_out);
  json.field("cancelled", run.cancelled);
  optional_string(json, "write_error", non_empty(run.write_error));
  optional_string(json, "read_error", non_empty(run.read_error));
  json.end_object();
}

void write_timing(hostutil::JsonWriter& json, const Report& report, uint32_t actual_baud,
                  const RunResult& run) {
  json.begin_object();
  json.field("transfer_seconds", run.transfer_seconds);
  json.field("write_seconds", run.write_seconds);
  json.field("elapsed_seconds", run.elapsed_seconds);
  json.key("first_byte_ms");
  if (run.first_byte_seconds) {
    json.value(*run.first_byte_seconds * 1e3);
  } else {
    json.null();
  }
  json.field("mb_per_s", run.rx_bytes_per_second() / kMega);
  json.field("tx_mb_per_s", run.tx_bytes_per_second() / kMega);
  const std::optional<double> percent =
      percent_of_line_rate(report, actual_baud, run.rx_bytes_per_second());
  optional_number(json, "percent_of_line_rate", percent);
  json.field("figure", percent ? "uart" : "driver-path");
  json.end_object();
}

void write_latency(hostutil::JsonWriter& json, const LatencyResult& l) {
  const LatencyStats s = latency_stats(l.samples_s);
  json.begin_object();
  json.field("round_trips_requested", l.round_trips_requested);
  json.field("round_trips_completed", static_cast<uint64_t>(s.count));
  json.field("message_bytes", static_cast<uint64_t>(l.message_bytes));
  json.field("wrong_round_trips", l.wrong_round_trips);
  json.field("timed_out", l.timed_out);
  json.field("cancelled", l.cancelled);
  optional_string(json, "error", non_empty(l.error));
  const bool any = s.count != 0;
  optional_number(json, "min_ms", any ? std::optional<double>(s.min * 1e3) : std::nullopt);
  optional_number(json, "p50_ms", any ? std::optional<double>(s.p50 * 1e3) : std::nullopt);
  optional_number(json, "p90_ms", any ? std::optional<double>(s.p90 * 1e3) : std::nullopt);
  optional_number(json, "p99_ms", any ? std::optional<double>(s.p99 * 1e3) : std::nullopt);
  optional_number(json, "p999_ms", any ? std::optional<double>(s.p999 * 1e3) : std::nullopt);
  optional_number(json, "max_ms", any ? std::optional<double>(s.max * 1e3) : std::nullopt);
  optional_number(json, "mean_ms", any ? std::optional<double>(s.mean * 1e3) : std::nullopt);
  json.key("samples_ms").begin_array();
  for (const double sample : l.samples_s) {
    json.value(sample * 1e3);
  }
  json.end_array();
  json.end_object();
}

void write_sweep_point(hostutil::JsonWriter& json, const Report& report, const SweepPoint& p) {
  json.begin_object();
  json.field("requested_baud", p.requested);
  optional_rate(json, "actual_baud", p.actual);
  optional_number(json, "rate_error_percent",
                  p.actual != 0 ? std::optional<double>(rate_error_percent(p.requested, p.actual))
                                : std::nullopt);
  optional_string(json, "refused", non_empty(p.refused));
  optional_string(json, "error", non_empty(p.error));
  json.key("transfer");
  if (p.run) {
    write_transfer(json, *p.run);
    json.key("timing");
    write_timing(json, report, p.actual, *p.run);
  } else {
    json.null();
    json.key("timing").null();
  }
  json.end_object();
}

}  // namespace

std::string report_json(const Report& report) {
  const Options& o = report.options;
  hostutil::JsonWriter json;
  json.begin_object();
  json.field("tool", kToolName);
  json.field("version", tool_version());
  json.field("verdict", to_string(report.verdict));
  json.field("reason", report.reason);
  json.field("exit_code", report.exit_code);
  json.field("started_utc", report.started_utc);
  json.key("modes").begin_array();
  for (const Mode m : o.modes) {
    json.value(to_string(m));
  }
  json.end_array();

  json.key("options").begin_object();
  optional_string(json, "tty", o.tty);
  optional_string(json, "sim", o.tty ? std::nullopt : std::optional<std::string>(o.sim));
  json.field("bytes", o.bytes);
  json.field("baud", o.baud);
  json.field("rtscts", o.rtscts);
  json.field("timeout_s", o.timeout_s);
  json.field("chunk", static_cast<uint64_t>(o.chunk));
  json.field("all_ports", o.all_ports);
  json.field("round_trips", o.round_trips);
  json.field("message_bytes", static_cast<uint64_t>(o.message_bytes));
  json.key("rates").begin_array();
  for (const uint32_t rate : sweep_rates(o)) {
    json.value(rate);
  }
  json.end_array();
  optional_string(json, "json", o.json_path);
  optional_string(json, "plot", o.plot_path);
  optional_string(json, "bridge", o.bridge_path);
  string_array(json, "bridge_args", o.bridge_args);
  json.field("quiet", o.quiet);
  json.end_object();

  json.field("kind", to_string(report.kind));
  json.field("paced", report.paced);
  json.field("pattern", kPatternName);
  json.key("ports").begin_array();
  for (size_t index = 0; index < report.ports.size(); ++index) {
    const PortReport& port = report.ports[index];
    json.begin_object();
    json.field("path", port.path);
    json.field("pattern_offset", port_pattern_offset(index));
    json.field("requested_baud", o.baud);
    optional_rate(json, "actual_baud", port.actual_baud);
    optional_number(json, "rate_error_percent",
                    port.actual_baud != 0
                        ? std::optional<double>(rate_error_percent(o.baud, port.actual_baud))
                        : std::nullopt);
    json.key("rate_source");
    if (const char* source = to_string(port.rate_source)) {
      json.value(source);
    } else {
      json.null();
    }
    optional_rate(json, "baud_after_run", port.baud_after_run);
    json.field("rtscts", o.rtscts);
    json.field("framing", "8N1");
    optional_number(json, "line_rate_ceiling_bytes_per_s",
                    report.paced && port.actual_baud != 0
                        ? std::optional<double>(line_rate_bytes_per_second(port.actual_baud))
                        : std::nullopt);
    json.key("transfer");
    if (port.run) {
      write_transfer(json, *port.run);
      json.key("timing");
      write_timing(json, report, port.actual_baud, *port.run);
    } else {
      json.null();
      json.key("timing").null();
    }
    json.key("latency");
    if (port.latency) {
      write_latency(json, *port.latency);
    } else {
      json.null();
    }
    json.key("soak");
    if (port.soak) {
      write_soak_json(json, *port.soak);
    } else {
      json.null();
    }
    json.key("sweep");
    if (report.has_mode(Mode::sweep)) {
      json.begin_array();
      for (const SweepPoint& point : port.sweep) {
        write_sweep_point(json, report, point);
      }
      json.end_array();
    } else {
      json.null();
    }
    json.end_object();
  }
  json.end_array();

  json.key("matrix");
  if (report.matrix) {
    write_matrix_json(json, *report.matrix);
  } else {
    json.null();
  }
  optional_string(json, "plot_error", report.plot_error);
  json.key("bridge");
  if (report.bridge) {
    const BridgeInfo& b = *report.bridge;
    json.begin_object();
    json.field("path", b.path);
    string_array(json, "args", b.args);
    json.field("run_dir", b.run_dir);
    string_array(json, "ports", b.ports);
    string_array(json, "info", b.info);
    json.key("exit");
    if (b.exit) {
      json.begin_object();
      json.field("description", b.exit->describe());
      json.field("clean", b.exit->clean());
      json.key("code");
      if (b.exit->exited) {
        json.value(b.exit->code);
      } else {
        json.null();
      }
      json.key("signal");
      if (!b.exit->exited) {
        json.value(b.exit->signal);
      } else {
        json.null();
      }
      json.field("killed_after_grace", b.exit->killed_after_grace);
      json.end_object();
    } else {
      json.null();
    }
    json.field("stderr_tail", b.stderr_tail);
    json.end_object();
  } else {
    json.null();
  }
  json.end_object();
  return json.str() + "\n";
}

}  // namespace loopback
