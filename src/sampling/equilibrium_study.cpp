// The Langevin equilibrium study (equilibrium_study.hpp; docs/langevin.md §3).
#include "rbsm/sampling/equilibrium_study.hpp"

#include <cmath>
#include <optional>

#include "rbsm/dist/vmf.hpp"
#include "rbsm/dsm/corrections.hpp"
#include "rbsm/error.hpp"
#include "rbsm/geometry/torus.hpp"
#include "rbsm/io/progress.hpp"
#include "rbsm/io/table.hpp"
#include "rbsm/numerics/constants.hpp"
#include "rbsm/random.hpp"
#include "rbsm/sampling/drifts.hpp"
#include "rbsm/sampling/equilibrium.hpp"
#include "rbsm/spec.hpp"
#include "rbsm/stats.hpp"

namespace rbsm::sampling {

using nlohmann::json;

namespace {

std::string fmt(double v) { return io::format_double(v, 3); }

/// One colour per drift, so that a drift's histogram and its predicted law match in every figure.
std::string colour(const std::string& drift) {
  static const std::vector<std::pair<std::string, std::string>> c{{"true", "tab:gray"},
                                                                  {"rb", "tab:orange"},
                                                                  {"rb-extrinsic", "tab:green"},
                                                                  {"rb-geometric", "tab:olive"},
                                                                  {"rb-full", "tab:blue"},
                                                                  {"first-order", "tab:purple"},
                                                                  {"source-expansion", "tab:brown"}};
  for (const auto& [k, v] : c)
    if (k == drift) return v;
  return "tab:red";
}

std::vector<double> to_std(const Vec& v) { return {v.data(), v.data() + v.size()}; }

/// Mean over the recorded samples of f, with its standard error from the per-chain means.
stats::Summary chain_summary(const LangevinResult& r, const Vec& f) {
  return stats::summarize(to_std(chain_means(r, f)));
}

struct TorusTruth {
  std::vector<double> a, p1, p2;  // marginal densities of a1, a2 on (-pi, pi]
  double cos1 = 0, cos2 = 0;
};

/// Marginals of q in the angles by a 2-D periodic rectangle rule (spectrally accurate): the density
/// with respect to da1 da2 is q(p(a)) exp(log area element).
TorusTruth torus_truth(const dist::Density& q, const geometry::AngularChart& chart, int bins) {
  const int n = 8 * bins;
  std::vector<double> m1(n, 0.0), m2(n, 0.0);
  double Z = 0;
  TorusTruth t;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const double a1 = -kPi + 2 * kPi * (i + 0.5) / n, a2 = -kPi + 2 * kPi * (j + 0.5) / n;
      const double w = std::exp(q.log_density(chart.point(a1, a2)) + chart.log_area_element(a1, a2));
      m1[i] += w, m2[j] += w, Z += w;
      t.cos1 += w * std::cos(a1), t.cos2 += w * std::cos(a2);
    }
  t.cos1 /= Z, t.cos2 /= Z;
  const int k = n / bins;
  for (int b = 0; b < bins; ++b) {
    double s1 = 0, s2 = 0;
    for (int i = 0; i < k; ++i) s1 += m1[b * k + i], s2 += m2[b * k + i];
    t.a.push_back(-kPi + (b + 0.5) * 2 * kPi / bins);
    t.p1.push_back(s1 / Z / (2 * kPi / bins));
    t.p2.push_back(s2 / Z / (2 * kPi / bins));
  }
  return t;
}

}  // namespace

json EquilibriumStudyOptions::to_json() const {
  return {{"manifold", manifold},
          {"dist", dist},
          {"mean", mean},
          {"sigma", sigma},
          {"drifts", drifts},
          {"correction", correction},
          {"sampler", sampler},
          {"chains", langevin.chains},
          {"steps", langevin.steps},
          {"step_size", langevin.step_size},
          {"burn_in", langevin.burn_in},
          {"record_every", langevin.record_every},
          {"mala", sampler == "mala"},
          {"init", init},
          {"seed", langevin.seed},
          {"bins", bins}};
}

