#pragma once
/// A smooth function on the 2-torus of angles [0, 2 pi)^2 sampled on an n1 x n2 grid, with two
/// interpolants (docs/langevin.md §2.4):
/// - `cubic`: periodic bicubic (Catmull-Rom) interpolation, O(1) per evaluation, error O(h^3);
/// - `spectral`: the trigonometric interpolant (exact for trigonometric polynomials of degree < n/2,
///   spectrally accurate for smooth functions, infinitely differentiable), O(n1 n2) per evaluation.
/// The Langevin drifts on the tori are tabulated once and evaluated with `cubic`; the full correction
/// differentiates the `spectral` interpolant of r_sigma.
#include <complex>
#include <functional>
#include <vector>

namespace rbsm::numerics {

class PeriodicGrid2D {
 public:
  PeriodicGrid2D() = default;
  /// Samples f(a1, a2) at a_i = 2 pi k / n_i (n_i >= 4), using `threads` threads.
  PeriodicGrid2D(int n1, int n2, const std::function<double(double, double)>& f, int threads = 1);
  /// Builds from values, row-major values[k1 * n2 + k2].
  PeriodicGrid2D(int n1, int n2, std::vector<double> values);
  double cubic(double a1, double a2) const;
  double spectral(double a1, double a2) const;
  int n1() const { return n1_; }
  int n2() const { return n2_; }
  double value(int k1, int k2) const { return v_[k1 * n2_ + k2]; }

 private:
  void prepare_spectral();
  int n1_ = 0, n2_ = 0;
  std::vector<double> v_;
  std::vector<std::complex<double>> c_;  // DFT coefficients, c_[k1 * n2 + k2]
};

}  // namespace rbsm::numerics
