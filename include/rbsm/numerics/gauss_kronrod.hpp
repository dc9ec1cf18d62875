#pragma once
/// Adaptive Gauss-Kronrod quadrature: the one integrator of rbsm (docs/targets.md §3, docs/densities.md §6).
///
/// Globally adaptive Gauss-Kronrod 10/21 (QUADPACK qk21 nodes and weights): every piece of the partition
/// carries its Kronrod estimate K and the error estimate |K - G| of the embedded Gauss rule; the piece with
/// the largest (scaled) error is bisected until the summed error is below the tolerance
///
///     tol = max(abs_tol, rel_tol * max_k scale_k |I_k|).
///
/// A piece whose error is below its rounding floor 50 eps int |f| (QUADPACK's guard) or that is shorter
/// than 2^-50 of the whole interval is final: bisecting it cannot improve the estimate (integrable
/// endpoint singularities, tolerances below the integrand's rounding noise), so its error no longer counts.
/// Vector integrands share one partition (the exact RB targets are ratios of integrals with one integrand).
#include <functional>
#include <vector>

#include <Eigen/Core>

namespace rbsm::numerics {

/// f(x, out) writes the n components of the integrand at x into out[0..n).
using VectorIntegrand = std::function<void(double x, double* out)>;

struct QuadratureOptions {
  double rel_tol = 1e-11;
  double abs_tol = 0.0;
  /// Component k's error counts as err_k * scale[k] (empty: all 1); the relative tolerance is
  /// rel_tol * max_k |I_k| scale[k]. Lets a small numerator be resolved relative to its denominator.
  Eigen::ArrayXd scale;
  /// Measure the relative tolerance against int |f_k| (the sum of |piece integrals|) instead of |int f_k|:
  /// an integrand whose integral cancels to about zero then still has a reachable tolerance.
  bool relative_to_abs_integral = false;
  int max_intervals = 4000;
  /// If false, reaching max_intervals returns the current estimate instead of throwing (used for
  /// the inner integral of nested quadratures, whose values are then only as accurate as reached).
  bool throw_on_failure = true;
};

/// Integral over [breaks.front(), breaks.back()] of an n-component integrand, starting from the partition
/// `breaks` (increasing, >= 2 points). Throws InvalidArgument for fewer than two break points or n < 1,
/// NumericalError if the integrand is not finite, or (with throw_on_failure) if the tolerance is not reached
/// within max_intervals pieces.
Eigen::ArrayXd integrate_adaptive(const VectorIntegrand& f, int n, const std::vector<double>& breaks,
                                  const QuadratureOptions& options = {});

/// Integral of a scalar f over [a, b] (a > b gives minus the integral over [b, a]): the same rule from 6
/// equal pieces, the relative tolerance measured against int |f|, at most 200,000 pieces (then it throws
/// NumericalError: a tolerance below the integrand's rounding noise is never a hang).
double integrate(const std::function<double(double)>& f, double a, double b, double rel_tol = 1e-12,
                 double abs_tol = 0.0);

/// Geometric break points for an integrand peaked at `centre` with width `width` on [lo, hi]:
/// centre +- width * 2^k (k = -2, -1, 0, 1, ...) inside (lo, hi), plus lo, centre and hi.
std::vector<double> peak_breaks(double lo, double hi, double centre, double width);

}  // namespace rbsm::numerics
