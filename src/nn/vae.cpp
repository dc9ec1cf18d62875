#include "rbsm/nn/vae.hpp"

#include <chrono>
#include <cmath>
#include <sstream>

#include <ATen/CPUGeneratorImpl.h>

#include "checkpoint_io.hpp"

#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/io/table.hpp"
#include "rbsm/nn/checkpoint.hpp"
#include "rbsm/nn/train.hpp"
#include "rbsm/random.hpp"

namespace rbsm::nn {
namespace fs = std::filesystem;
namespace F = torch::nn::functional;

namespace {
std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }
std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}
}  // namespace

// ------------------------------------------------------------------------------ the module
VAEImpl::VAEImpl(const VAEOptions& options) : options_(options) {
  options_.validate();
  const std::int64_t C = options_.channels(), L = options_.latent_dim();
  using torch::nn::Conv2dOptions;
  using torch::nn::ConvTranspose2dOptions;
  enc1 = register_module("enc1", torch::nn::Conv2d(Conv2dOptions(1, C, 4).stride(2).padding(1)));
  enc2 = register_module("enc2", torch::nn::Conv2d(Conv2dOptions(C, 2 * C, 4).stride(2).padding(1).bias(false)));
  enc_bn2 = register_module("enc_bn2", torch::nn::BatchNorm2d(2 * C));
  enc3 = register_module("enc3", torch::nn::Conv2d(Conv2dOptions(2 * C, 4 * C, 3).stride(2).padding(1).bias(false)));
  enc_bn3 = register_module("enc_bn3", torch::nn::BatchNorm2d(4 * C));
  enc_fc = register_module("enc_fc", torch::nn::Linear(4 * C * 16, 2 * L));
  dec_fc = register_module("dec_fc", torch::nn::Linear(torch::nn::LinearOptions(L, 4 * C * 16).bias(false)));
  dec_bn0 = register_module("dec_bn0", torch::nn::BatchNorm1d(4 * C * 16));
  dec1 = register_module(
      "dec1", torch::nn::ConvTranspose2d(ConvTranspose2dOptions(4 * C, 2 * C, 3).stride(2).padding(1).bias(false)));
  dec_bn1 = register_module("dec_bn1", torch::nn::BatchNorm2d(2 * C));
  dec2 = register_module(
      "dec2", torch::nn::ConvTranspose2d(ConvTranspose2dOptions(2 * C, C, 4).stride(2).padding(1).bias(false)));
  dec_bn2 = register_module("dec_bn2", torch::nn::BatchNorm2d(C));
  dec3 = register_module("dec3", torch::nn::ConvTranspose2d(ConvTranspose2dOptions(C, 1, 4).stride(2).padding(1)));
  log_gamma_ = register_parameter("log_gamma", torch::full({}, options_.init_log_gamma()));
}

Posterior VAEImpl::encode(const torch::Tensor& x) {
  if (x.dim() != 4 || x.size(1) != 1 || x.size(2) != kVAEImageSize || x.size(3) != kVAEImageSize)
    throw InvalidArgument("VAE input of shape " + c10::str(x.sizes()) + ", expected [n, 1, 28, 28]");
  auto h = torch::relu(enc1->forward(x));
  h = torch::relu(enc_bn2->forward(enc2->forward(h)));
  h = torch::relu(enc_bn3->forward(enc3->forward(h)));
  const auto out = enc_fc->forward(h.flatten(1));
  const std::int64_t L = options_.latent_dim();
  return {out.narrow(1, 0, L), out.narrow(1, L, L)};
}

torch::Tensor VAEImpl::decode(const torch::Tensor& z) {
  if (z.dim() != 2 || z.size(1) != options_.latent_dim())
    throw InvalidArgument("VAE latent of shape " + c10::str(z.sizes()) + ", expected [n, " +
                          std::to_string(options_.latent_dim()) + "]");
  const std::int64_t C = options_.channels();
  auto h = torch::relu(dec_bn0->forward(dec_fc->forward(z))).view({z.size(0), 4 * C, 4, 4});
  h = torch::relu(dec_bn1->forward(dec1->forward(h)));
  h = torch::relu(dec_bn2->forward(dec2->forward(h)));
  return dec3->forward(h);
}

