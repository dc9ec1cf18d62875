#pragma once
/// Score-model checkpoints (docs/diffusion.md "Checkpoints and resume").
///
/// A run folder written by `rbsm train` holds `checkpoint.pt`: one torch::serialize archive with
///   format      "rbsm-score-model-v1"  (anything else is "not an rbsm score-model checkpoint")
///   config      JSON text: {"unet": architecture, "sde": {beta_min, beta_max}, "train": options, "seed", "step"}
///   model/...   the trained weights;  ema/...  their exponential moving average (used for sampling)
///   optimizer   Adam's state (moments and step counts)
///   step, seed  the RNG state: data order and noise are pure functions of (seed, step)
/// written atomically (rbsm::io::atomic_write_with), so a crash never leaves a half-written checkpoint.
///
/// This header is light (no <torch/torch.h>): the evaluation, anatomy and sampling code include it.
#include <cstdint>
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "rbsm/nn/sde.hpp"

namespace rbsm::nn {

struct UNetImpl;

inline constexpr const char* kScoreModelFormat = "rbsm-score-model-v1";

/// A trained score model ready for inference: the U-Net (eval mode, parameters frozen:
/// requires_grad = false, so autograd through `score` differentiates with respect to x only).
struct LoadedScoreModel {
  std::shared_ptr<UNetImpl> net;
  VPSDE sde;
  torch::Device device{torch::kCPU};
  nlohmann::json config;  ///< the checkpoint's config (architecture, SDE, training options, seed, step)
  std::int64_t step = 0;  ///< training steps behind these weights
  bool ema = true;        ///< whether `net` holds the EMA weights
  std::int64_t channels = 1, height = 28, width = 28;  ///< image shape the model takes

  /// Noise prediction eps_theta(x, t): x in model space [n, c, h, w] on `device`, t of shape [n].
  at::Tensor eps(const at::Tensor& x, const at::Tensor& t) const;
  /// Score s_theta(x, t) = -eps_theta(x, t) / sigma_t (docs/diffusion.md eq. S). Differentiable in x
  /// (call it without a NoGradGuard to take Jacobians: the anatomy commands do).
  at::Tensor score(const at::Tensor& x, const at::Tensor& t) const;
  /// Same at one time t for the whole batch.
  at::Tensor score(const at::Tensor& x, double t) const;
  /// The score as a ScoreFn (for the samplers).
  ScoreFn score_fn() const;
  std::int64_t parameter_count() const;
};

/// `run_or_file` is a run folder (its checkpoint.pt is used) or a checkpoint file.
/// Throws IoError if it does not exist.
std::filesystem::path resolve_checkpoint(const std::filesystem::path& run_or_file);

/// Loads a score model onto `device` (the EMA weights unless use_ema is false). Throws IoError with a
/// one-line message for a missing, truncated or corrupt file, a file that is not an rbsm score-model
/// checkpoint, or weights that do not fit the architecture recorded in it.
LoadedScoreModel load_score_model(const std::filesystem::path& run_or_file, torch::Device device, bool use_ema = true);

/// Reads only the config JSON of a checkpoint (same errors as load_score_model).
nlohmann::json read_checkpoint_config(const std::filesystem::path& run_or_file);

}  // namespace rbsm::nn
