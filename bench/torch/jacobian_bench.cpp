// Cost of the score anatomy per image (docs/benchmarks.md "Anatomy"): the full 784 x 784 Jacobian
// of the ~1.5M-parameter U-Net score by batched reverse mode (by chunk size), its SVD and the
// eigen-decomposition of the symmetrised Jacobian (LibTorch/LAPACK vs Eigen), and the measures
// (local dimension, cosines, three overlap curves). Compare with bench/jacobian_torch.py (PyTorch-Python,
// same model, same threads). Threads: RBSM_BENCH_THREADS (default 2) for LibTorch's intra-op pool.
#include <cstdlib>

#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "rbsm/allocator.hpp"
#include "rbsm/anatomy/analysis.hpp"
#include "rbsm/anatomy/decomposition.hpp"
#include "rbsm/anatomy/jacobian.hpp"
#include "rbsm/anatomy/measures.hpp"
#include "rbsm/anatomy/model_field.hpp"
#include "rbsm/nn/device.hpp"
#include "rbsm/nn/unet.hpp"

namespace ra = rbsm::anatomy;

namespace {
const rbsm::nn::LoadedScoreModel& model() {
  static const rbsm::nn::LoadedScoreModel m = [] {
    torch::manual_seed(0);
    rbsm::nn::LoadedScoreModel lm;
    rbsm::nn::UNet net(rbsm::nn::unet_reference_options());
    net->eval();
    for (auto& p : net->parameters()) p.requires_grad_(false);
    lm.net = net.ptr();
    return lm;
  }();
  return m;
}
const torch::Tensor& point() {
  static const torch::Tensor x = torch::randn({784}, torch::kFloat32);
  return x;
}
const torch::Tensor& jacobian() {
  static const torch::Tensor J = ra::score_jacobian(ra::model_score_field(model(), 0.05), point());
  return J;
}

void BM_JacobianUNet(benchmark::State& state) {
  const auto field = ra::model_score_field(model(), 0.05);
  const auto opts = ra::JacobianOptions().with_chunk(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(ra::score_jacobian(field, point(), opts));
  state.counters["params"] = static_cast<double>(model().parameter_count());
}
BENCHMARK(BM_JacobianUNet)->Arg(32)->Arg(64)->Arg(98)->Arg(196)->Iterations(2)->Unit(benchmark::kSecond);

void BM_ForwardUNet(benchmark::State& state) {  // one forward pass at the chunk's batch size, no grad
  const auto field = ra::model_score_field(model(), 0.05);
  const auto xb = point().reshape({1, 784}).expand({state.range(0), 784}).contiguous();
  torch::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(field(xb));
}
BENCHMARK(BM_ForwardUNet)->Arg(64)->Arg(98)->Iterations(5)->Unit(benchmark::kMillisecond);

void BM_Decompose(benchmark::State& state) {  // SVD + symmetric eigen-decomposition, float64
  const auto backend = state.range(0) == 0 ? ra::LinalgBackend::Torch : ra::LinalgBackend::Eigen;
  state.SetLabel(ra::to_string(backend));
  const auto J = jacobian();
  for (auto _ : state) benchmark::DoNotOptimize(ra::decompose_jacobian(J, backend));
}
BENCHMARK(BM_Decompose)->Arg(0)->Arg(1)->Iterations(3)->Unit(benchmark::kMillisecond);

void BM_SvdOnly(benchmark::State& state) {
  const auto J = jacobian().to(torch::kFloat64);
  if (state.range(0) == 0) {
    state.SetLabel("torch::linalg::svd");
    for (auto _ : state) benchmark::DoNotOptimize(torch::linalg::svd(J, true, c10::nullopt));
  } else {
    state.SetLabel("Eigen::BDCSVD");
    const Eigen::MatrixXd M = ra::to_eigen(J);
    for (auto _ : state)
      benchmark::DoNotOptimize(Eigen::BDCSVD<Eigen::MatrixXd>(M, Eigen::ComputeFullU | Eigen::ComputeFullV));
  }
}
BENCHMARK(BM_SvdOnly)->Arg(0)->Arg(1)->Iterations(3)->Unit(benchmark::kMillisecond);

void BM_EighOnly(benchmark::State& state) {
  const auto J = jacobian().to(torch::kFloat64);
  const auto S = 0.5 * (J + J.t());
  if (state.range(0) == 0) {
    state.SetLabel("torch::linalg::eigh");
    for (auto _ : state) benchmark::DoNotOptimize(torch::linalg::eigh(S, "L"));
  } else {
    state.SetLabel("Eigen::SelfAdjointEigenSolver");
    const Eigen::MatrixXd M = ra::to_eigen(S);
    for (auto _ : state) benchmark::DoNotOptimize(Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(M));
  }
}
BENCHMARK(BM_EighOnly)->Arg(0)->Arg(1)->Iterations(3)->Unit(benchmark::kMillisecond);

void BM_Measures(benchmark::State& state) {  // r_t, cos u.v, Phi^{uv}, Phi^{uw}, Phi^{vw}, features
  const auto dec = ra::decompose_jacobian(jacobian());
  for (auto _ : state) benchmark::DoNotOptimize(ra::measure(dec, 0.17, 0.1, true));
}
BENCHMARK(BM_Measures)->Iterations(3)->Unit(benchmark::kMillisecond);

void BM_AnatomyPerImage(benchmark::State& state) {  // everything `rbsm anatomy` does per image and time
  const auto field = ra::model_score_field(model(), 0.05);
  ra::AnatomyOptions o;
  o.jacobian.chunk = state.range(0);
  for (auto _ : state) benchmark::DoNotOptimize(ra::analyze_point(field, point(), o));
}
BENCHMARK(BM_AnatomyPerImage)->Arg(64)->Iterations(2)->Unit(benchmark::kSecond);
}  // namespace

int main(int argc, char** argv) {
  rbsm::keep_freed_memory();  // as the rbsm CLI does
  const char* env = std::getenv("RBSM_BENCH_THREADS");
  rbsm::nn::set_compute_threads(env ? std::atoi(env) : 2);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
