// rbsm equilibrium --manifold M --dist Q --sigma S --drift X[,Y...] --out DIR: the Langevin equilibrium
// of each drift against the truth (docs/langevin.md §3). On spheres under vMF: kappa_eff with a
// standard error, the law of <z, mu> (histogram) and the exact stationary law of each axial drift;
// on the tori: the marginals of both angles and E[cos a_i]; elsewhere E[log q].
#include <cmath>

#include "equilibrium_common.hpp"
#include "rbsm/dist/vmf.hpp"
#include "rbsm/error.hpp"
#include "rbsm/geometry/torus.hpp"
#include "rbsm/io/progress.hpp"
#include "rbsm/io/run_folder.hpp"
#include "rbsm/io/table.hpp"
#include "rbsm/sampling/equilibrium.hpp"
#include "rbsm/spec.hpp"

#ifdef RBSM_WITH_TORCH
#include "rbsm/nn/mlp.hpp"
#endif

namespace rbsm::cli {

using geometry::Vec;
using geometry::Mat;

json EquilibriumConfig::to_json() const {
  return {{"manifold", manifold},
          {"dist", dist},
          {"mean", mean},
          {"sigma", sigma},
          {"drifts", drifts},
          {"correction", correction},
          {"chains", langevin.chains},
          {"steps", langevin.steps},
          {"step_size", langevin.step_size},
          {"burn_in", langevin.burn_in},
          {"record_every", langevin.record_every},
          {"mala", langevin.metropolis},
          {"init", init},
          {"seed", langevin.seed},
          {"bins", bins}};
}

sampling::Drift build_drift(const std::string& name, const dist::Density& q, double sigma, const std::string& correction,
                            const sampling::DriftOptions& options) {
  if (name.rfind("model:", 0) == 0) {
    const std::string path = name.substr(6);
#ifdef RBSM_WITH_TORCH
    const auto field = nn::load_mlp_field(path, q.manifold());
    return sampling::field_drift(name + (correction == "none" ? "" : "+" + correction), q.manifold(), field,
                                 dsm::parse_correction(correction), sigma, options);
#else
    throw InvalidArgument("--drift " + name + ": learned models need rbsm built with LibTorch");
#endif
  }
  if (correction != "none") dsm::parse_correction(correction);  // validate even if unused
  return sampling::make_drift(name, q, sigma, options);
}

namespace {

/// One colour per drift, so that a drift's histogram and its predicted law match in every figure.
std::string colour(const std::string& drift) {
  static const std::vector<std::pair<std::string, std::string>> c{
      {"true", "tab:gray"},       {"rb", "tab:orange"},       {"rb-extrinsic", "tab:green"},
      {"rb-geometric", "tab:olive"}, {"rb-full", "tab:blue"}, {"first-order", "tab:purple"},
      {"source-expansion", "tab:brown"}};
  for (const auto& [k, v] : c)
    if (k == drift) return v;
  return "tab:red";
}

/// Histogram density of values in [lo, hi) with `bins` bins.
std::vector<double> histogram(const Vec& x, double lo, double hi, int bins) {
  std::vector<double> h(bins, 0.0);
  for (int i = 0; i < x.size(); ++i) {
    const int b = static_cast<int>(std::floor((x[i] - lo) / (hi - lo) * bins));
    if (b >= 0 && b < bins) h[b] += 1.0;
  }
  for (double& v : h) v /= x.size() * (hi - lo) / bins;
  return h;
}

std::vector<double> centres(double lo, double hi, int bins) {
  std::vector<double> c(bins);
  for (int b = 0; b < bins; ++b) c[b] = lo + (b + 0.5) * (hi - lo) / bins;
  return c;
}

/// Per-chain means of f over the recorded samples.
Vec chain_means(const sampling::LangevinResult& r, const Vec& f) {
  const int C = r.chains, R = r.records_per_chain;
  Vec cm(C);
  for (int c = 0; c < C; ++c) cm[c] = f.segment(static_cast<Eigen::Index>(c) * R, R).mean();
  return cm;
}

/// Mean of per-chain values and its standard error (chains are independent).
std::pair<double, double> mean_se(const Vec& cm) {
  const double m = cm.mean();
  return {m, std::sqrt((cm.array() - m).square().sum() / (cm.size() - 1) / cm.size())};
}

/// Mean of f over the recorded samples and its standard error from the per-chain means.
std::pair<double, double> chain_mean(const sampling::LangevinResult& r, const Vec& f) { return mean_se(chain_means(r, f)); }

struct TorusTruth {
  std::vector<double> a, p1, p2;  // marginal densities of a1, a2 on (-pi, pi]
  double cos1 = 0, cos2 = 0;
};

/// Marginals of q in the angles by a 2-D periodic rectangle rule (spectrally accurate): the density
/// with respect to da1 da2 is q(p(a)) |dp/da1 x dp/da2|.
TorusTruth torus_truth(const dist::Density& q, int bins) {
  const auto& M = q.manifold();
  const geometry::CliffordTorus* C = dynamic_cast<const geometry::CliffordTorus*>(&M);
  const geometry::TorusOfRevolution* T = dynamic_cast<const geometry::TorusOfRevolution*>(&M);
  const int n = 8 * bins;
  std::vector<double> m1(n, 0.0), m2(n, 0.0);
  double Z = 0;
  TorusTruth t;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const double a1 = -M_PI + 2 * M_PI * (i + 0.5) / n, a2 = -M_PI + 2 * M_PI * (j + 0.5) / n;
      const Vec z = C ? C->point(a1, a2) : T->point(a1, a2);
      const geometry::Mat J = C ? C->coordinate_tangents(a1, a2) : T->coordinate_tangents(a1, a2);
      const double w = std::exp(q.log_density(z)) * std::sqrt((J.transpose() * J).determinant());
      m1[i] += w, m2[j] += w, Z += w;
      t.cos1 += w * std::cos(a1), t.cos2 += w * std::cos(a2);
    }
  t.cos1 /= Z, t.cos2 /= Z;
  const int k = n / bins;
  for (int b = 0; b < bins; ++b) {
    double s1 = 0, s2 = 0;
    for (int i = 0; i < k; ++i) s1 += m1[b * k + i], s2 += m2[b * k + i];
    t.a.push_back(-M_PI + (b + 0.5) * 2 * M_PI / bins);
    t.p1.push_back(s1 / Z / (2 * M_PI / bins));
    t.p2.push_back(s2 / Z / (2 * M_PI / bins));
  }
  return t;
}

}  // namespace

