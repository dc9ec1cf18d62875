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

double bessel_ratio(double p, double kappa) {
  if (kappa == 0.0) return 0.0;
  return std::exp(log_bessel_i(0.5 * p, kappa) - log_bessel_i(0.5 * p - 1.0, kappa));
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

namespace {
// Gauss-Kronrod 7/15 nodes and weights (QUADPACK qk15).
constexpr double kXgk[8] = {0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
                            0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
                            0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
                            0.207784955007898467600689403773245, 0.0};
constexpr double kWgk[8] = {0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
                            0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
                            0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
                            0.204432940075298892414161999234649, 0.209482141084727828012999174891714};
constexpr double kWg[4] = {0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
                           0.381830050505118944950369775488975, 0.417959183673469387755102040816327};

/// One Gauss-Kronrod step; `noise` is the rounding floor 50 eps int |f| (QUADPACK's guard), below which
/// |kronrod - gauss| says nothing about the error.
void gk15(const std::function<double(double)>& f, double a, double b, double& kronrod, double& gauss, double& noise) {
  const double c = 0.5 * (a + b), h = 0.5 * (b - a);
  const double fc = f(c);
  kronrod = kWgk[7] * fc;
  gauss = kWg[3] * fc;
  double abs_sum = kWgk[7] * std::abs(fc);
  for (int j = 0; j < 7; ++j) {
    const double f1 = f(c - h * kXgk[j]), f2 = f(c + h * kXgk[j]);
    kronrod += kWgk[j] * (f1 + f2);
    abs_sum += kWgk[j] * (std::abs(f1) + std::abs(f2));
    if (j % 2 == 1) gauss += kWg[j / 2] * (f1 + f2);
  }
  kronrod *= h;
  gauss *= h;
  noise = 50 * 2.220446049250313e-16 * std::abs(h) * abs_sum;
  if (!std::isfinite(kronrod))
    throw NumericalError("integrate: the integrand is NaN or infinite on [" + std::to_string(a) + ", " +
                         std::to_string(b) + "]");
}

/// Subdivisions allowed per call of integrate(): a tolerance below the integrand's rounding noise would
/// otherwise bisect every piece to the depth limit (2^50 pieces: a hang), so past the budget it throws.
constexpr long kMaxSubdivisions = 200000;

double adapt(const std::function<double(double)>& f, double a, double b, double tol, double kronrod, double gauss,
             double noise, int depth, long& budget) {
  // At depth 50 the piece is 2^-50 of the interval: its error no longer matters (integrable endpoint singularities).
  if (std::abs(kronrod - gauss) <= std::max(tol, noise) || depth > 50) return kronrod;
  if (--budget < 0)
    throw NumericalError("integrate: tolerance " + std::to_string(tol) + " not reached after " +
                         std::to_string(kMaxSubdivisions) + " subdivisions (the integrand is too rough or too " +
                         "peaked for this tolerance)");
  const double m = 0.5 * (a + b);
  double k1, g1, n1, k2, g2, n2;
  gk15(f, a, m, k1, g1, n1);
  gk15(f, m, b, k2, g2, n2);
  return adapt(f, a, m, 0.5 * tol, k1, g1, n1, depth + 1, budget) +
         adapt(f, m, b, 0.5 * tol, k2, g2, n2, depth + 1, budget);
}
}  // namespace

double integrate(const std::function<double(double)>& f, double a, double b, double rel_tol, double abs_tol) {
  if (a == b) return 0.0;
  // A first pass over 8 pieces gives the scale of the integral for the relative tolerance.
  constexpr int kPieces = 8;
  double total = 0.0, k[kPieces], g[kPieces], n[kPieces];
  for (int i = 0; i < kPieces; ++i) {
    gk15(f, a + (b - a) * i / kPieces, a + (b - a) * (i + 1) / kPieces, k[i], g[i], n[i]);
    total += std::abs(k[i]);
  }
  const double tol = std::max(abs_tol, rel_tol * total) / kPieces;
  double out = 0.0;
  long budget = kMaxSubdivisions;
  for (int i = 0; i < kPieces; ++i)
    out += adapt(f, a + (b - a) * i / kPieces, a + (b - a) * (i + 1) / kPieces, tol, k[i], g[i], n[i], 0, budget);
  return out;
}

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

}  // namespace rbsm::dist
