// Geometry throughput (docs/benchmarks.md "Geometry"): per point, the projection pi(x) of a point
// near M plus all curvature operators at pi(x) (Manifold::local: frames, P_T, P_N, H, W_H, Ric#, K,
// scalar curvature). One thread. Compare with bench/geometry_numpy.py (same formulas, NumPy).
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "rbsm/geometry/geometric_drift.hpp"
#include "rbsm/geometry/level_set.hpp"
#include "rbsm/geometry/manifold.hpp"
#include "rbsm/random.hpp"

namespace {

using rbsm::geometry::Manifold;
using rbsm::geometry::Vec;

/// 256 points at distance ~0.1 reach from M (fixed seed).
std::vector<Vec> points_near(const Manifold& M) {
  rbsm::Rng rng(7, 0);
  std::vector<Vec> out;
  for (int i = 0; i < 256; ++i) {
    Vec x = M.sample_uniform(rng);
    for (int j = 0; j < x.size(); ++j) x(j) += 0.1 * M.reach() * rng.normal() / std::sqrt(double(x.size()));
    out.push_back(x);
  }
  return out;
}

void run(benchmark::State& state, const Manifold& M) {
  const auto xs = points_near(M);
  std::size_t i = 0;
  for (auto _ : state) {
    const Vec z = M.project(xs[i++ % xs.size()]);
    benchmark::DoNotOptimize(M.local(z));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(M.spec() + " (D = " + std::to_string(M.ambient_dim()) + ")");
}

void BM_ProjectAndLocal(benchmark::State& state, const std::string& spec) {
  run(state, *rbsm::geometry::make_manifold(spec));
}

void BM_LevelSetProjectAndLocal(benchmark::State& state, const std::string& which) {
  std::unique_ptr<Manifold> M;
  if (which == "sphere:10") M = rbsm::geometry::level_set_sphere(10);
  if (which == "torus:3,1") M = rbsm::geometry::level_set_torus(3, 1);
  if (which == "clifford-torus:1,1.5") M = rbsm::geometry::level_set_clifford_torus(1, 1.5);
  run(state, *M);
}

void BM_GeometricDrift(benchmark::State& state, const std::string& spec) {
  const auto M = rbsm::geometry::make_manifold(spec);
  rbsm::Rng rng(8, 0);
  const Vec z = M->sample_uniform(rng);
  for (auto _ : state) benchmark::DoNotOptimize(rbsm::geometry::graph_geometric_drift(*M, z));
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK_CAPTURE(BM_ProjectAndLocal, sphere_2, std::string("sphere:2"));
BENCHMARK_CAPTURE(BM_ProjectAndLocal, sphere_10, std::string("sphere:10"));
BENCHMARK_CAPTURE(BM_ProjectAndLocal, clifford_torus, std::string("clifford-torus:1,1.5"));
BENCHMARK_CAPTURE(BM_ProjectAndLocal, torus_3_1, std::string("torus:3,1"));
BENCHMARK_CAPTURE(BM_ProjectAndLocal, so3, std::string("so3"));
BENCHMARK_CAPTURE(BM_ProjectAndLocal, ellipsoid_3d, std::string("ellipsoid:1,1.5,2.5"));
BENCHMARK_CAPTURE(BM_LevelSetProjectAndLocal, level_set_sphere_10, std::string("sphere:10"));
BENCHMARK_CAPTURE(BM_LevelSetProjectAndLocal, level_set_clifford_torus, std::string("clifford-torus:1,1.5"));
BENCHMARK_CAPTURE(BM_LevelSetProjectAndLocal, level_set_torus_3_1, std::string("torus:3,1"));
BENCHMARK_CAPTURE(BM_GeometricDrift, torus_3_1, std::string("torus:3,1"));
BENCHMARK_CAPTURE(BM_GeometricDrift, ellipsoid_3d, std::string("ellipsoid:1,1.5,2.5"));
BENCHMARK_CAPTURE(BM_GeometricDrift, so3, std::string("so3"));

BENCHMARK_MAIN();
