#include "rbsm/nn/checkpoint.hpp"

#include <string>

#include "checkpoint_io.hpp"

#include "rbsm/error.hpp"
#include "rbsm/io/checkpoint_header.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/io/json_read.hpp"
#include "rbsm/io/zip_check.hpp"
#include "rbsm/nn/unet.hpp"

namespace rbsm::nn {
namespace fs = std::filesystem;

namespace {
std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }
}  // namespace

// ------------------------------------------------------------------ archive plumbing
namespace detail {

void load_verified(torch::serialize::InputArchive& archive, const fs::path& file, const std::string& what) {
  archive.load_from(file.string());
  io::verify_zip_checksums(file, what);
}

OpenedCheckpoint open_checkpoint(const fs::path& file, const std::string& format_tag, const std::string& kind) {
  OpenedCheckpoint ckpt;
  ckpt.path = file;
  if (!fs::is_regular_file(file)) throw IoError("checkpoint " + file.string() + " does not exist");
  try {
    load_verified(ckpt.archive, file, "checkpoint");
  } catch (const c10::Error& e) {
    throw IoError("checkpoint " + file.string() + " is truncated or corrupt (" +
                  first_line(e.what_without_backtrace()) + ")");
  }
  // LibTorch reads the format tag and the config text; io::check_checkpoint_format and
  // io::parse_checkpoint_config (torch-free, fuzzed: fuzz/fuzz_checkpoint_header.cpp) do the rest.
  c10::IValue format, config;
  std::optional<std::string> format_text, config_text;
  try {
    if (ckpt.archive.try_read("format", format) && format.isString()) format_text = format.toStringRef();
    io::check_checkpoint_format(format_text, format_tag, kind, file.string());
    if (ckpt.archive.try_read("config", config) && config.isString()) config_text = config.toStringRef();
  } catch (const c10::Error& e) {
    throw IoError("checkpoint " + file.string() + " is corrupt (" + first_line(e.what_without_backtrace()) + ")");
  }
  ckpt.config = io::parse_checkpoint_config(config_text, file.string());
  return ckpt;
}

void read_module(OpenedCheckpoint& ckpt, const std::string& key, torch::nn::Module& module) {
  torch::serialize::InputArchive sub;
  try {
    if (!ckpt.archive.try_read(key, sub)) throw IoError("checkpoint " + ckpt.path.string() + " has no '" + key + "'");
    torch::NoGradGuard no_grad;
    auto copy_all = [&](const torch::OrderedDict<std::string, torch::Tensor>& named, bool buffers) {
      for (const auto& item : named) {
        torch::Tensor stored;
        if (!sub.try_read(item.key(), stored, buffers))
          throw IoError("checkpoint " + ckpt.path.string() + " does not fit the architecture: '" + key + "/" +
                        item.key() + "' is missing");
        if (stored.sizes() != item.value().sizes())
          throw IoError("checkpoint " + ckpt.path.string() + " does not fit the architecture: '" + key + "/" +
                        item.key() + "' has shape " + c10::str(stored.sizes()) + ", expected " +
                        c10::str(item.value().sizes()));
        item.value().copy_(stored);
      }
    };
    copy_all(module.named_parameters(true), false);
    copy_all(module.named_buffers(true), true);
  } catch (const c10::Error& e) {
    throw IoError("checkpoint " + ckpt.path.string() + " is corrupt (" + first_line(e.what_without_backtrace()) + ")");
  }
}

void read_optimizer(OpenedCheckpoint& ckpt, torch::optim::Optimizer& optimizer) {
  try {
    torch::serialize::InputArchive sub;
    if (!ckpt.archive.try_read("optimizer", sub))
      throw IoError("checkpoint " + ckpt.path.string() + " has no optimiser state (cannot resume)");
    optimizer.load(sub);
  } catch (const c10::Error& e) {
    throw IoError("checkpoint " + ckpt.path.string() + ": optimiser state does not fit (" +
                  first_line(e.what_without_backtrace()) + ")");
  }
}

void write_archive(const fs::path& file, const std::string& format, const nlohmann::json& config,
                   const std::vector<std::pair<std::string, const torch::nn::Module*>>& modules,
                   const torch::optim::Optimizer* optimizer) {
  torch::serialize::OutputArchive archive;
  archive.write("format", c10::IValue(format));
  archive.write("config", c10::IValue(config.dump()));
  // Flat keys ("down0_0_res.conv1.weight"), the names read_module looks up.
  for (const auto& [key, m] : modules) {
    torch::serialize::OutputArchive ar;
    for (const auto& p : m->named_parameters(true)) ar.write(p.key(), p.value().detach());
    for (const auto& b : m->named_buffers(true)) ar.write(b.key(), b.value(), /*is_buffer=*/true);
    archive.write(key, ar);
  }
  if (optimizer) {
    torch::serialize::OutputArchive opt_ar;
    optimizer->save(opt_ar);
    archive.write("optimizer", opt_ar);
  }
  io::atomic_write_with(file, [&](const fs::path& tmp) {
    try {
      archive.save_to(tmp.string());
    } catch (const c10::Error& e) {
      throw IoError("cannot write checkpoint " + file.string() + ": " + first_line(e.what_without_backtrace()));
    }
  });
}

void write_checkpoint(const fs::path& file, const nlohmann::json& config, const torch::nn::Module& model,
                      const torch::nn::Module& ema, const torch::optim::Optimizer& optimizer) {
  write_archive(file, kScoreModelFormat, config, {{"model", &model}, {"ema", &ema}}, &optimizer);
}

std::int64_t checkpoint_step(const OpenedCheckpoint& ckpt) {
  std::int64_t step = 0;
  try {
    step = io::json_get<std::int64_t>(ckpt.config, "step");
  } catch (const IoError& e) {
    throw IoError("checkpoint " + ckpt.path.string() + " has a malformed config (" + e.what() + ")");
  }
  if (step < 0)
    throw IoError("checkpoint " + ckpt.path.string() + " has a malformed config (step " + std::to_string(step) + ")");
  return step;
}

}  // namespace detail

