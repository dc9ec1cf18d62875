#include "rbsm/dist/special.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "rbsm/error.hpp"
#include "rbsm/numerics/constants.hpp"

namespace rbsm::dist {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// Hankel's asymptotic series for large x: log I_nu(x) = x - log(2 pi x)/2 + log sum_k (-1)^k a_k / x^k.
double log_bessel_i_hankel(double nu, double x) {
  const double mu = 4.0 * nu * nu;
  double term = 1.0, sum = 1.0;
  for (int k = 1; k < 500; ++k) {
    const double next = term * (((2.0 * k - 1.0) * (2.0 * k - 1.0) - mu) / (8.0 * k * x));
    if (std::abs(next) >= std::abs(term) && k > 1) break;  // the series starts to diverge: stop at its smallest term
    term = next;
    sum += term;
    if (std::abs(term) < 1e-17 * std::abs(sum)) break;
  }
  return x - 0.5 * (std::log(2.0 * kPi) + std::log(x)) + std::log(sum);  // no overflow of 2 pi x
}

/// Power series sum_k (x/2)^{2k+nu} / (k! Gamma(k+nu+1)), summed outward from its largest term.
double log_bessel_i_series(double nu, double x) {
  const double h = 0.5 * x, h2 = h * h;
  // Terms grow while (k+1)(k+1+nu) < h^2: the peak is at k* = floor((-nu + sqrt(nu^2 + x^2)) / 2 - 1) (or 0).
  const double kpeak = std::max(0.0, std::floor(0.5 * (-nu + std::sqrt(nu * nu + x * x)) - 1.0));
  const double log_peak = (2.0 * kpeak + nu) * std::log(h) - std::lgamma(kpeak + 1.0) - std::lgamma(kpeak + nu + 1.0);
  double sum = 1.0, t = 1.0;
  for (double k = kpeak;; k += 1.0) {  // upward: t_{k+1} = t_k h^2 / ((k+1)(k+1+nu))
    t *= h2 / ((k + 1.0) * (k + 1.0 + nu));
    sum += t;
    if (t < 1e-17 * sum) break;
  }
  t = 1.0;
  for (double k = kpeak; k > 0.0; k -= 1.0) {  // downward: t_{k-1} = t_k k (k+nu) / h^2
    t *= k * (k + nu) / h2;
    sum += t;
    if (t < 1e-17 * sum) break;
  }
  return log_peak + std::log(sum);
}

}  // namespace

double log_bessel_i(double nu, double x) {
  if (!(nu >= 0.0) || !std::isfinite(nu))
    throw InvalidArgument("log_bessel_i: order nu = " + std::to_string(nu) + " (expected a finite nu >= 0)");
  if (!(x >= 0.0)) throw InvalidArgument("log_bessel_i: argument x = " + std::to_string(x) + " (expected x >= 0)");
  if (std::isinf(x)) return kInf;
  if (x == 0.0) return nu == 0.0 ? 0.0 : -kInf;
  if (x >= std::max(50.0, 2.0 * nu * nu)) return log_bessel_i_hankel(nu, x);
  return log_bessel_i_series(nu, x);
}

double bessel_ratio(double p, double k) {
  if (!(p >= 2) || !std::isfinite(p))
    throw InvalidArgument("bessel_ratio: p = " + std::to_string(p) + ", expected p >= 2");
  if (!(k >= 0) || !std::isfinite(k))
    throw InvalidArgument("bessel_ratio: kappa = " + std::to_string(k) + ", expected a finite kappa >= 0");
  if (k == 0) return 0.0;
  const double nu0 = 0.5 * p;
  if (k > std::max(1e4, 2.0 * nu0 * nu0)) {
    // The continued fraction needs O(k) terms here (endless for k near 1e308): the ratio of the two
    // Hankel expansions I_mu(k) ~ e^k / sqrt(2 pi k) sum_j (-1)^j a_j(mu) / k^j instead (their e^k and
    // sqrt factors cancel exactly), summed while the terms decrease.
    auto hankel_sum = [k](double mu) {
      const double m4 = 4.0 * mu * mu;
      double term = 1.0, sum = 1.0;
      for (int j = 1; j < 200; ++j) {
        const double next = term * (m4 - (2.0 * j - 1.0) * (2.0 * j - 1.0)) / (-8.0 * j) / k;
        if (std::abs(next) >= std::abs(term)) break;
        term = next;
        sum += term;
        if (std::abs(term) < 1e-17 * std::abs(sum)) break;
      }
      return sum;
    };
    return hankel_sum(nu0) / hankel_sum(nu0 - 1.0);
  }
  // I_{nu-1}/I_nu = 2 nu / k + I_{nu+1}/I_nu (recurrence), so A = 1 / F with the continued fraction
  // F = b_0 + 1/(b_1 + 1/(b_2 + ...)), b_j = 2 (nu + j) / k, evaluated by the modified Lentz method.
  const double nu = 0.5 * p, tiny = 1e-300;
  double f = 2 * nu / k, C = f, D = 0;
  for (int j = 1; j < 10000000; ++j) {
    const double b = 2 * (nu + j) / k;
    D = b + D;
    if (D == 0) D = tiny;
    C = b + 1 / C;
    if (C == 0) C = tiny;
    D = 1 / D;
    const double delta = C * D;
    f *= delta;
    if (std::abs(delta - 1) < 1e-16) return 1 / f;
  }
  throw NumericalError("bessel_ratio: continued fraction did not converge for kappa = " + std::to_string(k));
}

double log_sphere_area(int d) {
  if (d < 0) throw InvalidArgument("log_sphere_area: dimension " + std::to_string(d) + " (expected d >= 0)");
  const double h = 0.5 * (d + 1);
  return std::log(2.0) + h * std::log(kPi) - std::lgamma(h);
}

double logsumexp(const std::vector<double>& v) {
  if (v.empty()) return -kInf;
  const double m = *std::max_element(v.begin(), v.end());
  if (!std::isfinite(m)) return m;
  double s = 0.0;
  for (double x : v) s += std::exp(x - m);
  return m + std::log(s);
}

}  // namespace rbsm::dist
