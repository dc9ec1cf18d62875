#pragma once
/// The VAE baseline for local dimension (source: score-models-learn-manifold-structure.txt, Appendix B;
/// docs/anatomy.md "VAE baseline").
///
/// Model: prior p(z) = N(0, I_L) on R^L (L = 100 in the document); Gaussian decoder
/// p(x | z) = N(mu_theta(z), gamma I) with gamma > 0 ONE free scalar parameter (learned, stored as
/// log gamma); factorised Gaussian posterior q(z | x) = N(mu_phi(x), diag exp(logvar_phi(x))).
/// Networks: DCGAN-like convolutions with batch normalisation and ReLU, for 28 x 28 images:
///
///   encoder  x [n,1,28,28] -> conv4x4/2 (C)        ReLU       28 -> 14
///                           -> conv4x4/2 (2C)  BN  ReLU       14 -> 7
///                           -> conv3x3/2 (4C)  BN  ReLU        7 -> 4
///                           -> flatten -> Linear(2L) = (mu, logvar)
///   decoder  z [n,L] -> Linear(4C*4*4) BN ReLU -> [4C,4,4]
///                           -> convT3x3/2 (2C) BN  ReLU        4 -> 7
///                           -> convT4x4/2 (C)  BN  ReLU        7 -> 14
///                           -> convT4x4/2 (1)                 14 -> 28 = mu_theta(z) (no squashing)
///
/// Loss: the negative ELBO per image, in nats (eq. V1 of docs/anatomy.md):
///   -ELBO(x) = E_q [ |x - mu_theta(z)|^2 / (2 gamma) ] + (P/2) log(2 pi gamma) + KL(q(z|x) || p(z)),
///   KL = 1/2 sum_j (mu_j^2 + exp(logvar_j) - 1 - logvar_j),
/// with one reparameterised sample z = mu + exp(logvar / 2) eps per image and P = 784 pixels.
///
/// Local dimension of an image x (the document's rule, after Dai and Wipf): the number of latent
/// coordinates whose posterior variance exp(logvar_j(x)) is below a threshold (0.5 in the document).
/// Dimensions the decoder uses are pinned down (variance -> 0 as gamma -> 0); unused ones stay at the
/// prior (variance about 1).
///
/// Checkpoints: one torch archive with format "rbsm-vae-v1", the config JSON, the weights (flat keys)
/// and the step, written atomically. Loading checks each of these and throws IoError (one line) for a
/// missing, truncated or foreign file (a score-model checkpoint included).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace rbsm::nn {

inline constexpr const char* kVAEFormat = "rbsm-vae-v1";
/// Images the VAE takes: [n, 1, kVAEImageSize, kVAEImageSize] with values in [0, 1].
inline constexpr std::int64_t kVAEImageSize = 28;

struct VAEOptions {
  VAEOptions() = default;
  /// Latent dimension L (the document: 100).
  TORCH_ARG(std::int64_t, latent_dim) = 100;
  /// Width C of the first convolution (then 2C, 4C).
  TORCH_ARG(std::int64_t, channels) = 32;
  /// Initial log gamma of the decoder variance.
  TORCH_ARG(double, init_log_gamma) = 0.0;

 public:  // (TORCH_ARG leaves the section private)
  /// Throws InvalidArgument naming the bad value (latent_dim < 1, channels < 1, non-finite init_log_gamma).
  void validate() const;
  nlohmann::json to_json() const;
  /// Throws IoError for a malformed description (e.g. from a checkpoint).
  static VAEOptions from_json(const nlohmann::json& j);
};

/// Posterior parameters of a batch: mean and log-variance, both [n, L].
struct Posterior {
  torch::Tensor mu, logvar;
};

/// One evaluation of the loss on a batch: the mean over the batch of each term (nats per image).
struct ELBOTerms {
  torch::Tensor loss;   ///< -ELBO = recon + kl (differentiable)
  torch::Tensor recon;  ///< Gaussian negative log-likelihood of x under the decoder
  torch::Tensor kl;     ///< KL(q(z|x) || N(0, I))
};

