#include "rbsm/nn/unet.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "rbsm/error.hpp"
#include "rbsm/io/json_read.hpp"

namespace rbsm::nn {
namespace F = torch::nn::functional;

namespace {

torch::nn::GroupNorm group_norm(std::int64_t ch) {
  return torch::nn::GroupNorm(torch::nn::GroupNormOptions(std::min<std::int64_t>(32, ch / 4), ch).eps(1e-6));
}

/// DDPM's default_init: variance scaling (fan_avg, uniform) = Xavier uniform, zero bias; `zero` for
/// the output layers that start at zero (init_scale = 0 in score_sde).
template <class Layer>
Layer init_layer(Layer layer, bool zero = false) {
  torch::NoGradGuard no_grad;
  if (zero)
    layer->weight.zero_();
  else
    torch::nn::init::xavier_uniform_(layer->weight);
  if (layer->bias.defined()) layer->bias.zero_();
  return layer;
}

torch::nn::Conv2d conv(std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride = 1, bool zero = false) {
  return init_layer(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(k / 2)), zero);
}

torch::nn::Linear linear(std::int64_t in, std::int64_t out) { return init_layer(torch::nn::Linear(in, out)); }

std::string list(const std::vector<std::int64_t>& v) {
  std::string s;
  for (auto x : v) s += (s.empty() ? "" : ",") + std::to_string(x);
  return s;
}

}  // namespace

// ------------------------------------------------------------------ options
void UNetOptions::validate() const {
  auto bad = [](const std::string& what) { throw InvalidArgument("U-Net: " + what); };
  if (in_channels() < 1) bad("in_channels = " + std::to_string(in_channels()) + " (expected >= 1)");
  if (channels() < 4 || channels() % 4 != 0)
    bad("channels = " + std::to_string(channels()) + " (expected a positive multiple of 4)");
  if (channel_mult().empty()) bad("empty channel multiplier list (expected e.g. 1,2,2)");
  for (auto m : channel_mult())
    if (m < 1) bad("channel multiplier " + std::to_string(m) + " in " + list(channel_mult()) + " (expected >= 1)");
  if (num_res_blocks() < 1) bad("num_res_blocks = " + std::to_string(num_res_blocks()) + " (expected >= 1)");
  if (!(dropout() >= 0 && dropout() < 1)) bad("dropout = " + std::to_string(dropout()) + " (expected [0, 1))");
  const std::int64_t halvings = static_cast<std::int64_t>(channel_mult().size()) - 1;
  if (image_size() < 1 || halvings >= 62 || image_size() % (std::int64_t{1} << halvings) != 0)
    bad("image size " + std::to_string(image_size()) + " cannot be halved " + std::to_string(halvings) +
        " times exactly (levels " + list(channel_mult()) + ")");
}

nlohmann::json UNetOptions::to_json() const {
  return {{"in_channels", in_channels()},
          {"image_size", image_size()},
          {"channels", channels()},
          {"channel_mult", channel_mult()},
          {"num_res_blocks", num_res_blocks()},
          {"attn_resolutions", attn_resolutions()},
          {"dropout", dropout()}};
}

UNetOptions UNetOptions::from_json(const nlohmann::json& j) {
  try {
    UNetOptions o;
    o.in_channels(io::json_get<std::int64_t>(j, "in_channels"))
        .image_size(io::json_get<std::int64_t>(j, "image_size"))
        .channels(io::json_get<std::int64_t>(j, "channels"))
        .channel_mult(io::json_get<std::vector<std::int64_t>>(j, "channel_mult"))
        .num_res_blocks(io::json_get<std::int64_t>(j, "num_res_blocks"))
        .attn_resolutions(io::json_get<std::vector<std::int64_t>>(j, "attn_resolutions"))
        .dropout(io::json_get<double>(j, "dropout"));
    o.validate();
    return o;
  } catch (const std::exception& e) {  // the JSON kinds (io::json_get) and the values (validate)
    throw IoError(std::string("malformed U-Net description: ") + e.what());
  }
}