EquilibriumOutcome run_equilibrium(const EquilibriumConfig& cfg, const std::function<void(const std::string&)>& log) {
  std::shared_ptr<const geometry::Manifold> M = geometry::make_manifold(cfg.manifold);
  std::optional<Vec> mean;
  if (!cfg.mean.empty()) mean = parse_vector(cfg.mean, "--mean");
  const auto q = dist::make_density(cfg.dist, M, mean);
  dsm::check_sigma(cfg.sigma, "--sigma");
  sampling::DriftOptions dopt;
  dopt.seed = cfg.langevin.seed;
  dopt.threads = cfg.langevin.threads;

  const auto* vmf = dynamic_cast<const dist::VonMisesFisher*>(q.get());
  const geometry::Manifold& Mr = *M;
  const bool torus = dynamic_cast<const geometry::CliffordTorus*>(&Mr) || dynamic_cast<const geometry::TorusOfRevolution*>(&Mr);
  EquilibriumOutcome out;
  json& S = out.summary;
  S["config"] = cfg.to_json();
  const int d = M->dim(), bins = cfg.bins;

  io::Panel pt, pa1, pa2;
  std::optional<TorusTruth> truth;
  double truth_logq = 0;
  if (vmf) {
    pt.title = "S^" + std::to_string(d) + ", vMF(kappa=" + fmt(vmf->kappa(), 3) + "), sigma=" + fmt(cfg.sigma, 3);
    pt.xlabel = "<z, mu>";
    pt.ylabel = "density";
    const auto law = sampling::axial_equilibrium(d, [&](double) { return vmf->kappa(); });
    pt.add({"true q", law.t, law.density, {}, "line", "black"});
    S["truth"] = {{"kappa", vmf->kappa()}, {"mean_cosine", sampling::vmf_mean_cosine(d, vmf->kappa())}};
  } else if (torus) {
    truth = torus_truth(*q, bins);
    pa1 = {M->spec() + ", " + q->spec() + ": a1 (around the tube)", "a1", "density", false, false, {}};
    pa2 = {M->spec() + ", " + q->spec() + ": a2 (around the axis)", "a2", "density", false, false, {}};
    pa1.add({"true q", truth->a, truth->p1, {}, "line", "black"});
    pa2.add({"true q", truth->a, truth->p2, {}, "line", "black"});
    S["truth"] = {{"mean_cos_a1", truth->cos1}, {"mean_cos_a2", truth->cos2}};
  } else {
    Rng rng(cfg.langevin.seed, 1u << 30);
    const int n = 20000;
    for (int i = 0; i < n; ++i) truth_logq += q->log_density(q->sample(rng)) / n;
    S["truth"] = {{"mean_log_q", truth_logq}};
  }

  // Build and check every drift before anything runs (bad input fails fast, with one line).
  std::vector<sampling::Drift> built;
  if (cfg.langevin.metropolis)  // MALA needs a potential: say so before tabulating anything
    for (const auto& name : cfg.drifts)
      if (!sampling::drift_has_potential(name, *q))
        throw InvalidArgument(sampling::mala_without_potential_message(name));
  for (const auto& name : cfg.drifts) {
    built.push_back(build_drift(name, *q, cfg.sigma, cfg.correction, dopt));
    sampling::check_langevin_options(*M, built.back(), cfg.langevin);
  }
  // Chains start at exact samples of q: the burn-in then only has to absorb the (small) difference
  // between q and each drift's equilibrium, not the mixing from uniform — which takes a long time on
  // the torus of revolution, where a2 diffuses around a circle of radius ~R.
  sampling::LangevinOptions lo0 = cfg.langevin;
  if (cfg.init == "q") {
    Rng rng(cfg.langevin.seed, (1ULL << 40) + 7);
    Mat init(cfg.langevin.chains, M->ambient_dim());
    for (int c = 0; c < cfg.langevin.chains; ++c) init.row(c) = q->sample(rng).transpose();
    lo0.initial = std::move(init);
  } else if (cfg.init != "uniform") {
    throw InvalidArgument("--init must be q or uniform, got '" + cfg.init + "'");
  }
  json drifts = json::array();
  Vec true_cos1;  // per-chain E[cos a1] of the `true` drift (tori)
  for (std::size_t k = 0; k < built.size(); ++k) {
    const std::string& name = cfg.drifts[k];
    const sampling::Drift& drift = built[k];
    log("equilibrium: drift " + name + " on " + M->spec() + " (" + q->spec() + ", sigma " + fmt(cfg.sigma, 3) + ")");
    sampling::LangevinOptions lo = lo0;
    io::Progress bar("langevin " + name, lo.chains);
    lo.on_chain_done = [&bar](std::size_t n) {
      if (n % 64 == 0) bar.update(n);
    };
    const auto res = sampling::run_langevin(*M, drift, lo);
    bar.update(lo.chains);
    bar.finish();
    json j = {{"drift", drift.name}, {"fast_path", res.fast_path}, {"samples", res.samples.rows()}};
    if (lo.metropolis) j["acceptance_rate"] = res.acceptance_rate;
    if (vmf) {
      const auto k = sampling::kappa_eff(res, vmf->mean());
      j["kappa_eff"] = k.kappa;
      j["kappa_eff_se"] = k.kappa_se;
      j["mean_cosine"] = k.mean_cosine;
      j["mean_cosine_se"] = k.mean_cosine_se;
      j["under_concentration"] = 1.0 - k.kappa / vmf->kappa();
      const Vec t = res.samples * vmf->mean();
      pt.add({name + " (Langevin)", centres(-1, 1, bins), histogram(t, -1, 1, bins), {}, "points", colour(name)});
      if (drift.axial && cfg.predict) {
        const auto law = sampling::axial_equilibrium(d, [&](double t) { return drift.axial->g(t); });
        j["predicted_kappa_eff"] = law.kappa_eff;
        j["predicted_under_concentration"] = 1.0 - law.kappa_eff / vmf->kappa();
        if (name != "true") pt.add({name + " (exact, h -> 0)", law.t, law.density, {}, "line", colour(name)});
      }
    } else if (torus) {
      Vec a1(res.samples.rows()), a2(res.samples.rows());
      const auto* C = dynamic_cast<const geometry::CliffordTorus*>(M.get());
      const auto* T = dynamic_cast<const geometry::TorusOfRevolution*>(M.get());
      for (Eigen::Index i = 0; i < a1.size(); ++i) {
        const Vec z = res.samples.row(i).transpose();
        const Eigen::Vector2d a = C ? C->angles(z) : T->angles(z);
        a1[i] = a[0], a2[i] = a[1];
      }
      const Vec m1 = chain_means(res, a1.array().cos().matrix());
      const auto c1 = mean_se(m1), c2 = chain_mean(res, a2.array().cos().matrix());
      // Every drift runs the same chains (same initial states and noise): the difference to the `true`
      // drift, chain by chain, cancels most of the Monte Carlo error (common random numbers).
      if (name == "true") true_cos1 = m1;
      if (true_cos1.size() == m1.size() && name != "true") {
        const auto dm = mean_se(m1 - true_cos1);
        j["shift_cos_a1_vs_true"] = dm.first, j["shift_cos_a1_vs_true_se"] = dm.second;
      }
      j["mean_cos_a1"] = c1.first, j["mean_cos_a1_se"] = c1.second;
      j["mean_cos_a2"] = c2.first, j["mean_cos_a2_se"] = c2.second;
      j["bias_cos_a1"] = c1.first - truth->cos1, j["bias_cos_a2"] = c2.first - truth->cos2;
      pa1.add({name, truth->a, histogram(a1, -M_PI, M_PI, bins), {}, "step", colour(name)});
      pa2.add({name, truth->a, histogram(a2, -M_PI, M_PI, bins), {}, "step", colour(name)});
    } else {
      Vec lq(res.samples.rows());
      for (Eigen::Index i = 0; i < lq.size(); ++i) lq[i] = q->log_density(res.samples.row(i).transpose());
      const auto m = chain_mean(res, lq);
      j["mean_log_q"] = m.first, j["mean_log_q_se"] = m.second, j["bias_mean_log_q"] = m.first - truth_logq;
    }
    drifts.push_back(j);
  }
  S["drifts"] = drifts;
  if (vmf) out.panels.push_back(pt);
  if (torus) out.panels = {pa1, pa2};
  return out;
}

