#include "rbsm/nn/train.hpp"

#include <chrono>
#include <cmath>
#include <optional>
#include <sstream>

#include <ATen/CPUGeneratorImpl.h>

#include "checkpoint_io.hpp"

#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/io/json_read.hpp"
#include "rbsm/io/table.hpp"
#include "rbsm/nn/checkpoint.hpp"
#include "rbsm/nn/schedule.hpp"
#include "rbsm/random.hpp"

namespace rbsm::nn {
namespace fs = std::filesystem;

// ------------------------------------------------------------------ options
void TrainOptions::validate() const {
  auto bad = [](const std::string& what) { throw InvalidArgument(what); };
  if (steps() < 1) bad("--steps " + std::to_string(steps()) + ": expected at least 1 training step");
  if (batch_size() < 1) bad("--batch " + std::to_string(batch_size()) + ": expected a batch size >= 1");
  if (!(lr() > 0 && std::isfinite(lr()))) bad("--lr " + std::to_string(lr()) + ": expected a positive learning rate");
  if (warmup() < 0) bad("warmup " + std::to_string(warmup()) + ": expected >= 0");
  if (!(grad_clip() >= 0)) bad("grad_clip " + std::to_string(grad_clip()) + ": expected >= 0");
  if (!(ema_decay() >= 0 && ema_decay() < 1))
    bad("--ema " + std::to_string(ema_decay()) + ": expected a decay in [0, 1)");
  if (checkpoint_every() < 1) bad("--checkpoint-every " + std::to_string(checkpoint_every()) + ": expected >= 1");
  if (log_every() < 1) bad("log_every " + std::to_string(log_every()) + ": expected >= 1");
  if (!(t_min() > 0 && t_min() < 1)) bad("t_min " + std::to_string(t_min()) + ": expected (0, 1)");
}

nlohmann::json TrainOptions::to_json() const {
  return {{"steps", steps()},
          {"batch_size", batch_size()},
          {"lr", lr()},
          {"warmup", warmup()},
          {"grad_clip", grad_clip()},
          {"ema_decay", ema_decay()},
          {"checkpoint_every", checkpoint_every()},
          {"log_every", log_every()},
          {"t_min", t_min()},
          {"seed", seed()},
          {"data", data()}};
}

TrainOptions TrainOptions::from_json(const nlohmann::json& j) {
  try {
    TrainOptions o;
    o.steps(io::json_get<std::int64_t>(j, "steps"))
        .batch_size(io::json_get<std::int64_t>(j, "batch_size"))
        .lr(io::json_get<double>(j, "lr"))
        .warmup(io::json_get<std::int64_t>(j, "warmup"))
        .grad_clip(io::json_get<double>(j, "grad_clip"))
        .ema_decay(io::json_get<double>(j, "ema_decay"))
        .checkpoint_every(io::json_get<std::int64_t>(j, "checkpoint_every"))
        .log_every(io::json_get<std::int64_t>(j, "log_every"))
        .t_min(io::json_get<double>(j, "t_min"))
        .seed(io::json_get<std::uint64_t>(j, "seed"))
        .data(io::json_get_or(j, "data", std::string()));
    return o;
  } catch (const std::exception& e) {  // the JSON kinds (io::json_get) and the values (validate)
    throw IoError(std::string("malformed training options: ") + e.what());
  }
}

double learning_rate_at(const TrainOptions& options, std::int64_t step) {
  return options.lr() * warmup_factor(step, options.warmup());
}

double ema_decay_at(const TrainOptions& options, std::int64_t step) { return ema_decay(options.ema_decay(), step); }

// ------------------------------------------------------------------ data order and noise: pure in (seed, step)
namespace {
std::vector<std::int64_t> permutation(std::uint64_t seed, std::int64_t epoch, std::int64_t n) {
  std::vector<std::int64_t> p(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) p[i] = i;
  Rng rng(seed, 2 * static_cast<std::uint64_t>(epoch));  // even streams: permutations
  for (std::int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(i + 1));
    std::swap(p[i], p[j]);
  }
  return p;
}
std::uint64_t noise_seed(std::uint64_t seed, std::int64_t step) {
  Rng rng(seed, 2 * static_cast<std::uint64_t>(step) + 1);  // odd streams: per-step noise
  return rng();
}
}  // namespace

std::vector<std::int64_t> batch_indices(std::uint64_t seed, std::int64_t step, std::int64_t batch_size,
                                        std::int64_t n) {
  if (n < 1 || batch_size < 1) throw InvalidArgument("batch_indices: empty data set or batch");
  std::vector<std::int64_t> idx(static_cast<std::size_t>(batch_size));
  std::int64_t epoch = -1;
  std::vector<std::int64_t> perm;
  for (std::int64_t j = 0; j < batch_size; ++j) {
    const std::int64_t p = step * batch_size + j;
    if (p / n != epoch) {
      epoch = p / n;
      perm = permutation(seed, epoch, n);
    }
    idx[j] = perm[p % n];
  }
  return idx;
}