ELBOTerms VAEImpl::elbo(const torch::Tensor& x, const torch::Tensor& eps) {
  const auto q = encode(x);
  if (!eps.sizes().equals(q.mu.sizes()))
    throw InvalidArgument("VAE noise of shape " + c10::str(eps.sizes()) + ", expected " + c10::str(q.mu.sizes()));
  const auto z = q.mu + torch::exp(0.5 * q.logvar) * eps;  // reparameterisation
  ELBOTerms t;
  t.recon = gaussian_nll(x, decode(z), log_gamma_).mean();
  t.kl = kl_to_standard_normal(q.mu, q.logvar).mean();
  t.loss = t.recon + t.kl;
  return t;
}

std::int64_t VAEImpl::parameter_count() const {
  std::int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

torch::Tensor kl_to_standard_normal(const torch::Tensor& mu, const torch::Tensor& logvar) {
  // eq. V2: 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)
  return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1);
}

torch::Tensor gaussian_nll(const torch::Tensor& x, const torch::Tensor& mean, const torch::Tensor& log_gamma) {
  // eq. V3: |x - mean|^2 / (2 gamma) + (P/2) (log 2 pi + log gamma), P = pixels per image
  const auto P = static_cast<double>(x[0].numel());
  const auto sq = (x - mean).pow(2).flatten(1).sum(1);
  return 0.5 * sq * torch::exp(-log_gamma) + 0.5 * P * (std::log(2.0 * M_PI) + log_gamma);
}

// ------------------------------------------------------------------------------ checkpoints
void save_vae(const fs::path& file, VAEImpl& model, const nlohmann::json& config) {
  nlohmann::json cfg = config.is_object() ? config : nlohmann::json::object();
  cfg["vae"] = model.options().to_json();
  cfg["format_version"] = 1;
  torch::serialize::OutputArchive archive, weights;
  archive.write("format", c10::IValue(std::string(kVAEFormat)));
  archive.write("config", c10::IValue(cfg.dump()));
  for (const auto& p : model.named_parameters(true)) weights.write(p.key(), p.value().detach());
  for (const auto& b : model.named_buffers(true)) weights.write(b.key(), b.value(), /*is_buffer=*/true);
  archive.write("model", weights);
  io::atomic_write_with(file, [&](const fs::path& tmp) {
    try {
      archive.save_to(tmp.string());
    } catch (const c10::Error& e) {
      throw IoError("cannot write VAE checkpoint " + file.string() + ": " + first_line(e.what_without_backtrace()));
    }
  });
}

LoadedVAE load_vae(const fs::path& run_or_file, torch::Device device) {
  const fs::path file = resolve_checkpoint(run_or_file);  // IoError: missing folder, file or checkpoint.pt
  auto ckpt = detail::open_checkpoint(file, kVAEFormat, "VAE");
  LoadedVAE loaded;
  VAEOptions arch;
  try {
    arch = VAEOptions::from_json(ckpt.config.at("vae"));
    loaded.step = ckpt.config.value("step", std::int64_t{0});
  } catch (const nlohmann::json::exception& e) {
    throw IoError("checkpoint " + file.string() + " has a malformed config (" + e.what() + ")");
  } catch (const IoError& e) {
    throw IoError("checkpoint " + file.string() + ": " + e.what());
  }
  loaded.net = VAE(arch);
  detail::read_module(ckpt, "model", *loaded.net);  // IoError naming a missing tensor or a shape mismatch
  loaded.net->eval();
  for (auto& p : loaded.net->parameters()) p.set_requires_grad(false);
  loaded.net->to(device);
  loaded.config = ckpt.config;
  loaded.device = device;
  return loaded;
}