// ------------------------------------------------------------------ blocks
ResBlockImpl::ResBlockImpl(std::int64_t in_ch, std::int64_t out_ch, std::int64_t temb_dim, double dropout) {
  norm1 = register_module("norm1", group_norm(in_ch));
  conv1 = register_module("conv1", conv(in_ch, out_ch, 3));
  temb_proj = register_module("temb_proj", linear(temb_dim, out_ch));
  norm2 = register_module("norm2", group_norm(out_ch));
  drop = register_module("drop", torch::nn::Dropout(dropout));
  conv2 = register_module("conv2", conv(out_ch, out_ch, 3, 1, /*zero=*/true));
  if (in_ch != out_ch) skip = register_module("skip", conv(in_ch, out_ch, 1));
}

torch::Tensor ResBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& temb) {
  auto h = conv1(F::silu(norm1(x)));
  h = h + temb_proj(F::silu(temb)).unsqueeze(-1).unsqueeze(-1);
  h = conv2(drop(F::silu(norm2(h))));
  return (skip ? skip(x) : x) + h;
}

AttnBlockImpl::AttnBlockImpl(std::int64_t ch) {
  norm = register_module("norm", group_norm(ch));
  qkv = register_module("qkv", conv(ch, 3 * ch, 1));
  proj = register_module("proj", conv(ch, ch, 1, 1, /*zero=*/true));
}

torch::Tensor AttnBlockImpl::forward(const torch::Tensor& x) {
  // The batch size is left to reshape (-1), not read as a number: a TorchScript trace of the U-Net
  // (nn/torchscript_export.hpp) then accepts any batch size.
  const auto C = x.size(1), H = x.size(2), W = x.size(3);
  auto parts = qkv(norm(x)).reshape({-1, 3, C, H * W}).unbind(1);
  const auto& q = parts[0];
  const auto& k = parts[1];
  const auto& v = parts[2];
  auto w = torch::softmax(torch::bmm(q.transpose(1, 2), k) * (1.0 / std::sqrt(static_cast<double>(C))), -1);
  auto h = torch::bmm(v, w.transpose(1, 2)).reshape({-1, C, H, W});
  return x + proj(h);
}

torch::Tensor timestep_embedding(const torch::Tensor& positions, std::int64_t dim) {
  const std::int64_t half = dim / 2;
  const double scale = std::log(10000.0) / static_cast<double>(std::max<std::int64_t>(half - 1, 1));
  auto freqs = torch::exp(torch::arange(half, positions.options().dtype(torch::kFloat32)) * -scale);
  auto args = positions.to(torch::kFloat32).unsqueeze(1) * freqs.unsqueeze(0);
  auto emb = torch::cat({torch::sin(args), torch::cos(args)}, 1);
  if (dim % 2 == 1) emb = F::pad(emb, F::PadFuncOptions({0, 1}));
  return emb;
}

