#pragma once
/// A score field at one fixed noise level: the object every anatomy analysis takes
/// (docs/anatomy.md §1). The same code runs on analytic fields with known answers
/// (analytic_fields.hpp) and on a trained score model g_{sigma_t}(x) at a fixed time t.
#include <cstdint>
#include <functional>
#include <string>

#include <torch/types.h>

namespace rbsm::anatomy {

/// x [B, D] -> g_sigma(x) [B, D], differentiable with respect to x (LibTorch autograd). The batch
/// items must be independent (no batch norm in training mode): the Jacobian routine relies on it.
using FieldFn = std::function<torch::Tensor(const torch::Tensor& x)>;

struct ScoreField {
  FieldFn score;
  std::int64_t dim = 0;     ///< D
  double sigma = 0;         ///< noise standard deviation sigma_t at this time (noise floor sigma_t^2)
  std::string description;  ///< e.g. "gaussian-subspace:D=784,d=20,sigma=0.1" or "checkpoint RUN at t=0.05"
  /// Evaluates the field at a batch, checking the shape of what comes back; throws InvalidArgument
  /// if x is not [B, D] or the field returns anything but [B, D].
  torch::Tensor operator()(const torch::Tensor& x) const;
};

}  // namespace rbsm::anatomy
