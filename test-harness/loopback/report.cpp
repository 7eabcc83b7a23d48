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

std::string port_kind(const Report& report) {
  if (!report.simulated) {
    return "real";
  }
  return "simulated";
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

bool line_rate_applies(const Report& report) {
  return !report.simulated || report.paced;
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

void judge(Report& report) {
  std::vector<std::string> problems;
  if (report.run) {
    const RunResult& run = *report.run;
    const VerifyResult& v = run.verify;
    const uint64_t total = v.expected_total;
    if (run.cancelled) {
      // Bytes still in flight when the run was stopped are not evidence of loss, so an
      // interrupted run reports how far it got instead of a lost count.
      problems.push_back("interrupted after " + std::to_string(run.bytes_sent) + " of " +
                         std::to_string(total) + " bytes were sent");
    }
    if (!run.write_error.empty()) {
      problems.push_back(run.write_error);
    }
    if (!run.read_error.empty()) {
      problems.push_back(run.read_error);
    }
    if (v.wrong != 0 && v.first_error) {
      problems.push_back(std::to_string(v.wrong) + " wrong byte" + (v.wrong == 1 ? "" : "s") +
                         ", the first at offset " + std::to_string(v.first_error->offset) +
                         " (expected " + hex8(v.first_error->expected) + ", received " +
                         hex8(v.first_error->actual) + ")");
    }
    if (v.lost != 0 && !run.cancelled) {
      problems.push_back(std::to_string(v.lost) + " of " + std::to_string(v.sent) +
                         " sent bytes never came back (lost)");
    }
    if (run.timed_out) {
      problems.push_back("timeout: nothing received for " +
                         printf_string("%g", report.options.timeout_s) + " s");
    }
    if (run.bytes_sent < total && run.write_error.empty() && !run.cancelled) {
      problems.push_back("only " + std::to_string(run.bytes_sent) + " of " + std::to_string(total) +
                         " bytes could be written");
    }
    if (v.extra != 0) {
      problems.push_back(std::to_string(v.extra) + " extra byte" + (v.extra == 1 ? "" : "s") +
                         " received beyond the " + std::to_string(v.sent) + " sent");
    }
    if (report.baud_after_run != 0 && report.baud_after_run != report.actual_baud) {
      problems.push_back("the driver's rate changed from " + std::to_string(report.actual_baud) +
                         " to " + std::to_string(report.baud_after_run) +
                         " baud during the run, so the data did not cross at the rate tested");
    }
    if (problems.empty() && run.crc32_sent != v.crc32) {
      // Cannot happen when every byte matched; kept so the two CRCs can never disagree
      // silently.
      problems.push_back("CRC-32 of the sent data " + hex32(run.crc32_sent) +
                         " differs from the received " + hex32(v.crc32));
    }
  } else {
    problems.push_back("no data was exchanged");
  }
  if (report.bridge) {
    if (!report.bridge->exit) {
      problems.push_back("the bridge's exit status is unknown");
    } else if (!report.bridge->exit->clean()) {
      problems.push_back("the bridge " + report.bridge->exit->describe());
    }
  }

  if (problems.empty()) {
    report.verdict = Verdict::pass;
    report.reason =
        "all " + std::to_string(report.run->verify.expected_total) + " bytes came back intact";
    report.exit_code = kExitPass;
  } else {
    report.verdict = Verdict::fail;
    report.reason = join(problems, "; ");
    report.exit_code = kExitFail;
  }
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

std::string summary_text(const Report& report) {
  std::ostringstream out;
  auto line = [&out](const char* label, const std::string& text) {
    char padded[16];
    std::snprintf(padded, sizeof padded, "%-12s", label);
    out << padded << text << "\n";
  };
  const Options& o = report.options;

  std::string port = report.port_path.empty() ? "(none)" : report.port_path;
  if (report.simulated) {
    port += " (simulated " + o.sim + " via usbserial-bridge, " +
            (report.paced ? "paced at the UART rate" : "unpaced") + ")";
  }
  line("port", port);
  std::string rate = std::to_string(o.baud) + " baud requested";
  if (report.actual_baud != 0) {
    rate += ", " + std::to_string(report.actual_baud) + " reported by the driver";
  }
  rate += "; 8N1; RTS/CTS ";
  rate += o.rtscts ? "on" : "off";
  line("rate", rate);

  if (report.run) {
    const RunResult& run = *report.run;
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
    if (line_rate_applies(report) && report.actual_baud != 0) {
      const double ceiling = line_rate_bytes_per_second(report.actual_baud);
      line("ceiling", format_mb(ceiling) + " MB/s = baud/10 for 8N1; measured " +
                          printf_string("%.1f", 100.0 * run.rx_bytes_per_second() / ceiling) +
                          " % of it");
    } else if (report.simulated) {
      line("ceiling",
           "none: the simulated port is unpaced, so this is a driver-path figure, not a UART "
           "one (--bridge-arg=--paced simulates UART timing)");
    }
  }
  if (report.bridge) {
    line("bridge", report.bridge->exit ? report.bridge->exit->describe() : "still running");
  }
  line("verdict", std::string(to_string(report.verdict)) + ": " + report.reason);
  return out.str();
}

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

  json.key("options").begin_object();
  optional_string(json, "tty", o.tty);
  optional_string(json, "sim", o.tty ? std::nullopt : std::optional<std::string>(o.sim));
  json.field("bytes", o.bytes);
  json.field("baud", o.baud);
  json.field("rtscts", o.rtscts);
  json.field("timeout_s", o.timeout_s);
  json.field("chunk", static_cast<uint64_t>(o.chunk));
  optional_string(json, "json", o.json_path);
  optional_string(json, "bridge", o.bridge_path);
  string_array(json, "bridge_args", o.bridge_args);
  json.field("quiet", o.quiet);
  json.end_object();

  json.key("port").begin_object();
  optional_string(
      json, "path",
      report.port_path.empty() ? std::nullopt : std::optional<std::string>(report.port_path));
  json.field("kind", port_kind(report));
  json.key("paced");
  if (report.simulated) {
    json.value(report.paced);
  } else {
    json.null();
  }
  json.field("requested_baud", o.baud);
  json.key("actual_baud");
  if (report.actual_baud != 0) {
    json.value(report.actual_baud);
  } else {
    json.null();
  }
  json.key("baud_after_run");
  if (report.baud_after_run != 0) {
    json.value(report.baud_after_run);
  } else {
    json.null();
  }
  json.field("rtscts", o.rtscts);
  json.field("framing", "8N1");
  json.key("line_rate_ceiling_bytes_per_s");
  if (line_rate_applies(report) && report.actual_baud != 0) {
    json.value(line_rate_bytes_per_second(report.actual_baud));
  } else {
    json.null();
  }
  json.end_object();

  json.field("pattern", kPatternName);

  json.key("transfer");
  if (report.run) {
    const RunResult& run = *report.run;
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
    optional_string(
        json, "write_error",
        run.write_error.empty() ? std::nullopt : std::optional<std::string>(run.write_error));
    optional_string(
        json, "read_error",
        run.read_error.empty() ? std::nullopt : std::optional<std::string>(run.read_error));
    json.end_object();

    json.key("timing").begin_object();
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
    json.key("percent_of_line_rate");
    if (line_rate_applies(report) && report.actual_baud != 0) {
      json.value(100.0 * run.rx_bytes_per_second() /
                 line_rate_bytes_per_second(report.actual_baud));
    } else {
      json.null();
    }
    json.field("figure", line_rate_applies(report) ? "uart" : "driver-path");
    json.end_object();
  } else {
    json.null();
    json.key("timing").null();
  }

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
