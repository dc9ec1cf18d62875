#include "rbsm/sampling/equilibrium.hpp"

#include <cmath>
#include <vector>

#include "rbsm/dist/special.hpp"
#include "rbsm/error.hpp"
#include "rbsm/stats.hpp"

namespace rbsm::sampling {

double vmf_mean_cosine(int d, double kappa) { return dist::bessel_ratio(d + 1, kappa); }

double vmf_mean_cosine_derivative(int d, double kappa) {
  if (kappa <= 0.0) return 1.0 / (d + 1);  // A(kappa) ~ kappa / p near 0
  const double A = vmf_mean_cosine(d, kappa);
  return 1.0 - A * A - d * A / kappa;
}

double vmf_kappa_from_mean_cosine(int d, double m) {
  if (!(m < 1.0))
    throw InvalidArgument("vmf_kappa_from_mean_cosine: mean cosine must be < 1, got " + std::to_string(m));
  if (m <= 0.0) return 0.0;
  double lo = 0.0, hi = 1.0;
  while (vmf_mean_cosine(d, hi) < m) hi *= 2.0;
  for (int it = 0; it < 200 && hi - lo > 1e-14 * hi; ++it) {
    const double mid = 0.5 * (lo + hi);
    (vmf_mean_cosine(d, mid) < m ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

Vec chain_means(const LangevinResult& result, const Vec& f) {
  const int C = result.chains, R = result.records_per_chain;
  if (f.size() != static_cast<Eigen::Index>(C) * R)
    throw InvalidArgument("chain_means: need one value per recorded sample");
  Vec m(C);
  for (int c = 0; c < C; ++c) m[c] = f.segment(static_cast<Eigen::Index>(c) * R, R).mean();
  return m;
}

KappaEstimate kappa_eff(const LangevinResult& result, const Vec& mu) {
  const int C = result.chains, R = result.records_per_chain;
  if (C < 2 || R < 1) throw InvalidArgument("kappa_eff: need at least 2 chains with recorded samples");
  const int d = static_cast<int>(result.samples.cols()) - 1;
  const Vec m = chain_means(result, result.samples * mu);
  const auto s = stats::summarize(std::vector<double>(m.data(), m.data() + m.size()));
  KappaEstimate e;
  e.mean_cosine = s.mean;
  e.mean_cosine_se = s.se;
  e.kappa = vmf_kappa_from_mean_cosine(d, s.mean);
  e.kappa_se = e.mean_cosine_se / vmf_mean_cosine_derivative(d, e.kappa);
  return e;
}

AxialLaw axial_equilibrium(int d, const std::function<double(double)>& g, int grid) {
  if (d < 1) throw InvalidArgument("axial_equilibrium: d must be >= 1");
  if (grid < 11 || grid % 2 == 0) grid = 2001;
  // In theta = arccos t the density is exp(G(cos theta)) sin^{d-1} theta; integrate G along t.
  const int n = grid;
  std::vector<double> theta(n), t(n), G(n), w(n);
  for (int i = 0; i < n; ++i) {
    theta[i] = M_PI * i / (n - 1);
    t[i] = std::cos(theta[i]);
  }
  // G(t) = -integral_t^1 g: accumulate from t = 1 (theta = 0) with a fine trapezoid per cell.
  G[0] = 0.0;
  for (int i = 1; i < n; ++i) {
    const int sub = 8;
    double acc = 0.0;
    for (int k = 0; k < sub; ++k) {
      const double ta = std::cos(theta[i - 1] + (theta[i] - theta[i - 1]) * k / sub);
      const double tb = std::cos(theta[i - 1] + (theta[i] - theta[i - 1]) * (k + 1) / sub);
      acc += 0.5 * (g(ta) + g(tb)) * (ta - tb);
    }
    G[i] = G[i - 1] - acc;
  }
  double Gmax = G[0];
  for (double x : G) Gmax = std::max(Gmax, x);
  // Simpson in theta.
  double Z = 0.0, M1 = 0.0;
  for (int i = 0; i < n; ++i) {
    const double simpson = (i == 0 || i == n - 1) ? 1.0 : (i % 2 ? 4.0 : 2.0);
    w[i] = std::exp(G[i] - Gmax) * std::pow(std::sin(theta[i]), d - 1);
    Z += simpson * w[i];
    M1 += simpson * w[i] * t[i];
  }
  AxialLaw law;
  law.mean_cosine = M1 / Z;
  law.kappa_eff = vmf_kappa_from_mean_cosine(d, law.mean_cosine);
  // density in t: p(t) = p(theta) / sin(theta); report on an even grid of t in (-1, 1).
  const double dtheta = M_PI / (n - 1);
  const double Zt = Z * dtheta / 3.0;
  const int nt = 201;
  for (int i = 0; i < nt; ++i) {
    const double tt = -1.0 + 2.0 * (i + 0.5) / nt;
    const double th = std::acos(tt);
    // interpolate G in theta
    const double s = th / dtheta;
    const int k = std::min(n - 2, static_cast<int>(s));
    const double Gi = G[k] + (s - k) * (G[k + 1] - G[k]);
    law.t.push_back(tt);
    law.density.push_back(std::exp(Gi - Gmax) * std::pow(1.0 - tt * tt, 0.5 * (d - 2)) / Zt);
  }
  return law;
}

}  // namespace rbsm::sampling
