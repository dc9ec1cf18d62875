// DSM targets and the (Z, X) sampler (docs/targets.md §1).
#include "rbsm/dsm/targets.hpp"

#include <string>

#include "rbsm/dsm/fibre.hpp"
#include "rbsm/error.hpp"
#include "rbsm/parallel.hpp"

namespace rbsm::dsm {

DsmPairs sample_pairs(const dist::Density& q, double sigma, int n, std::uint64_t seed, int threads) {
  check_sigma(sigma);
  if (n < 1) throw InvalidArgument("sample_pairs: need n >= 1 pairs, got " + std::to_string(n));
  const auto& M = q.manifold();
  const int D = M.ambient_dim();
  DsmPairs p{Mat(n, D), Mat(n, D)};
  parallel_for(
      static_cast<std::size_t>(n), threads,
      [&](std::size_t i) {
        Rng rng(seed, i);
        for (int attempt = 0;; ++attempt) {
          const Vec z = q.sample(rng);
          Vec x = z;
          for (int k = 0; k < D; ++k) x[k] += sigma * rng.normal();
          try {
            M.project(x);
          } catch (const GeometryError&) {
            if (attempt > 100) throw;
            continue;
          }
          p.Z.row(i) = z.transpose();
          p.X.row(i) = x.transpose();
          return;
        }
      },
      64);
  return p;
}

Vec raw_target(const Vec& Z, const Vec& X, double sigma) { return (Z - X) / (sigma * sigma); }

Vec normal_target(const geometry::Manifold& M, const Vec& X, double sigma) {
  return (M.project(X) - X) / (sigma * sigma);
}

Vec tangent_target(const geometry::Manifold& M, const Vec& Z, const Vec& X, double sigma) {
  const Vec y = M.project(X);
  return M.tangent_projector(y) * (Z - y) / (sigma * sigma);
}

}  // namespace rbsm::dsm
