#include "plot.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace loopback {

namespace {

constexpr int kHistogramBins = 40;

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

void write_throughput(std::ostringstream& out, const PlotData& data) {
  for (size_t i = 0; i < data.throughput.size(); ++i) {
    out << "$throughput" << i << " << EOD\n";
    for (const auto& [baud, mb] : data.throughput[i].points) {
      out << baud << " " << mb << "\n";
    }
    out << "EOD\n";
  }
  out << "set title \"Throughput per rate (each way, 1 MB = 10^6 bytes)\"\n"
      << "set xlabel \"rate programmed (baud)\"\nset ylabel \"MB/s\"\n"
      << "set logscale xy\nset grid\nset key left top\n"
      << "plot ";
  for (size_t i = 0; i < data.throughput.size(); ++i) {
    out << (i ? ", " : "") << "$throughput" << i << " using 1:2 with linespoints lw 2 title "
        << quoted(data.throughput[i].name);
  }
  if (data.line_rate) {
    out << ", x/10/1e6 with lines dashtype 2 title \"8N1 line rate\"";
  }
  out << "\nunset logscale\n";
}

void write_latency(std::ostringstream& out, const PlotData& data) {
  double low = INFINITY;
  double high = 0;
  for (const auto& [name, samples] : data.latency_ms) {
    for (const double s : samples) {
      low = std::min(low, s);
      high = std::max(high, s);
    }
  }
  if (!(high > low)) {
    high = low + 1e-3;
  }
  const double width = (high - low) / kHistogramBins;
  for (size_t i = 0; i < data.latency_ms.size(); ++i) {
    std::vector<size_t> bins(kHistogramBins, 0);
    for (const double s : data.latency_ms[i].second) {
      const auto bin =
          static_cast<size_t>(std::clamp((s - low) / width, 0.0, kHistogramBins - 1.0));
      ++bins[bin];
    }
    out << "$latency" << i << " << EOD\n";
    for (int b = 0; b < kHistogramBins; ++b) {
      out << low + (b + 0.5) * width << " " << bins[b] << "\n";
    }
    out << "EOD\n";
  }
  out << "set title \"Round-trip latency\"\n"
      << "set xlabel \"round trip (ms)\"\nset ylabel \"round trips\"\n"
      << "set grid\nset key right top\nset style fill transparent solid 0.5\n"
      << "set boxwidth " << width << "\n"
      << "plot ";
  for (size_t i = 0; i < data.latency_ms.size(); ++i) {
    out << (i ? ", " : "") << "$latency" << i << " using 1:2 with boxes title "
        << quoted(data.latency_ms[i].first);
  }
  out << "\n";
}

}  // namespace

std::string find_gnuplot() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/gnuplot";
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return {};
}

std::string plot_script(const PlotData& data, const std::string& png_path) {
  const int panels = (data.throughput.empty() ? 0 : 1) + (data.latency_ms.empty() ? 0 : 1);
  std::ostringstream out;
  out << "set terminal pngcairo size 1000," << (panels > 1 ? 900 : 480) << " font \"sans,10\"\n"
      << "set output " << quoted(png_path) << "\n";
  if (panels > 1) {
    out << "set multiplot layout 2,1 title " << quoted(data.title) << "\n";
  } else {
    out << "set label 1 " << quoted(data.title) << " at screen 0.5, screen 0.98 center\n";
  }
  if (!data.throughput.empty()) {
    write_throughput(out, data);
  }
  if (!data.latency_ms.empty()) {
    write_latency(out, data);
  }
  if (panels > 1) {
    out << "unset multiplot\n";
  }
  out << "set output\n";
  return out.str();
}

bool draw_plot(const std::string& gnuplot, const PlotData& data, const std::string& png_path,
               std::string* error) {
  if (data.throughput.empty() && data.latency_ms.empty()) {
    *error = "nothing to plot: no run produced a figure";
    return false;
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string base = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                     "/usbserial-loopback-plot.XXXXXX";
  const int script_fd = ::mkstemp(base.data());
  if (script_fd < 0) {
    *error =
        "cannot create a temporary file for the plot script: " + std::string(std::strerror(errno));
    return false;
  }
  const std::string script_path = base;
  std::error_code stale;
  std::filesystem::remove(png_path, stale);  // so an old picture cannot pass for a new one
  const std::string log_path = script_path + ".log";
  {
    const std::string script = plot_script(data, png_path);
    std::ofstream file(script_path);
    file << script;
    ::close(script_fd);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::string program = gnuplot;
  std::string script_arg = script_path;
  char* argv[] = {program.data(), script_arg.data(), nullptr};
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  if (spawned == 0) {
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  std::ifstream log_file(log_path);
  const std::string log((std::istreambuf_iterator<char>(log_file)),
                        std::istreambuf_iterator<char>());
  std::error_code ignored;
  std::filesystem::remove(script_path, ignored);
  std::filesystem::remove(log_path, ignored);
  if (spawned != 0) {
    *error = "cannot run " + gnuplot + ": " + std::strerror(spawned);
    return false;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !std::filesystem::exists(png_path)) {
    *error = "gnuplot could not draw " + png_path + (log.empty() ? "" : ":\n" + log);
    return false;
  }
  return true;
}

}  // namespace loopback
