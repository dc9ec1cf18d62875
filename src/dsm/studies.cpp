// Variance collapse and the sigma^2 expansion, measured (docs/targets.md §6).
#include "rbsm/dsm/studies.hpp"

#include <cmath>
#include <memory>
#include <string>

#include "rbsm/dist/vmf.hpp"
#include "rbsm/dsm/expansion.hpp"
#include "rbsm/dsm/rb_exact.hpp"
#include "rbsm/dsm/rb_sphere.hpp"
#include "rbsm/dsm/targets.hpp"
#include "rbsm/error.hpp"
#include "rbsm/geometry/sphere.hpp"
#include "rbsm/parallel.hpp"

namespace rbsm::dsm {
namespace {

struct Moments {
  double mean = 0, se = 0;
};
Moments moments(const std::vector<double>& v) {
  Moments m;
  if (v.empty()) return m;
  for (double x : v) m.mean += x;
  m.mean /= v.size();
  double var = 0;
  for (double x : v) var += (x - m.mean) * (x - m.mean);
  if (v.size() > 1) m.se = std::sqrt(var / (v.size() - 1) / v.size());
  return m;
}

}  // namespace

double loglog_slope(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size() || x.size() < 2)
    throw InvalidArgument("loglog_slope: need two equally long series of >= 2 points");
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  const double n = static_cast<double>(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double lx = std::log(x[i]), ly = std::log(y[i]);
    sx += lx;
    sy += ly;
    sxx += lx * lx;
    sxy += lx * ly;
  }
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

std::vector<VarianceRow> variance_study(const dist::Density& q, const std::vector<double>& sigmas, int samples,
                                        int exact_points, std::uint64_t seed, int threads) {
  if (!has_exact_rb_target(q))
    throw InvalidArgument("variance_study: no exact RB target for " + q.spec() + " on " + q.manifold().spec());
  const auto& M = q.manifold();
  const auto* vmf = dynamic_cast<const dist::VonMisesFisher*>(&q);
  const bool sphere = dynamic_cast<const geometry::Sphere*>(&M) != nullptr;
  std::vector<VarianceRow> rows;
  for (std::size_t s = 0; s < sigmas.size(); ++s) {
    const double sigma = sigmas[s];
    const DsmPairs pairs = sample_pairs(q, sigma, samples, seed + 1000003ULL * s, threads);
    std::vector<double> T2(samples), G2(samples);
    std::vector<Vec> ys(samples);
    parallel_for(
        static_cast<std::size_t>(samples), threads,
        [&](std::size_t i) {
          const Vec Z = pairs.Z.row(i).transpose(), X = pairs.X.row(i).transpose();
          ys[i] = M.project(X);
          T2[i] = tangent_target(M, Z, X, sigma).squaredNorm();
          G2[i] = q.grad_log(Z).squaredNorm();
        },
        64);
    VarianceRow row;
    row.sigma = sigma;
    row.samples = samples;
    const Moments t = moments(T2), g = moments(G2);
    row.ET2 = t.mean;
    row.ET2_se = t.se;
    row.Egrad2 = g.mean;
    std::vector<double> R2;
    if (sphere) {
      // r = g(t) P_T mu: tabulate g once per sigma and use it at every sample.
      std::unique_ptr<ChebyshevTable> table;
      Vec mu = Vec::Unit(M.ambient_dim(), 0);
      if (vmf) {
        mu = vmf->mean();
        table = std::make_unique<ChebyshevTable>(VmfRbTarget(M.dim(), vmf->kappa(), mu, sigma).tabulate(64));
      }
      R2.resize(samples);
      for (int i = 0; i < samples; ++i) {
        const double tt = mu.dot(ys[i]);
        R2[i] = table ? std::pow((*table)(tt), 2) * (1.0 - tt * tt) : 0.0;
      }
    } else {
      const int m = std::min(samples, exact_points);
      R2.resize(m);
      parallel_for(static_cast<std::size_t>(m), threads,
                   [&](std::size_t i) { R2[i] = exact_rb_target(q, ys[i], sigma, 1e-8).squaredNorm(); });
    }
    const Moments r = moments(R2);
    row.Er2 = r.mean;
    row.Er2_se = r.se;
    row.exact_points = static_cast<int>(R2.size());
    rows.push_back(row);
  }
  return rows;
}

std::vector<ExpansionRow> expansion_study(const dist::Density& q, const Vec& y, const std::vector<double>& sigmas,
                                          int threads) {
  const ExpansionTerms terms = expansion_terms(q, y);
  std::vector<ExpansionRow> rows(sigmas.size());
  parallel_for(sigmas.size(), threads, [&](std::size_t i) {
    const double sigma = sigmas[i];
    ExpansionRow& row = rows[i];
    row.sigma = sigma;
    row.r = exact_rb_quadrature(q, terms.z, sigma, 1e-12);  // not the switch: the expansion would measure itself
    row.measured = (row.r - terms.grad) / (sigma * sigma);
    row.residual_source = (row.measured - terms.source_coefficient()).norm();
    row.residual_complete = (row.measured - terms.coefficient()).norm();
  });
  return rows;
}

}  // namespace rbsm::dsm
