// The MNIST classifier used to measure sample quality (include/rbsm/nn/classifier.hpp, docs/data.md).
#include "rbsm/nn/classifier.hpp"

#include <chrono>
#include <cmath>
#include <numeric>

#include "checkpoint_io.hpp"

#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/io/json_read.hpp"
#include "rbsm/nn/schedule.hpp"
#include "rbsm/numerics/constants.hpp"
#include "rbsm/random.hpp"

namespace rbsm::nn {

namespace {
/// Spatial side after three 2x2 max-pools (floor each time).
std::int64_t pooled_side(std::int64_t s) { return ((s / 2) / 2) / 2; }
}  // namespace

void ClassifierOptions::validate() const {
  const auto positive = [](std::int64_t v, const char* name) {
    if (v < 1) throw InvalidArgument(std::string("classifier ") + name + " " + std::to_string(v) + ", expected >= 1");
  };
  positive(channels(), "channels");
  positive(feature_dim(), "feature_dim");
  if (num_classes() < 2)
    throw InvalidArgument("classifier num_classes " + std::to_string(num_classes()) + ", expected >= 2");
  if (image_size() < 8)
    throw InvalidArgument("classifier image_size " + std::to_string(image_size()) + ", expected >= 8");
  if (!(dropout() >= 0.0 && dropout() < 1.0))
    throw InvalidArgument("classifier dropout " + std::to_string(dropout()) + ", expected in [0, 1)");
}

nlohmann::json ClassifierOptions::to_json() const {
  return {{"image_size", image_size()},
          {"channels", channels()},
          {"feature_dim", feature_dim()},
          {"dropout", dropout()},
          {"num_classes", num_classes()}};
}

ClassifierOptions ClassifierOptions::from_json(const nlohmann::json& j) {
  ClassifierOptions o;
  try {
    o.image_size(io::json_get<std::int64_t>(j, "image_size"))
        .channels(io::json_get<std::int64_t>(j, "channels"))
        .feature_dim(io::json_get<std::int64_t>(j, "feature_dim"))
        .dropout(io::json_get<double>(j, "dropout"))
        .num_classes(io::json_get<std::int64_t>(j, "num_classes"));
    o.validate();
  } catch (const std::exception& e) {
    throw IoError(std::string("malformed classifier description: ") + e.what());
  }
  return o;
}

ClassifierImpl::ClassifierImpl(const ClassifierOptions& options) : options_(options) {
  options_.validate();
  const std::int64_t c = options_.channels();
  const auto conv = [](std::int64_t in, std::int64_t out) {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1).bias(false));
  };
  conv1 = register_module("conv1", conv(1, c));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(c));
  conv2 = register_module("conv2", conv(c, 2 * c));
  bn2 = register_module("bn2", torch::nn::BatchNorm2d(2 * c));
  conv3 = register_module("conv3", conv(2 * c, 2 * c));
  bn3 = register_module("bn3", torch::nn::BatchNorm2d(2 * c));
  const std::int64_t side = pooled_side(options_.image_size());
  fc = register_module("fc", torch::nn::Linear(2 * c * side * side, options_.feature_dim()));
  drop = register_module("drop", torch::nn::Dropout(options_.dropout()));
  head = register_module("head", torch::nn::Linear(options_.feature_dim(), options_.num_classes()));
}

torch::Tensor ClassifierImpl::features(const torch::Tensor& x) {
  const auto s = options_.image_size();
  if (x.dim() != 4 || x.size(1) != 1 || x.size(2) != s || x.size(3) != s)
    throw InvalidArgument("classifier input of shape " + c10::str(x.sizes()) + ", expected [n, 1, " +
                          std::to_string(s) + ", " + std::to_string(s) + "]");
  auto h = torch::max_pool2d(torch::relu(bn1(conv1(x))), 2);
  h = torch::max_pool2d(torch::relu(bn2(conv2(h))), 2);
  h = torch::max_pool2d(torch::relu(bn3(conv3(h))), 2);
  return torch::relu(fc(h.flatten(1)));
}

