#pragma once
/// Device selection for LibTorch code: devices are passed in, never assumed.
#include <string>

#include <torch/types.h>

namespace rbsm::nn {

/// Parses "cpu", "cuda", "cuda:N" or "auto" (CUDA when available, else CPU); throws InvalidArgument
/// for anything else, or for CUDA when no GPU is present.
torch::Device parse_device(const std::string& text);

}  // namespace rbsm::nn
