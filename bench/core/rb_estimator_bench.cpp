// RB estimator throughput (docs/targets.md §4, docs/benchmarks.md "RB estimator"): S^10 in R^11,
// 4096 vMF(kappa = 2) references x 4096 vMF queries, 2 threads; items = query x reference pairs.
// Compare with bench/rb_estimator_torch.py (the same estimator, vectorised PyTorch, 2 threads).
#include <memory>

#include <benchmark/benchmark.h>

#include "rbsm/dist/density.hpp"
#include "rbsm/dsm/rb_estimator.hpp"
#include "rbsm/geometry/manifold.hpp"

namespace {

rbsm::dsm::Mat draw(const rbsm::dist::Density& q, int n, std::uint64_t seed) {
  rbsm::dsm::Mat m(n, q.manifold().ambient_dim());
  for (int i = 0; i < n; ++i) {
    rbsm::Rng rng(seed, i);
    m.row(i) = q.sample(rng).transpose();
  }
  return m;
}

void BM_RbEstimatorSphere10(benchmark::State& state) {
  const double sigma = state.range(0) / 1000.0;
  const int n = 4096, threads = 2;
  std::shared_ptr<const rbsm::geometry::Manifold> M = rbsm::geometry::make_manifold("sphere:10");
  const auto q = rbsm::dist::make_density("vmf:kappa=2", M);
  const auto refs = draw(*q, n, 1), queries = draw(*q, n, 2);
  const rbsm::dsm::RbEstimator est(M, refs, sigma);
  double ess = 0;
  for (auto _ : state) {
    const auto e = est.estimate(queries, threads);
    ess = e.ess.mean();
    benchmark::DoNotOptimize(e.r.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<long>(n) * n);
  state.counters["sigma"] = sigma;
  state.counters["mean_ess"] = ess;
}
// sigma = 0.01, 0.1, 0.5, 1 (argument in thousandths)
BENCHMARK(BM_RbEstimatorSphere10)->Arg(10)->Arg(100)->Arg(500)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
