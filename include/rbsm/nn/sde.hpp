#pragma once
/// The variance-preserving SDE of Song et al. (score_sde), as used by the source document (Appendix A.2
/// of score-models-learn-manifold-structure.txt), with beta(t) = beta_min + (beta_max - beta_min) t,
/// beta_min = 0.1, beta_max = 20 (so beta(t) = 0.1 + 19.9 t). See docs/diffusion.md "The VP-SDE".
///
///   forward:  dx = -1/2 beta(t) x dt + sqrt(beta(t)) dw,                     t in [0, 1]
///   marginal: x_t | x_0 ~ N(alpha_t x_0, sigma_t^2 I),
///             log alpha_t = -1/2 B(t),  B(t) = int_0^t beta = beta_min t + 1/2 (beta_max - beta_min) t^2,
///             sigma_t^2 = 1 - alpha_t^2.
///   score of the marginal given x_0: -(x_t - alpha_t x_0) / sigma_t^2 = -eps / sigma_t.
///
/// Data live in "model space": images scaled from [0, 1] to [-1, 1] (x = 2 u - 1), as in score_sde.
/// This header is light (ATen types only): include it wherever a score function is passed around.
#include <functional>

#include <ATen/core/Tensor.h>

namespace rbsm::nn {

/// A score function s(x, t) ~ grad_x log p_t(x): x of shape [n, ...], t of shape [n] (times in [0, 1]).
/// Returns a tensor shaped like x. The model's score (LoadedScoreModel::score) and analytic scores
/// (tests: Gaussian data) share this type, so every sampler runs on both.
using ScoreFn = std::function<at::Tensor(const at::Tensor& x, const at::Tensor& t)>;

struct VPSDE {
  double beta_min = 0.1;
  double beta_max = 20.0;

  /// beta(t) = beta_min + (beta_max - beta_min) t.
  double beta(double t) const { return beta_min + (beta_max - beta_min) * t; }
  /// B(t) = int_0^t beta(s) ds.
  double integrated_beta(double t) const { return beta_min * t + 0.5 * (beta_max - beta_min) * t * t; }
  /// alpha_t = exp(-B(t)/2): the mean coefficient, E[x_t | x_0] = alpha_t x_0.
  double alpha(double t) const;
  /// sigma_t = sqrt(1 - alpha_t^2) (computed with expm1, accurate for small t).
  double sigma(double t) const;

  /// Tensor versions (elementwise, same dtype/device as t).
  at::Tensor beta(const at::Tensor& t) const;
  at::Tensor alpha(const at::Tensor& t) const;
  at::Tensor sigma(const at::Tensor& t) const;

  /// x_t = alpha_t x_0 + sigma_t eps.
  at::Tensor perturb(const at::Tensor& x0, const at::Tensor& t, const at::Tensor& eps) const;

  /// Throws InvalidArgument unless 0 < beta_min <= beta_max and both are finite.
  void validate() const;
};

/// Reshapes a per-sample [n] tensor so it broadcasts against x of shape [n, ...].
at::Tensor broadcast_to_batch(const at::Tensor& per_sample, const at::Tensor& x);

/// Images in [0, 1] -> model space [-1, 1] and back (the back map clamps to [0, 1]).
at::Tensor to_model_space(const at::Tensor& images01);
at::Tensor to_image_space(const at::Tensor& x);

}  // namespace rbsm::nn
