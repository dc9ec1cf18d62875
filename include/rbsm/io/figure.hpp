#pragma once
/// Figures as data: a Figure is a list of panels, each a list of series with axis labels and scales.
/// `save(path.png)` writes the spec beside the image (`path.json`, so every figure can be re-styled
/// or re-plotted) and renders it with matplotlib (scripts/plot_figure.py), atomically.
#include <deque>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rbsm::io {

struct Series {
  std::string label;
  std::vector<double> x, y;
  std::vector<double> yerr;    ///< optional error bars (same length as y)
  std::string style = "line";  ///< line | points | dashed | errorbar | step | hline | bar | heatmap
  std::string color;           ///< optional matplotlib colour
  /// heatmap only: values on the grid x (columns) by y (rows), row-major (z[j * x.size() + i] at x[i], y[j]).
  std::vector<double> z;
};

struct Panel {
  std::string title, xlabel, ylabel;
  bool logx = false, logy = false;
  std::vector<Series> series;
  Panel& add(Series s) {
    series.push_back(std::move(s));
    return *this;
  }
};

struct Figure {
  std::string title;
  int cols = 0;              ///< panels per row (0: all in one row)
  std::deque<Panel> panels;  ///< a deque: references from panel() stay valid when more panels are added
  /// Appends an empty panel and returns it (the reference stays valid for the Figure's lifetime).
  Panel& panel(std::string title, std::string xlabel, std::string ylabel);
  nlohmann::json to_json() const;
  /// Renders to `png` (and writes `png` with extension .json). Throws IoError if rendering fails.
  /// Renders with /usr/bin/python3 scripts/plot_figure.py (its stdout goes to stderr), started with
  /// SIGINT/SIGTERM blocked: a Ctrl-C sent to the whole process group reaches rbsm only, which decides
  /// how to stop (docs/reliability.md); std::system would have ignored it in rbsm instead.
  void save(const std::filesystem::path& png) const;
};

/// Kills a figure renderer that is running (SIGKILL), for an immediate stop on a signal; async-safe.
void kill_running_renderer();

}  // namespace rbsm::io