// ------------------------------------------------------------------------------ training
namespace {
const std::vector<std::string> kVAEMetricColumns{"step", "loss", "recon", "kl", "log_gamma", "lr", "seconds"};

void check_images(const torch::Tensor& x) {
  if (!x.defined() || x.dim() != 4 || x.size(0) < 1 || x.size(1) != 1 || x.size(2) != kVAEImageSize ||
      x.size(3) != kVAEImageSize)
    throw InvalidArgument("VAE data of shape " + (x.defined() ? c10::str(x.sizes()) : std::string("[]")) +
                          ", expected [n >= 1, 1, 28, 28]");
  if (!torch::isfinite(x).all().item<bool>() || x.min().item<double>() < 0.0 || x.max().item<double>() > 1.0)
    throw InvalidArgument("VAE data: pixel values must be finite and in [0, 1]");
}
}  // namespace

VAETrainResult train_vae(const torch::Tensor& images01, const VAEOptions& arch, const VAETrainOptions& opt,
                         const fs::path& out, torch::Device device, const VAETrainHooks& hooks) {
  arch.validate();
  opt.validate();
  check_images(images01);
  io::ensure_directory(out);

  // Initial weights: a function of the seed (LibTorch's initialisers use the global generator), from a
  // stream the batch order and noise never use (the same convention as train_score_model).
  torch::manual_seed(Rng(opt.seed(), ~std::uint64_t{0})());
  VAE model(arch);
  model->to(device);
  model->train();
  // Two parameter groups: the networks at lr, the decoder's log gamma at lr * gamma_lr_scale.
  std::vector<torch::Tensor> nets;
  for (const auto& p : model->named_parameters(true))
    if (p.key() != "log_gamma") nets.push_back(p.value());
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(nets, std::make_unique<torch::optim::AdamOptions>(opt.lr()));
  groups.emplace_back(std::vector<torch::Tensor>{model->log_gamma()},
                      std::make_unique<torch::optim::AdamOptions>(opt.lr() * opt.gamma_lr_scale()));
  torch::optim::Adam adam(std::move(groups), torch::optim::AdamOptions(opt.lr()));
  const double scale[2] = {1.0, opt.gamma_lr_scale()};

  const torch::Tensor data = images01.to(torch::kFloat32).contiguous();
  const std::int64_t n = data.size(0), B = opt.batch_size(), L = arch.latent_dim();
  const fs::path ckpt_file = out / "checkpoint.pt";
  io::Table metrics(kVAEMetricColumns);
  VAETrainResult result;
  const auto t0 = std::chrono::steady_clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  auto save = [&](std::int64_t at_step) {
    save_vae(ckpt_file, *model,
             {{"step", at_step},
              {"train", opt.to_json()},
              {"seed", opt.seed()},
              {"loss", "-ELBO per image in nats: Gaussian decoder N(mu(z), gamma I), learned gamma"},
              {"data_scaling", "pixels in [0, 1]"}});
    metrics.save(out / "metrics.csv");
    result.checkpoint = ckpt_file;
  };

  double sum[4] = {0, 0, 0, 0};
  std::int64_t window = 0, step = 0;
  for (; step < opt.steps(); ++step) {
    if (hooks.should_stop && hooks.should_stop()) {
      result.stopped = true;
      break;
    }
    const auto idx = batch_indices(opt.seed(), step, B, n);
    const auto x = data.index_select(0, torch::tensor(idx, torch::kInt64)).to(device);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(Rng(opt.seed(), 2 * static_cast<std::uint64_t>(step) + 1)());
    const auto eps = at::randn({B, L}, gen, torch::TensorOptions().dtype(torch::kFloat32)).to(device);

    const auto terms = model->elbo(x, eps);
    const double loss = terms.loss.item<double>();
    if (!std::isfinite(loss))
      throw NumericalError("VAE training loss is " + std::to_string(loss) + " at step " + std::to_string(step + 1) +
                           "; try a smaller --lr");
    const double lr = opt.warmup() > 0 ? opt.lr() * std::min(1.0, double(step + 1) / double(opt.warmup())) : opt.lr();
    for (std::size_t g = 0; g < 2; ++g)
      static_cast<torch::optim::AdamOptions&>(adam.param_groups()[g].options()).lr(lr * scale[g]);
    adam.zero_grad();
    terms.loss.backward();
    if (opt.grad_clip() > 0) torch::nn::utils::clip_grad_norm_(model->parameters(), opt.grad_clip());
    adam.step();

    const double recon = terms.recon.item<double>(), kl = terms.kl.item<double>();
    sum[0] += loss;
    sum[1] += recon;
    sum[2] += kl;
    ++window;
    result.last_loss = loss;
    const std::int64_t done = step + 1;
    if (done % opt.log_every() == 0 || done == opt.steps()) {
      metrics.add_row({double(done), sum[0] / window, sum[1] / window, sum[2] / window,
                       model->log_gamma().item<double>(), lr, seconds()});
      sum[0] = sum[1] = sum[2] = 0;
      window = 0;
    }
    if (hooks.on_step) hooks.on_step(done, loss, recon, kl);
    if (done % opt.checkpoint_every() == 0 && done < opt.steps()) save(done);
  }
  save(step);
  model->eval();
  result.step = step;
  result.seconds = seconds();
  return result;
}