// ------------------------------------------------------------------ metrics.csv
namespace {
const std::vector<std::string> kMetricColumns{"step", "loss", "loss_avg", "lr", "seconds"};

std::vector<std::vector<double>> read_metrics(const fs::path& file, std::int64_t up_to_step) {
  std::vector<std::vector<double>> rows;
  if (!fs::exists(file)) return rows;
  for (auto& row : io::read_csv_numbers(file))
    if (row.size() == kMetricColumns.size() && row[0] <= static_cast<double>(up_to_step))
      rows.push_back(std::move(row));
  return rows;
}

void write_metrics(const fs::path& file, const std::vector<std::vector<double>>& rows) {
  io::Table table(kMetricColumns);
  for (const auto& r : rows) table.add_row(r);
  table.save(file);
}

void check_data(const torch::Tensor& images01, const UNetOptions& arch) {
  const auto s = arch.image_size();
  if (!images01.defined() || images01.dim() != 4 || images01.size(0) < 1 || images01.size(1) != arch.in_channels() ||
      images01.size(2) != s || images01.size(3) != s)
    throw InvalidArgument("training data of shape " + (images01.defined() ? c10::str(images01.sizes()) : "[]") +
                          ", expected [n >= 1, " + std::to_string(arch.in_channels()) + ", " + std::to_string(s) +
                          ", " + std::to_string(s) + "]");
  if (!torch::isfinite(images01).all().item<bool>() || images01.min().item<double>() < 0.0 ||
      images01.max().item<double>() > 1.0)
    throw InvalidArgument("training data: pixel values must be finite and in [0, 1]");
}
}  // namespace

