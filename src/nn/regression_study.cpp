// The regression study: raw vs Rao-Blackwellized DSM targets against training-set size
// (rbsm/nn/regression_study.hpp; docs/langevin.md §4).
#include "rbsm/nn/regression_study.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "rbsm/dist/density.hpp"
#include "rbsm/dsm/fibre.hpp"
#include "rbsm/dsm/rb_estimator.hpp"
#include "rbsm/dsm/targets.hpp"
#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/io/progress.hpp"
#include "rbsm/nn/mlp.hpp"
#include "rbsm/parallel.hpp"
#include "rbsm/random.hpp"
#include "rbsm/sampling/equilibrium_study.hpp"
#include "rbsm/sampling/rb_field.hpp"
#include "rbsm/stats.hpp"

namespace rbsm::nn {

using geometry::Mat;
using geometry::Vec;

namespace {

constexpr int kMaxSeeds = (1 << 20) - 1;  // repetition s is the low 20 bits of its stream

/// Noisy pairs with y = pi(X) and the raw tangent target T = P_T(y)(Z - y)/sigma^2 (= P_T(y)(Z - X)/sigma^2).
struct Pairs {
  Mat Z, Y, T;
};
Pairs draw_pairs(const dist::Density& q, double sigma, int n, std::uint64_t seed, int threads) {
  const auto& M = q.manifold();
  dsm::DsmPairs p = dsm::sample_pairs(q, sigma, n, seed, threads);
  Pairs out{std::move(p.Z), Mat(n, M.ambient_dim()), Mat(n, M.ambient_dim())};
  parallel_for(
      static_cast<std::size_t>(n), threads,
      [&](std::size_t i) {
        const Vec y = M.project(p.X.row(i).transpose());
        out.Y.row(i) = y.transpose();
        out.T.row(i) = (M.tangent_projector(y) * (out.Z.row(i).transpose() - y) / (sigma * sigma)).transpose();
      },
      64);
  return out;
}

RegressionCurve summarise(const std::vector<std::vector<double>>& errors) {
  RegressionCurve c;
  for (const auto& v : errors) {
    const auto s = stats::summarize(v);
    c.mean.push_back(s.mean);
    c.se.push_back(s.se);
  }
  return c;
}

}  // namespace

void RegressionStudyOptions::validate() const {
  dsm::check_sigma(sigma, "--sigma");
  if (samples.empty()) throw InvalidArgument("--samples: give at least one training-set size");
  for (int n : samples)
    if (n < 8 || n > 10000000)
      throw InvalidArgument("--samples: every size must be an integer from 8 to 1e7, got " + std::to_string(n));
  if (seeds < 1 || seeds > kMaxSeeds) throw InvalidArgument("--seeds must be from 1 to 1048575");
  if (test < 10) throw InvalidArgument("--test must be >= 10");
  if (steps < 1 || batch < 1 || hidden < 1 || layers < 1)
    throw InvalidArgument("--steps, --batch and the MLP's sizes must be >= 1");
  if (!(lr > 0) || !std::isfinite(lr)) throw InvalidArgument("the learning rate must be > 0 and finite");
  if (rb_refs != "all" && rb_refs != "crossfit")
    throw InvalidArgument("--rb-refs " + rb_refs + ": expected all or crossfit");
  if (langevin_chains < 0 || langevin_steps < 1)
    throw InvalidArgument("--langevin-chains must be >= 0 and the Langevin steps >= 1");
}

nlohmann::json RegressionStudyOptions::to_json() const {
  return {{"manifold", manifold},
          {"dist", dist},
          {"sigma", sigma},
          {"samples", samples},
          {"seeds", seeds},
          {"test", test},
          {"steps", steps},
          {"batch", batch},
          {"lr", lr},
          {"hidden", hidden},
          {"layers", layers},
          {"seed", seed},
          {"langevin_chains", langevin_chains},
          {"langevin_steps", langevin_steps},
          {"rb_refs", rb_refs}};
}

SampleFactor samples_to_reach(const std::vector<int>& samples, const std::vector<double>& curve, double target) {
  if (samples.empty() || samples.size() != curve.size())
    throw InvalidArgument("samples_to_reach: one error per training-set size expected");
  SampleFactor f;
  f.n = std::numeric_limits<double>::quiet_NaN();
  if (curve.front() <= target) {
    f.n = samples.front();
    f.lower_bound = true;  // already below at the smallest size: the factor is at least n_max / n_min
  } else {
    for (std::size_t k = 1; k < curve.size(); ++k)
      if (curve[k] <= target) {
        const double x0 = std::log(samples[k - 1]), x1 = std::log(samples[k]);
        const double y0 = std::log(curve[k - 1]), y1 = std::log(curve[k]);
        f.n = std::exp(x0 + (std::log(target) - y0) * (x1 - x0) / (y1 - y0));
        break;
      }
  }
  f.factor = samples.back() / f.n;
  return f;
}

Mat rb_training_targets(std::shared_ptr<const geometry::Manifold> M, const Mat& Z, const Mat& Y, double sigma,
                        int folds, int threads) {
  const int n = static_cast<int>(Z.rows()), D = static_cast<int>(Z.cols());
  if (folds < 1) throw InvalidArgument("rb_training_targets: folds must be >= 1");
  if (folds == 1) return dsm::RbEstimator(M, Z, sigma).estimate(Y, threads).r;
  Mat R(n, D);
  for (int k = 0; k < folds; ++k) {
    std::vector<int> in, out;
    for (int i = 0; i < n; ++i) (i % folds == k ? in : out).push_back(i);
    if (in.empty() || out.empty()) continue;
    Mat refs(out.size(), D), queries(in.size(), D);
    for (std::size_t a = 0; a < out.size(); ++a) refs.row(a) = Z.row(out[a]);
    for (std::size_t a = 0; a < in.size(); ++a) queries.row(a) = Y.row(in[a]);
    const auto e = dsm::RbEstimator(M, std::move(refs), sigma).estimate(queries, threads);
    for (std::size_t a = 0; a < in.size(); ++a) R.row(in[a]) = e.r.row(a);
  }
  return R;
}

RegressionStudy regression_study(const RegressionStudyOptions& options, const std::filesystem::path& dir,
                                 const std::function<void(const std::string&)>& log_fn) {
  auto log = [&](const std::string& s) {
    if (log_fn) log_fn(s);
  };
  std::shared_ptr<const geometry::Manifold> M = geometry::make_manifold(options.manifold);
  const auto q = dist::make_density(options.dist, M);
  options.validate();
  const RegressionStudyOptions& c = options;
  RegressionStudy st;
  st.samples = c.samples;
  std::sort(st.samples.begin(), st.samples.end());
  const auto r_exact = sampling::rb_field(*q, c.sigma);

  // test points from the law of pi(X), with exact targets
  const Pairs test = draw_pairs(*q, c.sigma, c.test, Rng(c.seed, 0)(), c.threads);
  Mat Rtest(c.test, M->ambient_dim());
  parallel_for(
      static_cast<std::size_t>(c.test), c.threads,
      [&](std::size_t i) { Rtest.row(i) = r_exact(test.Y.row(i).transpose()).transpose(); }, 8);
  const double r2 = Rtest.rowwise().squaredNorm().mean();
  auto test_error = [&](MLP& model) {
    const auto f = mlp_field(model, *M);
    double e = 0;
    for (int i = 0; i < c.test; ++i) e += (f(test.Y.row(i).transpose()) - Rtest.row(i).transpose()).squaredNorm();
    return e / c.test / r2;
  };

  std::vector<std::vector<double>> raw_err(st.samples.size()), rb_err(st.samples.size());
  io::Progress bar("regress: fits", st.samples.size() * c.seeds * 2);
  std::size_t fits = 0;
  for (std::size_t k = 0; k < st.samples.size(); ++k) {
    const int n = st.samples[k];
    for (int s = 0; s < c.seeds; ++s) {
      const std::uint64_t seed = Rng(c.seed, 1 + (static_cast<std::uint64_t>(n) << 20) + s)();
      const Pairs p = draw_pairs(*q, c.sigma, n, seed, c.threads);
      const Mat R = rb_training_targets(M, p.Z, p.Y, c.sigma, c.rb_refs == "all" ? 1 : 8, c.threads);
      // how far each target set is from the exact r_sigma at the training inputs (a diagnostic)
      const int nd = std::min(n, 500);
      double raw_t = 0, rb_t = 0;
      for (int i = 0; i < nd; ++i) {
        const Vec r = r_exact(p.Y.row(i).transpose());
        raw_t += (p.T.row(i).transpose() - r).squaredNorm(), rb_t += (R.row(i).transpose() - r).squaredNorm();
      }
      raw_t /= nd * r2, rb_t /= nd * r2;
      for (int method = 0; method < 2; ++method) {
        RegressionOptions fo;
        fo.steps = c.steps, fo.batch = c.batch, fo.lr = c.lr;
        fo.mlp.hidden(c.hidden).layers(c.layers);
        fo.seed = Rng(seed, 1 + method)();
        double loss = 0;
        MLP model = fit_tangent_regression(p.Y, method == 0 ? p.T : R, *M, fo, &loss);
        const double e = test_error(model);
        const char* name = method == 0 ? "raw" : "rb";
        (method == 0 ? raw_err : rb_err)[k].push_back(e);
        bar.update(++fits, "n=" + std::to_string(n) + " " + name + " mse=" + io::format_double(e, 3));
        st.metrics.add_row_text({std::to_string(n), name, std::to_string(s), io::format_double(e),
                                 io::format_double(loss), io::format_double(method == 0 ? raw_t : rb_t)});
        log("regress: n = " + std::to_string(n) + " seed " + std::to_string(s) + " " + name + ": relative test MSE " +
            io::format_double(e, 4));
        if (k + 1 == st.samples.size() && s == 0)
          save_mlp(dir / (method == 0 ? "model_raw.pt" : "model_rb.pt"), model,
                   {{"config", c.to_json()}, {"n", n}, {"target", name}});
      }
    }
  }
  bar.finish();
  st.raw = summarise(raw_err), st.rb = summarise(rb_err);
  // Samples RB needs to reach the raw error at the largest n.
  st.target = st.raw.mean.back();
  st.factor = samples_to_reach(st.samples, st.rb.mean, st.target);

  st.panel.title = "MLP regression on " + c.manifold + ", " + c.dist + ", sigma " + io::format_double(c.sigma, 3);
  st.panel.xlabel = "training samples n";
  st.panel.ylabel = "relative test MSE vs exact r_sigma";
  st.panel.logx = st.panel.logy = true;
  const std::vector<double> xs(st.samples.begin(), st.samples.end());
  st.panel.add({"raw targets T_sigma", xs, st.raw.mean, st.raw.se, "errorbar", "tab:orange"});
  st.panel.add({"RB targets (estimated from the training set)", xs, st.rb.mean, st.rb.se, "errorbar", "tab:blue"});
  st.summary = {{"samples", st.samples},
                {"raw_mean", st.raw.mean},
                {"raw_se", st.raw.se},
                {"rb_mean", st.rb.mean},
                {"rb_se", st.rb.se},
                {"target_raw_error_at_max_n", st.target},
                {"rb_samples_to_reach_raw_error", st.factor.n},
                {"sample_factor", st.factor.factor},
                {"sample_factor_is_lower_bound", st.factor.lower_bound}};

  // Langevin with the learned models (largest n, first seed), raw and corrected.
  if (c.langevin_chains > 0) {
    nlohmann::json lang = nlohmann::json::array();
    const std::vector<std::pair<std::string, std::string>> runs{
        {"model_raw.pt", "none"}, {"model_rb.pt", "none"}, {"model_rb.pt", "extrinsic"}, {"model_rb.pt", "full"}};
    for (const auto& [file, corr] : runs) {
      sampling::EquilibriumStudyOptions e;
      e.manifold = c.manifold, e.dist = c.dist, e.sigma = c.sigma, e.correction = corr;
      e.drifts = {"model:" + (dir / file).string()};
      e.langevin.chains = c.langevin_chains, e.langevin.steps = c.langevin_steps, e.langevin.step_size = 0.01;
      e.langevin.seed = c.seed, e.langevin.threads = c.threads;
      const auto o = sampling::equilibrium_study(e, log);
      nlohmann::json r = o.summary["drifts"][0];
      r["model"] = file, r["correction"] = corr;
      lang.push_back(r);
    }
    st.summary["langevin"] = lang;
  }
  return st;
}

}  // namespace rbsm::nn
