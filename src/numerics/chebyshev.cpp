// Chebyshev interpolation on [-1, 1] (include/rbsm/numerics/chebyshev.hpp).
#include "rbsm/numerics/chebyshev.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "rbsm/error.hpp"
#include "rbsm/numerics/constants.hpp"

namespace rbsm::numerics {

ChebyshevTable::ChebyshevTable(const std::function<double(double)>& f, int n) {
  if (n < 2) throw InvalidArgument("ChebyshevTable: need at least 2 nodes, got " + std::to_string(n));
  std::vector<double> v(n);
  for (int j = 0; j < n; ++j) v[j] = f(std::cos(kPi * (j + 0.5) / n));
  c_.assign(n, 0.0);
  for (int k = 0; k < n; ++k) {
    double s = 0.0;
    for (int j = 0; j < n; ++j) s += v[j] * std::cos(kPi * k * (j + 0.5) / n);
    c_[k] = (k == 0 ? 1.0 : 2.0) * s / n;
  }
}

double ChebyshevTable::operator()(double t) const {
  t = std::clamp(t, -1.0, 1.0);
  double b1 = 0.0, b2 = 0.0;
  for (int k = static_cast<int>(c_.size()) - 1; k >= 1; --k) {
    const double b0 = 2.0 * t * b1 - b2 + c_[k];
    b2 = b1;
    b1 = b0;
  }
  return t * b1 - b2 + c_[0];
}

double ChebyshevTable::tail() const {
  double m = 0.0;
  for (std::size_t k = c_.size() - c_.size() / 4; k < c_.size(); ++k) m = std::max(m, std::abs(c_[k]));
  return m;
}

}  // namespace rbsm::numerics
