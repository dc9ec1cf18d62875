#pragma once
/// The noise-conditional ambient network of manifold fits (docs/fit.md §2): a residual MLP on R^D with a
/// sinusoidal embedding of log sigma,
///   h_0 = W_in [x, gamma(log sigma)],  h_{l+1} = h_l + W2_l SiLU(W1_l SiLU(h_l)),  out = W_out SiLU(h_L),
///   gamma(u) = (sin(2^k u), cos(2^k u))_{k < F}, u = log sigma.
/// Two parametrisations, both preconditioned by 1/sigma (so that sigma * score is O(1) at every noise level):
///   vector: s(x, sigma) = P_T(x) out(x, sigma) / sigma                      (out in R^D)
///   energy: E(x, sigma) = out(x, sigma) / sigma, s = P_T(x) grad_x E         (out in R; conservative, so
///           exp(E(., sigma)) restricted to M is an (unnormalised) density on M).
/// Parameters are float64.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace rbsm::fit {

enum class Parametrisation { vector, energy };
/// "vector" or "energy"; throws InvalidArgument otherwise.
Parametrisation parse_parametrisation(const std::string& name);
std::string to_string(Parametrisation p);

struct NoiseNetOptions {
  std::int64_t dim = 3;          ///< D
  std::int64_t width = 128;
  std::int64_t depth = 3;        ///< residual blocks
  std::int64_t frequencies = 8;  ///< F
  Parametrisation parametrisation = Parametrisation::energy;
  /// Throws InvalidArgument naming the bad value (sizes must be >= 1, width <= 4096, depth <= 64).
  void validate() const;
  nlohmann::json to_json() const;
  /// Throws IoError for a malformed description.
  static NoiseNetOptions from_json(const nlohmann::json& j);
};

struct NoiseNetImpl : torch::nn::Module {
  explicit NoiseNetImpl(const NoiseNetOptions& options);
  /// x: B x D, sigma: B (both float64) -> B (energy: E) or B x D (vector: out / sigma, not yet projected).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& sigma);
  NoiseNetOptions options;
  torch::nn::Linear input{nullptr}, output{nullptr};
  torch::nn::ModuleList blocks;
};
TORCH_MODULE(NoiseNet);

}  // namespace rbsm::fit