// ------------------------------------------------------------------ the loop
TrainResult train_score_model(const torch::Tensor& images01, const UNetOptions& unet, const VPSDE& sde_in,
                              const TrainOptions& options_in, const fs::path& out, torch::Device device, bool resume,
                              const TrainHooks& hooks, World world) {
  options_in.validate();
  TrainOptions opt = options_in;
  UNetOptions arch = unet;
  VPSDE sde = sde_in;
  std::optional<detail::OpenedCheckpoint> ckpt;
  TrainResult result;
  const fs::path ckpt_file = out / "checkpoint.pt";
  if (resume) {
    ckpt = detail::open_checkpoint(resolve_checkpoint(out), kScoreModelFormat, "score-model");
    try {
      arch = UNetOptions::from_json(ckpt->config.at("unet"));
      sde.beta_min = ckpt->config.at("sde").at("beta_min").get<double>();
      sde.beta_max = ckpt->config.at("sde").at("beta_max").get<double>();
      opt = TrainOptions::from_json(ckpt->config.at("train"))
                .steps(options_in.steps())
                .checkpoint_every(options_in.checkpoint_every());
    } catch (const std::exception& e) {  // the JSON kinds (io::json_get) and the option values
      throw IoError("checkpoint " + ckpt_file.string() + " has a malformed config (" + e.what() + ")");
    }
    result.start_step = detail::checkpoint_step(*ckpt);
    if (result.start_step >= opt.steps())
      throw InvalidArgument("--steps " + std::to_string(opt.steps()) + ": the checkpoint in " + out.string() +
                            " is already at step " + std::to_string(result.start_step) +
                            " (expected a larger total to resume)");
  }
  arch.validate();
  sde.validate();
  check_data(images01, arch);

  // The initial weights are a function of the seed too (LibTorch's initialisers draw from the global
  // generator, so it is seeded here, from a stream the data order and noise never use).
  torch::manual_seed(Rng(opt.seed(), ~std::uint64_t{0})());
  UNet model(arch), ema(arch);
  {
    torch::NoGradGuard no_grad;
    auto src = model->parameters();
    auto dst = ema->parameters();
    for (std::size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
  }
  for (auto& p : ema->parameters()) p.set_requires_grad(false);
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(opt.lr()));
  if (ckpt) {
    detail::read_module(*ckpt, "model", *model);
    detail::read_module(*ckpt, "ema", *ema);
    detail::read_optimizer(*ckpt, adam);
  }
  model->to(device);
  ema->to(device);
  for (auto& group : adam.param_groups())  // optimiser moments follow the parameters' device
    for (auto& p : group.params()) {
      auto it = adam.state().find(c10::guts::to_string(p.unsafeGetTensorImpl()));
      if (it == adam.state().end()) continue;
      auto& st = static_cast<torch::optim::AdamParamState&>(*it->second);
      st.exp_avg(st.exp_avg().to(device));
      st.exp_avg_sq(st.exp_avg_sq().to(device));
      if (st.max_exp_avg_sq().defined()) st.max_exp_avg_sq(st.max_exp_avg_sq().to(device));
    }
  model->train();

  const torch::Tensor data = to_model_space(images01.to(torch::kFloat32).contiguous()).to(device);
  const std::int64_t n = data.size(0), B = opt.batch_size();
  const bool root = world.is_root();
  const Shard shard = batch_shard(B, world.rank(), world.size());  // this rank's rows of every batch
  const double share = static_cast<double>(shard.size()) / static_cast<double>(B);
  const fs::path metrics_file = out / "metrics.csv";
  auto metrics = resume ? read_metrics(metrics_file, result.start_step) : std::vector<std::vector<double>>{};
  const double seconds_before = metrics.empty() ? 0.0 : metrics.back()[4];
  const auto t0 = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return seconds_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };

  nlohmann::json config{{"format_version", 1},
                        {"unet", arch.to_json()},
                        {"sde", {{"beta_min", sde.beta_min}, {"beta_max", sde.beta_max}}},
                        {"train", opt.to_json()},
                        {"seed", opt.seed()},
                        {"parametrisation", "eps (score = -eps / sigma_t)"},
                        {"data_scaling", "x = 2 u - 1, u in [0, 1]"}};
  std::int64_t step = result.start_step;
  auto save = [&](std::int64_t at_step) {
    result.checkpoint = ckpt_file;
    if (!root) return;
    config["step"] = at_step;
    detail::write_checkpoint(ckpt_file, config, *model, *ema, adam);
    write_metrics(metrics_file, metrics);
    if (hooks.on_checkpoint) hooks.on_checkpoint(step, ckpt_file);
  };
  const auto kept = [&] {
    return fs::exists(ckpt_file) ? "the last good checkpoint " + ckpt_file.string() + " is kept"
                                 : std::string("no checkpoint was written yet");
  };

  double window_sum = 0.0;
  std::int64_t window_n = 0;
  for (; step < opt.steps(); ++step) {
    const bool stop_here = hooks.should_stop && hooks.should_stop();
    if (stop_here && world.size() == 1) {
      result.stopped = true;
      break;
    }
    // Step k's whole batch and noise, as one process draws them; this rank keeps rows [begin, end).
    const auto idx_all = batch_indices(opt.seed(), step, B, n);
    const std::vector<std::int64_t> idx(idx_all.begin() + shard.begin, idx_all.begin() + shard.end);
    const auto x0 = data.index_select(0, torch::tensor(idx, torch::kInt64).to(device));
    const std::uint64_t s = noise_seed(opt.seed(), step);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(s);
    const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
    const auto t_all = at::rand({B}, gen, f32);
    const auto noise_all = at::randn({B, data.size(1), data.size(2), data.size(3)}, gen, f32);
    const auto t = (t_all.slice(0, shard.begin, shard.end) * (1.0 - opt.t_min()) + opt.t_min()).to(device);
    const auto noise = noise_all.slice(0, shard.begin, shard.end).to(device);
    if (arch.dropout() > 0) torch::manual_seed(s);  // dropout draws from the global generator

    // The single-process mean loss is sum_r (B_r / B) mean_r: each rank backpropagates its term and the
    // gradients (with the loss and the stop flags) are summed over the ranks.
    auto loss = torch::mse_loss(model->forward(sde.perturb(x0, t, noise), t), noise);
    adam.zero_grad();
    const ReducedStep reduced = reduced_backward(world, loss, share, model->parameters(), stop_here, [&] {
      return "training stopped at step " + std::to_string(step + 1) + ", " + kept();
    });
    if (reduced.stop) {
      result.stopped = true;
      break;
    }
    const double loss_value = reduced.loss;
    if (!std::isfinite(loss_value))
      throw NumericalError("training loss is " + std::to_string(loss_value) + " at step " + std::to_string(step + 1) +
                           " (lr " + std::to_string(learning_rate_at(opt, step)) + "); stopped, " + kept());
    if (opt.grad_clip() > 0) torch::nn::utils::clip_grad_norm_(model->parameters(), opt.grad_clip());
    const double lr = learning_rate_at(opt, step);
    for (auto& group : adam.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
    adam.step();
    {
      torch::NoGradGuard no_grad;
      const double d = ema_decay_at(opt, step);
      auto src = model->parameters();
      auto dst = ema->parameters();
      for (std::size_t i = 0; i < src.size(); ++i) dst[i].mul_(d).add_(src[i], 1.0 - d);
    }
    result.last_loss = loss_value;
    window_sum += loss_value;
    ++window_n;
    const std::int64_t done = step + 1;
    if (done % opt.log_every() == 0 || done == opt.steps()) {
      metrics.push_back({static_cast<double>(done), loss_value, window_sum / window_n, lr, seconds()});
      window_sum = 0.0;
      window_n = 0;
    }
    if (hooks.on_step) hooks.on_step(done, loss_value, lr);
    if (done % opt.checkpoint_every() == 0 && done < opt.steps()) save(done);
  }
  save(step);
  world.barrier();  // the other ranks return once rank 0's checkpoint is on disk
  result.step = step;
  result.seconds = seconds() - seconds_before;
  result.all_reduce_seconds = world.all_reduce_seconds();
  result.wait_seconds = world.wait_seconds();
  return result;
}

}  // namespace rbsm::nn