struct VAEImpl : torch::nn::Module {
  explicit VAEImpl(const VAEOptions& options = {});
  /// q(z | x) for images01 [n, 1, 28, 28] in [0, 1]. Throws InvalidArgument for another shape.
  Posterior encode(const torch::Tensor& images01);
  /// Decoder mean mu_theta(z) [n, 1, 28, 28] for z [n, L].
  torch::Tensor decode(const torch::Tensor& z);
  /// The terms of -ELBO on a batch, with reparameterisation noise eps [n, L] given by the caller.
  ELBOTerms elbo(const torch::Tensor& images01, const torch::Tensor& eps);
  /// Decoder log-variance log gamma (a scalar tensor).
  torch::Tensor log_gamma() const { return log_gamma_; }
  const VAEOptions& options() const { return options_; }
  std::int64_t parameter_count() const;

  torch::nn::Conv2d enc1{nullptr}, enc2{nullptr}, enc3{nullptr};
  torch::nn::BatchNorm2d enc_bn2{nullptr}, enc_bn3{nullptr};
  torch::nn::Linear enc_fc{nullptr};
  torch::nn::Linear dec_fc{nullptr};
  torch::nn::BatchNorm1d dec_bn0{nullptr};
  torch::nn::ConvTranspose2d dec1{nullptr}, dec2{nullptr}, dec3{nullptr};
  torch::nn::BatchNorm2d dec_bn1{nullptr}, dec_bn2{nullptr};

 private:
  VAEOptions options_;
  torch::Tensor log_gamma_;
};
TORCH_MODULE(VAE);

/// KL(N(mu, diag exp(logvar)) || N(0, I)) per row: [n] from [n, L] (eq. V2).
torch::Tensor kl_to_standard_normal(const torch::Tensor& mu, const torch::Tensor& logvar);
/// -log N(x; mean, gamma I) per image: [n] from [n, ...] tensors; log_gamma a scalar tensor (eq. V3).
torch::Tensor gaussian_nll(const torch::Tensor& x, const torch::Tensor& mean, const torch::Tensor& log_gamma);

// ------------------------------------------------------------------------------ training
struct VAETrainOptions {
  TORCH_ARG(std::int64_t, steps) = 3000;
  TORCH_ARG(std::int64_t, batch_size) = 64;
  /// Adam learning rate (constant after a linear warm-up).
  TORCH_ARG(double, lr) = 1e-3;
  TORCH_ARG(std::int64_t, warmup) = 100;
  /// The decoder's log gamma learns at lr * gamma_lr_scale (1: one Adam for all parameters, as in the
  /// document). Larger values let gamma fall faster; the local dimension depends strongly on gamma
  /// (docs/anatomy.md "VAE baseline").
  TORCH_ARG(double, gamma_lr_scale) = 1.0;
  /// Gradient-norm clipping (0: none).
  TORCH_ARG(double, grad_clip) = 10.0;
  /// Write checkpoint.pt every this many steps (and at the end, and on a stop request).
  TORCH_ARG(std::int64_t, checkpoint_every) = 1000;
  /// Add a metrics.csv row every this many steps (means over those steps).
  TORCH_ARG(std::int64_t, log_every) = 10;
  TORCH_ARG(std::uint64_t, seed) = 0;
  /// What the training data were (e.g. "mnist"), recorded in the checkpoint's config.
  TORCH_ARG(std::string, data) = "";

 public:
  /// Throws InvalidArgument naming the bad value (steps < 1, batch_size < 1, lr not > 0 and finite,
  /// warmup < 0, gamma_lr_scale not > 0, grad_clip < 0, checkpoint_every < 1, log_every < 1).
  void validate() const;
  nlohmann::json to_json() const;
  static VAETrainOptions from_json(const nlohmann::json& j);
};

