#pragma once
// Private to src/fit: the network's scaled score sigma * s(y, sigma).
#include <torch/torch.h>

#include "rbsm/fit/noise_net.hpp"
#include "rbsm/geometry/manifold.hpp"
#include "rbsm/nn/eigen_tensor.hpp"

namespace rbsm::fit::detail {

using nn::to_tensor;  // n x D float64 tensor (a copy) of an Eigen matrix
/// n x D tangent projectors P_T(y_i) as an n x D x D tensor.
torch::Tensor projectors(const geometry::Manifold& manifold, const geometry::Mat& Y);
/// sigma * s(y, sigma) = P_T(y) grad_y out (energy) or P_T(y) out (vector), out the network's raw output
/// times sigma; `create_graph` keeps the graph for a loss (energy models).
torch::Tensor scaled_score(NoiseNet& net, const torch::Tensor& y, const torch::Tensor& sigma, const torch::Tensor& P,
                           bool create_graph);

}  // namespace rbsm::fit::detail
