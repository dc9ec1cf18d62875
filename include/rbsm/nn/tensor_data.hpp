#pragma once
/// Conversion of rbsm::data::ImageSet (plain vectors, rbsm_core) to LibTorch tensors.
#include <torch/types.h>

#include "rbsm/data/images.hpp"

namespace rbsm::nn {

/// The images as a float32 tensor [n, 1, height, width] with values in [0, 1], on the CPU (a copy).
torch::Tensor images_to_tensor(const data::ImageSet& set);

/// The labels as an int64 tensor [n], on the CPU.
torch::Tensor labels_to_tensor(const data::ImageSet& set);

}  // namespace rbsm::nn
