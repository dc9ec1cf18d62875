// rbsm equilibrium --manifold M --dist Q --sigma S --drift X[,Y...] --out DIR: the Langevin equilibrium
// of each drift against the truth (sampling::equilibrium_study; docs/langevin.md §3).
#include "cli.hpp"

#include "rbsm/error.hpp"
#include "rbsm/io/run_folder.hpp"
#include "rbsm/io/table.hpp"
#include "rbsm/sampling/equilibrium_study.hpp"
#include "rbsm/spec.hpp"

namespace rbsm::cli {
namespace {

/// The command's options: the study's, and what only the command reads.
struct EquilibriumCli {
  sampling::EquilibriumStudyOptions study;
  std::string out = "runs/equilibrium";
  /// A string, not a CLI11 list: CLI11 drops the empty name in "true,,rb", which parse_names refuses.
  std::string drifts = "true,rb,rb-extrinsic,rb-full";
  bool mala = false;  ///< --mala, the same as --sampler mala
};

Register reg(
    "equilibrium", "Langevin equilibrium of score drifts (true, RB, corrected, learned) against the true density",
    [](CLI::App& app, const Common& common) -> Runner {
      auto o = std::make_shared<EquilibriumCli>();
      sampling::EquilibriumStudyOptions& s = o->study;
      app.add_option("--manifold", s.manifold, "manifold spec (sphere:d, clifford-torus:r1,r2, torus:R,r, ...)")
          ->capture_default_str();
      app.add_option("--dist", s.dist, "density spec (vmf:kappa=K, vonmises:kappa1=A,kappa2=B, uniform, ...)")
          ->capture_default_str();
      app.add_option("--mean", s.mean, "vMF mean direction x1,...,xD (default e_1)");
      app.add_option("--sigma", s.sigma, "DSM noise level sigma of the RB target and the corrections")
          ->capture_default_str();
      app.add_option("--drift", o->drifts,
                     "comma-separated drifts: true, rb, rb-extrinsic, rb-geometric, rb-full, first-order, "
                     "source-expansion, model:PATH")
          ->capture_default_str();
      app.add_option("--correction", s.correction, "post-hoc correction of model:PATH drifts")
          ->check(CLI::IsMember({"none", "extrinsic", "geometric", "full"}))
          ->capture_default_str();
      app.add_option("--chains", s.langevin.chains, "parallel chains")->capture_default_str();
      app.add_option("--steps", s.langevin.steps, "steps per chain")->capture_default_str();
      app.add_option("--step-size", s.langevin.step_size, "Euler-Maruyama step h")->capture_default_str();
      app.add_option("--burn-in", s.langevin.burn_in, "steps discarded (-1: steps/2)")->capture_default_str();
      app.add_option("--record-every", s.langevin.record_every, "thinning")->capture_default_str();
      app.add_option("--sampler", s.sampler,
                     "auto: MALA when every drift has a potential (true; every built-in drift under vMF on a sphere), "
                     "else unadjusted Langevin for all; ula; mala")
          ->check(CLI::IsMember({"auto", "ula", "mala"}))
          ->capture_default_str();
      app.add_flag("--mala", o->mala, "Metropolis-adjusted (same as --sampler mala)");
      app.add_option("--init", s.init, "initial states: q (exact samples of the target density) or uniform")
          ->check(CLI::IsMember({"q", "uniform"}))
          ->capture_default_str();
      app.add_option("--bins", s.bins, "histogram bins")->check(CLI::Range(2, 10000))->capture_default_str();
      app.add_option("--out", o->out, "run folder")->capture_default_str();
      return [o, &common]() -> json {
        sampling::EquilibriumStudyOptions c = o->study;
        if (o->mala) {
          if (c.sampler == "ula") throw InvalidArgument("--mala contradicts --sampler ula");
          c.sampler = "mala";
        }
        c.drifts = parse_names(o->drifts, "--drift", "drift name");
        c.langevin.seed = common.seed;
        c.langevin.threads = apply_threads(common);
        io::RunFolder run(o->out, c.to_json());
        auto o = sampling::equilibrium_study(c, [&](const std::string& s) { run.log(s); });
        io::Table table({"drift", "statistic", "value", "standard_error"});
        for (const auto& j : o.summary["drifts"])
          for (auto it = j.begin(); it != j.end(); ++it)
            if (it->is_number() && it.key().find("_se") == std::string::npos) {
              const std::string se_key = it.key() + "_se";
              table.add_row_text({j["drift"].get<std::string>(), it.key(), io::format_double(it->get<double>()),
                                  j.contains(se_key) ? io::format_double(j[se_key].get<double>()) : ""});
            }
        table.save(run.path("metrics.csv"));
        io::Figure fig;
        fig.title = "Langevin equilibrium (" + c.manifold + ", " + c.dist + ", sigma " + fmt(c.sigma, 3) + ")";
        fig.panels.assign(o.panels.begin(), o.panels.end());
        if (!fig.panels.empty()) fig.save(run.path("equilibrium.png"));
        run.write_json("summary.json", o.summary);
        o.summary["out"] = run.dir().string();
        return o.summary;
      };
    });

}  // namespace
}  // namespace rbsm::cli
