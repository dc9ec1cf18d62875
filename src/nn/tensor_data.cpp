#include "rbsm/nn/tensor_data.hpp"

#include <torch/torch.h>

namespace rbsm::nn {

torch::Tensor images_to_tensor(const data::ImageSet& set) {
  const auto n = static_cast<std::int64_t>(set.size());
  if (n == 0) return torch::zeros({0, 1, set.height, set.width});
  return torch::from_blob(const_cast<float*>(set.pixels.data()), {n, 1, set.height, set.width}, torch::kFloat32)
      .clone();
}

torch::Tensor labels_to_tensor(const data::ImageSet& set) {
  auto y = torch::empty({static_cast<std::int64_t>(set.size())}, torch::kInt64);
  auto a = y.accessor<std::int64_t, 1>();
  for (int i = 0; i < set.size(); ++i) a[i] = set.labels[i];
  return y;
}

}  // namespace rbsm::nn
