// Chi-square tail and statistic (include/rbsm/stats.hpp).
#include "rbsm/stats.hpp"

#include <cmath>
#include <string>

#include "rbsm/error.hpp"

namespace rbsm::stats {

double chi_square_sf(double x, double k) {
  if (x <= 0.0) return 1.0;
  const double a = 0.5 * k, y = 0.5 * x;
  const double log_prefactor = a * std::log(y) - y - std::lgamma(a);
  if (y < a + 1.0) {  // series for the lower tail P(a, y)
    double ap = a, del = 1.0 / a, sum = del;
    for (int n = 0; n < 10000; ++n) {
      ap += 1.0;
      del *= y / ap;
      sum += del;
      if (std::abs(del) < std::abs(sum) * 1e-16) break;
    }
    return 1.0 - sum * std::exp(log_prefactor);
  }
  // Lentz's continued fraction for the upper tail Q(a, y).
  const double tiny = 1e-300;
  double b = y + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
  for (int i = 1; i < 10000; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (std::abs(del - 1.0) < 1e-16) break;
  }
  return std::exp(log_prefactor) * h;
}

double chi_square_statistic(const std::vector<long>& counts, const std::vector<double>& probs) {
  if (counts.size() != probs.size())
    throw InvalidArgument("chi_square_statistic: " + std::to_string(counts.size()) + " counts but " +
                          std::to_string(probs.size()) + " probabilities");
  double n = 0.0;
  for (long c : counts) n += static_cast<double>(c);
  double stat = 0.0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const double e = n * probs[i];
    if (!(e > 0.0)) throw InvalidArgument("chi_square_statistic: bin " + std::to_string(i) + " has probability 0");
    stat += (counts[i] - e) * (counts[i] - e) / e;
  }
  return stat;
}

}  // namespace rbsm::stats
