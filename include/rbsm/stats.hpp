#pragma once
/// Summary statistics used by the studies: mean, sample standard deviation and standard error of the
/// mean by Welford's one-pass recurrence (stable where sum2 - n mean^2 cancels):
///   m_k = m_{k-1} + (x_k - m_{k-1}) / k,   S_k = S_{k-1} + (x_k - m_{k-1})(x_k - m_k),
///   sd = sqrt(S_n / (n - 1)),   se = sd / sqrt(n).
#include <cmath>
#include <cstddef>
#include <vector>

namespace rbsm::stats {

struct Summary {
  std::size_t n = 0;
  double mean = 0, sd = 0, se = 0;  ///< sd and se are 0 for n < 2
};

/// Welford's accumulator.
class Welford {
 public:
  void add(double x) {
    ++n_;
    const double delta = x - mean_;
    mean_ += delta / static_cast<double>(n_);
    m2_ += delta * (x - mean_);
  }
  Summary summary() const {
    Summary s;
    s.n = n_;
    s.mean = mean_;
    if (n_ > 1) {
      s.sd = std::sqrt(m2_ / static_cast<double>(n_ - 1));
      s.se = s.sd / std::sqrt(static_cast<double>(n_));
    }
    return s;
  }

 private:
  std::size_t n_ = 0;
  double mean_ = 0, m2_ = 0;
};

inline Summary summarize(const std::vector<double>& x) {
  Welford w;
  for (double v : x) w.add(v);
  return w.summary();
}

}  // namespace rbsm::stats
