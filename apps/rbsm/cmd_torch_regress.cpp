// rbsm regress --manifold M --dist Q --sigma S --samples 256,1024,4096,16384 --out DIR: the source
// document's bottom panel (docs/langevin.md §4). For each training-set size n and seed, an MLP is fitted
// by DSM to n noisy samples y_i = pi(Z_i + sigma xi_i) of q with (a) the raw tangent targets
// T_i = P_T(y_i)(Z_i - X_i)/sigma^2 and (b) Rao-Blackwellized targets r_hat(y_i) estimated from the
// training set itself (the self-normalised estimator of SPEC.md, dsm::RbEstimator, all n points as references).
// Test error: relative mean squared error against the exact r_sigma (quadrature) on fresh points.
// Also reports the factor of samples RB saves to reach the raw-target error, saves the largest models
// (atomic checkpoints) and runs Langevin with each, raw and corrected.
#include <algorithm>
#include <cmath>

#include "cli.hpp"

#include "rbsm/dsm/rb_estimator.hpp"
#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/io/progress.hpp"
#include "rbsm/io/run_folder.hpp"
#include "rbsm/io/table.hpp"
#include "rbsm/nn/mlp.hpp"
#include "rbsm/parallel.hpp"
#include "rbsm/sampling/equilibrium.hpp"
#include "rbsm/sampling/equilibrium_study.hpp"
#include "rbsm/sampling/rb_field.hpp"
#include "rbsm/spec.hpp"

