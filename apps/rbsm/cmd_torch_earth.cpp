// rbsm earth-benchmark --datasets volcano,flood --seeds 0,1,2,3,4 --out DIR: the earth benchmark of
// docs/fit.md §7 with chosen datasets, split seeds, targets, corrections and training length (the
// reproduce experiment "earth" is its preset). Writes DIR/benchmark.json and the runs under DIR/<dataset>/.
#include <algorithm>

#include "cli.hpp"

#include "rbsm/error.hpp"
#include "rbsm/fit/benchmark.hpp"
#include "rbsm/io/progress.hpp"
#include "rbsm/io/run_folder.hpp"

namespace rbsm::cli {
namespace {

/// The command's options: the benchmark's, with the lists as given (parsed and checked when it runs).
struct EarthCli {
  fit::EarthBenchmarkOptions bench;
  std::vector<std::int64_t> seeds{0, 1, 2, 3, 4};  ///< signed, so that a negative seed is named, not wrapped
  std::vector<std::string> targets{"raw", "rb"}, corrections{"none", "full"};
  std::string out;
};

Register reg(
    "earth-benchmark", "Test NLL of raw/RB score models and the KDE on the earth catalogues over random splits",
    [](CLI::App& app, const Common& common) -> Runner {
      auto cli = std::make_shared<EarthCli>();
      fit::EarthBenchmarkOptions* o = &cli->bench;
      app.add_option("--datasets", o->datasets, "volcano, earthquake, flood, fire")
          ->delimiter(',')
          ->capture_default_str();
      app.add_option("--seeds", cli->seeds, "split seeds (one 80/10/10 split each)")
          ->delimiter(',')
          ->capture_default_str();
      app.add_option("--targets", cli->targets, "raw, rb")->delimiter(',')->capture_default_str();
      app.add_option("--corrections", cli->corrections, "none, extrinsic, geometric, full")
          ->delimiter(',')
          ->capture_default_str();
      app.add_option("--steps", o->fit.steps, "optimiser steps per fit (early stopping)")->capture_default_str();
      app.add_option("--batch", o->fit.batch, "batch size")->capture_default_str();
      app.add_option("--width", o->fit.net.width, "hidden width")->capture_default_str();
      app.add_option("--depth", o->fit.net.depth, "residual blocks")->capture_default_str();
      app.add_option("--fourier-features", o->fit.net.fourier_features, "random Fourier features of x (0: none)")
          ->capture_default_str();
      app.add_option("--fourier-scale", o->fit.net.fourier_scale, "scale S of the Fourier matrix")
          ->capture_default_str();
      app.add_option("--sigma-min", o->fit.sigma_min, "smallest noise level")->capture_default_str();
      app.add_option("--sigma-max", o->fit.sigma_max, "largest noise level")->capture_default_str();
      app.add_option("--levels", o->fit.levels, "log-spaced noise levels")->capture_default_str();
      app.add_option("--level-power", o->fit.level_power, "level l drawn with probability ~ sigma_l^-POWER")
          ->capture_default_str();
      app.add_option("--spread", o->fit.spread, "rb: noisy points at spread x sigma (1: plain)")->capture_default_str();
      app.add_option("--lr", o->fit.lr, "Adam learning rate")->capture_default_str();
      app.add_flag("--no-leave-one-out{false}", o->fit.leave_one_out,
                   "rb: keep each example's own point among the RB references (default: left out)");
      app.add_option("--eval-every", o->fit.eval_every, "steps between validation losses")->capture_default_str();
      app.add_flag("--by-location", o->by_location, "all copies of a location on one side of each split");
      app.add_option("--out", cli->out, "output folder (benchmark.json, one run per fit)")->required();
      return [cli, &common]() -> json {
        fit::EarthBenchmarkOptions* o = &cli->bench;
        o->split_seeds.clear();
        for (const std::int64_t s : cli->seeds) {
          if (s < 0) throw InvalidArgument("--seeds: " + std::to_string(s) + " is negative (expected seeds >= 0)");
          o->split_seeds.push_back(static_cast<std::uint64_t>(s));
        }
        for (const auto& d : o->datasets)
          if (std::find(fit::earth_datasets().begin(), fit::earth_datasets().end(), d) == fit::earth_datasets().end())
            throw InvalidArgument("--datasets: unknown earth dataset '" + d +
                                  "' (expected volcano, earthquake, flood or fire)");
        o->targets.clear();
        for (const auto& t : cli->targets) o->targets.push_back(fit::parse_target(t));
        o->corrections.clear();
        for (const auto& c : cli->corrections) o->corrections.push_back(dsm::parse_correction(c));
        o->fit.seed = common.seed;
        o->threads = o->fit.threads = apply_threads(common);
        o->fit.net.dim = 3;
        o->fit.validate();
        io::RunFolder run(cli->out,
                          {{"command", "earth-benchmark"},
                           {"datasets", o->datasets},
                           {"seeds", o->split_seeds},
                           {"targets", cli->targets},
                           {"corrections", cli->corrections},
                           {"by_location", o->by_location},
                           {"seed", common.seed},
                           {"threads", o->threads},
                           {"fit", o->fit.to_json()}},
                          io::RunFolder::Placement::in_place);
        run.keep_partial_results();  // finished fits are reused when the benchmark is run again
        o->out = run.dir();
        io::Progress progress("earth-benchmark",
                              o->datasets.size() * o->split_seeds.size() * o->targets.size() * o->fit.steps);
        o->progress = [&](const std::string& phase, std::size_t done, std::size_t) { progress.update(done, phase); };
        o->should_stop = [] { return interrupted().load(); };
        const fit::EarthBenchmarkResult r = fit::earth_benchmark(*o);
        progress.finish();
        const json result = fit::to_json(r);
        run.write_json("benchmark.json", result);
        return result;
      };
    });

}  // namespace
}  // namespace rbsm::cli
