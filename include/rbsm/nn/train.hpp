#pragma once
/// Training a noise-prediction U-Net with denoising score matching on the VP-SDE
/// (docs/diffusion.md "Training"):
///   t ~ U(t_min, 1), eps ~ N(0, I), x_t = alpha_t x_0 + sigma_t eps,
///   loss = mean |eps_theta(x_t, t) - eps|^2
/// which is the DSM loss E |s_theta + eps / sigma_t|^2 with the usual weighting lambda(t) = sigma_t^2
/// (score = -eps_theta / sigma_t). Adam with linear warm-up and gradient clipping; an exponential moving
/// average (EMA) of the weights with warm-up decay min(decay, (1 + k) / (10 + k)).
///
/// Determinism: the batch of step k (an index into per-epoch permutations, epoch e drawn from Rng(seed, 2e))
/// and its noise (a torch::Generator seeded from Rng(seed, 2k + 1)) are pure functions of (seed, k), so resuming
/// from a checkpoint at step k gives bit-identical weights to an uninterrupted run (same thread count).
///
/// Data parallel (nn/distributed.hpp, docs/distributed.md): with a World of N ranks, rank r takes rows
/// batch_shard(B, r, N) of step k's batch and noise (every rank draws the whole step's noise and keeps its
/// rows, so the union is exactly the single-process batch), backpropagates (B_r / B) x its mean loss, and
/// the gradients are summed over the ranks: the update is the single-process one up to the order of the
/// float sums. Rank 0 writes the checkpoint and metrics. Dropout masks are drawn per rank (a different,
/// still seed-determined draw when N > 1).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "rbsm/nn/distributed.hpp"
#include "rbsm/nn/sde.hpp"
#include "rbsm/nn/unet.hpp"

namespace rbsm::nn {

struct TrainOptions {
  /// Total number of optimiser steps (a resumed run continues up to this count).
  TORCH_ARG(std::int64_t, steps) = 10000;
  TORCH_ARG(std::int64_t, batch_size) = 128;
  TORCH_ARG(double, lr) = 2e-4;
  /// Linear learning-rate warm-up over this many steps (0: none).
  TORCH_ARG(std::int64_t, warmup) = 200;
  /// Gradient-norm clipping (0: none).
  TORCH_ARG(double, grad_clip) = 1.0;
  TORCH_ARG(double, ema_decay) = 0.999;
  /// Write checkpoint.pt every this many steps (and at the end, on a stop request).
  TORCH_ARG(std::int64_t, checkpoint_every) = 500;
  /// Add a metrics.csv row every this many steps.
  TORCH_ARG(std::int64_t, log_every) = 10;
  /// Smallest training time (score_sde's VP training eps: 1e-5).
  TORCH_ARG(double, t_min) = 1e-5;
  TORCH_ARG(std::uint64_t, seed) = 0;
  /// What the training data were (e.g. "mnist"), recorded in the checkpoint's config.
  TORCH_ARG(std::string, data) = "";

 public:  // (TORCH_ARG leaves the section private)
  /// Throws InvalidArgument naming the bad value: steps < 1, batch_size < 1, lr not > 0 and finite,
  /// ema_decay outside [0, 1), warmup < 0, grad_clip < 0, checkpoint_every < 1, t_min outside (0, 1).
  void validate() const;
  nlohmann::json to_json() const;
  static TrainOptions from_json(const nlohmann::json& j);
};

struct TrainHooks {
  /// Polled once per step; true -> write a checkpoint and return (Ctrl-C in the CLI).
  std::function<bool()> should_stop;
  /// Called after every step with the step count, this step's loss and the current learning rate.
  std::function<void(std::int64_t step, double loss, double lr)> on_step;
  /// Called after each checkpoint is written.
  std::function<void(std::int64_t step, const std::filesystem::path&)> on_checkpoint;
};

struct TrainResult {
  std::int64_t start_step = 0;  ///< 0, or the checkpoint's step when resumed
  std::int64_t step = 0;        ///< steps done when training returned
  bool stopped = false;         ///< true if should_stop ended it early
  double last_loss = 0.0;
  double seconds = 0.0;
  std::filesystem::path checkpoint;
  double all_reduce_seconds = 0.0;  ///< time in gradient all-reduces (0 for one process)
  double wait_seconds = 0.0;        ///< time waiting for the slowest rank before them (profiling only)
};

/// Trains a score model on `images01` ([n, c, h, w] in [0, 1], CPU) into the run folder `out`
/// (checkpoint.pt, metrics.csv). If `resume` is true, out/checkpoint.pt must exist: its architecture,
/// SDE and options (except steps and checkpoint_every, taken from `options`) and weights are used and
/// training continues from its step. Throws InvalidArgument for bad options or data, IoError for an
/// unreadable checkpoint, NumericalError for a NaN/Inf loss (the last good checkpoint is left as it was),
/// DistributedError when another rank of `world` died or hung (the checkpoint is left as it was). With
/// N > 1 ranks, a stop request on any rank stops all of them at the same step; only rank 0 writes.
TrainResult train_score_model(const torch::Tensor& images01, const UNetOptions& unet, const VPSDE& sde,
                              const TrainOptions& options, const std::filesystem::path& out, torch::Device device,
                              bool resume = false, const TrainHooks& hooks = {}, World world = World());

/// Per-step learning rate: lr * min(1, (k + 1) / warmup).
double learning_rate_at(const TrainOptions& options, std::int64_t step);
/// EMA decay used after step k (0-based): min(decay, (1 + k) / (10 + k)).
double ema_decay_at(const TrainOptions& options, std::int64_t step);

/// The indices into a data set of size n of step k's batch: positions k*B .. k*B+B-1 of the
/// concatenation of per-epoch permutations, permutation e drawn from Rng(seed, 2e) (even streams). Pure in (seed, k).
std::vector<std::int64_t> batch_indices(std::uint64_t seed, std::int64_t step, std::int64_t batch_size, std::int64_t n);

}  // namespace rbsm::nn
