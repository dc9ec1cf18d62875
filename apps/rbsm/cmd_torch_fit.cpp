// rbsm fit --data FILE|earth:NAME|synthetic:N --manifold M --out RUN [...]: fits a noise-conditional score
// model to points on M with raw or RB targets, then its exact likelihood at sigma_eval and the KDE
// baseline; writes RUN (config.json, log.txt, metrics.csv, checkpoint.pt, density.json, figures).
// --nproc N trains data-parallel on N local workers (rank 0 then evaluates alone). docs/fit.md,
// docs/distributed.md.
#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>

#include "cli.hpp"
#include "distributed_cli.hpp"

#include "rbsm/error.hpp"
#include "rbsm/fit/study.hpp"
#include "rbsm/io/progress.hpp"
#include "rbsm/io/run_folder.hpp"
#include "rbsm/io/table.hpp"

namespace rbsm::cli {
namespace {
namespace fs = std::filesystem;

struct FitCli {
  fit::DataSpec data;
  fit::FitOptions fit;
  std::string format = "ambient", parametrisation = "energy", target = "rb", correction = "none", split_by, out, resume;
  double sigma_eval = 0, normaliser_tol = 1e-4;
  bool no_kde = false;
  DistributedCli dist;
};

void add_fit_options(CLI::App& app, FitCli& o) {
  app.add_option("--data", o.data.data, "FILE (CSV/TSV/.npy), earth:volcano|earthquake|flood|fire, or synthetic:N");
  app.add_option("--manifold", o.fit.manifold, "the manifold the data lie on")->capture_default_str();
  app.add_option("--format", o.format, "ambient | latlon | angles | quaternion | matrix (earth: latlon)")
      ->capture_default_str();
  app.add_option("--tolerance", o.data.points.tolerance, "largest accepted distance of a row from M")
      ->capture_default_str();
  app.add_flag("--project", o.data.points.project, "project rows onto M instead of refusing off-manifold rows");
  app.add_option("--dist", o.data.dist, "the density of synthetic:N data (e.g. vmf:kappa=10)");
  app.add_option("--split", o.data.split, "train,val,test fractions")->delimiter(',')->capture_default_str();
  app.add_option("--split-seed", o.data.split_seed, "seed of the random split")->capture_default_str();
  app.add_option("--split-by", o.split_by, "location: all copies of a location on one side of the split");
  app.add_option("--val", o.data.val_file, "explicit validation file (with --test; --data is then the training set)");
  app.add_option("--test", o.data.test_file, "explicit test file");
  app.add_option("--parametrisation", o.parametrisation, "energy (a density) | vector")->capture_default_str();
  app.add_option("--width", o.fit.net.width, "hidden width")->capture_default_str();
  app.add_option("--depth", o.fit.net.depth, "residual blocks")->capture_default_str();
  app.add_option("--frequencies", o.fit.net.frequencies, "sinusoidal frequencies of log sigma")->capture_default_str();
  app.add_option("--fourier-features", o.fit.net.fourier_features,
                 "N random Fourier features sin/cos(B x) of the input, B ~ N(0, S^2) fixed (0: none)")
      ->capture_default_str();
  app.add_option("--fourier-scale", o.fit.net.fourier_scale, "S, the scale of B (peaks ~1/S wide)")
      ->capture_default_str();
  app.add_option("--target", o.target, "raw | rb (leave-one-out RB target from the training split)")
      ->capture_default_str();
  app.add_option("--sigma-min", o.fit.sigma_min, "smallest noise level")->capture_default_str();
  app.add_option("--sigma-max", o.fit.sigma_max, "largest noise level")->capture_default_str();
  app.add_option("--levels", o.fit.levels, "log-spaced noise levels")->capture_default_str();
  app.add_option("--level-power", o.fit.level_power, "level l drawn with probability ~ sigma_l^-POWER (0: uniform)")
      ->capture_default_str();
  app.add_option("--spread", o.fit.spread, "rb: noisy points at spread x sigma, RB target at sigma (1: plain)")
      ->capture_default_str();
  app.add_flag("--no-leave-one-out{false}", o.fit.leave_one_out,
               "rb: keep each example's own point among the RB references (default: left out)");
  app.add_option("--steps", o.fit.steps, "optimiser steps (a resumed run continues up to this)")->capture_default_str();
  app.add_option("--batch", o.fit.batch, "batch size")->capture_default_str();
  app.add_option("--lr", o.fit.lr, "Adam learning rate (warm-up, cosine decay to 10%)")->capture_default_str();
  app.add_option("--ema", o.fit.ema_decay, "EMA decay")->capture_default_str();
  app.add_option("--eval-every", o.fit.eval_every, "steps between validation losses")->capture_default_str();
  app.add_option("--patience", o.fit.patience, "early stopping: evaluations without improvement (0: off)")
      ->capture_default_str();
  app.add_option("--checkpoint-every", o.fit.checkpoint_every, "steps between checkpoints")->capture_default_str();
  app.add_option("--correction", o.correction, "none | extrinsic | geometric | full (of the energy)")
      ->capture_default_str();
  app.add_option("--sigma-eval", o.sigma_eval, "noise level of the density (default: chosen on validation)");
  app.add_option("--normaliser-tol", o.normaliser_tol, "error target of log Z (relative error of Z)")
      ->capture_default_str();
  app.add_flag("--no-kde", o.no_kde, "skip the KDE baseline");
  app.add_option("--out", o.out, "run folder to create");
  app.add_option("--resume", o.resume, "continue the run in this folder");
  add_distributed_options(app, o.dist);
}

Register reg(
    "fit", "Fit a score model to points on a manifold (raw or RB targets), with its exact likelihood",
    [](CLI::App& app, const Common& common) -> Runner {
      auto o = std::make_shared<FitCli>();
      add_fit_options(app, *o);
      return [o, &common]() -> json {
        FitCli& c = *o;
        c.fit.seed = common.seed;
        c.fit.threads = common.threads;
        c.fit.net.parametrisation = fit::parse_parametrisation(c.parametrisation);
        c.fit.target = fit::parse_target(c.target);
        const dsm::Correction correction = dsm::parse_correction(c.correction);
        if (!c.split_by.empty() && c.split_by != "location")
          throw InvalidArgument("--split-by " + c.split_by + ": expected location");
        c.data.by_location = c.split_by == "location";
        if (c.data.data.rfind("earth:", 0) == 0 && c.format == "ambient") c.format = "latlon";
        c.data.points.format = data::parse_point_format(c.format);
        if (!(c.sigma_eval >= 0) || !std::isfinite(c.sigma_eval)) throw InvalidArgument("--sigma-eval must be >= 0");
        const auto M = geometry::make_manifold(c.fit.manifold);
        c.fit.net.dim = M->ambient_dim();
        c.fit.validate();
        const bool resume = !c.resume.empty();
        if (resume && !c.out.empty() && fs::path(c.out) != fs::path(c.resume))
          throw InvalidArgument("--out and --resume name different folders (a resumed run continues in its own)");
        const fs::path out = resume ? fs::path(c.resume) : fs::path(c.out);
        if (out.empty()) throw InvalidArgument("--out RUN is required (or --resume RUN)");
        if (!resume && fs::exists(out / "checkpoint.pt"))
          throw InvalidArgument("--out " + out.string() + " already holds a checkpoint (continue it with --resume)");
        if (correction != dsm::Correction::none) fit::energy_correction(*M, correction);  // fail before training
        if (auto launched = launch_workers_if_asked(c.dist, common, c.fit.batch)) return *launched;
        nn::World world = join_world(c.dist, c.fit.to_json().dump() + c.data.data + (resume ? " resume" : ""));
        const fit::FitData d = fit::load_fit_data(*M, c.data, common.seed);
        const int threads = apply_threads(common);

        json config{{"command", "fit"},           {"data", c.data.data},         {"source", d.source},
                    {"format", c.format},         {"split", c.data.split},       {"split_seed", c.data.split_seed},
                    {"split_by", c.split_by},     {"val_file", c.data.val_file}, {"test_file", c.data.test_file},
                    {"correction", c.correction}, {"sigma_eval", c.sigma_eval},  {"threads", threads},
                    {"workers", world.size()},    {"fit", c.fit.to_json()}};
        // Rank 0 writes the run folder and the progress bar, and evaluates the fit; the others only train.
        std::optional<io::RunFolder> run_folder;
        if (world.is_root()) run_folder.emplace(out, config, io::RunFolder::Placement::in_place);  // resumable
        const auto log = [&](const std::string& line) {
          if (run_folder) run_folder->log(line);
        };
        log("fit: " + d.source + " on " + M->spec() + ": " + std::to_string(d.train.rows()) + " / " +
            std::to_string(d.val.rows()) + " / " + std::to_string(d.test.rows()) + " train / val / test, " +
            std::to_string(d.test_duplicates_in_train) + " test points with a copy in train");
        std::optional<io::Progress> progress;
        if (world.is_root()) progress.emplace("fit", static_cast<std::size_t>(c.fit.steps));
        double last_val = std::nan("");
        fit::FitHooks hooks;
        hooks.should_stop = [] { return interrupted().load(); };
        hooks.on_eval = [&](std::int64_t, double v, bool) { last_val = v; };
        hooks.on_step = [&](std::int64_t step, double loss) {
          if (!progress) return;
          std::ostringstream s;
          s.precision(4);
          s << "loss=" << loss << " val=" << last_val;
          progress->update(static_cast<std::size_t>(step), s.str());
        };
        const fit::TrainOutcome t =
            fit::train_fit(d.train, d.val, c.fit, out, resume, hooks, {{"data", c.data.data}}, world);
        if (progress) progress->finish("best val " + fmt(t.best_val_loss) + " at step " + std::to_string(t.best_step));
        const std::int64_t steps_done = std::max<std::int64_t>(1, t.step - t.start_step);
        const json dist{{"workers", world.size()},
                        {"rank", world.rank()},
                        {"all_reduce_seconds", t.all_reduce_seconds},
                        {"all_reduce_seconds_per_step", t.all_reduce_seconds / static_cast<double>(steps_done)},
                        {"wait_seconds_per_step", t.wait_seconds / static_cast<double>(steps_done)}};
        if (!world.is_root())
          return {{"run", out.string()},
                  {"steps", t.step},
                  {"stopped", t.stopped},
                  {"train_seconds", t.seconds},
                  {"distributed", dist}};
        const io::RunFolder& run = *run_folder;
        io::Table metrics({"step", "loss", "lr", "val_loss"});
        std::size_t e = 0;
        for (const auto& m : t.metrics) {
          while (e < t.evals.size() && t.evals[e][0] < m[0]) ++e;
          const double v = e < t.evals.size() && t.evals[e][0] == m[0] ? t.evals[e][1] : std::nan("");
          metrics.add_row({m[0], m[1], m[2], v});
        }
        metrics.save(run.path("metrics.csv"));
        json result{{"run", out.string()},
                    {"steps", t.step},
                    {"best_step", t.best_step},
                    {"best_val_loss", t.best_val_loss},
                    {"early_stopped", t.early_stopped},
                    {"stopped", t.stopped},
                    {"train_seconds", t.seconds},
                    {"distributed", dist},
                    {"n", {{"train", d.train.rows()}, {"val", d.val.rows()}, {"test", d.test.rows()}}},
                    {"test_duplicates_in_train", d.test_duplicates_in_train}};
        if (t.stopped) {
          run.log("fit: interrupted at step " + std::to_string(t.step) + "; continue with rbsm fit --resume " +
                  out.string());
          return result;
        }
        fit::FitModel model = fit::FitModel::load(out);
        if (c.fit.net.parametrisation == fit::Parametrisation::vector) {
          run.log("fit: a vector model defines no density: no likelihoods (fit with --parametrisation energy)");
          run.write_json("fit.json", result);
          return result;
        }
        fit::EvaluationOptions eo;
        eo.correction = correction;
        eo.sigma_eval = c.sigma_eval;
        eo.cubature.rel_tol = c.normaliser_tol;
        eo.kde = !c.no_kde;
        eo.threads = threads;
        eo.should_stop = [] { return interrupted().load(); };
        std::optional<io::Progress> eval_progress;  // made at the first report, when the total is known
        eo.progress = [&](const std::string&, std::size_t done, std::size_t total) {
          if (!eval_progress) eval_progress.emplace("likelihood", total);
          eval_progress->update(done, "candidate " + std::to_string(done) + "/" + std::to_string(total));
        };
        const fit::Evaluation ev = fit::evaluate_fit(model, d, eo);
        if (eval_progress) eval_progress->finish();
        result.update(fit::to_json(ev));
        run.write_json("density.json", fit::to_json(ev.density));
        const io::Figure map =
            fit::density_map(model, ev.density, d.test, d.source + ": model log density, test points");
        if (!map.panels.empty()) map.save(run.path("density_map.png"));
        run.log("fit: test NLL " + fmt(ev.nll.test) + " nats at sigma_eval " + fmt(ev.density.sigma) +
                (ev.has_kde ? ", KDE " + fmt(ev.kde_nll.test) : ""));
        run.write_json("fit.json", result);
        return result;
      };
    });

}  // namespace
}  // namespace rbsm::cli
