// --plot FILE.png: throughput per rate and the latency histogram, drawn by gnuplot (the
// Debian package gnuplot-nox). The tool runs without gnuplot; only --plot needs it, and
// it is looked for before the run starts, so a missing package costs no run.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace loopback {

struct PlotSeries {
  std::string name;                               // the port
  std::vector<std::pair<double, double>> points;  // (rate in baud, MB/s)
};

struct PlotData {
  std::string title;
  std::vector<PlotSeries> throughput;  // empty: no throughput panel
  bool line_rate = false;              // draw the 8N1 line rate (baud/10) for comparison
  std::vector<std::pair<std::string, std::vector<double>>> latency_ms;  // per port; empty: none
};

// gnuplot's path from $PATH, or empty.
std::string find_gnuplot();

// The gnuplot script that draws `data` into `png_path` (the data is inline).
std::string plot_script(const PlotData& data, const std::string& png_path);

// Runs gnuplot on plot_script(). False, with *error set (gnuplot's own messages included),
// when the picture could not be made.
bool draw_plot(const std::string& gnuplot, const PlotData& data, const std::string& png_path,
               std::string* error);

}  // namespace loopback
