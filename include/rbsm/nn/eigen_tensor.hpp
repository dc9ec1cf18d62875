#pragma once
/// Copies between Eigen matrices (the linear algebra of rbsm_core) and LibTorch tensors: the one conversion every
/// torch-side module uses.
#include <Eigen/Dense>
#include <torch/types.h>

namespace rbsm::nn {

/// The rows of `M` as a float64 tensor [rows, cols] on the CPU (a copy).
torch::Tensor to_tensor(const Eigen::MatrixXd& M);

/// A 2-D tensor (any floating dtype, any device, with or without grad) as a float64 matrix (a copy);
/// InvalidArgument naming the shape unless it is 2-D.
Eigen::MatrixXd to_eigen(const torch::Tensor& t);

}  // namespace rbsm::nn
