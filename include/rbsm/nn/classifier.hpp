#pragma once
/// A small CNN classifier for 28x28 digits (docs/data.md "Classifier"). It measures sample quality:
/// its penultimate-layer features give the Frechet distance between samples and held-out digits
/// (rbsm/data/frechet.hpp), its predictions the class histogram of samples (rbsm/nn/sample_quality.hpp).
///
///   x in [0,1]^{1x28x28}
///     -> conv3x3(C)  BN ReLU maxpool2   (28 -> 14)
///     -> conv3x3(2C) BN ReLU maxpool2   (14 -> 7)
///     -> conv3x3(2C) BN ReLU maxpool2   (7 -> 3)
///     -> flatten -> Linear(feature_dim) ReLU          = features(x)
///     -> dropout -> Linear(num_classes)               = forward(x), the logits
///
/// Training (train_classifier): AdamW, linear warm-up then cosine decay of the learning rate,
/// cross-entropy, and data augmentation by a random affine map per image (shift, rotation, scale)
/// drawn from Rng(seed, step), so a run is a pure function of its seed and thread count.
#include <cstdint>
#include <filesystem>
#include <functional>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace rbsm::nn {

struct ClassifierOptions {
  ClassifierOptions() = default;
  TORCH_ARG(std::int64_t, image_size) = 28;
  /// Width C of the first convolution (the later ones have 2C channels).
  TORCH_ARG(std::int64_t, channels) = 16;
  /// Dimension of the penultimate layer (the features used for the Frechet distance).
  TORCH_ARG(std::int64_t, feature_dim) = 128;
  TORCH_ARG(double, dropout) = 0.0;
  TORCH_ARG(std::int64_t, num_classes) = 10;

 public:  // (TORCH_ARG leaves the access at private)
  /// Throws InvalidArgument naming the bad value (non-positive sizes, image_size < 8, dropout outside [0, 1)).
  void validate() const;
  nlohmann::json to_json() const;
  /// Throws IoError for a malformed description (e.g. from a checkpoint).
  static ClassifierOptions from_json(const nlohmann::json& j);
};

struct ClassifierImpl : torch::nn::Module {
  explicit ClassifierImpl(const ClassifierOptions& options = {});
  /// Penultimate-layer features [n, feature_dim] of images [n, 1, s, s] in [0, 1].
  torch::Tensor features(const torch::Tensor& x);
  /// Class logits [n, num_classes].
  torch::Tensor forward(const torch::Tensor& x);
  const ClassifierOptions& options() const { return options_; }

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Linear fc{nullptr}, head{nullptr};
  torch::nn::Dropout drop{nullptr};

 private:
  ClassifierOptions options_;
};
TORCH_MODULE(Classifier);

struct ClassifierTrainOptions {
  TORCH_ARG(std::int64_t, epochs) = 10;
  TORCH_ARG(std::int64_t, batch_size) = 128;
  /// Peak learning rate of AdamW.
  TORCH_ARG(double, lr) = 3e-3;
  TORCH_ARG(double, weight_decay) = 1e-4;
  /// Linear warm-up steps before the cosine decay.
  TORCH_ARG(std::int64_t, warmup) = 100;
  /// Augmentation: uniform shift in [-max_shift, max_shift] pixels per axis, rotation in
  /// [-max_rotation, max_rotation] degrees, scale in [1 - max_scale, 1 + max_scale]. All 0: none.
  TORCH_ARG(double, max_shift) = 2.0;
  TORCH_ARG(double, max_rotation) = 10.0;
  TORCH_ARG(double, max_scale) = 0.1;
  TORCH_ARG(std::uint64_t, seed) = 0;

 public:
  /// Throws InvalidArgument naming the bad value (epochs < 1, batch_size < 1, lr not > 0 and finite,
  /// negative weight decay, warm-up or augmentation ranges).
  void validate() const;
  nlohmann::json to_json() const;
};

struct ClassifierTrainHooks {
  /// Polled once per step; true -> stop after this step (Ctrl-C in the CLI).
  std::function<bool()> should_stop;
  /// Called after every step: step (1-based), total steps, this batch's loss and accuracy, the learning rate.
  std::function<void(std::int64_t step, std::int64_t total, double loss, double accuracy, double lr)> on_step;
};

struct ClassifierTrainResult {
  std::int64_t steps = 0;
  bool stopped = false;
  double last_loss = 0.0;
  double seconds = 0.0;
};

/// Trains `model` on images01 [n, 1, s, s] in [0, 1] with labels [n] (int64 in [0, num_classes)), both
/// on the CPU; computation on `device`. Leaves the model in eval mode. Throws InvalidArgument for bad
/// options or data, NumericalError for a NaN/Inf loss.
ClassifierTrainResult train_classifier(Classifier& model, const torch::Tensor& images01, const torch::Tensor& labels,
                                       const ClassifierTrainOptions& options, torch::Device device,
                                       const ClassifierTrainHooks& hooks = {});

/// The random affine augmentation of step `step` applied to a batch [b, 1, s, s] (on its device).
torch::Tensor augment_batch(const torch::Tensor& x, const ClassifierTrainOptions& options, std::int64_t step);

/// Learning rate at step k of `total`: lr * (k + 1) / warmup during warm-up, then cosine decay to 0.
double classifier_learning_rate(const ClassifierTrainOptions& options, std::int64_t step, std::int64_t total);

/// Logits [n, num_classes] and features [n, feature_dim] of images01 (CPU), computed on `device` in eval
/// mode without gradients, in batches of `batch`; results on the CPU (float32).
torch::Tensor classifier_logits(Classifier& model, const torch::Tensor& images01, torch::Device device,
                                std::int64_t batch = 500);
torch::Tensor classifier_features(Classifier& model, const torch::Tensor& images01, torch::Device device,
                                  std::int64_t batch = 500);
/// Fraction of images whose predicted class equals the label.
double classifier_accuracy(Classifier& model, const torch::Tensor& images01, const torch::Tensor& labels,
                           torch::Device device);

// ------------------------------------------------------------------------------ checkpoints
inline constexpr const char* kClassifierFormat = "rbsm-classifier-v1";

/// Writes `classifier.pt` (format tag, config JSON with "classifier" = the options plus anything in
/// `config`, and the weights) atomically to `file`.
void save_classifier(const std::filesystem::path& file, Classifier& model, const nlohmann::json& config);

struct LoadedClassifier {
  Classifier net{nullptr};  ///< in eval mode, on `device`
  nlohmann::json config;    ///< the saved config ("classifier", "data", "test_accuracy", ...)
  torch::Device device{torch::kCPU};
};

/// `run_or_file`: a run folder holding classifier.pt, or the file itself. Throws IoError (one line)
/// for a missing file (saying how to train one), a truncated or corrupt file, a file that is not an
/// rbsm classifier, or weights that do not fit the recorded architecture.
LoadedClassifier load_classifier(const std::filesystem::path& run_or_file, torch::Device device);

}  // namespace rbsm::nn