torch::Tensor ClassifierImpl::forward(const torch::Tensor& x) { return head(drop(features(x))); }

// ------------------------------------------------------------------------------ training
void ClassifierTrainOptions::validate() const {
  if (epochs() < 1) throw InvalidArgument("--epochs " + std::to_string(epochs()) + ", expected >= 1");
  if (batch_size() < 1) throw InvalidArgument("--batch " + std::to_string(batch_size()) + ", expected >= 1");
  if (!(lr() > 0.0 && std::isfinite(lr()))) throw InvalidArgument("--lr " + std::to_string(lr()) + ", expected > 0");
  if (!(weight_decay() >= 0.0))
    throw InvalidArgument("--weight-decay " + std::to_string(weight_decay()) + ", expected >= 0");
  if (warmup() < 0) throw InvalidArgument("--warmup " + std::to_string(warmup()) + ", expected >= 0");
  if (!(max_shift() >= 0.0 && max_rotation() >= 0.0 && max_scale() >= 0.0 && max_scale() < 1.0))
    throw InvalidArgument("augmentation ranges must be >= 0 (scale < 1): shift " + std::to_string(max_shift()) +
                          ", rotation " + std::to_string(max_rotation()) + ", scale " + std::to_string(max_scale()));
}

nlohmann::json ClassifierTrainOptions::to_json() const {
  return {{"epochs", epochs()},
          {"batch_size", batch_size()},
          {"lr", lr()},
          {"weight_decay", weight_decay()},
          {"warmup", warmup()},
          {"max_shift", max_shift()},
          {"max_rotation", max_rotation()},
          {"max_scale", max_scale()},
          {"seed", seed()}};
}

double classifier_learning_rate(const ClassifierTrainOptions& o, std::int64_t step, std::int64_t total) {
  if (step < o.warmup()) return o.lr() * static_cast<double>(step + 1) / static_cast<double>(o.warmup());
  const double span = std::max<std::int64_t>(1, total - o.warmup());
  const double progress = std::min(1.0, static_cast<double>(step - o.warmup()) / span);
  return o.lr() * cosine_factor(progress);
}

torch::Tensor augment_batch(const torch::Tensor& x, const ClassifierTrainOptions& o, std::int64_t step) {
  if (o.max_shift() == 0.0 && o.max_rotation() == 0.0 && o.max_scale() == 0.0) return x;
  const std::int64_t b = x.size(0);
  Rng rng(o.seed() ^ 0xA5A5F00DULL, static_cast<std::uint64_t>(step));
  auto theta = torch::empty({b, 2, 3}, torch::kFloat32);
  auto t = theta.accessor<float, 3>();
  for (std::int64_t i = 0; i < b; ++i) {
    // theta maps output coordinates to input coordinates in [-1, 1] units (2 / size per pixel).
    const double angle = rng.uniform(-1.0, 1.0) * o.max_rotation() * kPi / 180.0;
    const double scale = 1.0 + rng.uniform(-1.0, 1.0) * o.max_scale();
    const double tx = rng.uniform(-1.0, 1.0) * o.max_shift() * 2.0 / static_cast<double>(x.size(3));
    const double ty = rng.uniform(-1.0, 1.0) * o.max_shift() * 2.0 / static_cast<double>(x.size(2));
    t[i][0][0] = static_cast<float>(std::cos(angle) / scale);
    t[i][0][1] = static_cast<float>(-std::sin(angle) / scale);
    t[i][0][2] = static_cast<float>(tx);
    t[i][1][0] = static_cast<float>(std::sin(angle) / scale);
    t[i][1][1] = static_cast<float>(std::cos(angle) / scale);
    t[i][1][2] = static_cast<float>(ty);
  }
  const auto grid = at::affine_grid_generator(theta.to(x.device()), x.sizes(), /*align_corners=*/false);
  return at::grid_sampler(x, grid, /*bilinear*/ 0, /*zeros*/ 0, /*align_corners=*/false);
}

