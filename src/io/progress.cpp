#include "rbsm/io/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace rbsm::io {

Progress::Progress(std::string label, std::size_t total, bool enabled)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled),
      tty_(::isatty(2) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() {
  if (!finished_) finish(status_);
}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(std::size_t done, const std::string& status) {
  done_ = done;
  status_ = status;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (tty_) {
    if (std::chrono::duration<double>(now - last_draw_).count() < 0.1 && done_ < total_) return;
    last_draw_ = now;
    draw(false);
  } else {
    const int decile = total_ ? static_cast<int>(10 * done_ / total_) : 10;
    if (decile == last_decile_) return;
    last_decile_ = decile;
    draw(false);
  }
}

void Progress::finish(const std::string& status) {
  if (finished_) return;
  finished_ = true;
  status_ = status;
  if (enabled_) draw(true);
}

void Progress::draw(bool final_line) {
  const double t = elapsed_seconds();
  const double rate = t > 0 ? done_ / t : 0.0;
  const double eta = rate > 0 && total_ > done_ ? (total_ - done_) / rate : 0.0;
  const int pct = total_ ? static_cast<int>(100.0 * done_ / total_) : 100;
  char line[512];
  if (final_line)
    std::snprintf(line, sizeof line, "[%s] done %zu/%zu in %.1fs  %.3g it/s  %s", label_.c_str(), done_, total_, t,
                  rate, status_.c_str());
  else
    std::snprintf(line, sizeof line, "[%s] %3d%% %zu/%zu  %.3g it/s  ETA %.1fs  %s", label_.c_str(), pct, done_, total_,
                  rate, eta, status_.c_str());
  if (tty_)
    std::fprintf(stderr, "\r\033[K%s%s", line, final_line ? "\n" : "");
  else
    std::fprintf(stderr, "%s\n", line);
  std::fflush(stderr);
}

}  // namespace rbsm::io
