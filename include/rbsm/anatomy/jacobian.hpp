#pragma once
/// The full score Jacobian J(x) = grad_x g_sigma(x) (D x D, J_ij = d g_i / d x_j), equation (1) of
/// score-models-learn-manifold-structure, by batched reverse mode (docs/anatomy.md §2).
#include <cstdint>

#include <torch/types.h>

#include "rbsm/anatomy/score_field.hpp"

namespace rbsm::anatomy {

struct JacobianOptions {
  /// Cotangents per forward/backward pass: x is repeated `chunk` times, one pass gives `chunk` rows
  /// e_i^T J. 64-98 is the measured sweet spot for the MNIST U-Net on CPU (larger: page faults).
  std::int64_t chunk = 98;
  JacobianOptions& with_chunk(std::int64_t c) {
    chunk = c;
    return *this;
  }
};

/// J(x) at one point x ([D] or [1, D], in the dtype and on the device the field expects); returns
/// [D, D] in the field's dtype, on x's device. Rows are computed in chunks: the batch
/// x_b = (x, ..., x) goes through the field once, and backward with the one-hot cotangents
/// e_i (i in the chunk) gives the rows J_i = e_i^T J. Throws InvalidArgument for a bad shape or chunk < 1.
torch::Tensor score_jacobian(const ScoreField& field, const torch::Tensor& x, const JacobianOptions& options = {});

/// Central finite differences (g(x + h e_j) - g(x - h e_j)) / 2h, column by column, batched; for
/// verification (error O(h^2)). Evaluated in the field's dtype: use double fields for tight checks.
torch::Tensor finite_difference_jacobian(const ScoreField& field, const torch::Tensor& x, double h);

}  // namespace rbsm::anatomy
