#pragma once
/// Summary statistics used by the studies: mean, sample standard deviation and standard error of the
/// mean by Welford's one-pass recurrence (stable where sum2 - n mean^2 cancels):
///   m_k = m_{k-1} + (x_k - m_{k-1}) / k,   S_k = S_{k-1} + (x_k - m_{k-1})(x_k - m_k),
///   sd = sqrt(S_n / (n - 1)),   se = sd / sqrt(n);
/// histograms as densities: bin b of [lo, hi) holds count_b / (n (hi - lo) / bins); and Pearson's chi-square
/// goodness of fit with its exact tail, for the statistical tests of the samplers.
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

/// Histogram density of x on [lo, hi) with `bins` equal bins (values outside are counted in n but in
/// no bin, so the density integrates to the fraction inside). bins >= 1, hi > lo.
inline std::vector<double> histogram_density(const std::vector<double>& x, double lo, double hi, int bins) {
  std::vector<double> h(static_cast<std::size_t>(bins), 0.0);
  if (x.empty()) return h;
  for (double v : x) {
    const double b = std::floor((v - lo) / (hi - lo) * bins);
    if (b >= 0 && b < bins) h[static_cast<std::size_t>(b)] += 1.0;
  }
  const double norm = static_cast<double>(x.size()) * (hi - lo) / bins;
  for (double& v : h) v /= norm;
  return h;
}

/// The centres lo + (b + 1/2)(hi - lo)/bins of histogram_density's bins.
inline std::vector<double> bin_centres(double lo, double hi, int bins) {
  std::vector<double> c(static_cast<std::size_t>(bins));
  for (int b = 0; b < bins; ++b) c[static_cast<std::size_t>(b)] = lo + (b + 0.5) * (hi - lo) / bins;
  return c;
}

// ------------------------------------------------------------------ chi-square goodness of fit
/// Upper tail P(chi^2_k > x) (regularised incomplete gamma Q(k/2, x/2)).
double chi_square_sf(double x, double k);

/// Pearson's chi-square statistic of `counts` against bin probabilities `probs` (which sum to 1).
double chi_square_statistic(const std::vector<long>& counts, const std::vector<double>& probs);

}  // namespace rbsm::stats