// ------------------------------------------------------------------ inference
fs::path resolve_checkpoint(const fs::path& run_or_file) {
  if (fs::is_directory(run_or_file)) {
    const fs::path f = run_or_file / "checkpoint.pt";
    if (!fs::is_regular_file(f)) throw IoError("run folder " + run_or_file.string() + " has no checkpoint.pt");
    return f;
  }
  if (!fs::exists(run_or_file)) throw IoError("checkpoint " + run_or_file.string() + " does not exist");
  return run_or_file;
}

nlohmann::json read_checkpoint_config(const fs::path& run_or_file) {
  auto ckpt = detail::open_checkpoint(resolve_checkpoint(run_or_file), kScoreModelFormat, "score-model");
  detail::checkpoint_step(ckpt);  // callers resume from config["step"]: it must be a step count
  return ckpt.config;
}

LoadedScoreModel load_score_model(const fs::path& run_or_file, torch::Device device, bool use_ema) {
  auto ckpt = detail::open_checkpoint(resolve_checkpoint(run_or_file), kScoreModelFormat, "score-model");
  LoadedScoreModel m;
  UNetOptions arch;
  try {
    arch = UNetOptions::from_json(ckpt.config.at("unet"));
    m.sde.beta_min = ckpt.config.at("sde").at("beta_min").get<double>();
    m.sde.beta_max = ckpt.config.at("sde").at("beta_max").get<double>();
    m.sde.validate();
  } catch (const nlohmann::json::exception& e) {
    throw IoError("checkpoint " + ckpt.path.string() + " has a malformed config (" + e.what() + ")");
  } catch (const InvalidArgument& e) {
    throw IoError("checkpoint " + ckpt.path.string() + ": " + e.what());
  } catch (const IoError& e) {
    throw IoError("checkpoint " + ckpt.path.string() + ": " + e.what());
  }
  m.step = detail::checkpoint_step(ckpt);
  auto net = std::make_shared<UNetImpl>(arch);
  detail::read_module(ckpt, use_ema ? "ema" : "model", *net);
  net->eval();
  for (auto& p : net->parameters()) p.set_requires_grad(false);
  net->to(device);
  m.net = net;
  m.device = device;
  m.config = ckpt.config;
  m.ema = use_ema;
  m.channels = arch.in_channels();
  m.height = m.width = arch.image_size();
  return m;
}

at::Tensor LoadedScoreModel::eps(const at::Tensor& x, const at::Tensor& t) const {
  if (!net) throw InvalidArgument("score model not loaded");
  if (x.dim() != 4 || x.size(1) != channels || x.size(2) != height || x.size(3) != width)
    throw InvalidArgument("score model input of shape " + c10::str(x.sizes()) + ", expected [n, " +
                          std::to_string(channels) + ", " + std::to_string(height) + ", " + std::to_string(width) +
                          "]");
  return net->forward(x, t.to(x.device(), x.scalar_type()));
}

at::Tensor LoadedScoreModel::score(const at::Tensor& x, const at::Tensor& t) const {
  const auto tt = t.to(x.device(), x.scalar_type());
  return -eps(x, tt) / broadcast_to_batch(sde.sigma(tt), x);
}

at::Tensor LoadedScoreModel::score(const at::Tensor& x, double t) const {
  return score(x, torch::full({x.size(0)}, t, x.options()));
}

ScoreFn LoadedScoreModel::score_fn() const {
  return [model = *this](const at::Tensor& x, const at::Tensor& t) { return model.score(x, t); };
}

std::int64_t LoadedScoreModel::parameter_count() const { return net ? net->parameter_count() : 0; }

}  // namespace rbsm::nn
