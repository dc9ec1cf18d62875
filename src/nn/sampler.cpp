#include "rbsm/nn/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/serialize.h>

#include "checkpoint_io.hpp"

#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/io/image.hpp"
#include "rbsm/random.hpp"

namespace rbsm::nn {
namespace fs = std::filesystem;

SamplerKind parse_sampler(const std::string& name) {
  if (name == "em") return SamplerKind::EulerMaruyama;
  if (name == "pc") return SamplerKind::PredictorCorrector;
  if (name == "ode") return SamplerKind::ProbabilityFlow;
  throw InvalidArgument("--sampler: unknown sampler '" + name + "' (expected em, pc or ode)");
}

std::string sampler_name(SamplerKind kind) {
  switch (kind) {
    case SamplerKind::EulerMaruyama:
      return "em";
    case SamplerKind::PredictorCorrector:
      return "pc";
    case SamplerKind::ProbabilityFlow:
      return "ode";
  }
  return "?";
}

void SamplerOptions::validate() const {
  if (steps() < 1) throw InvalidArgument("sampler: steps = " + std::to_string(steps()) + " (expected >= 1)");
  if (!(eps() > 0 && eps() < 1))
    throw InvalidArgument("sampler: eps = " + std::to_string(eps()) + " (expected (0, 1))");
  if (!(snr() > 0 && std::isfinite(snr())))
    throw InvalidArgument("sampler: snr = " + std::to_string(snr()) + " (expected > 0)");
  if (corrector_steps() < 0)
    throw InvalidArgument("sampler: corrector_steps = " + std::to_string(corrector_steps()) + " (expected >= 0)");
  for (double t : snapshot_times())
    if (!(t >= eps() && t <= 1.0))
      throw InvalidArgument("--save-trajectory: time " + std::to_string(t) + " outside [eps, 1] = [" +
                            std::to_string(eps()) + ", 1]");
}

SampleResult sample(const ScoreFn& score, const VPSDE& sde, at::IntArrayRef shape, const SamplerOptions& options,
                    std::uint64_t seed, torch::Device device, const std::function<void(std::int64_t)>& on_step) {
  options.validate();
  sde.validate();
  if (shape.empty() || shape[0] < 1) throw InvalidArgument("sampler: empty batch shape " + c10::str(shape));
  torch::NoGradGuard no_grad;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  auto noise = [&] { return at::randn(shape, gen, f32).to(device); };
  const std::int64_t N = options.steps(), n = shape[0];
  const double dt = (1.0 - options.eps()) / static_cast<double>(N);
  auto grid_time = [&](std::int64_t i) { return i == N ? options.eps() : 1.0 - static_cast<double>(i) * dt; };

  // Snapshot k is taken at the grid time nearest to the requested one (t_i = 1 - i dt, and t_N = eps);
  // the grid time actually used is reported in trajectory.times.
  const auto& want = options.snapshot_times();
  std::vector<std::int64_t> snap_index(want.size());
  for (std::size_t k = 0; k < want.size(); ++k) {
    std::int64_t i = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::llround((1.0 - want[k]) / dt)), 0, N);
    for (std::int64_t j : {i - 1, i + 1})
      if (j >= 0 && j <= N && std::abs(grid_time(j) - want[k]) < std::abs(grid_time(i) - want[k])) i = j;
    snap_index[k] = i;
  }
  SampleResult result;
  result.trajectory.requested_times = want;
  result.trajectory.times.resize(want.size());
  result.trajectory.states.resize(want.size());
  auto keep = [&](std::int64_t i, const at::Tensor& x) {
    for (std::size_t k = 0; k < want.size(); ++k)
      if (snap_index[k] == i) {
        result.trajectory.times[k] = grid_time(i);
        result.trajectory.states[k] = x.to(torch::kCPU).clone();
      }
  };
  auto score_at = [&](const at::Tensor& x, double t) { return score(x, torch::full({n}, t, x.options())); };

  at::Tensor x = noise();
  keep(0, x);
  for (std::int64_t i = 0; i < N; ++i) {
    const double t = grid_time(i), beta = sde.beta(t);
    const bool last = i + 1 == N;
    switch (options.kind()) {
      case SamplerKind::PredictorCorrector:
        // Langevin corrector (Song et al. 2021, Algorithm 5; score_sde's LangevinCorrector): one step
        // size for the batch from the batch-mean norms. (Per-sample sizes would make the step depend on
        // the state and bias the stationary law, visibly so in low dimension.)
        for (std::int64_t j = 0; j < options.corrector_steps(); ++j) {
          const auto grad = score_at(x, t);
          const auto z = noise();
          const double gnorm = grad.reshape({n, -1}).norm(2, 1).mean().item<double>();
          const double znorm = z.reshape({n, -1}).norm(2, 1).mean().item<double>();
          const double alpha = std::max(1.0 - beta * dt, 1e-6);
          const double step = std::pow(options.snr() * znorm / std::max(gnorm, 1e-12), 2) * 2.0 * alpha;
          x = x + step * grad + std::sqrt(2.0 * step) * z;
        }
        [[fallthrough]];
      case SamplerKind::EulerMaruyama: {
        // Reverse SDE dx = [-1/2 beta x - beta s] dt + sqrt(beta) dw_bar, stepping t -> t - dt.
        const auto mean = x + (0.5 * beta * dt) * x + (beta * dt) * score_at(x, t);
        x = last ? mean : mean + std::sqrt(beta * dt) * noise();
        break;
      }
      case SamplerKind::ProbabilityFlow: {
        // Heun's method on dx/dt = -1/2 beta(t) (x + s(x, t)).
        const double t2 = grid_time(i + 1);
        const auto f1 = -0.5 * beta * (x + score_at(x, t));
        const auto x_euler = x - dt * f1;
        const auto f2 = -0.5 * sde.beta(t2) * (x_euler + score_at(x_euler, t2));
        x = x - (0.5 * dt) * (f1 + f2);
        break;
      }
    }
    if (!torch::isfinite(x).all().item<bool>())
      throw NumericalError("sampler: non-finite state at t = " + std::to_string(grid_time(i + 1)) + " (step " +
                           std::to_string(i + 1) + " of " + std::to_string(N) + ")");
    keep(i + 1, x);
    if (on_step) on_step(i + 1);
  }
  result.x0 = x.to(torch::kCPU);
  return result;
}

