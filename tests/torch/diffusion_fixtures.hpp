#pragma once
// Shared fixtures of the diffusion tests (unet_test, diffusion_train_test, diffusion_sampler_test):
// tiny U-Nets and synthetic image sets, so every test runs in seconds on 2 cores.
#include <filesystem>
#include <string>

#include <torch/torch.h>

#include "rbsm/nn/train.hpp"
#include "rbsm/nn/unet.hpp"

namespace rbsm::nn::testing {

/// ~42k parameters: C = 8, levels 1,2, one ResBlock per level, no attention.
inline UNetOptions tiny_unet() {
  return UNetOptions().channels(8).channel_mult({1, 2}).num_res_blocks(1).attn_resolutions({});
}

/// n synthetic 28x28 "digits": a bright bar at a random row or column on a dark background, in [0, 1].
inline torch::Tensor bar_images(std::int64_t n, std::uint64_t seed = 1) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto img = torch::zeros({n, 1, 28, 28});
  auto pos = at::randint(4, 24, {n}, gen, torch::kInt64);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto p = pos[i].item<std::int64_t>();
    if (i % 2 == 0)
      img.index_put_({i, 0, torch::indexing::Slice(p - 2, p + 2), torch::indexing::Slice()}, 1.0);
    else
      img.index_put_({i, 0, torch::indexing::Slice(), torch::indexing::Slice(p - 2, p + 2)}, 1.0);
  }
  return img;
}

inline TrainOptions fast_train(std::int64_t steps) {
  return TrainOptions()
      .steps(steps)
      .batch_size(8)
      .lr(2e-3)
      .warmup(0)
      .ema_decay(0.9)
      .checkpoint_every(1000)
      .log_every(1)
      .seed(7);
}

/// A fresh empty directory under the system temp folder.
inline std::filesystem::path fresh_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("rbsm_diffusion_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

}  // namespace rbsm::nn::testing
