// Manifold-fit speed (issue 13; docs/benchmarks.md "fit"): training examples per second of `rbsm fit`
// (energy residual MLP width 128, depth 3, 8 frequencies; batch 256; S^2; 5000 training points from a
// 5-component vMF mixture) with raw and leave-one-out RB targets; the RB target's cost per batch of 256
// against 5000 references; the normaliser's time (adaptive cubature, log Z to 1e-4) of an untrained and
// of a sharp energy. bench/fit_torch.py runs the same model, targets and optimiser in PyTorch-Python.
// Threads: $RBSM_BENCH_THREADS (default 2), set with rbsm::nn::set_compute_threads (LibTorch and OpenBLAS); on
// this 2-core machine one thread is about 3x faster for this small network (docs/benchmarks.md "fit").
#include <cstdlib>
#include <filesystem>

#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "rbsm/allocator.hpp"
#include "rbsm/data/points.hpp"
#include "rbsm/dist/density.hpp"
#include "rbsm/dsm/rb_estimator.hpp"
#include "rbsm/fit/fit.hpp"
#include "rbsm/nn/device.hpp"
#include "rbsm/random.hpp"

namespace {
using namespace rbsm;
namespace fs = std::filesystem;

int bench_threads() {
  const char* s = std::getenv("RBSM_BENCH_THREADS");
  return s ? std::max(1, std::atoi(s)) : 2;
}

geometry::Mat mixture_draws(long n, std::uint64_t stream) {
  std::shared_ptr<const geometry::Manifold> M = geometry::make_manifold("sphere:2");
  const auto q = dist::make_density("@" + data::data_file("mixtures/s2_vmf5.json").string(), M);
  geometry::Mat Z(n, 3);
  for (long i = 0; i < n; ++i) {
    Rng rng(stream, static_cast<std::uint64_t>(i));
    Z.row(i) = q->sample(rng).transpose();
  }
  return Z;
}

void BM_FitTraining(benchmark::State& state) {
  nn::set_compute_threads(bench_threads());
  const geometry::Mat train = mixture_draws(5000, 0), val = mixture_draws(256, 1);
  fit::FitOptions o;
  o.target = state.range(0) ? fit::Target::rb : fit::Target::raw;
  o.net.dim = 3;
  o.steps = state.range(1);
  o.eval_every = 1000;  // one validation pass, at the last step
  o.val_examples = 256;
  o.checkpoint_every = 1000;
  o.patience = 0;
  o.threads = bench_threads();
  const fs::path dir = fs::temp_directory_path() / ("rbsm_fit_bench_" + std::to_string(::getpid()));
  for (auto _ : state) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fit::TrainOutcome r = fit::train_fit(train, val, o, dir);
    benchmark::DoNotOptimize(r.best_val_loss);
  }
  fs::remove_all(dir);
  state.counters["examples/s"] =
      benchmark::Counter(static_cast<double>(o.steps * o.batch), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(state.range(0) ? "rb" : "raw");
}
// {target, steps}: the difference between 40 and 120 steps is the per-step rate of a long fit (the set-up, the
// RB tables, the one validation pass and the checkpoint are paid once), which is what fit_torch.py's loop times.
BENCHMARK(BM_FitTraining)
    ->Args({0, 40})
    ->Args({0, 120})
    ->Args({1, 40})
    ->Args({1, 120})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3)
    ->UseRealTime();

void BM_RbTargetBatch(benchmark::State& state) {
  std::shared_ptr<const geometry::Manifold> M = geometry::make_manifold("sphere:2");
  const geometry::Mat refs = mixture_draws(5000, 0);
  const double sigma = 0.01 * std::pow(50.0, static_cast<double>(state.range(0)) / 23.0);
  const dsm::RbEstimator est(M, refs, sigma);
  geometry::Mat Y(256, 3);
  std::vector<long> skip(256);
  Rng rng(7, 0);
  for (int b = 0; b < 256; ++b) {
    geometry::Vec x = refs.row(b).transpose();
    for (int k = 0; k < 3; ++k) x[k] += sigma * rng.normal();
    Y.row(b) = M->project(x).transpose();
    skip[b] = b;
  }
  for (auto _ : state) benchmark::DoNotOptimize(est.estimate(Y, bench_threads(), &skip).r.data());
  state.counters["sigma"] = sigma;
}
BENCHMARK(BM_RbTargetBatch)->Arg(0)->Arg(12)->Arg(23)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Normaliser(benchmark::State& state) {
  nn::set_compute_threads(bench_threads());
  torch::manual_seed(0);
  fit::FitOptions o;
  o.net.dim = 3;
  fit::NoiseNet net(o.net);
  if (state.range(0)) {  // a sharp energy: the output layer scaled up (peaks of width ~ 0.02 rad)
    torch::NoGradGuard g;
    net->output->weight.mul_(40.0);
  }
  fit::FitModel model(o, net, {});
  std::int64_t evaluations = 0;
  for (auto _ : state) {
    const fit::ModelDensity d = fit::model_density(model, 0.05, dsm::Correction::none);
    evaluations = d.normaliser.evaluations;
    benchmark::DoNotOptimize(d.normaliser.log_z);
  }
  state.counters["evaluations"] = static_cast<double>(evaluations);
  state.SetLabel(state.range(0) ? "sharp" : "untrained");
}
BENCHMARK(BM_Normaliser)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  rbsm::keep_freed_memory();  // as the rbsm CLI does (without it a raw step page-faults ~20% of its time here)
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
