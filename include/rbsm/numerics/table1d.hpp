#pragma once
/// Piecewise-linear tables on a uniform grid (docs/langevin.md §1.1: the axial drift profile g(t) of the
/// sphere fast path, and its antiderivative G, the MALA potential). Evaluation is inline: it runs in the
/// Langevin inner loop.
#include <functional>
#include <vector>

namespace rbsm::numerics {

/// A function on [a, b] tabulated on a uniform grid and interpolated linearly (clamped outside).
class Table1D {
 public:
  Table1D() = default;
  Table1D(double a, double b, std::vector<double> values);
  /// Samples f at n >= 2 equally spaced points of [a, b].
  static Table1D tabulate(double a, double b, int n, const std::function<double(double)>& f);
  double operator()(double x) const {
    double s = (x - a_) * inv_dx_;
    if (!(s > 0.0)) return v_.front();  // also NaN: never an out-of-range index
    const int last = static_cast<int>(v_.size()) - 1;
    if (s >= last) return v_.back();
    const int i = static_cast<int>(s);
    const double w = s - i;
    return v_[i] + w * (v_[i + 1] - v_[i]);
  }
  /// The antiderivative F(x) = integral_a^x f (exact for the piecewise-linear interpolant), tabulated.
  Table1D antiderivative() const;
  double a() const { return a_; }
  double b() const { return b_; }
  const std::vector<double>& values() const { return v_; }

 private:
  double a_ = 0, b_ = 1, inv_dx_ = 1;
  std::vector<double> v_{0.0, 0.0};
};

}  // namespace rbsm::numerics