// ------------------------------------------------------------------------------ local dimension
torch::Tensor posterior_variances(VAEImpl& model, const torch::Tensor& images01, torch::Device device,
                                  std::int64_t batch) {
  check_images(images01);
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  std::vector<torch::Tensor> parts;
  const std::int64_t n = images01.size(0), bs = std::max<std::int64_t>(1, batch);
  for (std::int64_t i = 0; i < n; i += bs) {
    const auto x = images01.narrow(0, i, std::min(bs, n - i)).to(device, torch::kFloat32);
    parts.push_back(model.encode(x).logvar.to(torch::kCPU, torch::kFloat64).exp());
  }
  if (was_training) model.train();
  return torch::cat(parts);
}

void check_variance_threshold(double threshold) {
  if (!(threshold > 0 && std::isfinite(threshold)))
    throw InvalidArgument("--threshold " + num(threshold) +
                          ": expected a positive posterior-variance threshold (the document uses 0.5)");
}

torch::Tensor local_dimension(const torch::Tensor& variances, double threshold) {
  check_variance_threshold(threshold);
  if (variances.dim() != 2)
    throw InvalidArgument("local_dimension: variances of shape " + c10::str(variances.sizes()) + ", expected [n, L]");
  return variances.lt(threshold).sum(1).to(torch::kInt64);
}

namespace {
DimStats stats_of(const std::vector<double>& v) {
  DimStats s;
  s.n = static_cast<std::int64_t>(v.size());
  if (v.empty()) return s;
  for (double x : v) s.mean += x;
  s.mean /= double(v.size());
  if (v.size() > 1) {
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.std = std::sqrt(ss / double(v.size() - 1));
  }
  return s;
}
nlohmann::json stats_json(const DimStats& s) { return {{"mean", s.mean}, {"std", s.std}, {"n", s.n}}; }
}  // namespace

LocalDimSummary summarise_local_dimension(const torch::Tensor& dims, const torch::Tensor& labels) {
  if (dims.dim() != 1 || labels.dim() != 1 || dims.size(0) != labels.size(0))
    throw InvalidArgument("summarise_local_dimension: " + c10::str(dims.sizes()) + " dimensions and " +
                          c10::str(labels.sizes()) + " labels, expected two vectors of the same length");
  const auto d = dims.to(torch::kCPU, torch::kInt64).contiguous();
  const auto y = labels.to(torch::kCPU, torch::kInt64).contiguous();
  std::vector<double> all;
  std::map<int, std::vector<double>> by;
  for (std::int64_t i = 0; i < d.size(0); ++i) {
    const double v = double(d[i].item<std::int64_t>());
    all.push_back(v);
    by[static_cast<int>(y[i].item<std::int64_t>())].push_back(v);
  }
  LocalDimSummary s;
  s.all = stats_of(all);
  for (const auto& [c, v] : by) s.per_class[c] = stats_of(v);
  return s;
}

nlohmann::json LocalDimSummary::to_json() const {
  nlohmann::json j = stats_json(all);
  j["per_class"] = nlohmann::json::object();
  for (const auto& [c, s] : per_class) j["per_class"][std::to_string(c)] = stats_json(s);
  return j;
}

}  // namespace rbsm::nn
