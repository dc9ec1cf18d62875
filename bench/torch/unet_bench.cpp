// U-Net speed (issue 6): ms per training step (batch 128: forward, eps-MSE loss, backward, gradient
// clipping, Adam step) and per sampling step (one Euler-Maruyama step of the reverse VP-SDE at batch 64:
// one forward pass under NoGradGuard) for the reference U-Net (C = 32, mults 1,2,2, two ResBlocks,
// attention at 7x7; 1.62M parameters). bench/unet_torch.py times the same network in PyTorch-Python.
// Threads: $RBSM_BENCH_THREADS (default 2), set with rbsm::nn::set_compute_threads (LibTorch and OpenBLAS).
#include <cmath>
#include <cstdlib>

#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "rbsm/allocator.hpp"
#include "rbsm/nn/device.hpp"
#include "rbsm/nn/sde.hpp"
#include "rbsm/nn/unet.hpp"

namespace {
using namespace rbsm::nn;

int bench_threads() {
  const char* s = std::getenv("RBSM_BENCH_THREADS");
  return s ? std::max(1, std::atoi(s)) : 2;
}

void BM_UNetTrainStep(benchmark::State& state) {
  rbsm::nn::set_compute_threads(bench_threads());
  torch::manual_seed(0);
  const std::int64_t B = state.range(0);
  UNet net(unet_reference_options());
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(2e-4));
  const VPSDE sde;
  const auto x0 = torch::rand({B, 1, 28, 28}) * 2 - 1;
  for (auto _ : state) {
    const auto t = torch::rand({B}) * (1 - 1e-5) + 1e-5;
    const auto eps = torch::randn_like(x0);
    const auto loss = torch::mse_loss(net->forward(sde.perturb(x0, t, eps), t), eps);
    adam.zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(net->parameters(), 1.0);
    adam.step();
    benchmark::DoNotOptimize(loss.item<float>());
  }
  state.counters["threads"] = bench_threads();
  state.counters["parameters"] = static_cast<double>(net->parameter_count());
}
BENCHMARK(BM_UNetTrainStep)->Arg(128)->Unit(benchmark::kMillisecond)->Iterations(5)->UseRealTime();

void BM_UNetSampleStep(benchmark::State& state) {
  rbsm::nn::set_compute_threads(bench_threads());
  torch::manual_seed(0);
  const std::int64_t B = state.range(0);
  UNet net(unet_reference_options());
  net->eval();
  const VPSDE sde;
  auto x = torch::randn({B, 1, 28, 28});
  torch::NoGradGuard no_grad;
  for (auto _ : state) {
    const double t = 0.5, dt = 1e-3, beta = sde.beta(t);
    const auto tt = torch::full({B}, t);
    const auto score = -net->forward(x, tt) / sde.sigma(t);
    const auto next = x + (0.5 * beta * dt) * x + (beta * dt) * score + std::sqrt(beta * dt) * torch::randn_like(x);
    benchmark::DoNotOptimize(next.data_ptr<float>());
  }
  state.counters["threads"] = bench_threads();
}
BENCHMARK(BM_UNetSampleStep)->Arg(64)->Unit(benchmark::kMillisecond)->Iterations(10)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  rbsm::keep_freed_memory();  // as the rbsm CLI does
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
