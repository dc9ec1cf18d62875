#include "rbsm/nn/mlp.hpp"

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "checkpoint_io.hpp"

#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/io/json_read.hpp"
#include "rbsm/nn/eigen_tensor.hpp"
#include "rbsm/nn/schedule.hpp"
#include "rbsm/random.hpp"
#include "rbsm/sampling/drifts.hpp"

namespace rbsm::nn {

using geometry::Mat;
using geometry::Vec;

void MLPOptions::validate() const {
  if (in() < 1 || out() < 1 || hidden() < 1 || layers() < 1)
    throw InvalidArgument("MLP: in, out, hidden and layers must be >= 1, got " + to_json().dump());
}

nlohmann::json MLPOptions::to_json() const {
  return {{"in", in()}, {"out", out()}, {"hidden", hidden()}, {"layers", layers()}};
}

MLPOptions MLPOptions::from_json(const nlohmann::json& j) {
  try {
    MLPOptions o;
    o.in(io::json_get<std::int64_t>(j, "in")).out(io::json_get<std::int64_t>(j, "out"));
    o.hidden(io::json_get<std::int64_t>(j, "hidden")).layers(io::json_get<std::int64_t>(j, "layers"));
    o.validate();
    return o;
  } catch (const std::exception& e) {  // the JSON kinds (io::json_get) and the values (validate)
    throw IoError(std::string("malformed MLP description: ") + e.what());
  }
}

MLPImpl::MLPImpl(const MLPOptions& o) : options(o) {
  o.validate();
  std::int64_t width = o.in();
  for (std::int64_t l = 0; l < o.layers(); ++l) {
    linears->push_back(torch::nn::Linear(width, o.hidden()));
    width = o.hidden();
  }
  linears->push_back(torch::nn::Linear(width, o.out()));
  register_module("linears", linears);
  to(torch::kDouble);  // float64 throughout: checkpoints and the Eigen copies are exact
}

torch::Tensor MLPImpl::forward(torch::Tensor x) {
  const std::size_t n = linears->size();
  for (std::size_t i = 0; i < n; ++i) {
    x = linears[i]->as<torch::nn::Linear>()->forward(x);
    if (i + 1 < n) x = torch::silu(x);
  }
  return x;
}

void save_mlp(const std::filesystem::path& file, MLP& model, const nlohmann::json& config) {
  torch::serialize::OutputArchive archive, weights;
  archive.write("format", c10::IValue(std::string(kMlpFormat)));
  archive.write("options", c10::IValue(model->options.to_json().dump()));
  archive.write("config", c10::IValue(config.dump()));
  model->save(weights);
  archive.write("weights", weights);
  io::atomic_write_with(file, [&](const std::filesystem::path& tmp) {
    try {
      archive.save_to(tmp.string());
    } catch (const c10::Error& e) {
      throw IoError("cannot write MLP checkpoint " + file.string() + ": " + e.what_without_backtrace());
    }
  });
}

MLP load_mlp(const std::filesystem::path& file, nlohmann::json* config) {
  if (!std::filesystem::is_regular_file(file)) throw IoError("MLP checkpoint " + file.string() + " does not exist");
  torch::serialize::InputArchive archive;
  try {
    detail::load_verified(archive, file, "MLP checkpoint");
  } catch (const c10::Error&) {
    throw IoError("MLP checkpoint " + file.string() + " is truncated or not a LibTorch archive");
  }
  c10::IValue format, options, cfg;
  if (!archive.try_read("format", format) || !format.isString() || format.toStringRef() != kMlpFormat)
    throw IoError(file.string() + " is not an rbsm MLP checkpoint (format " + kMlpFormat + ")");
  if (!archive.try_read("options", options) || !archive.try_read("config", cfg))
    throw IoError("MLP checkpoint " + file.string() + " has no options or config");
  MLPOptions o;
  try {
    o = MLPOptions::from_json(nlohmann::json::parse(options.toStringRef()));
    if (config) *config = nlohmann::json::parse(cfg.toStringRef());
  } catch (const nlohmann::json::exception& e) {
    throw IoError("MLP checkpoint " + file.string() + ": malformed JSON (" + e.what() + ")");
  }
  MLP model(o);
  torch::serialize::InputArchive weights;
  if (!archive.try_read("weights", weights)) throw IoError("MLP checkpoint " + file.string() + " has no weights");
  try {
    model->load(weights);
  } catch (const c10::Error&) {
    throw IoError("MLP checkpoint " + file.string() + ": weights do not fit " + o.to_json().dump());
  }
  model->eval();
  return model;
}

std::function<Vec(const Vec&)> mlp_field(MLP& model, const geometry::Manifold& manifold) {
  // Eigen copies of the weights: W_l (out x in), b_l.
  struct Layer {
    Mat W;
    Vec b;
  };
  auto layers = std::make_shared<std::vector<Layer>>();
  torch::NoGradGuard guard;
  for (const auto& m : *model->linears) {
    auto lin = m->as<torch::nn::Linear>();
    Layer L;
    L.W = to_eigen(lin->weight);
    L.b = to_eigen(lin->bias.unsqueeze(1)).col(0);
    layers->push_back(std::move(L));
  }
  if (layers->front().W.cols() != manifold.ambient_dim() || layers->back().W.rows() != manifold.ambient_dim())
    throw InvalidArgument("MLP has " + std::to_string(layers->front().W.cols()) + " inputs but " + manifold.spec() +
                          " lives in R^" + std::to_string(manifold.ambient_dim()));
  const geometry::Manifold* M = &manifold;
  return [layers, M](const Vec& z) -> Vec {
    Vec x = z;
    for (std::size_t i = 0; i < layers->size(); ++i) {
      x = (*layers)[i].W * x + (*layers)[i].b;
      if (i + 1 < layers->size()) x = x.array() / (1.0 + (-x.array()).exp());  // SiLU
    }
    const Mat E = M->tangent_frame(z);
    return E * (E.transpose() * x);
  };
}

std::function<Vec(const Vec&)> load_mlp_field(const std::filesystem::path& file, const geometry::Manifold& manifold) {
  MLP model = load_mlp(file);
  return mlp_field(model, manifold);
}

void register_model_drifts() {
  sampling::register_drift_family("model", [](const std::string& path, const dist::Density& q, double sigma,
                                              dsm::Correction c, const sampling::DriftOptions& options) {
    const auto field = load_mlp_field(path, q.manifold());
    const std::string suffix = c == dsm::Correction::none ? "" : "+" + dsm::to_string(c);
    return sampling::field_drift("model:" + path + suffix, q.manifold(), field, c, sigma, options);
  });
}

MLP fit_tangent_regression(const Mat& Y, const Mat& T, const geometry::Manifold& manifold, const RegressionOptions& opt,
                           double* final_loss) {
  const std::int64_t n = Y.rows(), D = Y.cols();
  if (n < 1 || T.rows() != n || T.cols() != D || D != manifold.ambient_dim())
    throw InvalidArgument("fit_tangent_regression: Y and T must both be n x D with D = " +
                          std::to_string(manifold.ambient_dim()));
  if (opt.steps < 1 || opt.batch < 1 || !(opt.lr > 0))
    throw InvalidArgument("fit_tangent_regression: steps, batch and lr must be positive");
  torch::manual_seed(opt.seed);
  MLPOptions mo = opt.mlp;
  mo.in(D).out(D);
  MLP model(mo);
  model->to(torch::kDouble);
  // Inputs, targets and tangent projectors as tensors (float64).
  auto y = torch::empty({n, D}, torch::kDouble), t = torch::empty({n, D}, torch::kDouble);
  auto P = torch::empty({n, D, D}, torch::kDouble);
  for (std::int64_t i = 0; i < n; ++i) {
    const Vec yi = Y.row(i).transpose();
    const Mat E = manifold.tangent_frame(yi);
    const Mat Pi = E * E.transpose();
    for (std::int64_t a = 0; a < D; ++a) {
      y[i][a] = yi[a];
      t[i][a] = T(i, a);
      for (std::int64_t b = 0; b < D; ++b) P[i][a][b] = Pi(a, b);
    }
  }
  if (!(opt.validation_fraction >= 0 && opt.validation_fraction < 1) || opt.eval_every < 1)
    throw InvalidArgument("fit_tangent_regression: validation_fraction must be in [0, 1) and eval_every >= 1");
  // Held-out points for early stopping: every k-th point (k = round(1 / fraction)), when that leaves both parts.
  std::vector<std::int64_t> fit_idx, val_idx;
  const std::int64_t k = opt.validation_fraction > 0 ? std::llround(1.0 / opt.validation_fraction) : 0;
  for (std::int64_t i = 0; i < n; ++i) (k > 1 && n >= 2 * k && i % k == k - 1 ? val_idx : fit_idx).push_back(i);
  const std::int64_t n_fit = static_cast<std::int64_t>(fit_idx.size());
  torch::Tensor yv, tv, Pv;
  if (!val_idx.empty()) {
    const auto v = torch::tensor(val_idx, torch::kLong);
    yv = y.index_select(0, v), tv = t.index_select(0, v), Pv = P.index_select(0, v);
  }
  auto validation_loss = [&] {
    torch::NoGradGuard no_grad;
    const auto pred = torch::bmm(Pv, model->forward(yv).unsqueeze(-1)).squeeze(-1);
    return (pred - tv).pow(2).sum(1).mean().item<double>();
  };
  double best = std::numeric_limits<double>::infinity();
  std::vector<torch::Tensor> best_params;
  auto keep_if_best = [&] {
    if (val_idx.empty()) return;
    const double v = validation_loss();
    if (v < best) {
      best = v;
      torch::NoGradGuard no_grad;
      best_params.clear();
      for (const auto& p : model->parameters()) best_params.push_back(p.detach().clone());
    }
  };

  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(opt.lr));
  const std::int64_t batch = std::min(opt.batch, n_fit);
  double tail = 0;
  std::int64_t tail_n = 0;
  for (std::int64_t step = 0; step < opt.steps; ++step) {
    if (step % opt.eval_every == 0) keep_if_best();
    Rng rng(opt.seed, static_cast<std::uint64_t>(step) + 1);
    auto idx = torch::empty({batch}, torch::kLong);
    for (std::int64_t b = 0; b < batch; ++b) idx[b] = fit_idx[static_cast<std::size_t>(rng.uniform() * n_fit)];
    const double lr = opt.lr * cosine_factor(static_cast<double>(step) / static_cast<double>(opt.steps));
    for (auto& g : adam.param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
    auto f = model->forward(y.index_select(0, idx));
    auto pred = torch::bmm(P.index_select(0, idx), f.unsqueeze(-1)).squeeze(-1);
    auto loss = (pred - t.index_select(0, idx)).pow(2).sum(1).mean();
    adam.zero_grad();
    loss.backward();
    adam.step();
    const double l = loss.item<double>();
    if (!std::isfinite(l))
      throw NumericalError("fit_tangent_regression: the loss diverged at step " + std::to_string(step));
    if (step >= opt.steps - std::max<std::int64_t>(1, opt.steps / 10)) tail += l, ++tail_n;
  }
  if (final_loss) *final_loss = tail / std::max<std::int64_t>(tail_n, 1);
  keep_if_best();
  if (!best_params.empty()) {
    torch::NoGradGuard no_grad;
    auto params = model->parameters();
    for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(best_params[i]);
  }
  model->eval();
  return model;
}

}  // namespace rbsm::nn