namespace {

Register reg(
    "equilibrium", "Langevin equilibrium of score drifts (true, RB, corrected, learned) against the true density",
    [](CLI::App& app, const Common& common) -> Runner {
      auto cfg = std::make_shared<EquilibriumConfig>();
      auto drifts = std::make_shared<std::string>("true,rb,rb-extrinsic,rb-full");
      auto out = std::make_shared<std::string>("runs/equilibrium");
      cfg->manifold = "sphere:6";
      cfg->dist = "vmf:kappa=2";
      app.add_option("--manifold", cfg->manifold, "manifold spec (sphere:d, clifford-torus:r1,r2, torus:R,r, ...)")
          ->capture_default_str();
      app.add_option("--dist", cfg->dist, "density spec (vmf:kappa=K, vonmises:kappa1=A,kappa2=B, uniform, ...)")
          ->capture_default_str();
      app.add_option("--mean", cfg->mean, "vMF mean direction x1,...,xD (default e_1)");
      app.add_option("--sigma", cfg->sigma, "DSM noise level sigma of the RB target and the corrections")
          ->capture_default_str();
      app.add_option("--drift", *drifts,
                     "comma-separated drifts: true, rb, rb-extrinsic, rb-geometric, rb-full, first-order, "
                     "source-expansion, model:PATH")
          ->capture_default_str();
      app.add_option("--correction", cfg->correction, "post-hoc correction of model:PATH drifts")
          ->check(CLI::IsMember({"none", "extrinsic", "geometric", "full"}))
          ->capture_default_str();
      app.add_option("--chains", cfg->langevin.chains, "parallel chains")->capture_default_str();
      app.add_option("--steps", cfg->langevin.steps, "steps per chain")->capture_default_str();
      app.add_option("--step-size", cfg->langevin.step_size, "Euler-Maruyama step h")->capture_default_str();
      app.add_option("--burn-in", cfg->langevin.burn_in, "steps discarded (-1: steps/2)")->capture_default_str();
      app.add_option("--record-every", cfg->langevin.record_every, "thinning")->capture_default_str();
      app.add_flag("--mala", cfg->langevin.metropolis, "Metropolis-adjusted (drifts with a known potential: true, and every axial drift on a sphere)");
      app.add_option("--init", cfg->init, "initial states: q (exact samples of the target density) or uniform")
          ->check(CLI::IsMember({"q", "uniform"}))
          ->capture_default_str();
      app.add_option("--bins", cfg->bins, "histogram bins")->check(CLI::Range(2, 10000))->capture_default_str();
      app.add_option("--out", *out, "run folder")->capture_default_str();
      return [=, &common]() -> json {
        EquilibriumConfig c = *cfg;
        c.drifts.clear();
        std::string rest = *drifts;
        for (std::size_t pos; !rest.empty(); rest = pos == std::string::npos ? "" : rest.substr(pos + 1)) {
          pos = rest.find(',');
          const std::string part = rest.substr(0, pos);
          if (part.empty()) throw InvalidArgument("--drift '" + *drifts + "': empty drift name");
          c.drifts.push_back(part);
        }
        if (c.drifts.empty()) throw InvalidArgument("--drift: give at least one drift");
        c.langevin.seed = common.seed;
        c.langevin.threads = apply_threads(common);
        io::RunFolder run(*out, c.to_json());
        auto o = run_equilibrium(c, [&](const std::string& s) { run.log(s); });
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
        fig.panels = o.panels;
        if (!fig.panels.empty()) fig.save(run.path("equilibrium.png"));
        run.write_json("summary.json", o.summary);
        o.summary["out"] = run.dir().string();
        return o.summary;
      };
    });

}  // namespace
}  // namespace rbsm::cli
