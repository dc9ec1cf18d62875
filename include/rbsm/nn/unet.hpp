#pragma once
/// A time-conditioned U-Net for noise prediction, adapted from the DDPM / score_sde design
/// (Ho et al. 2020; Song et al. 2021, models/ddpm.py) to 1 x 28 x 28 images, as in the source
/// document's Appendix A.1. See docs/diffusion.md "Architecture".
///
///   t -> sinusoidal embedding of 999 t (dim C) -> Linear(C, 4C) -> SiLU -> Linear(4C, 4C) = temb
///   x -> conv3x3(C)
///     -> per level l (resolution 28, 14, 7 for mults 1,2,2): num_res_blocks ResBlocks(C * mult_l, temb)
///        [+ self-attention where the resolution is in attn_resolutions], then a stride-2 conv3x3
///        (except at the last level)
///     -> middle: ResBlock, attention, ResBlock
///     -> per level, reversed: num_res_blocks + 1 ResBlocks on [h, skip] concatenations [+ attention],
///        then nearest upsampling x2 + conv3x3 (except at level 0)
///     -> GroupNorm, SiLU, conv3x3 -> eps_theta(x, t) with the input's shape.
/// ResBlock: GN, SiLU, conv3x3, + Linear(SiLU(temb)), GN, SiLU, dropout, conv3x3 (zero-initialised),
/// plus the input (through a 1x1 conv when channels change). GroupNorm groups: min(32, channels / 4).
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace rbsm::nn {

struct UNetOptions {
  UNetOptions() = default;
  TORCH_ARG(std::int64_t, in_channels) = 1;
  TORCH_ARG(std::int64_t, image_size) = 28;
  /// Base width C (score_sde's nf).
  TORCH_ARG(std::int64_t, channels) = 32;
  /// Width multiplier per resolution level.
  TORCH_ARG(std::vector<std::int64_t>, channel_mult) = std::vector<std::int64_t>{1, 2, 2};
  TORCH_ARG(std::int64_t, num_res_blocks) = 2;
  /// Resolutions (side lengths) with self-attention; {7} = attention at 7x7 for 28x28 inputs.
  TORCH_ARG(std::vector<std::int64_t>, attn_resolutions) = std::vector<std::int64_t>{7};
  TORCH_ARG(double, dropout) = 0.0;

 public:  // (TORCH_ARG leaves the section private)
  /// Throws InvalidArgument (naming the value) for non-positive sizes, channels not divisible by 4,
  /// or an image size that the levels cannot halve exactly.
  void validate() const;
  nlohmann::json to_json() const;
  /// Throws IoError for a malformed description (e.g. from a checkpoint).
  static UNetOptions from_json(const nlohmann::json& j);
  bool operator==(const UNetOptions& o) const { return to_json() == o.to_json(); }
};

/// The ~1.5M-parameter configuration of issue 6's benchmark: C = 32, mults 1,2,2, two ResBlocks per
/// level, attention at 7x7.
inline UNetOptions unet_reference_options() { return UNetOptions(); }

struct ResBlockImpl : torch::nn::Module {
  ResBlockImpl(std::int64_t in_ch, std::int64_t out_ch, std::int64_t temb_dim, double dropout);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& temb);
  torch::nn::GroupNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, skip{nullptr};
  torch::nn::Linear temb_proj{nullptr};
  torch::nn::Dropout drop{nullptr};
};
TORCH_MODULE(ResBlock);

/// Single-head self-attention over the h*w positions (DDPM's AttnBlock), residual, output zero-initialised.
struct AttnBlockImpl : torch::nn::Module {
  explicit AttnBlockImpl(std::int64_t ch);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::GroupNorm norm{nullptr};
  torch::nn::Conv2d qkv{nullptr}, proj{nullptr};
};
TORCH_MODULE(AttnBlock);

struct UNetImpl : torch::nn::Module {
  explicit UNetImpl(UNetOptions options = UNetOptions());
  /// eps_theta(x, t): x [n, in_channels, s, s] (model space), t [n] in [0, 1] -> [n, in_channels, s, s].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t);
  const UNetOptions& options() const { return options_; }
  std::int64_t parameter_count() const;

 private:
  UNetOptions options_;
  torch::nn::Linear temb0_{nullptr}, temb1_{nullptr};
  torch::nn::Conv2d conv_in_{nullptr}, conv_out_{nullptr};
  torch::nn::GroupNorm norm_out_{nullptr};
  // Down path: per level, num_res_blocks (ResBlock, optional AttnBlock) pairs, then a downsampling conv.
  std::vector<ResBlock> down_res_;
  std::vector<AttnBlock> down_attn_;  // nullptr entries where there is no attention
  std::vector<torch::nn::Conv2d> downsample_;
  ResBlock mid1_{nullptr}, mid2_{nullptr};
  AttnBlock mid_attn_{nullptr};
  std::vector<ResBlock> up_res_;
  std::vector<AttnBlock> up_attn_;
  std::vector<torch::nn::Conv2d> upsample_;
};
TORCH_MODULE(UNet);

/// Sinusoidal embedding of `positions` [n] into [n, dim] (DDPM's get_timestep_embedding: half sines,
/// half cosines, frequencies 10000^(-k / (dim/2 - 1))).
torch::Tensor timestep_embedding(const torch::Tensor& positions, std::int64_t dim);

}  // namespace rbsm::nn
