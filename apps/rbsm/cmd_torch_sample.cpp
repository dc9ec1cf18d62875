// rbsm sample --checkpoint RUN --n 64 --steps 1000 [--sampler em|pc|ode] --out DIR
//             [--save-trajectory t1,t2,...]: samples images from a trained score model (EMA weights)
// and writes DIR/samples.png (grid), DIR/samples.pt ([n, 1, 28, 28] in [0, 1]) and, with
// --save-trajectory, DIR/trajectory.pt (x_t at those times, model space) with one grid per time.
#include <chrono>

#include "cli.hpp"

#include "rbsm/data/points.hpp"
#include "rbsm/error.hpp"
#include "rbsm/fit/fit.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/io/progress.hpp"
#include "rbsm/io/run_folder.hpp"
#include "rbsm/nn/checkpoint.hpp"
#include "rbsm/nn/device.hpp"
#include "rbsm/nn/sampler.hpp"

namespace rbsm::cli {
namespace {
namespace fs = std::filesystem;

struct SampleCli {
  std::string checkpoint, out, sampler = "em", device = "auto";
  std::int64_t n = 64, steps = 1000, batch = 0, corrector_steps = 1;
  double eps = 1e-3, snr = 0.16;
  std::vector<double> trajectory;
  int cols = 8;
  bool raw = false;
  // manifold runs (rbsm fit)
  std::int64_t steps_per_level = 20, mala_steps = 100;
  double epsilon = 2e-5, mala_step = 0;
  std::string format;
};

/// `sample` on a run of `rbsm fit`: annealed Langevin on M, then MALA against the model density.
json sample_manifold(const SampleCli& o, const Common& common) {
  fit::FitModel model = fit::FitModel::load(o.checkpoint);
  const fs::path run_dir =
      fs::is_directory(o.checkpoint) ? fs::path(o.checkpoint) : fs::path(o.checkpoint).parent_path();
  json saved = json::object();
  if (fs::exists(run_dir / "density.json")) saved = json::parse(io::read_file(run_dir / "density.json"));
  json cfg = json::object();
  if (fs::exists(run_dir / "config.json")) cfg = json::parse(io::read_file(run_dir / "config.json"));
  fit::SampleOptions so;
  so.n = o.n;
  so.steps_per_level = o.steps_per_level;
  so.mala_steps = o.mala_steps;
  so.epsilon = o.epsilon;
  so.mala_step = o.mala_step;
  so.sigma_eval = saved.value("sigma_eval", 0.0);
  so.correction = dsm::parse_correction(saved.value("correction", std::string("none")));
  so.seed = common.seed;
  const data::PointFormat format =
      data::parse_point_format(!o.format.empty() ? o.format : cfg.value("format", std::string("ambient")));
  data::format_columns(format, model.manifold());  // refuse a format that does not fit, before writing
  const int threads = apply_threads(common);
  so.threads = threads;  // MALA's per-chain geometry (the samples do not depend on it)
  io::RunFolder run(o.out, {{"command", "sample"},
                            {"checkpoint", o.checkpoint},
                            {"n", o.n},
                            {"steps_per_level", o.steps_per_level},
                            {"mala_steps", o.mala_steps},
                            {"epsilon", o.epsilon},
                            {"mala_step", o.mala_step},
                            {"format", data::to_string(format)},
                            {"seed", common.seed},
                            {"threads", threads}});
  io::Progress progress("sample", static_cast<std::size_t>(model.options().levels * o.steps_per_level + o.mala_steps));
  const auto t0 = std::chrono::steady_clock::now();
  const fit::SampleResult r = fit::sample_model(model, so, [&](std::int64_t done, std::int64_t total) {
    (void)total;
    progress.update(static_cast<std::size_t>(done));
  });
  progress.finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  data::write_points_csv(run.path("samples.csv"), data::from_manifold_points(r.samples, model.manifold(), format),
                         data::format_header(format, model.manifold()));
  run.log("sample: " + std::to_string(o.n) + " samples on " + model.manifold().spec() + " in " + fmt(seconds, 3) +
          " s, MALA acceptance " + fmt(r.acceptance_rate, 3));
  return {{"out", run.dir().string()},
          {"samples", run.path("samples.csv").string()},
          {"n", o.n},
          {"acceptance_rate", r.acceptance_rate},
          {"sigma_eval", so.sigma_eval},
          {"seconds", seconds}};
}

Register reg(
    "sample", "Sample images from a trained score model (Euler-Maruyama, predictor-corrector or probability-flow ODE)",
    [](CLI::App& app, const Common& common) -> Runner {
      auto o = std::make_shared<SampleCli>();
      app.add_option("--checkpoint", o->checkpoint, "run folder of `rbsm train` or a checkpoint.pt")->required();
      app.add_option("--out", o->out, "output folder")->required();
      app.add_option("--n", o->n, "number of samples")->capture_default_str();
      app.add_option("--steps", o->steps, "predictor steps from t = 1 to t = eps")->capture_default_str();
      app.add_option("--sampler", o->sampler, "em (Euler-Maruyama) | pc (predictor-corrector) | ode (probability flow)")
          ->capture_default_str();
      app.add_option("--eps", o->eps, "final time")->capture_default_str();
      app.add_option("--snr", o->snr, "Langevin corrector signal-to-noise ratio (pc)")->capture_default_str();
      app.add_option("--corrector-steps", o->corrector_steps, "corrector steps per predictor step (pc)")
          ->capture_default_str();
      app.add_option("--save-trajectory", o->trajectory, "keep x_t at these times (e.g. 0.01,0.03,0.05,0.15,0.3)")
          ->delimiter(',');
      app.add_option("--batch", o->batch, "samples per batch (0: all at once)")->capture_default_str();
      app.add_option("--cols", o->cols, "columns of the PNG grid")->capture_default_str();
      app.add_flag("--raw-weights", o->raw, "use the trained weights instead of their EMA");
      app.add_option("--device", o->device, "auto | cpu | cuda[:N]")->capture_default_str();
      app.add_option("--steps-per-level", o->steps_per_level, "manifold runs: annealed Langevin steps per noise level")
          ->capture_default_str();
      app.add_option("--mala-steps", o->mala_steps, "manifold runs: MALA steps against the model density")
          ->capture_default_str();
      app.add_option("--epsilon", o->epsilon, "manifold runs: annealed step h = epsilon (sigma / sigma_min)^2")
          ->capture_default_str();
      app.add_option("--mala-step", o->mala_step, "manifold runs: MALA step (0: sigma_eval^2 / 2)")
          ->capture_default_str();
      app.add_option("--format", o->format, "manifold runs: format of samples.csv (default: the data's)");
      return [o, &common]() -> json {
        // image-model options are checked before the checkpoint is opened (whatever kind it is)
        const auto opts = nn::SamplerOptions()
                              .kind(nn::parse_sampler(o->sampler))
                              .steps(o->steps)
                              .eps(o->eps)
                              .snr(o->snr)
                              .corrector_steps(o->corrector_steps)
                              .snapshot_times(o->trajectory);
        opts.validate();
        if (fit::is_fit_checkpoint(o->checkpoint)) return sample_manifold(*o, common);
        const torch::Device device = nn::parse_device(o->device);
        if (o->n < 1) throw InvalidArgument("--n " + std::to_string(o->n) + ": expected at least 1 sample");
        if (o->batch < 0) throw InvalidArgument("--batch " + std::to_string(o->batch) + ": expected >= 0");
        if (o->cols < 1) throw InvalidArgument("--cols " + std::to_string(o->cols) + ": expected >= 1");
        const auto model = nn::load_score_model(o->checkpoint, device, !o->raw);  // before writing anything
        const int threads = apply_threads(common);
        io::RunFolder run(o->out, {{"command", "sample"},
                                   {"checkpoint", o->checkpoint},
                                   {"checkpoint_step", model.step},
                                   {"ema", !o->raw},
                                   {"n", o->n},
                                   {"steps", o->steps},
                                   {"sampler", o->sampler},
                                   {"eps", o->eps},
                                   {"snr", o->snr},
                                   {"corrector_steps", o->corrector_steps},
                                   {"save_trajectory", o->trajectory},
                                   {"seed", common.seed},
                                   {"threads", threads},
                                   {"device", device.str()}});
        const std::int64_t per_batch = o->batch == 0 ? o->n : std::min(o->batch, o->n);
        io::Progress progress("sample", static_cast<std::size_t>((o->n + per_batch - 1) / per_batch * o->steps));
        const auto t0 = std::chrono::steady_clock::now();
        nn::Trajectory traj;
        const auto images = nn::sample_images(
            model, o->n, opts, common.seed, &traj, o->batch,
            [&](std::int64_t done, std::int64_t) { progress.update(static_cast<std::size_t>(done)); });
        progress.finish();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        nn::write_sample_grid(run.path("samples.png"), images, o->cols);
        io::atomic_write_with(run.path("samples.pt"), [&](const fs::path& tmp) { torch::save(images, tmp.string()); });
        json result{{"out", run.dir().string()},
                    {"samples_png", run.path("samples.png").string()},
                    {"samples", run.path("samples.pt").string()},
                    {"n", o->n},
                    {"sampler", o->sampler},
                    {"steps", o->steps},
                    {"checkpoint_step", model.step},
                    {"seconds", seconds},
                    {"ms_per_step", 1e3 * seconds / static_cast<double>(o->steps)}};
        if (!o->trajectory.empty()) {
          nn::save_trajectory(run.path("trajectory.pt"), traj, images);
          json grids = json::array();
          for (std::size_t k = 0; k < traj.times.size(); ++k) {
            const std::string name = "trajectory_t" + fmt(traj.requested_times[k], 3) + ".png";
            nn::write_sample_grid(run.path(name), nn::to_image_space(traj.states[k]), o->cols);
            grids.push_back(name);
          }
          result["trajectory"] = run.path("trajectory.pt").string();
          result["trajectory_times"] = traj.times;
          result["trajectory_pngs"] = grids;
        }
        run.log("sample: " + std::to_string(o->n) + " samples (" + o->sampler + ", " + std::to_string(o->steps) +
                " steps) in " + fmt(seconds, 3) + " s -> " + (run.final_dir() / "samples.png").string());
        return result;
      };
    });

}  // namespace
}  // namespace rbsm::cli
