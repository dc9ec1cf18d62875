#include "rbsm/nn/sde.hpp"

#include <cmath>
#include <string>

#include <ATen/ATen.h>

#include "rbsm/error.hpp"

namespace rbsm::nn {

double VPSDE::alpha(double t) const { return std::exp(-0.5 * integrated_beta(t)); }

double VPSDE::sigma(double t) const { return std::sqrt(-std::expm1(-integrated_beta(t))); }

at::Tensor VPSDE::beta(const at::Tensor& t) const { return beta_min + (beta_max - beta_min) * t; }

at::Tensor VPSDE::alpha(const at::Tensor& t) const {
  return at::exp(-0.5 * (beta_min * t + 0.5 * (beta_max - beta_min) * t * t));
}

at::Tensor VPSDE::sigma(const at::Tensor& t) const {
  return at::sqrt(-at::expm1(-(beta_min * t + 0.5 * (beta_max - beta_min) * t * t)));
}

at::Tensor VPSDE::perturb(const at::Tensor& x0, const at::Tensor& t, const at::Tensor& eps) const {
  return broadcast_to_batch(alpha(t), x0) * x0 + broadcast_to_batch(sigma(t), x0) * eps;
}

void VPSDE::validate() const {
  if (!(std::isfinite(beta_min) && std::isfinite(beta_max) && beta_min > 0 && beta_max >= beta_min))
    throw InvalidArgument("VP-SDE: beta_min = " + std::to_string(beta_min) +
                          ", beta_max = " + std::to_string(beta_max) + " (expected 0 < beta_min <= beta_max, finite)");
}

at::Tensor broadcast_to_batch(const at::Tensor& per_sample, const at::Tensor& x) {
  if (per_sample.dim() == 0) return per_sample;
  std::vector<int64_t> shape(static_cast<std::size_t>(x.dim()), 1);
  shape[0] = per_sample.size(0);
  return per_sample.reshape(shape);
}

at::Tensor to_model_space(const at::Tensor& images01) { return images01 * 2.0 - 1.0; }

at::Tensor to_image_space(const at::Tensor& x) { return ((x + 1.0) * 0.5).clamp(0.0, 1.0); }

}  // namespace rbsm::nn
