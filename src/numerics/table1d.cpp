// Piecewise-linear tables on a uniform grid (include/rbsm/numerics/table1d.hpp).
#include "rbsm/numerics/table1d.hpp"

#include <string>
#include <utility>

#include "rbsm/error.hpp"

namespace rbsm::numerics {

Table1D::Table1D(double a, double b, std::vector<double> values) : a_(a), b_(b), v_(std::move(values)) {
  if (!(b > a) || v_.size() < 2) throw InvalidArgument("Table1D: need b > a and at least 2 values");
  inv_dx_ = static_cast<double>(v_.size() - 1) / (b - a);
}

Table1D Table1D::tabulate(double a, double b, int n, const std::function<double(double)>& f) {
  if (n < 2) throw InvalidArgument("Table1D::tabulate: need n >= 2, got " + std::to_string(n));
  std::vector<double> v(n);
  for (int i = 0; i < n; ++i) v[i] = f(a + (b - a) * i / (n - 1));
  return Table1D(a, b, std::move(v));
}

Table1D Table1D::antiderivative() const {
  std::vector<double> F(v_.size(), 0.0);
  const double dx = 1.0 / inv_dx_;
  for (std::size_t i = 1; i < v_.size(); ++i) F[i] = F[i - 1] + 0.5 * dx * (v_[i - 1] + v_[i]);
  return Table1D(a_, b_, std::move(F));
}

}  // namespace rbsm::numerics