ClassifierTrainResult train_classifier(Classifier& model, const torch::Tensor& images01, const torch::Tensor& labels,
                                       const ClassifierTrainOptions& options, torch::Device device,
                                       const ClassifierTrainHooks& hooks) {
  options.validate();
  const std::int64_t n = images01.size(0);
  if (images01.dim() != 4 || labels.dim() != 1 || labels.size(0) != n || n == 0)
    throw InvalidArgument("train_classifier: images " + c10::str(images01.sizes()) + " and labels " +
                          c10::str(labels.sizes()) + " do not match (expected [n, 1, s, s] and [n], n > 0)");
  const std::int64_t nc = model->options().num_classes();
  if (labels.min().item<std::int64_t>() < 0 || labels.max().item<std::int64_t>() >= nc)
    throw InvalidArgument("train_classifier: labels outside [0, " + std::to_string(nc) + ")");
  model->to(device);
  model->train();
  torch::optim::AdamW opt(model->parameters(),
                          torch::optim::AdamWOptions(options.lr()).weight_decay(options.weight_decay()));
  const std::int64_t b = std::min(options.batch_size(), n);
  const std::int64_t per_epoch = n / b;  // drop the last incomplete batch (BatchNorm statistics)
  const std::int64_t total = per_epoch * options.epochs();
  ClassifierTrainResult result;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::int64_t> order(n);
  std::int64_t step = 0;
  for (std::int64_t epoch = 0; epoch < options.epochs() && !result.stopped; ++epoch) {
    std::iota(order.begin(), order.end(), 0);
    Rng rng(options.seed(), static_cast<std::uint64_t>(epoch));
    for (std::int64_t i = n - 1; i > 0; --i)  // Fisher-Yates
      std::swap(order[i], order[static_cast<std::int64_t>(rng.uniform() * static_cast<double>(i + 1))]);
    const auto perm = torch::from_blob(order.data(), {n}, torch::kInt64).clone();
    for (std::int64_t k = 0; k < per_epoch; ++k, ++step) {
      const auto idx = perm.narrow(0, k * b, b);
      auto x = images01.index_select(0, idx).to(device);
      const auto y = labels.index_select(0, idx).to(device);
      x = augment_batch(x, options, step);
      const double lr = classifier_learning_rate(options, step, total);
      for (auto& group : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
      opt.zero_grad();
      const auto logits = model->forward(x);
      const auto loss = torch::nn::functional::cross_entropy(logits, y);
      const double loss_value = loss.item<double>();
      if (!std::isfinite(loss_value))
        throw NumericalError("classifier training: loss is " + std::to_string(loss_value) + " at step " +
                             std::to_string(step + 1) + "; try a smaller --lr");
      loss.backward();
      opt.step();
      result.last_loss = loss_value;
      result.steps = step + 1;
      if (hooks.on_step) {
        const double acc = logits.argmax(1).eq(y).to(torch::kFloat64).mean().item<double>();
        hooks.on_step(step + 1, total, loss_value, acc, lr);
      }
      if (hooks.should_stop && hooks.should_stop()) {
        result.stopped = true;
        break;
      }
    }
  }
  model->eval();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

// ------------------------------------------------------------------------------ inference
namespace {
template <class F>
torch::Tensor batched(Classifier& model, const torch::Tensor& images01, torch::Device device, std::int64_t batch,
                      F&& f) {
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  model->to(device);
  std::vector<torch::Tensor> parts;
  const std::int64_t n = images01.size(0), bs = std::max<std::int64_t>(1, batch);
  for (std::int64_t i = 0; i < n; i += bs)
    parts.push_back(f(images01.narrow(0, i, std::min(bs, n - i)).to(device, torch::kFloat32)).to(torch::kCPU));
  if (was_training) model->train();
  if (parts.empty()) return f(images01.to(device, torch::kFloat32)).to(torch::kCPU);
  return torch::cat(parts);
}
}  // namespace

torch::Tensor classifier_logits(Classifier& model, const torch::Tensor& images01, torch::Device device,
                                std::int64_t batch) {
  return batched(model, images01, device, batch, [&](const torch::Tensor& x) { return model->forward(x); });
}

torch::Tensor classifier_features(Classifier& model, const torch::Tensor& images01, torch::Device device,
                                  std::int64_t batch) {
  return batched(model, images01, device, batch, [&](const torch::Tensor& x) { return model->features(x); });
}

double classifier_accuracy(Classifier& model, const torch::Tensor& images01, const torch::Tensor& labels,
                           torch::Device device) {
  if (images01.size(0) == 0) throw InvalidArgument("classifier_accuracy: no images");
  const auto pred = classifier_logits(model, images01, device).argmax(1);
  return pred.eq(labels.to(torch::kInt64)).to(torch::kFloat64).mean().item<double>();
}

// ------------------------------------------------------------------------------ checkpoints
void save_classifier(const std::filesystem::path& file, Classifier& model, const nlohmann::json& config) {
  nlohmann::json cfg = config.is_object() ? config : nlohmann::json::object();
  cfg["classifier"] = model->options().to_json();
  io::atomic_write_with(file, [&](const std::filesystem::path& tmp) {
    torch::serialize::OutputArchive archive, weights;
    archive.write("format", c10::IValue(std::string(kClassifierFormat)));
    archive.write("config", c10::IValue(cfg.dump()));
    model->save(weights);
    archive.write("model", weights);
    archive.save_to(tmp.string());
  });
}

LoadedClassifier load_classifier(const std::filesystem::path& run_or_file, torch::Device device) {
  namespace fs = std::filesystem;
  const fs::path file = fs::is_directory(run_or_file) ? run_or_file / "classifier.pt" : run_or_file;
  if (!fs::exists(file))
    throw IoError("classifier checkpoint " + file.string() +
                  " does not exist; train one with: rbsm train-classifier --data mnist --out " + run_or_file.string());
  LoadedClassifier loaded;
  loaded.device = device;
  const auto first_line = [](const std::string& s) { return s.substr(0, s.find('\n')); };
  torch::serialize::InputArchive archive;
  try {
    detail::load_verified(archive, file, "classifier checkpoint");
  } catch (const IoError&) {
    throw;
  } catch (const std::exception& e) {
    throw IoError(file.string() + ": not a readable checkpoint (truncated or corrupt: " + first_line(e.what()) + ")");
  }
  c10::IValue format, config;
  if (!archive.try_read("format", format) || !format.isString() || format.toStringRef() != kClassifierFormat)
    throw IoError(file.string() + ": not an rbsm classifier checkpoint (expected format " + kClassifierFormat + ")");
  if (!archive.try_read("config", config) || !config.isString())
    throw IoError(file.string() + ": classifier checkpoint without its config");
  try {
    loaded.config = nlohmann::json::parse(config.toStringRef());
  } catch (const std::exception& e) {
    throw IoError(file.string() + ": malformed config in the classifier checkpoint");
  }
  if (!loaded.config.contains("classifier"))
    throw IoError(file.string() + ": classifier checkpoint without an architecture description");
  loaded.net = Classifier(ClassifierOptions::from_json(loaded.config.at("classifier")));
  try {
    torch::serialize::InputArchive weights;
    archive.read("model", weights);
    loaded.net->load(weights);
  } catch (const std::exception& e) {
    throw IoError(file.string() + ": the weights do not fit the recorded classifier architecture (" +
                  first_line(e.what()) + ")");
  }
  loaded.net->to(device);
  loaded.net->eval();
  return loaded;
}

}  // namespace rbsm::nn
