#pragma once
/// Chebyshev interpolation on [-1, 1] (docs/targets.md §3.1: the tabulated g of the exact vMF RB target):
/// f sampled at the n Chebyshev points cos(pi (j + 1/2) / n), coefficients by the discrete cosine
/// transform, evaluation by Clenshaw's recurrence.
#include <functional>
#include <vector>

namespace rbsm::numerics {

/// A smooth function on [-1, 1] interpolated at n Chebyshev points (Clenshaw evaluation).
class ChebyshevTable {
 public:
  ChebyshevTable() = default;
  ChebyshevTable(const std::function<double(double)>& f, int n);
  double operator()(double t) const;
  /// max |c_k| over the last quarter of the coefficients: an estimate of the interpolation error.
  double tail() const;
  const std::vector<double>& coefficients() const { return c_; }

 private:
  std::vector<double> c_;
};

}  // namespace rbsm::numerics
