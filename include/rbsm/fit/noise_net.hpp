#pragma once
/// The noise-conditional ambient network of manifold fits (docs/fit.md §2): a residual MLP on R^D with a
/// sinusoidal embedding of log sigma and optional random Fourier features of x,
///   h_0 = W_in [x, phi(x), gamma(log sigma)],  h_{l+1} = h_l + W2_l SiLU(W1_l SiLU(h_l)),  out = W_out SiLU(h_L),
///   gamma(u) = (sin(2^k u), cos(2^k u))_{k < F}, u = log sigma,
///   phi(x) = (sin(B x), cos(B x)) with B an N x D matrix of independent N(0, S^2) entries (N = 0: no phi).
/// B is fixed (not trained) and a pure function of (N, D, S): its entries are S times the standard normals
/// of Rng(kFourierSeed, 0), row by row. An MLP of raw x is biased towards smooth functions (its "spectral
/// bias"); phi lets it represent densities whose peaks are ~1/S wide (Tancik et al. 2020).
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

inline constexpr std::uint64_t kFourierSeed = 0x46F0A1E5ULL;

enum class Parametrisation { vector, energy };
/// "vector" or "energy"; throws InvalidArgument otherwise.
Parametrisation parse_parametrisation(const std::string& name);
std::string to_string(Parametrisation p);

struct NoiseNetOptions {
  std::int64_t dim = 3;  ///< D
  std::int64_t width = 128;
  std::int64_t depth = 3;        ///< residual blocks
  std::int64_t frequencies = 8;  ///< F
  Parametrisation parametrisation = Parametrisation::energy;
  std::int64_t fourier_features = 0;  ///< N: rows of B (2N features); 0: none (checkpoints before them)
  double fourier_scale = 16;          ///< S: standard deviation of B's entries
  /// Throws InvalidArgument naming the bad value (sizes must be >= 1, width <= 4096, depth <= 64).
  void validate() const;
  nlohmann::json to_json() const;
  /// Throws IoError for a malformed description. A description without "fourier_features" (written before
  /// they existed) has none.
  static NoiseNetOptions from_json(const nlohmann::json& j);
};

struct NoiseNetImpl : torch::nn::Module {
  explicit NoiseNetImpl(const NoiseNetOptions& options);
  /// x: B x D, sigma: B (both float64) -> B (energy: E) or B x D (vector: out / sigma, not yet projected).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& sigma);
  NoiseNetOptions options;
  torch::Tensor fourier;  ///< B (N x D, float64; undefined when N = 0), not a parameter
  torch::nn::Linear input{nullptr}, output{nullptr};
  torch::nn::ModuleList blocks;
};
TORCH_MODULE(NoiseNet);

/// The fixed Fourier matrix B of `options` (N x D float64; an undefined tensor for N = 0).
torch::Tensor fourier_matrix(const NoiseNetOptions& options);

}  // namespace rbsm::fit
