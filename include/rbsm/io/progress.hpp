#pragma once
/// Progress bar on stderr with rate and ETA: `[label] 41% 410/1000  123.4 it/s  ETA 4.8s  loss=0.12`.
/// On a terminal it redraws one line; otherwise it prints a line every ~10% so logs stay readable.
#include <chrono>
#include <cstddef>
#include <string>

namespace rbsm::io {

class Progress {
 public:
  Progress(std::string label, std::size_t total, bool enabled = true);
  ~Progress();
  /// Sets the count of finished items and an optional status text (e.g. "loss=0.123").
  void update(std::size_t done, const std::string& status = "");
  /// Prints the final line (called by the destructor if not called before).
  void finish(const std::string& status = "");
  double elapsed_seconds() const;

 private:
  void draw(bool final_line);
  std::string label_, status_;
  std::size_t total_, done_ = 0;
  bool enabled_, tty_, finished_ = false;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace rbsm::io