// ------------------------------------------------------------------ U-Net
UNetImpl::UNetImpl(UNetOptions options) : options_(std::move(options)) {
  options_.validate();
  const std::int64_t C = options_.channels(), temb_dim = 4 * C, nres = options_.num_res_blocks();
  const auto& mult = options_.channel_mult();
  const auto has_attn = [&](std::int64_t res) {
    const auto& a = options_.attn_resolutions();
    return std::find(a.begin(), a.end(), res) != a.end();
  };
  temb0_ = register_module("temb0", linear(C, temb_dim));
  temb1_ = register_module("temb1", linear(temb_dim, temb_dim));
  conv_in_ = register_module("conv_in", conv(options_.in_channels(), C, 3));

  std::vector<std::int64_t> skip_ch{C};
  std::int64_t ch = C, res = options_.image_size();
  const std::size_t levels = mult.size();
  for (std::size_t l = 0; l < levels; ++l) {
    for (std::int64_t b = 0; b < nres; ++b) {
      const std::string name = "down" + std::to_string(l) + "_" + std::to_string(b);
      down_res_.push_back(register_module(name + "_res", ResBlock(ch, C * mult[l], temb_dim, options_.dropout())));
      ch = C * mult[l];
      down_attn_.push_back(has_attn(res) ? register_module(name + "_attn", AttnBlock(ch)) : AttnBlock(nullptr));
      skip_ch.push_back(ch);
    }
    if (l + 1 < levels) {
      downsample_.push_back(register_module("downsample" + std::to_string(l), conv(ch, ch, 3, 2)));
      skip_ch.push_back(ch);
      res /= 2;
    }
  }
  mid1_ = register_module("mid1", ResBlock(ch, ch, temb_dim, options_.dropout()));
  mid_attn_ = register_module("mid_attn", AttnBlock(ch));
  mid2_ = register_module("mid2", ResBlock(ch, ch, temb_dim, options_.dropout()));
  for (std::size_t l = levels; l-- > 0;) {
    for (std::int64_t b = 0; b <= nres; ++b) {
      const std::string name = "up" + std::to_string(l) + "_" + std::to_string(b);
      const std::int64_t in = ch + skip_ch.back();
      skip_ch.pop_back();
      up_res_.push_back(register_module(name + "_res", ResBlock(in, C * mult[l], temb_dim, options_.dropout())));
      ch = C * mult[l];
      up_attn_.push_back(has_attn(res) ? register_module(name + "_attn", AttnBlock(ch)) : AttnBlock(nullptr));
    }
    if (l > 0) {
      upsample_.push_back(register_module("upsample" + std::to_string(l), conv(ch, ch, 3)));
      res *= 2;
    }
  }
  norm_out_ = register_module("norm_out", group_norm(ch));
  conv_out_ = register_module("conv_out", conv(ch, options_.in_channels(), 3, 1, /*zero=*/true));
}

torch::Tensor UNetImpl::forward(const torch::Tensor& x, const torch::Tensor& t) {
  const auto s = options_.image_size();
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options_.in_channels() && x.size(2) == s && x.size(3) == s,
              "U-Net input of shape ", x.sizes(), ", expected [n, ", options_.in_channels(), ", ", s, ", ", s, "]");
  TORCH_CHECK(t.dim() == 1 && t.size(0) == x.size(0), "U-Net times of shape ", t.sizes(), ", expected [", x.size(0),
              "]");
  // DDPM convention: the embedding sees the discrete-time index 999 t.
  auto temb = timestep_embedding(t * 999.0, options_.channels());
  temb = temb1_(F::silu(temb0_(temb)));

  std::vector<torch::Tensor> hs{conv_in_(x)};
  const std::size_t levels = options_.channel_mult().size();
  const auto nres = static_cast<std::size_t>(options_.num_res_blocks());
  std::size_t k = 0;
  for (std::size_t l = 0; l < levels; ++l) {
    for (std::size_t b = 0; b < nres; ++b, ++k) {
      auto h = down_res_[k](hs.back(), temb);
      if (down_attn_[k]) h = down_attn_[k](h);
      hs.push_back(h);
    }
    if (l + 1 < levels) hs.push_back(downsample_[l](hs.back()));
  }
  auto h = mid2_(mid_attn_(mid1_(hs.back(), temb)), temb);
  k = 0;
  std::size_t u = 0;
  for (std::size_t l = levels; l-- > 0;) {
    for (std::size_t b = 0; b <= nres; ++b, ++k) {
      h = up_res_[k](torch::cat({h, hs.back()}, 1), temb);
      hs.pop_back();
      if (up_attn_[k]) h = up_attn_[k](h);
    }
    if (l > 0) {
      h = F::interpolate(h,
                         F::InterpolateFuncOptions().scale_factor(std::vector<double>{2.0, 2.0}).mode(torch::kNearest));
      h = upsample_[u++](h);
    }
  }
  return conv_out_(F::silu(norm_out_(h)));
}

std::int64_t UNetImpl::parameter_count() const {
  std::int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

}  // namespace rbsm::nn
