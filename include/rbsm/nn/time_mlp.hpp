#pragma once
/// A small time-conditioned MLP noise predictor trained by denoising score matching (the network of the
/// local-intrinsic-dimension benchmark, anatomy/lid_bench.hpp; docs/anatomy.md "Local intrinsic dimension
/// benchmark").
///
/// Model: F(x, t) = MLP([x, phi(t)]) with phi(t) = (log sigma_t / 2, sigma_t, sin(k pi t),
/// cos(k pi t), k = 1..6) and SiLU hidden layers, read as a denoiser (default: eps_theta = (x - alpha_t F) /
/// sigma_t) or as the noise (eps_theta = F); score s(x, t) = -eps_theta(x, t) / sigma_t (float32).
/// Measured: with the eps reading, 2000-8000 steps leave the score's slope across a curved manifold far
/// below 1/sigma_t^2 at t = 0.01 (every estimator then sees the sphere's enclosing R^{d+1}); the
/// denoiser reading gets it right for spheres within 8000 steps.
/// Training (the VP-SDE of nn/sde.hpp, beta(t) = 0.1 + 19.9 t): loss = mean |eps_theta(x_t, t) - eps|^2,
/// x_t = alpha_t x_0 + sigma_t eps; t drawn a quarter from U(t_min, 1) and three quarters log-uniformly on
/// [t_min, 0.1] (LID is read at small t); Adam, cosine learning-rate decay, gradient clipping at 1, EMA.
/// The learning rate and the EMA decay follow nn/schedule.hpp: lr_k = lr c(k / steps) (cosine factor, floor 0)
/// and decay_k = min(decay, (1 + k) / (10 + k)).
#include <cstdint>
#include <functional>
#include <string>

#include <Eigen/Dense>
#include <torch/torch.h>

#include "rbsm/nn/eigen_tensor.hpp"
#include "rbsm/nn/sde.hpp"

namespace rbsm::nn {

/// Number of time features phi(t).
inline constexpr std::int64_t kTimeFeatures = 14;

/// What the network's output F(x, t) is: the noise (eps_theta = F) or the clean point (a denoiser,
/// eps_theta = (x - alpha_t F) / sigma_t; the 1/sigma_t slope across the manifold is then built in).
enum class TimeMLPParam { Eps, Denoiser };
TimeMLPParam parse_time_mlp_param(const std::string& text);  ///< "eps" | "x0"
std::string to_string(TimeMLPParam param);

struct TimeMLPImpl : torch::nn::Module {
  TimeMLPImpl(std::int64_t dim, std::int64_t hidden, std::int64_t layers, const VPSDE& sde = {},
              TimeMLPParam param = TimeMLPParam::Eps);
  /// eps_theta(x, t): x [n, D], t [n] -> [n, D].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t);
  /// phi(t): [n] -> [n, kTimeFeatures].
  torch::Tensor time_features(const torch::Tensor& t) const;
  std::int64_t dim;
  VPSDE sde;
  TimeMLPParam param;
  torch::nn::ModuleList linears;
};
TORCH_MODULE(TimeMLP);

struct TimeMLPTrainOptions {
  std::int64_t steps = 8000;
  std::int64_t batch = 256;
  std::int64_t hidden = 256;
  std::int64_t layers = 3;
  double lr = 2e-3;
  double t_min = 1e-3;
  double ema_decay = 0.995;
  TimeMLPParam param = TimeMLPParam::Denoiser;
  std::uint64_t seed = 0;
  /// Throws InvalidArgument naming a non-positive size, steps < 1, lr not > 0 or t_min outside (0, 1).
  void validate() const;
};

struct TrainedTimeMLP {
  TimeMLP model{nullptr};  ///< the EMA weights, in eval mode
  double final_loss = 0;   ///< mean loss over the last 10% of steps
  double seconds = 0;
};

/// Trains on the rows of `data` (n x D); batches (indices from Rng(seed, step)) and noise (a torch
/// generator seeded from (seed, step)) are pure functions of (seed, step). `on_step(done, loss)` is
/// called after every step. Throws NumericalError if the loss diverges.
TrainedTimeMLP train_time_mlp(const Eigen::MatrixXd& data, const TimeMLPTrainOptions& options,
                              const std::function<void(std::int64_t, double)>& on_step = {});

}  // namespace rbsm::nn
