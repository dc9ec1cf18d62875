// Reproduce experiments "earth" and "manifold-fit" (docs/fit.md §7-8): the earth benchmark (test NLL
// of the KDE and of raw / RB score models, with and without the post-hoc correction, beside the
// published Riemannian generative models) and the known-truth study (KL(q || p) against training size).
#include <algorithm>
#include <cmath>

#include "cli.hpp"

#include "rbsm/data/points.hpp"
#include "rbsm/error.hpp"
#include "rbsm/fit/benchmark.hpp"
#include "rbsm/fit/study.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/io/progress.hpp"

namespace rbsm::cli {
namespace {
namespace fs = std::filesystem;

std::string pm(const stats::Summary& s) { return fmt(s.mean, 3) + (s.n > 1 ? " ± " + fmt(s.sd, 2) : ""); }

fit::StudyProgress bar(io::Progress& p) {
  return [&p](const std::string& phase, std::size_t done, std::size_t) { p.update(done, phase); };
}
std::function<bool()> stop_on_signal() {
  return [] { return interrupted().load(); };
}

/// The table of one earth benchmark (datasets as columns), with the published rows first.
std::string earth_table(const fit::EarthBenchmarkResult& r, bool published) {
  std::string h = "<table><tr><th>method</th>";
  for (const auto& d : r.datasets)
    h += "<th>" + d.dataset + " (n = " + std::to_string(d.n) + ", " + fmt(d.test_duplicates_in_train, 3) +
         " test points with a copy in train)</th>";
  h += "</tr>";
  const auto& names = fit::earth_datasets();
  if (published)
    for (const auto& p : fit::published_earth_nll()) {
      h += "<tr><td>" + p.method + " (" + p.source + ")</td>";
      for (const auto& d : r.datasets) {
        const auto k = std::find(names.begin(), names.end(), d.dataset) - names.begin();
        h += "<td>" + fmt(p.nll[k], 3) + "</td>";
      }
      h += "</tr>";
    }
  for (std::size_t m = 0; m < r.datasets.front().methods.size(); ++m) {
    const std::string name = r.datasets.front().methods[m].method;
    h += "<tr><td><b>rbsm " + (name == "kde" ? std::string("vMF KDE") : name) + "</b></td>";
    for (const auto& d : r.datasets)
      h += "<td>" + std::string(d.methods[m].method == d.best_method ? "<b>" : "") + pm(d.methods[m].summary) +
           (d.methods[m].method == d.best_method ? "</b>" : "") + "</td>";
    h += "</tr>";
  }
  return h + "</table>";
}

/// Density map (with test points) and samples of the best model of each dataset at the first seed.
void earth_figures(const fit::EarthBenchmarkResult& r, const fit::EarthBenchmarkOptions& o, const fs::path& dir,
                   ReportSection& sec) {
  const auto M = geometry::make_manifold("sphere:2");
  for (const auto& d : r.datasets) {
    if (d.best_run.empty()) continue;
    fit::FitModel model = fit::FitModel::load(d.best_run);
    const auto& best =
        *std::find_if(d.methods.begin(), d.methods.end(), [&](const auto& m) { return m.method == d.best_method; });
    const dsm::Correction c = dsm::parse_correction(d.best_method.substr(d.best_method.find('/') + 1));
    const fit::ModelDensity density = fit::model_density(model, best.sigma_eval.front(), c, o.cubature);
    fit::DataSpec spec;
    spec.data = "earth:" + d.dataset;
    spec.split_seed = o.split_seeds.front();
    spec.by_location = o.by_location;
    const fit::FitData data = fit::load_fit_data(*M, spec, o.split_seeds.front());
    const std::string title = d.dataset + ": " + d.best_method + " at sigma " + fmt(density.sigma, 3) + ", test points";
    const std::string png = d.dataset + "_density.png";
    fit::density_map(model, density, data.test, title).save(dir / png);
    sec.figures.push_back(dir.filename().string() + "/" + png);
    fit::SampleOptions so;
    so.n = 500;
    so.mala_steps = 100;  // batched across chains (fit::mala_batched)
    so.sigma_eval = density.sigma;
    so.correction = c;
    const geometry::Mat S =
        data::from_manifold_points(fit::sample_model(model, so).samples, *M, data::PointFormat::latlon);
    const geometry::Mat T = data::from_manifold_points(data.test, *M, data::PointFormat::latlon);
    io::Figure f;
    f.title = d.dataset + ": model samples and test points";
    auto& p = f.panel("500 samples (annealed Langevin + MALA)", "longitude (deg)", "latitude (deg)");
    io::Series s{"model samples", {}, {}, {}, "points", "tab:blue", {}},
        t{"test points", {}, {}, {}, "points", "tab:red", {}};
    for (Eigen::Index i = 0; i < S.rows(); ++i) s.x.push_back(S(i, 1)), s.y.push_back(S(i, 0));
    for (Eigen::Index i = 0; i < T.rows(); ++i) t.x.push_back(T(i, 1)), t.y.push_back(T(i, 0));
    p.add(s);
    p.add(t);
    const std::string spng = d.dataset + "_samples.png";
    f.save(dir / spng);
    sec.figures.push_back(dir.filename().string() + "/" + spng);
  }
}

ReportSection run_earth(const ReproduceContext& ctx) {
  const bool quick = ctx.profile == "quick";
  const fs::path dir = ctx.out / "earth";
  io::ensure_directory(dir);
  ReportSection sec;
  sec.title = "Earth catalogues on S^2: test NLL of raw and RB score models against the published methods";
  fit::EarthBenchmarkOptions o;
  o.fit.seed = ctx.seed;
  o.fit.threads = ctx.threads;
  o.threads = ctx.threads;
  if (quick) {  // the default network (2.9 min): after 300 steps a Fourier-feature energy is still rough, and the
                // cubature of its full correction took over 10 minutes for three of the four fits (2026-12-05)
    o.datasets = {"volcano", "flood"};
    o.split_seeds = {0};
    o.fit.steps = 300;
    o.fit.eval_every = 50;
  } else {  // the settings docs/fit.md §7 measured on these catalogues: random Fourier features against the
            // spectral bias, a validation loss every 250 steps
    o.fit.net.fourier_features = 128;
    o.fit.net.fourier_scale = 16;
    o.fit.eval_every = 250;
  }
  o.out = dir / "runs";
  io::Progress progress("earth", o.datasets.size() * o.split_seeds.size() * o.targets.size() * o.fit.steps);
  o.progress = bar(progress);
  o.should_stop = stop_on_signal();
  const fit::EarthBenchmarkResult r = fit::earth_benchmark(o);
  progress.finish();
  sec.html = "<p>Test NLL in nats (w.r.t. the area of the unit sphere; lower is better), mean ± sd over " +
             std::to_string(o.split_seeds.size()) + " random 80/10/10 split(s), " + std::to_string(o.fit.steps) +
             " steps (early stopping), energy parametrisation" +
             (quick ? std::string() : " with 128 random Fourier features (scale 16)") +
             "; sigma_eval chosen on validation per method. "
             "The published rows are the numbers reported by each paper (5 splits). <i>raw/rb</i>: the training "
             "target; <i>none/full</i>: the post-hoc correction of the energy (docs/fit.md §4). Bold: rbsm's best "
             "score model per catalogue.</p>" +
             earth_table(r, true);
  sec.summary = fit::to_json(r);
  if (!quick) {  // the honest variant: every copy of a location on one side of the split
    fit::EarthBenchmarkOptions b = o;
    b.by_location = true;
    b.out = dir / "runs-by-location";
    io::Progress p2("earth by location", b.datasets.size() * b.split_seeds.size() * b.targets.size() * b.fit.steps);
    b.progress = bar(p2);
    const fit::EarthBenchmarkResult rb = fit::earth_benchmark(b);
    p2.finish();
    sec.html +=
        "<p>The same with <code>--split-by location</code> (all copies of a location on one side; no "
        "published numbers exist for this protocol):</p>" +
        earth_table(rb, false);
    sec.summary["by_location"] = fit::to_json(rb);
  }
  earth_figures(r, o, dir, sec);
  for (const auto& d : r.datasets) {
    const auto& names = fit::earth_datasets();
    const auto k = std::find(names.begin(), names.end(), d.dataset) - names.begin();
    double best_pub = 1e300;
    std::string best_name;
    for (const auto& p : fit::published_earth_nll())
      if (p.nll[k] < best_pub) best_pub = p.nll[k], best_name = p.method;
    const auto& best =
        *std::find_if(d.methods.begin(), d.methods.end(), [&](const auto& m) { return m.method == d.best_method; });
    sec.rows.push_back({d.dataset + ": best test NLL (nats)", fmt(best_pub, 3) + " (" + best_name + ")",
                        pm(best.summary) + " (" + d.best_method + ")", "KDE " + pm(d.methods[0].summary)});
  }
  return sec;
}

ReportSection run_known_truth(const ReproduceContext& ctx) {
  const bool quick = ctx.profile == "quick";
  const fs::path dir = ctx.out / "manifold-fit";
  io::ensure_directory(dir);
  ReportSection sec;
  sec.title = "Known truth: KL(q || p_model) of raw and RB score models and the KDE against training size";
  struct Case {
    std::string name, manifold, file;
  };
  std::vector<Case> cases{{"S^2, 5 vMF (kappa 5-50)", "sphere:2", "mixtures/s2_vmf5.json"}};
  if (!quick) {
    cases.push_back({"S^6, 4 vMF (kappa 5-40)", "sphere:6", "mixtures/s6_vmf4.json"});
    cases.push_back({"torus:3,1, 3 von Mises", "torus:3,1", "mixtures/torus_vonmises3.json"});
  }
  io::Figure fig;
  fig.title = "KL(q || p) by Monte Carlo over exact draws of q (± 1 se)";
  sec.html = "<p>n exact draws of q for training (n/8 for validation); sigma_eval on validation; KL over " +
             std::string(quick ? "4000" : "20000") + " fresh draws of q.</p>";
  for (std::size_t ci = 0; ci < cases.size(); ++ci) {
    const Case& c = cases[ci];
    fit::KnownTruthOptions o;
    o.dist = "@" + data::data_file(c.file).string();
    o.fit.manifold = c.manifold;
    o.fit.seed = ctx.seed;
    o.fit.threads = ctx.threads;
    o.threads = ctx.threads;
    o.sizes = quick ? std::vector<long>{500, 2000} : std::vector<long>{500, 2000, 8000, 20000};
    o.mc_draws = quick ? 4000 : 20000;
    if (quick) o.fit.steps = 300, o.fit.eval_every = 50;
    o.out = dir / ("case" + std::to_string(ci));
    io::Progress progress("manifold-fit " + c.manifold, o.sizes.size() * o.targets.size() * o.fit.steps);
    o.progress = bar(progress);
    o.should_stop = stop_on_signal();
    const fit::KnownTruthResult r = fit::known_truth_study(o);
    progress.finish();
    sec.summary[c.manifold] = fit::to_json(r);
    auto& p = fig.panel(c.name, "training size n", "KL(q || p) (nats)");
    p.logx = true;
    std::string table = "<table><tr><th>" + c.name + ": n</th><th>method</th><th>KL (nats)</th><th>se</th></tr>";
    for (const std::string m : {"kde", "raw", "rb"}) {
      io::Series s{m, {}, {}, {}, "errorbar", "", {}};
      for (const auto& row : r.rows)
        if (row.method == m) {
          s.x.push_back(static_cast<double>(row.n)), s.y.push_back(row.kl), s.yerr.push_back(row.kl_se);
          table += "<tr><td>" + std::to_string(row.n) + "</td><td>" + m + "</td><td>" + fmt(row.kl, 3) + "</td><td>" +
                   fmt(row.kl_se, 2) + "</td></tr>";
        }
      if (!s.x.empty()) p.add(s);
    }
    sec.html += table + "</table>";
    for (const long n : o.sizes) {  // one comparison row per training size
      std::string measured, se;
      for (const std::string m : {"raw", "rb", "kde"})
        for (const auto& row : r.rows)
          if (row.method == m && row.n == n) {
            measured += (measured.empty() ? "" : ", ") + m + " " + fmt(row.kl, 3);
            se += (se.empty() ? "se " : ", ") + fmt(row.kl_se, 2);
          }
      sec.rows.push_back(
          {"KL(q || p) at n = " + std::to_string(n) + ", " + c.name, "-> 0 as n grows (not in source)", measured, se});
    }
    if (ci == 0) sec.key_rows = {sec.rows.size() - 1};  // the summary table: S^2 at the largest n
  }
  fig.save(dir / "kl.png");
  sec.figures.push_back("manifold-fit/kl.png");
  return sec;
}

RegisterExperiment reg_earth("earth", 90, run_earth);
RegisterExperiment reg_fit("manifold-fit", 95, run_known_truth);

}  // namespace
}  // namespace rbsm::cli
