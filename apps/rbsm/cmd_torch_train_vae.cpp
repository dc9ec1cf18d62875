// rbsm train-vae --data mnist --out RUN [--steps N --batch B --lr LR --latent 100 --threshold 0.5]: trains the
// VAE baseline for local dimension and measures held-out digits (the study: rbsm/nn/vae_study.hpp;
// docs/anatomy.md "VAE baseline").
#include "cli.hpp"

#include "rbsm/error.hpp"
#include "rbsm/io/run_folder.hpp"
#include "rbsm/nn/device.hpp"
#include "rbsm/nn/vae_study.hpp"

namespace rbsm::cli {
namespace {
namespace fs = std::filesystem;

struct TrainVaeOptions {
  std::string data = "mnist", out, device = "cpu";
  std::int64_t steps = 3000, batch = 64, latent = 100, channels = 32, warmup = 100, checkpoint_every = 1000;
  int images = 0;
  double lr = 1e-3, threshold = 0.5, gamma_lr_scale = 1.0;
};

void bind(CLI::App& app, TrainVaeOptions& o) {
  app.add_option("--data", o.data, "mnist | fashion-mnist | PATH (IDX folder)")->capture_default_str();
  app.add_option("--out", o.out, "run folder to create (config.json, metrics.csv, checkpoint.pt, PNGs)")->required();
  app.add_option("--steps", o.steps, "optimiser steps")->capture_default_str();
  app.add_option("--batch", o.batch, "batch size (>= 2)")->capture_default_str();
  app.add_option("--lr", o.lr, "Adam learning rate (after a linear warm-up)")->capture_default_str();
  app.add_option("--warmup", o.warmup, "learning-rate warm-up steps")->capture_default_str();
  app.add_option("--gamma-lr-scale", o.gamma_lr_scale, "the decoder's log gamma learns at lr times this")
      ->capture_default_str();
  app.add_option("--latent", o.latent, "latent dimension L")->capture_default_str();
  app.add_option("--channels", o.channels, "width C of the first convolution (then 2C, 4C)")->capture_default_str();
  app.add_option("--threshold", o.threshold, "posterior variance below which a latent counts as used")
      ->capture_default_str();
  app.add_option("--images", o.images, "held-out images to measure at the end (0: all)")->capture_default_str();
  app.add_option("--checkpoint-every", o.checkpoint_every, "steps between checkpoints")->capture_default_str();
  app.add_option("--device", o.device, "cpu | cuda[:N] | auto")->capture_default_str();
}

json run(const TrainVaeOptions& o, const Common& common) {
  // Everything is checked before anything is read or written.
  const torch::Device device = nn::parse_device(o.device);
  nn::VaeStudyOptions so;
  so.vae = nn::VAEOptions().latent_dim(o.latent).channels(o.channels);
  so.train = nn::VAETrainOptions()
                 .steps(o.steps)
                 .batch_size(o.batch)
                 .lr(o.lr)
                 .warmup(o.warmup)
                 .gamma_lr_scale(o.gamma_lr_scale)
                 .checkpoint_every(o.checkpoint_every)
                 .seed(common.seed)
                 .data(o.data);
  so.report.threshold = o.threshold;
  so.report.seed = common.seed;
  so.vae.validate();
  so.train.validate();
  nn::check_variance_threshold(o.threshold);
  if (o.images < 0) throw InvalidArgument("--images " + std::to_string(o.images) + ": expected >= 0");
  const fs::path out = o.out;
  if (fs::exists(out / "checkpoint.pt"))
    throw InvalidArgument("--out " + o.out + " already holds a checkpoint (choose another folder)");
  const auto train = data::load_dataset(o.data, /*train=*/true);
  const auto heldout = nn::heldout_images(o.data, o.images);
  const int threads = apply_threads(common);

  io::RunFolder run(out,
                    {{"command", "train-vae"},
                     {"data", o.data},
                     {"n_train", train.size()},
                     {"device", device.str()},
                     {"threads", threads},
                     {"vae", so.vae.to_json()},
                     {"train", so.train.to_json()},
                     {"threshold", o.threshold},
                     {"heldout_images", heldout.size()}},
                    io::RunFolder::Placement::in_place);  // keeps its complete checkpoints
  run.log("train-vae: " + std::to_string(train.size()) + " images from " + o.data + ", device " + device.str() + ", " +
          std::to_string(threads) + " threads");
  so.report.title = "VAE baseline, {steps} steps";
  const auto st = nn::vae_study(so, train, heldout, out, out, device, [] { return interrupted().load(); });
  const auto& r = st.train;
  const auto& m = st.measurement;
  if (r.stopped)
    run.log("train-vae: interrupted at step " + std::to_string(r.step) + "; checkpoint saved in " + out.string());
  run.write_json("local_dim.json", m.summary.to_json());
  run.log("train-vae: " + std::to_string(r.step) + " steps in " + fmt(r.seconds, 3) + " s, last -ELBO " +
          fmt(r.last_loss, 4) + "; local dimension " + fmt(m.summary.all.mean, 3) + " +- " + fmt(m.summary.all.std, 2) +
          " over " + std::to_string(heldout.size()) + " held-out images");
  return {{"run", out.string()},
          {"checkpoint", r.checkpoint.string()},
          {"step", r.step},
          {"stopped", r.stopped},
          {"last_loss", r.last_loss},
          {"log_gamma", st.vae.net->log_gamma().item<double>()},
          {"seconds", r.seconds},
          {"parameters", st.vae.net->parameter_count()},
          {"threshold", o.threshold},
          {"images", heldout.size()},
          {"local_dim", m.summary.to_json()}};
}

Register reg("train-vae",
             "Train the VAE baseline (latent 100, Gaussian decoder with learned variance) and measure local dimension",
             [](CLI::App& app, const Common& common) -> Runner {
               auto o = std::make_shared<TrainVaeOptions>();
               bind(app, *o);
               return [o, &common]() -> json { return run(*o, common); };
             });

}  // namespace
}  // namespace rbsm::cli
