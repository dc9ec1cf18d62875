#pragma once
/// A small MLP for tangent score fields on an embedded manifold (docs/langevin.md §4): s(z) = P_T(z) f(z)
/// with f: R^D -> R^D a multilayer perceptron (Linear, SiLU, ..., Linear), trained by regression on
/// (point, tangent target) pairs — DSM with raw targets T_sigma or with Rao-Blackwellized targets.
/// Checkpoints (format "rbsm-mlp-v1": options, config JSON, weights) are written atomically and reload
/// bit-identically. For Langevin the trained network is evaluated in Eigen (thread-safe, no LibTorch
/// dispatch per step).
#include <cstdint>
#include <filesystem>
#include <functional>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "rbsm/geometry/manifold.hpp"

namespace rbsm::nn {

struct MLPOptions {
  MLPOptions() = default;
  TORCH_ARG(std::int64_t, in) = 3;
  TORCH_ARG(std::int64_t, out) = 3;
  TORCH_ARG(std::int64_t, hidden) = 64;
  /// Number of hidden layers (>= 1).
  TORCH_ARG(std::int64_t, layers) = 3;

 public:
  /// Throws InvalidArgument for non-positive sizes.
  void validate() const;
  nlohmann::json to_json() const;
  /// Throws IoError for a malformed description.
  static MLPOptions from_json(const nlohmann::json& j);
};

/// Parameters are float64 (set in the constructor).
struct MLPImpl : torch::nn::Module {
  explicit MLPImpl(const MLPOptions& options);
  torch::Tensor forward(torch::Tensor x);
  MLPOptions options;
  torch::nn::ModuleList linears;
};
TORCH_MODULE(MLP);

inline constexpr const char* kMlpFormat = "rbsm-mlp-v1";

/// Writes options, `config` and the weights atomically (io::atomic_write_with).
void save_mlp(const std::filesystem::path& file, MLP& model, const nlohmann::json& config);
/// Loads a checkpoint written by save_mlp; throws IoError for a missing, corrupt or foreign file.
MLP load_mlp(const std::filesystem::path& file, nlohmann::json* config = nullptr);

/// The tangent field z -> P_T(z) f(z) of a trained MLP, evaluated with Eigen copies of its weights.
/// `manifold` must outlive the field.
std::function<geometry::Vec(const geometry::Vec&)> mlp_field(MLP& model, const geometry::Manifold& manifold);
/// load_mlp + mlp_field; checks that the network's input size is the manifold's D.
std::function<geometry::Vec(const geometry::Vec&)> load_mlp_field(const std::filesystem::path& file,
                                                                  const geometry::Manifold& manifold);

/// Registers the drift family `model:PATH` (sampling::build_drift): the tangent field of a save_mlp
/// checkpoint with its post-hoc correction, as a Langevin drift. Idempotent; the CLI and the Python
/// package call it once.
void register_model_drifts();

struct RegressionOptions {
  std::int64_t steps = 2000;
  std::int64_t batch = 256;
  double lr = 2e-3;
  std::uint64_t seed = 0;
  MLPOptions mlp;
  /// Early stopping: every 10th point (this fraction, rounded) is held out, the validation loss is
  /// evaluated every `eval_every` steps and the weights with the lowest one are returned. The held-out
  /// targets are as noisy as the training ones, but the noise is independent of the fit, so their MSE
  /// is the test error plus a constant: the same choice for raw and RB targets. 0 disables it.
  double validation_fraction = 0.1;
  std::int64_t eval_every = 50;
};

/// Fits an MLP to points Y (n x D, on M) and tangent targets T (n x D) by minimising the mean of
/// |P_T(y) f(y) - t|^2 with Adam (cosine-decayed learning rate); batches drawn from Rng(seed, step),
/// initial weights from seed: deterministic for a seed; early stopping on a held-out part (options).
/// Returns the model; `final_loss` receives the mean training loss over the last 10% of steps. Throws InvalidArgument
/// for shapes that do not match.
MLP fit_tangent_regression(const geometry::Mat& Y, const geometry::Mat& T, const geometry::Manifold& manifold,
                           const RegressionOptions& options, double* final_loss = nullptr);

}  // namespace rbsm::nn