std::string resolve_sampler(const std::string& sampler, const std::vector<std::string>& drifts,
                            const dist::Density& q) {
  if (sampler != "auto" && sampler != "ula" && sampler != "mala")
    throw InvalidArgument("--sampler must be auto, ula or mala, got '" + sampler + "'");
  bool all = true;
  for (const auto& name : drifts) {
    const bool has = drift_has_potential(name, q);
    if (sampler == "mala" && !has) throw InvalidArgument(mala_without_potential_message(name));
    all = all && has;
  }
  if (sampler != "auto") return sampler;
  return all ? "mala" : "ula";
}

EquilibriumStudy equilibrium_study(const EquilibriumStudyOptions& opt,
                                   const std::function<void(const std::string&)>& log) {
  std::shared_ptr<const geometry::Manifold> M = geometry::make_manifold(opt.manifold);
  std::optional<Vec> mean;
  if (!opt.mean.empty()) mean = parse_vector(opt.mean, "--mean");
  const auto q = dist::make_density(opt.dist, M, mean);
  dsm::check_sigma(opt.sigma, "--sigma");
  if (opt.drifts.empty()) throw InvalidArgument("--drift: give at least one drift");
  if (opt.bins < 2) throw InvalidArgument("--bins must be at least 2");
  if (opt.init != "q" && opt.init != "uniform")
    throw InvalidArgument("--init must be q or uniform, got '" + opt.init + "'");
  DriftOptions dopt;
  dopt.seed = opt.langevin.seed;
  dopt.threads = opt.langevin.threads;
  LangevinOptions lo0 = opt.langevin;
  const std::string sampler = resolve_sampler(opt.sampler, opt.drifts, *q);
  lo0.metropolis = sampler == "mala";

  const auto* vmf = dynamic_cast<const dist::VonMisesFisher*>(q.get());
  const geometry::AngularChart* chart = geometry::angular_chart(*M);
  EquilibriumStudy out;
  json& S = out.summary;
  S["config"] = opt.to_json();
  S["sampler"] = sampler;
  const int d = M->dim(), bins = opt.bins;

  io::Panel pt, pa1, pa2;
  std::optional<TorusTruth> truth;
  double truth_logq = 0;
  if (vmf) {
    pt.title = "S^" + std::to_string(d) + ", vMF(kappa=" + fmt(vmf->kappa()) + "), sigma=" + fmt(opt.sigma);
    pt.xlabel = "<z, mu>";
    pt.ylabel = "density";
    const auto law = axial_equilibrium(d, [&](double) { return vmf->kappa(); });
    pt.add({"true q", law.t, law.density, {}, "line", "black", {}});
    S["truth"] = {{"kappa", vmf->kappa()}, {"mean_cosine", vmf_mean_cosine(d, vmf->kappa())}};
  } else if (chart) {
    truth = torus_truth(*q, *chart, bins);
    pa1 = {M->spec() + ", " + q->spec() + ": a1 (around the tube)", "a1", "density", false, false, {}};
    pa2 = {M->spec() + ", " + q->spec() + ": a2 (around the axis)", "a2", "density", false, false, {}};
    pa1.add({"true q", truth->a, truth->p1, {}, "line", "black", {}});
    pa2.add({"true q", truth->a, truth->p2, {}, "line", "black", {}});
    S["truth"] = {{"mean_cos_a1", truth->cos1}, {"mean_cos_a2", truth->cos2}};
  } else {
    Rng rng(opt.langevin.seed, 1u << 30);
    const int n = 20000;
    for (int i = 0; i < n; ++i) truth_logq += q->log_density(q->sample(rng)) / n;
    S["truth"] = {{"mean_log_q", truth_logq}};
  }

  // Build and check every drift before anything runs (bad input fails fast, with one line).
  std::vector<Drift> built;
  for (const auto& name : opt.drifts) {
    built.push_back(build_drift(name, *q, opt.sigma, opt.correction, dopt));
    check_langevin_options(*M, built.back(), lo0);
  }
  // Chains start at exact samples of q: the burn-in then only has to absorb the (small) difference
  // between q and each drift's equilibrium, not the mixing from uniform — which takes a long time on
  // the torus of revolution, where a2 diffuses around a circle of radius ~R.
  if (opt.init == "q") {
    Rng rng(opt.langevin.seed, (1ULL << 40) + 7);
    Mat init(opt.langevin.chains, M->ambient_dim());
    for (int c = 0; c < opt.langevin.chains; ++c) init.row(c) = q->sample(rng).transpose();
    lo0.initial = std::move(init);
  }
  json drifts = json::array();
  Vec true_cos1;  // per-chain E[cos a1] of the `true` drift (tori)
  for (std::size_t k = 0; k < built.size(); ++k) {
    const std::string& name = opt.drifts[k];
    const Drift& drift = built[k];
    if (log)
      log("equilibrium: drift " + name + " on " + M->spec() + " (" + q->spec() + ", sigma " + fmt(opt.sigma) + ", " +
          sampler + ", h " + fmt(lo0.step_size) + ")");
    LangevinOptions lo = lo0;
    io::Progress bar("langevin " + name, static_cast<std::size_t>(lo.chains));
    lo.on_chain_done = [&bar](std::size_t n) {
      if (n % 64 == 0) bar.update(n);
    };
    const auto res = run_langevin(*M, drift, lo);
    bar.update(static_cast<std::size_t>(lo.chains));
    bar.finish();
    json j = {
        {"drift", drift.name}, {"sampler", sampler}, {"fast_path", res.fast_path}, {"samples", res.samples.rows()}};
    if (lo.metropolis) j["acceptance_rate"] = res.acceptance_rate;
    if (vmf) {
      const auto ke = kappa_eff(res, vmf->mean());
      j["kappa_eff"] = ke.kappa;
      j["kappa_eff_se"] = ke.kappa_se;
      j["mean_cosine"] = ke.mean_cosine;
      j["mean_cosine_se"] = ke.mean_cosine_se;
      j["under_concentration"] = 1.0 - ke.kappa / vmf->kappa();
      const Vec t = res.samples * vmf->mean();
      pt.add({name + " (Langevin)",
              stats::bin_centres(-1, 1, bins),
              stats::histogram_density(to_std(t), -1, 1, bins),
              {},
              "points",
              colour(name),
              {}});
      if (drift.axial && opt.predict) {
        const auto law = axial_equilibrium(d, [&](double t) { return drift.axial->g(t); });
        j["predicted_kappa_eff"] = law.kappa_eff;
        j["predicted_under_concentration"] = 1.0 - law.kappa_eff / vmf->kappa();
        if (name != "true") pt.add({name + " (exact, h -> 0)", law.t, law.density, {}, "line", colour(name), {}});
      }
    } else if (chart) {
      Vec a1(res.samples.rows()), a2(res.samples.rows());
      for (Eigen::Index i = 0; i < a1.size(); ++i) {
        const Eigen::Vector2d a = chart->angles(res.samples.row(i).transpose());
        a1[i] = a[0], a2[i] = a[1];
      }
      const Vec m1 = chain_means(res, a1.array().cos().matrix());
      const auto c1 = stats::summarize(to_std(m1)), c2 = chain_summary(res, a2.array().cos().matrix());
      // Every drift runs the same chains (same initial states and noise): the difference to the `true`
      // drift, chain by chain, cancels most of the Monte Carlo error (common random numbers).
      if (name == "true") true_cos1 = m1;
      if (true_cos1.size() == m1.size() && name != "true") {
        const auto dm = stats::summarize(to_std(m1 - true_cos1));
        j["shift_cos_a1_vs_true"] = dm.mean, j["shift_cos_a1_vs_true_se"] = dm.se;
      }
      j["mean_cos_a1"] = c1.mean, j["mean_cos_a1_se"] = c1.se;
      j["mean_cos_a2"] = c2.mean, j["mean_cos_a2_se"] = c2.se;
      j["bias_cos_a1"] = c1.mean - truth->cos1, j["bias_cos_a2"] = c2.mean - truth->cos2;
      pa1.add({name, truth->a, stats::histogram_density(to_std(a1), -kPi, kPi, bins), {}, "step", colour(name), {}});
      pa2.add({name, truth->a, stats::histogram_density(to_std(a2), -kPi, kPi, bins), {}, "step", colour(name), {}});
    } else {
      Vec lq(res.samples.rows());
      for (Eigen::Index i = 0; i < lq.size(); ++i) lq[i] = q->log_density(res.samples.row(i).transpose());
      const auto m = chain_summary(res, lq);
      j["mean_log_q"] = m.mean, j["mean_log_q_se"] = m.se, j["bias_mean_log_q"] = m.mean - truth_logq;
    }
    drifts.push_back(j);
  }
  S["drifts"] = drifts;
  if (vmf) out.panels.push_back(pt);
  if (chart) out.panels = {pa1, pa2};
  return out;
}

}  // namespace rbsm::sampling
