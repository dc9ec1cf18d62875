#pragma once
/// Reverse-time samplers for the VP-SDE (docs/diffusion.md "Samplers"), on any ScoreFn:
///   em    Euler-Maruyama on dx = [-1/2 beta x - beta s(x, t)] dt + sqrt(beta) dw_bar (the source
///         document's sampler, Appendix A.2), last step without noise;
///   pc    predictor-corrector: the same predictor plus `corrector_steps` Langevin corrector steps with
///         signal-to-noise ratio `snr` (Song et al. 2021, Algorithm 5);
///   ode   probability-flow ODE dx/dt = -1/2 beta (x + s(x, t)), Heun's method (deterministic given x_1).
/// Time grid: t_i = 1 - i (1 - eps) / steps, i = 0..steps, from x_1 ~ N(0, I) to t = eps.
/// Everything random comes from one generator seeded with `seed` (drawn on the CPU, then moved to the
/// device), so a sample depends on the seed only, never on the device or thread count.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/types.h>

#include "rbsm/nn/checkpoint.hpp"
#include "rbsm/nn/sde.hpp"

namespace rbsm::nn {

enum class SamplerKind { EulerMaruyama, PredictorCorrector, ProbabilityFlow };

/// "em" | "pc" | "ode"; throws InvalidArgument otherwise.
SamplerKind parse_sampler(const std::string& name);
std::string sampler_name(SamplerKind kind);

struct SamplerOptions {
  TORCH_ARG(SamplerKind, kind) = SamplerKind::EulerMaruyama;
  /// Number of predictor steps from t = 1 to t = eps.
  TORCH_ARG(std::int64_t, steps) = 1000;
  /// Final time (score_sde's sampling eps for the VP-SDE: 1e-3); sigma_eps = 0.0045 for the default SDE.
  TORCH_ARG(double, eps) = 1e-3;
  /// Langevin corrector (pc only).
  TORCH_ARG(double, snr) = 0.16;
  TORCH_ARG(std::int64_t, corrector_steps) = 1;
  /// Times at which x_t is kept (each snapped to the first grid time <= it; t = 1 is x_1 itself).
  TORCH_ARG(std::vector<double>, snapshot_times) = {};

 public:  // (TORCH_ARG leaves the section private)
  /// Throws InvalidArgument for steps < 1, eps outside (0, 1), snr <= 0, corrector_steps < 0, or a
  /// snapshot time outside [eps, 1].
  void validate() const;
};

/// States x_t kept along the sampling trajectories (model space, on the CPU).
struct Trajectory {
  std::vector<double> requested_times;  ///< as asked (SamplerOptions::snapshot_times)
  std::vector<double> times;            ///< the grid times actually used
  std::vector<at::Tensor> states;       ///< states[k]: x at times[k], shape [n, ...]
};

struct SampleResult {
  at::Tensor x0;          ///< final states at t = eps, model space, on the CPU, shape [n, ...]
  Trajectory trajectory;  ///< snapshots (empty if none were asked for)
};

/// Integrates from x_1 ~ N(0, I) of shape `shape` ([n, ...]) down to t = eps with `score` evaluated
/// on `device` (under NoGradGuard). `on_step(i)` is called after predictor step i (1-based) for progress.
SampleResult sample(const ScoreFn& score, const VPSDE& sde, at::IntArrayRef shape, const SamplerOptions& options,
                    std::uint64_t seed, torch::Device device, const std::function<void(std::int64_t)>& on_step = {});

/// Samples n images from a trained model: [n, 1, 28, 28] (the model's shape) in [0, 1] on the CPU.
/// Draws in batches of at most `batch` (0: all at once); batch b uses seed stream (seed, b), so the
/// result depends on (seed, batch). If `trajectory` is given it receives the snapshots of all n.
at::Tensor sample_images(const LoadedScoreModel& model, std::int64_t n, const SamplerOptions& options,
                         std::uint64_t seed, Trajectory* trajectory = nullptr, std::int64_t batch = 0,
                         const std::function<void(std::int64_t done, std::int64_t total)>& on_step = {});

/// Writes the snapshots (and the final samples in [0, 1]) atomically to one torch archive:
/// keys "times" [K] (float64), "requested_times" [K], "states" [K, n, ...] (model space), "samples".
void save_trajectory(const std::filesystem::path& path, const Trajectory& trajectory, const at::Tensor& samples01);
/// Writes images01 [n, 1, h, w] in [0, 1] as a PNG grid with `cols` columns (rbsm::io::write_image_grid).
void write_sample_grid(const std::filesystem::path& png, const at::Tensor& images01, int cols = 8, int scale = 2);

/// Reads a file written by save_trajectory; throws IoError if it is missing, truncated or not one.
Trajectory load_trajectory(const std::filesystem::path& path, at::Tensor* samples01 = nullptr);

}  // namespace rbsm::nn
