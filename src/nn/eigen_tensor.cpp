// Eigen <-> tensor copies (include/rbsm/nn/eigen_tensor.hpp).
#include "rbsm/nn/eigen_tensor.hpp"

#include <torch/torch.h>

#include "rbsm/error.hpp"

namespace rbsm::nn {

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

torch::Tensor to_tensor(const Eigen::MatrixXd& M) {
  RowMajor R = M;  // the tensor's memory order
  return torch::from_blob(R.data(), {R.rows(), R.cols()}, torch::kFloat64).clone();
}

Eigen::MatrixXd to_eigen(const torch::Tensor& t) {
  if (t.dim() != 2) throw InvalidArgument("to_eigen: tensor of shape " + c10::str(t.sizes()) + ", expected 2-D");
  const torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  return Eigen::Map<const RowMajor>(c.data_ptr<double>(), c.size(0), c.size(1));
}

}  // namespace rbsm::nn