struct VAETrainHooks {
  /// Polled once per step; true -> write a checkpoint and return (Ctrl-C in the CLI).
  std::function<bool()> should_stop;
  /// Called after every step: step count (1-based), this batch's -ELBO, reconstruction term, KL.
  std::function<void(std::int64_t step, double loss, double recon, double kl)> on_step;
};

struct VAETrainResult {
  std::int64_t step = 0;   ///< steps done
  bool stopped = false;    ///< true if should_stop ended it early
  double last_loss = 0.0;  ///< -ELBO of the last batch (nats per image)
  double seconds = 0.0;
  std::filesystem::path checkpoint;
};

/// Trains a VAE on images01 ([n, 1, 28, 28] in [0, 1], CPU) into the folder `out` (checkpoint.pt,
/// metrics.csv with columns step, loss, recon, kl, log_gamma, lr, seconds). Batch k is
/// nn::batch_indices(seed, k, B, n) (rbsm/nn/train.hpp) and its noise comes from a generator seeded
/// by (seed, k); initial weights from the seed: a run is a pure function of (seed, thread count).
/// Throws InvalidArgument for bad options or data, NumericalError for a NaN/Inf loss.
VAETrainResult train_vae(const torch::Tensor& images01, const VAEOptions& vae, const VAETrainOptions& options,
                         const std::filesystem::path& out, torch::Device device, const VAETrainHooks& hooks = {});

// ------------------------------------------------------------------------------ checkpoints
/// Writes the VAE (format tag, config JSON with "vae" = the options, plus everything in `config`,
/// weights and buffers under flat keys) atomically to `file`.
void save_vae(const std::filesystem::path& file, VAEImpl& model, const nlohmann::json& config);

struct LoadedVAE {
  VAE net{nullptr};       ///< eval mode, on `device`, parameters frozen
  nlohmann::json config;  ///< the saved config ("vae", "train", "step", ...)
  std::int64_t step = 0;
  torch::Device device{torch::kCPU};
};

/// `run_or_file`: a run folder holding checkpoint.pt, or the file. Throws IoError (one line) for a
/// missing, truncated or corrupt file, a file that is not an rbsm VAE checkpoint (naming the format it
/// has, e.g. a score model's), or weights that do not fit the recorded architecture.
LoadedVAE load_vae(const std::filesystem::path& run_or_file, torch::Device device);

// ------------------------------------------------------------------------------ local dimension
/// Posterior variances exp(logvar) [n, L] (float64, CPU) of images01 [n, 1, 28, 28], computed in eval
/// mode without gradients, in batches of `batch`.
torch::Tensor posterior_variances(VAEImpl& model, const torch::Tensor& images01, torch::Device device,
                                  std::int64_t batch = 500);

/// Throws InvalidArgument unless threshold > 0 and finite (the message names --threshold).
void check_variance_threshold(double threshold);

/// The document's rule: per row of `variances` [n, L], the number of entries strictly below
/// `threshold` (int64 [n]). Throws InvalidArgument for threshold <= 0 or not finite.
torch::Tensor local_dimension(const torch::Tensor& variances, double threshold = 0.5);

/// Mean, sample standard deviation (n - 1 in the denominator; 0 for n < 2) and count.
struct DimStats {
  double mean = 0.0, std = 0.0;
  std::int64_t n = 0;
};
struct LocalDimSummary {
  DimStats all;
  std::map<int, DimStats> per_class;  ///< only classes that occur
  /// {"mean", "std", "n", "per_class": {"0": {"mean", "std", "n"}, ...}}
  nlohmann::json to_json() const;
};
/// Aggregates per-image local dimensions (int64 [n]) over all images and per label ([n], int64).
LocalDimSummary summarise_local_dimension(const torch::Tensor& dims, const torch::Tensor& labels);

}  // namespace rbsm::nn