namespace rbsm::cli {
namespace {

using geometry::Mat;
using geometry::Vec;

struct RegressConfig {
  std::string manifold = "sphere:2", dist = "vmf:kappa=2";
  double sigma = 0.1;
  std::vector<int> samples{256, 1024, 4096, 16384};
  int seeds = 3, test = 2000, langevin_chains = 200, langevin_steps = 1000;
  std::string rb_refs = "all";  ///< references of each RB target: "all" (own Z_i included) or "crossfit"
  nn::RegressionOptions fit;
  std::uint64_t seed = 0;
  int threads = 0;
  json to_json() const {
    return {{"manifold", manifold},
            {"dist", dist},
            {"sigma", sigma},
            {"samples", samples},
            {"seeds", seeds},
            {"test", test},
            {"steps", fit.steps},
            {"batch", fit.batch},
            {"lr", fit.lr},
            {"hidden", fit.mlp.hidden()},
            {"layers", fit.mlp.layers()},
            {"seed", seed},
            {"langevin_chains", langevin_chains},
            {"langevin_steps", langevin_steps},
            {"rb_refs", rb_refs}};
  }
};

/// Noisy training pairs: Z_i ~ q, X_i = Z_i + sigma xi_i, y_i = pi(X_i), raw T_i.
struct Pairs {
  Mat Z, Y, T;
};
Pairs draw_pairs(const dist::Density& q, double sigma, int n, std::uint64_t seed, std::uint64_t stream) {
  const auto& M = q.manifold();
  const int D = M.ambient_dim();
  Pairs p{Mat(n, D), Mat(n, D), Mat(n, D)};
  Rng rng(seed, stream);
  for (int i = 0; i < n; ++i) {
    for (;;) {
      const Vec z = q.sample(rng);
      Vec x(D);
      for (int a = 0; a < D; ++a) x[a] = z[a] + sigma * rng.normal();
      try {
        const Vec y = M.project(x);
        const Mat E = M.tangent_frame(y);
        p.Z.row(i) = z.transpose();
        p.Y.row(i) = y.transpose();
        p.T.row(i) = (E * (E.transpose() * (z - x)) / (sigma * sigma)).transpose();
        break;
      } catch (const GeometryError&) {  // a measure-zero event (no unique nearest point): redraw
      }
    }
  }
  return p;
}

/// RB targets estimated from the training set itself (the self-normalised estimator, dsm::RbEstimator).
/// folds = 1: every target uses all n references, its own Z_i included — when the references are sparse
/// (spacing >> sigma) the own term dominates and the target falls back to the raw T_i instead of to the
/// nearest other reference, whose error ~ spacing / sigma^2 is larger than the raw noise ~ sqrt(d) / sigma.
/// folds = K > 1: K-fold cross-fitting (fold k's targets from the other folds; no own Z_i).
Mat rb_targets(std::shared_ptr<const geometry::Manifold> M, const Mat& Z, const Mat& Y, double sigma, int threads,
               int folds) {
  const int n = static_cast<int>(Z.rows()), D = static_cast<int>(Z.cols());
  if (folds == 1) return dsm::RbEstimator(M, Z, sigma).estimate(Y, threads).r;
  Mat R(n, D);
  for (int k = 0; k < folds; ++k) {
    std::vector<int> in, out;
    for (int i = 0; i < n; ++i) (i % folds == k ? in : out).push_back(i);
    if (in.empty()) continue;
    Mat refs(out.size(), D), queries(in.size(), D);
    for (std::size_t a = 0; a < out.size(); ++a) refs.row(a) = Z.row(out[a]);
    for (std::size_t a = 0; a < in.size(); ++a) queries.row(a) = Y.row(in[a]);
    const dsm::RbEstimator est(M, std::move(refs), sigma);
    const auto e = est.estimate(queries, threads);
    for (std::size_t a = 0; a < in.size(); ++a) R.row(in[a]) = e.r.row(a);
  }
  return R;
}

struct Curve {
  std::vector<double> mean, se;
};

json run_regress(const RegressConfig& c, const std::filesystem::path& dir,
                 const std::function<void(const std::string&)>& log, io::Figure* fig_out) {
  std::shared_ptr<const geometry::Manifold> M = geometry::make_manifold(c.manifold);
  const auto q = dist::make_density(c.dist, M);
  dsm::check_sigma(c.sigma, "--sigma");
  if (c.samples.empty()) throw InvalidArgument("--samples: give at least one training-set size");
  for (int n : c.samples)
    if (n < 8) throw InvalidArgument("--samples: every size must be >= 8, got " + std::to_string(n));
  if (c.seeds < 1) throw InvalidArgument("--seeds must be >= 1");
  const auto r_exact = sampling::rb_field(*q, c.sigma);
  // test points from the law of pi(X) with exact targets
  const Pairs test = draw_pairs(*q, c.sigma, c.test, c.seed, 1u << 20);
  Mat Rtest(c.test, M->ambient_dim());
  parallel_for(
      static_cast<std::size_t>(c.test), c.threads,
      [&](std::size_t i) { Rtest.row(i) = r_exact(test.Y.row(i).transpose()).transpose(); }, 8);
  const double r2 = Rtest.rowwise().squaredNorm().mean();
  auto test_error = [&](nn::MLP& model) {
    const auto f = nn::mlp_field(model, *M);
    double e = 0;
    for (int i = 0; i < c.test; ++i) e += (f(test.Y.row(i).transpose()) - Rtest.row(i).transpose()).squaredNorm();
    return e / c.test / r2;
  };

  io::Table table({"n", "method", "seed", "relative_test_mse", "final_train_loss", "target_mse_vs_exact"});
  std::vector<std::vector<double>> raw_err(c.samples.size()), rb_err(c.samples.size());
  for (std::size_t k = 0; k < c.samples.size(); ++k) {
    const int n = c.samples[k];
    for (int s = 0; s < c.seeds; ++s) {
      const std::uint64_t seed = c.seed * 1000003ULL + 7919ULL * s + n;
      const Pairs p = draw_pairs(*q, c.sigma, n, seed, 0);
      const Mat R = rb_targets(M, p.Z, p.Y, c.sigma, c.threads, c.rb_refs == "all" ? 1 : 8);
      // how far each target set is from the exact r_sigma at the training inputs (a diagnostic)
      double raw_t = 0, rb_t = 0;
      for (int i = 0; i < std::min(n, 500); ++i) {
        const Vec r = r_exact(p.Y.row(i).transpose());
        raw_t += (p.T.row(i).transpose() - r).squaredNorm(), rb_t += (R.row(i).transpose() - r).squaredNorm();
      }
      raw_t /= std::min(n, 500) * r2, rb_t /= std::min(n, 500) * r2;
      for (int method = 0; method < 2; ++method) {
        nn::RegressionOptions fo = c.fit;
        fo.seed = seed + 17 * method;
        double loss = 0;
        nn::MLP model = nn::fit_tangent_regression(p.Y, method == 0 ? p.T : R, *M, fo, &loss);
        const double e = test_error(model);
        (method == 0 ? raw_err : rb_err)[k].push_back(e);
        table.add_row_text({std::to_string(n), method == 0 ? "raw" : "rb", std::to_string(s), io::format_double(e),
                            io::format_double(loss), io::format_double(method == 0 ? raw_t : rb_t)});
        log("regress: n = " + std::to_string(n) + " seed " + std::to_string(s) + (method == 0 ? " raw" : " rb") +
            ": relative test MSE " + fmt(e, 4));
        if (k + 1 == c.samples.size() && s == 0)
          nn::save_mlp(dir / (method == 0 ? "model_raw.pt" : "model_rb.pt"), model,
                       {{"config", c.to_json()}, {"n", n}, {"target", method == 0 ? "raw" : "rb"}});
      }
    }
  }
  table.save(dir / "metrics.csv");
  auto summarise = [](const std::vector<std::vector<double>>& e) {
    Curve cv;
    for (const auto& v : e) {
      double m = 0, s2 = 0;
      for (double x : v) m += x;
      m /= v.size();
      for (double x : v) s2 += (x - m) * (x - m);
      cv.mean.push_back(m);
      cv.se.push_back(v.size() > 1 ? std::sqrt(s2 / (v.size() - 1) / v.size()) : 0.0);
    }
    return cv;
  };
  const Curve raw = summarise(raw_err), rb = summarise(rb_err);
  // Samples RB needs to reach the raw error at the largest n: log-log interpolation along the RB curve.
  const double target = raw.mean.back();
  const double nmax = c.samples.back();
  double n_rb = std::nan("");
  bool lower_bound = false;
  if (rb.mean.front() <= target) {
    n_rb = c.samples.front();
    lower_bound = true;  // RB is already better at the smallest size: the factor is at least nmax / n_min
  } else {
    for (std::size_t k = 1; k < rb.mean.size(); ++k)
      if (rb.mean[k] <= target) {
        const double x0 = std::log(c.samples[k - 1]), x1 = std::log(c.samples[k]);
        const double y0 = std::log(rb.mean[k - 1]), y1 = std::log(rb.mean[k]);
        n_rb = std::exp(x0 + (std::log(target) - y0) * (x1 - x0) / (y1 - y0));
        break;
      }
  }
  const double factor = nmax / n_rb;
  if (fig_out) {
    auto& p = fig_out->panel("MLP regression on " + c.manifold + ", " + c.dist + ", sigma " + fmt(c.sigma, 3),
                             "training samples n", "relative test MSE vs exact r_sigma");
    p.logx = p.logy = true;
    std::vector<double> xs(c.samples.begin(), c.samples.end());
    p.add({"raw targets T_sigma", xs, raw.mean, raw.se, "errorbar", "tab:orange"});
    p.add({"RB targets (estimated from the training set)", xs, rb.mean, rb.se, "errorbar", "tab:blue"});
  }
  json j = {{"samples", c.samples},
            {"raw_mean", raw.mean},
            {"raw_se", raw.se},
            {"rb_mean", rb.mean},
            {"rb_se", rb.se},
            {"target_raw_error_at_max_n", target},
            {"rb_samples_to_reach_raw_error", n_rb},
            {"sample_factor", factor},
            {"sample_factor_is_lower_bound", lower_bound}};

  // Langevin with the learned models (largest n, seed 0), raw and corrected.
  if (c.langevin_chains > 0) {
    json lang = json::array();
    const std::vector<std::pair<std::string, std::string>> runs{
        {"model_raw.pt", "none"}, {"model_rb.pt", "none"}, {"model_rb.pt", "extrinsic"}, {"model_rb.pt", "full"}};
    for (const auto& [file, corr] : runs) {
      sampling::EquilibriumStudyOptions e;
      e.manifold = c.manifold, e.dist = c.dist, e.sigma = c.sigma, e.correction = corr;
      e.drifts = {"model:" + (dir / file).string()};
      e.langevin.chains = c.langevin_chains, e.langevin.steps = c.langevin_steps, e.langevin.step_size = 0.01;
      e.langevin.seed = c.seed, e.langevin.threads = c.threads;
      const auto o = sampling::equilibrium_study(e, log);
      json r = o.summary["drifts"][0];
      r["model"] = file, r["correction"] = corr;
      lang.push_back(r);
    }
    j["langevin"] = lang;
  }
  return j;
}

std::vector<int> parse_sizes(const std::string& text) {
  std::vector<int> out;
  const Vec v = parse_vector(text, "--samples");
  for (int i = 0; i < v.size(); ++i) {
    if (v[i] != std::floor(v[i]) || v[i] < 8 || v[i] > 1e7)
      throw InvalidArgument("--samples: every size must be an integer from 8 to 1e7, got " + fmt(v[i]));
    out.push_back(static_cast<int>(v[i]));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Register reg(
    "regress", "MLP regression on raw vs Rao-Blackwellized DSM targets against training-set size",
    [](CLI::App& app, const Common& common) -> Runner {
      auto cfg = std::make_shared<RegressConfig>();
      auto sizes = std::make_shared<std::string>("256,1024,4096,16384");
      auto out = std::make_shared<std::string>("runs/regress");
      app.add_option("--manifold", cfg->manifold, "manifold spec")->capture_default_str();
      app.add_option("--dist", cfg->dist, "density spec")->capture_default_str();
      app.add_option("--sigma", cfg->sigma, "DSM noise level")->capture_default_str();
      app.add_option("--samples", *sizes, "training-set sizes")->capture_default_str();
      app.add_option("--seeds", cfg->seeds, "repetitions per size (error bars)")->capture_default_str();
      app.add_option("--test", cfg->test, "test points")->check(CLI::Range(10, 1000000))->capture_default_str();
      app.add_option("--steps", cfg->fit.steps, "Adam steps per fit")
          ->check(CLI::Range(1, 10000000))
          ->capture_default_str();
      app.add_option("--batch", cfg->fit.batch, "batch size")->check(CLI::Range(1, 1000000))->capture_default_str();
      app.add_option("--langevin-chains", cfg->langevin_chains, "chains for the learned-drift equilibria (0: skip)")
          ->capture_default_str();
      app.add_option("--rb-refs", cfg->rb_refs,
                     "references of the RB targets: all (own Z_i included) or crossfit (8 folds)")
          ->check(CLI::IsMember({"all", "crossfit"}))
          ->capture_default_str();
      app.add_option("--out", *out, "run folder")->capture_default_str();
      return [=, &common]() -> json {
        RegressConfig c = *cfg;
        c.samples = parse_sizes(*sizes);
        c.seed = common.seed;
        c.threads = apply_threads(common);
        io::RunFolder run(*out, c.to_json());
        io::Figure fig;
        fig.title = "Raw vs Rao-Blackwellized DSM targets (the source's bottom panel)";
        json j = run_regress(
            c, run.dir(), [&](const std::string& s) { run.log(s); }, &fig);
        fig.save(run.path("regress.png"));
        run.write_json("summary.json", j);
        j["out"] = run.dir().string();
        return j;
      };
    });

/// "6.1x", or ">= 16x" when RB already beats the raw error at the smallest n.
std::string sample_factor_text(const json& j) {
  return (j["sample_factor_is_lower_bound"].get<bool>() ? ">= " : "") + fmt(j["sample_factor"].get<double>(), 3) + "x";
}

ReportSection experiment(const ReproduceContext& ctx) {
  const bool quick = ctx.profile == "quick";
  RegressConfig c;
  if (quick) {
    c.samples = {256, 1024, 4096};
    c.seeds = 2, c.test = 1000, c.fit.steps = 800, c.langevin_chains = 100, c.langevin_steps = 600;
  }
  c.seed = ctx.seed, c.threads = ctx.threads;
  // one run of run_regress in its own folder, with its figure
  auto run_in = [](const RegressConfig& rc, const std::filesystem::path& dir, const std::string& title) {
    io::ensure_directory(dir);
    io::Figure fig;
    fig.title = title;
    const json out = run_regress(
        rc, dir, [](const std::string&) {}, &fig);
    fig.save(dir / "regress.png");
    return out;
  };
  const auto dir = ctx.out / "regress";
  const json j = run_in(c, dir, "Raw vs Rao-Blackwellized DSM targets (the source's bottom panel)");
  ReportSection s;
  s.title =
      "MLP regression: raw vs RB targets against training-set size (" + c.manifold + ", sigma " + fmt(c.sigma) + ")";
  s.figures = {"regress/regress.png"};
  s.html =
      "<p>Relative test MSE of an MLP (P_T f_theta) against the exact r_sigma on fresh points y = pi(X), "
      "mean +- se over seeds. RB targets are estimated from the training set itself ("
      "self-normalised estimator, all n training points as references, each target's own Z_i included). "
      "docs/langevin.md §4.</p>";
  for (std::size_t k = 0; k < c.samples.size(); ++k)
    s.rows.push_back({"relative test MSE at n = " + std::to_string(c.samples[k]), "RB below raw at every n",
                      "raw " + fmt(j["raw_mean"][k].get<double>(), 3) + ", RB " + fmt(j["rb_mean"][k].get<double>(), 3),
                      ""});
  s.rows.push_back({"samples saved by RB (raw error at the largest n)", "(not quantified; goal >= 10x)",
                    sample_factor_text(j), "n_max / n at which RB reaches the raw error"});
  // The factor grows as sigma shrinks (the raw target's variance is d / sigma^2) while the training set
  // still resolves the RB posterior (docs/langevin.md §4): the full profile measures it at two more sigmas.
  json sweep = json::array();
  if (!quick)
    for (const double sigma : {0.05, 0.2}) {
      RegressConfig cs = c;
      cs.sigma = sigma, cs.langevin_chains = 0;
      const std::string sub = "sigma_" + fmt(sigma, 3);
      const json js = run_in(cs, dir / sub, "Raw vs RB targets, sigma " + fmt(sigma, 3));
      s.figures.push_back("regress/" + sub + "/regress.png");
      s.rows.push_back(
          {"samples saved by RB at sigma " + fmt(sigma, 3), "goal >= 10x", sample_factor_text(js),
           "raw " + fmt(js["raw_mean"].back().get<double>(), 3) + " at n = " + std::to_string(c.samples.back())});
      sweep.push_back({{"sigma", sigma}, {"summary", js}});
    }
  if (j.contains("langevin"))
    for (const auto& r : j["langevin"])
      if (r.contains("kappa_eff"))
        s.rows.push_back({"kappa_eff with learned drift " + r["model"].get<std::string>() + " (" +
                              r["correction"].get<std::string>() + ")",
                          "2 (true)",
                          fmt(r["kappa_eff"].get<double>(), 4) + " +- " + fmt(r["kappa_eff_se"].get<double>(), 2),
                          "unadjusted Langevin, h = 0.01"});
  s.summary = j;
  if (!sweep.empty()) s.summary["sigma_sweep"] = sweep;
  return s;
}

RegisterExperiment exp_reg("regress", 50, experiment);

}  // namespace
}  // namespace rbsm::cli
