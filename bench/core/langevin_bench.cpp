// Langevin chain-steps per second on S^10 (docs/benchmarks.md "Langevin"): the projected Euler-Maruyama
// update z' = normalise(z + h g(<mu, z>) P_T mu + sqrt(2h) P_T xi) with the true vMF(kappa = 2) score,
// many chains in parallel. Compare with bench/langevin_numpy.py (the same update, vectorised NumPy).
//   build-*/bench/langevin_bench --benchmark_counters_tabular=true
#include <string>

#include <benchmark/benchmark.h>

#include "rbsm/geometry/sphere.hpp"
#include "rbsm/sampling/langevin.hpp"

namespace {

void run(benchmark::State& state, bool metropolis, bool generic, const std::string& isa = "") {
  const int chains = static_cast<int>(state.range(0)), threads = static_cast<int>(state.range(1));
  const int steps = 200;
  rbsm::geometry::Sphere S(10);
  rbsm::geometry::Vec mu = rbsm::geometry::Vec::Zero(11);
  mu[0] = 1.0;
  const auto drift = rbsm::sampling::axial_drift("true", mu, rbsm::sampling::Table1D(-1.0, 1.0, {2.0, 2.0}));
  rbsm::sampling::LangevinOptions o;
  o.chains = chains, o.steps = steps, o.burn_in = steps - 1, o.record_every = 1, o.step_size = 0.01;
  o.threads = threads, o.metropolis = metropolis, o.force_generic = generic, o.simd_isa = isa;
  std::uint64_t seed = 0;
  for (auto _ : state) {
    o.seed = ++seed;
    auto res = rbsm::sampling::run_langevin(S, drift, o);
    benchmark::DoNotOptimize(res.samples.data());
  }
  state.counters["chain_steps_per_s"] =
      benchmark::Counter(static_cast<double>(chains) * steps * state.iterations(), benchmark::Counter::kIsRate);
}

void BM_LangevinSphere10(benchmark::State& s) { run(s, false, false); }
void BM_LangevinSphere10Mala(benchmark::State& s) { run(s, true, false); }
void BM_LangevinSphere10Generic(benchmark::State& s) { run(s, false, true); }

BENCHMARK(BM_LangevinSphere10)->Args({10000, 1})->Args({10000, 2})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_LangevinSphere10Mala)->Args({10000, 2})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_LangevinSphere10Generic)->Args({1000, 2})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

// Also every compiled SIMD variant this CPU runs (BM_LangevinSphere10Isa/<variant>/chains/threads).
int main(int argc, char** argv) {
  for (const auto& isa : rbsm::sampling::simd_variants())
    benchmark::RegisterBenchmark(("BM_LangevinSphere10Isa/" + isa).c_str(),
                                 [isa](benchmark::State& s) { run(s, false, false, isa); })
        ->Args({10000, 1})
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
