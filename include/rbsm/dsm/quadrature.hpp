#pragma once
/// Adaptive Gauss-Kronrod quadrature of vector-valued integrands (docs/targets.md §3): the exact RB
/// targets are ratios of integrals (numerator vector and denominator) that share one integrand, so
/// they are integrated together on one adaptive partition.
#include <functional>
#include <vector>

#include <Eigen/Core>

namespace rbsm::dsm {

/// f(x, out) writes the n components of the integrand at x into out[0..n).
using VectorIntegrand = std::function<void(double x, double* out)>;

struct QuadratureOptions {
  double rel_tol = 1e-11;
  /// Component k's error counts as err_k * scale[k] (empty: all 1); the tolerance is
  /// rel_tol * max_k |I_k| scale[k]. Lets a small numerator be resolved relative to its denominator.
  Eigen::ArrayXd scale;
  int max_intervals = 4000;
  /// If false, reaching max_intervals returns the current estimate instead of throwing (used for
  /// the inner integral of nested quadratures, whose values are then only as accurate as reached).
  bool throw_on_failure = true;
};

/// Integral over [breaks.front(), breaks.back()] of an n-component integrand by globally adaptive
/// Gauss-Kronrod 10/21 (bisection of the interval with the largest scaled error), starting from the
/// partition `breaks` (increasing, >= 2 points). Throws NumericalError if the integrand is not finite,
/// or (with throw_on_failure) if the tolerance is not reached within max_intervals.
Eigen::ArrayXd integrate_adaptive(const VectorIntegrand& f, int n, const std::vector<double>& breaks,
                                  const QuadratureOptions& options = {});

/// Geometric break points for an integrand peaked at `centre` with width `width` on [lo, hi]:
/// centre +- width * 2^k (k = -2, -1, 0, 1, ...) inside (lo, hi), plus lo, centre and hi.
std::vector<double> peak_breaks(double lo, double hi, double centre, double width);

}  // namespace rbsm::dsm