at::Tensor sample_images(const LoadedScoreModel& model, std::int64_t n, const SamplerOptions& options,
                         std::uint64_t seed, Trajectory* trajectory, std::int64_t batch,
                         const std::function<void(std::int64_t, std::int64_t)>& on_step) {
  if (n < 1) throw InvalidArgument("--n = " + std::to_string(n) + " (expected >= 1)");
  if (batch < 0) throw InvalidArgument("sampling batch = " + std::to_string(batch) + " (expected >= 0)");
  options.validate();
  const std::int64_t B = batch == 0 ? n : std::min(batch, n);
  const std::int64_t batches = (n + B - 1) / B, total = batches * options.steps();
  std::vector<at::Tensor> parts;
  std::vector<std::vector<at::Tensor>> snaps(options.snapshot_times().size());
  Trajectory traj;
  const auto score = model.score_fn();
  for (std::int64_t b = 0; b < batches; ++b) {
    const std::int64_t nb = std::min(B, n - b * B);
    Rng stream(seed, static_cast<std::uint64_t>(b));
    auto r = sample(score, model.sde, {nb, model.channels, model.height, model.width}, options, stream(), model.device,
                    [&](std::int64_t i) {
                      if (on_step) on_step(b * options.steps() + i, total);
                    });
    parts.push_back(r.x0);
    for (std::size_t k = 0; k < snaps.size(); ++k) snaps[k].push_back(r.trajectory.states[k]);
    traj.requested_times = r.trajectory.requested_times;
    traj.times = r.trajectory.times;
  }
  if (trajectory) {
    for (auto& s : snaps) traj.states.push_back(torch::cat(s, 0));
    *trajectory = std::move(traj);
  }
  return to_image_space(torch::cat(parts, 0));
}

// ------------------------------------------------------------------ trajectory files
namespace {
constexpr const char* kTrajectoryFormat = "rbsm-trajectory-v1";
at::Tensor vec(const std::vector<double>& v) {
  return torch::tensor(v.empty() ? std::vector<double>{} : v, torch::kFloat64)
      .reshape({static_cast<int64_t>(v.size())});
}
std::vector<double> unvec(const at::Tensor& t) {
  auto c = t.to(torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}
}  // namespace

void save_trajectory(const fs::path& path, const Trajectory& trajectory, const at::Tensor& samples01) {
  torch::serialize::OutputArchive ar;
  ar.write("format", c10::IValue(std::string(kTrajectoryFormat)));
  ar.write("times", vec(trajectory.times));
  ar.write("requested_times", vec(trajectory.requested_times));
  ar.write("states", trajectory.states.empty() ? torch::zeros({0}) : torch::stack(trajectory.states, 0));
  ar.write("samples", samples01.to(torch::kCPU));
  io::atomic_write_with(path, [&](const fs::path& tmp) { ar.save_to(tmp.string()); });
}

void write_sample_grid(const fs::path& png, const at::Tensor& images01, int cols, int scale) {
  if (images01.dim() != 4 || images01.size(0) < 1)
    throw InvalidArgument("sample grid: images of shape " + c10::str(images01.sizes()) + ", expected [n, 1, h, w]");
  const auto c = images01.to(torch::kCPU, torch::kFloat32).contiguous();
  const int n = static_cast<int>(c.size(0)), h = static_cast<int>(c.size(2)), w = static_cast<int>(c.size(3));
  std::vector<Eigen::VectorXf> images;
  for (int i = 0; i < n; ++i)
    images.push_back(
        Eigen::Map<const Eigen::VectorXf>(c.data_ptr<float>() + static_cast<std::ptrdiff_t>(i) * h * w, h * w));
  io::write_image_grid(png, images, h, w, cols, 0.0f, 1.0f, scale);
}

Trajectory load_trajectory(const fs::path& path, at::Tensor* samples01) {
  if (!fs::is_regular_file(path)) throw IoError("trajectory file " + path.string() + " does not exist");
  Trajectory t;
  try {
    torch::serialize::InputArchive ar;
    detail::load_verified(ar, path, "trajectory file");
    c10::IValue format;
    if (!ar.try_read("format", format) || !format.isString() || format.toStringRef() != kTrajectoryFormat)
      throw IoError("file " + path.string() + " is not an rbsm trajectory (expected format " + kTrajectoryFormat + ")");
    at::Tensor times, requested, states;
    ar.read("times", times);
    ar.read("requested_times", requested);
    ar.read("states", states);
    t.times = unvec(times);
    t.requested_times = unvec(requested);
    if (!t.times.empty()) {
      if (states.dim() < 2 || states.size(0) != static_cast<int64_t>(t.times.size()))
        throw IoError("trajectory file " + path.string() + " is corrupt (states do not match times)");
      for (auto& s : states.unbind(0)) t.states.push_back(s.clone());
    }
    if (samples01) ar.read("samples", *samples01);
  } catch (const c10::Error& e) {
    const std::string m = e.what_without_backtrace();
    throw IoError("trajectory file " + path.string() + " is truncated or corrupt (" + m.substr(0, m.find('\n')) + ")");
  }
  return t;
}

}  // namespace rbsm::nn
