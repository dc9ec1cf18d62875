// Reproduce experiment "equilibrium" (docs/langevin.md §3): the source document's Langevin equilibria
// on S^2, S^6, S^10 under vMF(kappa = 2) — "ambient DSM under-concentrates by about 17% (S^6) and 33%
// (S^10), not on S^2, and the post-hoc correction removes it" — with every drift named precisely:
//  (A) noise-free: the exact stationary law of each axial drift (1-D quadrature) as a function of
//      sigma, and the sigma at which each drift reproduces 17% / 33%;
//  (B) Langevin simulations at sigma = 0.29 (histograms of <z, mu> against the truth, kappa_eff +- se);
//  (C) the torus of revolution, where rb-extrinsic leaves the E_M bias and rb-geometric removes it.
#include <cmath>
#include <iostream>

#include "cli.hpp"

#include "rbsm/dist/density.hpp"
#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/io/table.hpp"
#include "rbsm/sampling/drifts.hpp"
#include "rbsm/sampling/equilibrium.hpp"
#include "rbsm/sampling/equilibrium_study.hpp"

namespace rbsm::cli {
namespace {

constexpr double kKappa = 2.0;
constexpr double kSigmaSource = 0.29;

/// Predicted under-concentration 1 - kappa_eff / kappa of drift `name` on S^d at sigma (exact
/// stationary law of the tabulated axial drift).
double predicted_gap(int d, const std::string& name, double sigma) {
  std::shared_ptr<const geometry::Manifold> M = geometry::make_manifold("sphere:" + std::to_string(d));
  const auto q = dist::make_density("vmf:kappa=2", M);
  sampling::DriftOptions o;
  o.axial_grid = 1001;
  const auto drift = sampling::make_drift(name, *q, sigma, o);
  const auto law = sampling::axial_equilibrium(
      d, [&](double t) { return drift.axial->g(t); }, 1001);
  return 1.0 - law.kappa_eff / kKappa;
}

/// The sigma in [lo, hi] at which predicted_gap = target (bisection; gaps grow with sigma), or NaN.
double sigma_for_gap(int d, const std::string& name, double target, double lo = 0.02, double hi = 0.6) {
  double glo = predicted_gap(d, name, lo) - target, ghi = predicted_gap(d, name, hi) - target;
  if (glo * ghi > 0) return std::nan("");
  for (int it = 0; it < 22; ++it) {
    const double mid = 0.5 * (lo + hi), gm = predicted_gap(d, name, mid) - target;
    if ((gm < 0) == (glo < 0))
      lo = mid, glo = gm;
    else
      hi = mid;
  }
  return 0.5 * (lo + hi);
}

std::string pct(double x) { return std::isnan(x) ? "n/a" : fmt(100.0 * x, 3) + "%"; }

ReportSection run(const ReproduceContext& ctx) {
  const bool quick = ctx.profile == "quick";
  const auto dir = ctx.out / "equilibrium";
  io::ensure_directory(dir);
  ReportSection sec;
  sec.title = "Langevin equilibrium on S^2, S^6, S^10 and the torus (source: 17% / 33% under-concentration)";
  const std::vector<std::string> drifts{"rb", "rb-extrinsic", "rb-full", "first-order", "source-expansion"};
  const std::vector<int> dims{2, 6, 10};

  // (A) noise-free scan of the stationary laws against sigma.
  io::Figure scan;
  scan.title = "Exact stationary under-concentration 1 - kappa_eff/kappa of each drift (vMF kappa = 2)";
  io::Table scan_table({"d", "drift", "sigma", "under_concentration"});
  std::vector<double> sigmas;
  const int ns = quick ? 8 : 20;
  for (int i = 0; i < ns; ++i) sigmas.push_back(0.05 + 0.40 * i / (ns - 1));
  json predicted = json::object();
  for (int d : dims) {
    auto& p = scan.panel("S^" + std::to_string(d), "sigma", "1 - kappa_eff / kappa");
    for (const auto& name : drifts) {
      io::Series s{name, sigmas, {}, {}, "line", ""};
      for (double sg : sigmas) {
        s.y.push_back(predicted_gap(d, name, sg));
        scan_table.add_row_text({std::to_string(d), name, io::format_double(sg), io::format_double(s.y.back())});
      }
      p.add(s);
      predicted["S" + std::to_string(d)][name] = predicted_gap(d, name, kSigmaSource);
    }
    if (d == 6) p.add({"source: 17%", {sigmas.front(), sigmas.back()}, {0.17, 0.17}, {}, "dashed", "gray"});
    if (d == 10) p.add({"source: 33%", {sigmas.front(), sigmas.back()}, {0.33, 0.33}, {}, "dashed", "gray"});
  }
  scan.save(dir / "under_concentration_vs_sigma.png");
  scan_table.save(dir / "under_concentration_vs_sigma.csv");
  sec.figures.push_back("equilibrium/under_concentration_vs_sigma.png");

  json which = json::object();
  for (const auto& name : drifts) {
    const double s6 = sigma_for_gap(6, name, 0.17), s10 = sigma_for_gap(10, name, 0.33);
    const double at2 = std::isnan(s6) ? std::nan("") : predicted_gap(2, name, s6);
    // JSON null where no sigma in [0.02, 0.6] gives the gap (rb-full on S^10): a result never carries NaN
    auto value = [](double v) { return std::isnan(v) ? json(nullptr) : json(v); };
    which[name] = {{"sigma_17pct_S6", value(s6)}, {"sigma_33pct_S10", value(s10)}, {"S2_at_sigma_S6", value(at2)}};
    sec.rows.push_back({"drift " + name + ": sigma giving 17% on S^6 / 33% on S^10; S^2 at that sigma",
                        "17% (S^6), 33% (S^10), none on S^2 (sigma not stated)",
                        "sigma = " + fmt(s6, 3) + " / " + fmt(s10, 3) + "; S^2: " + pct(at2),
                        "exact stationary law of the drift (no sampling)"});
  }
  for (int d : dims)
    for (const auto& name : drifts)
      sec.rows.push_back({"S^" + std::to_string(d) + " under-concentration, drift " + name + ", sigma 0.29",
                          d == 6    ? "17%"
                          : d == 10 ? "33%"
                                    : "0%",
                          pct(predicted["S" + std::to_string(d)][name]), "exact stationary law"});

  // (B) Langevin at sigma = 0.29.
  io::Figure hist;
  hist.title = "Equilibrium of <z, mu> under Langevin (sigma = 0.29, vMF kappa = 2)";
  json simulated = json::array();
  for (int d : dims) {
    sampling::EquilibriumStudyOptions c;
    c.manifold = "sphere:" + std::to_string(d);
    c.dist = "vmf:kappa=2";
    c.sigma = kSigmaSource;
    c.drifts = {"true", "rb", "rb-extrinsic", "rb-full", "first-order", "source-expansion"};
    // h = 0.002: the O(h) bias of unadjusted Langevin (about 10 h in kappa on S^10) stays below 1%
    c.langevin.chains = quick ? 400 : 2000;
    c.langevin.steps = quick ? 6000 : 16000;
    c.langevin.step_size = 0.002;
    c.sampler = "ula";  // the figure shows unadjusted Langevin beside each drift's exact law
    c.langevin.record_every = 20;
    c.langevin.seed = ctx.seed;
    c.langevin.threads = ctx.threads;
    const auto o = sampling::equilibrium_study(c, [](const std::string&) {});
    for (const auto& p : o.panels) hist.panels.push_back(p);
    for (const auto& j : o.summary["drifts"]) {
      simulated.push_back({{"d", d}, {"result", j}});
      sec.rows.push_back(
          {"S^" + std::to_string(d) + " kappa_eff, drift " + j["drift"].get<std::string>() + " (Langevin, h = 0.002)",
           "2 (true)", fmt(j["kappa_eff"].get<double>(), 4) + " +- " + fmt(j["kappa_eff_se"].get<double>(), 2),
           "predicted (h -> 0): " + fmt(j.value("predicted_kappa_eff", std::nan("")), 4)});
    }
  }
  hist.save(dir / "equilibrium_spheres.png");
  sec.figures.push_back("equilibrium/equilibrium_spheres.png");

  // (C) the torus of revolution (2, 1) under uniform q: r_sigma = sigma^2 E_M + O(sigma^4), so every shift of
  // the equilibrium is the embedding's. Chains start at draws of q and share their noise across drifts
  // (common random numbers): shifts against `true` are measured chain by chain. The full profile adds
  // von Mises (1, 1) on the torus (3, 1), where b_q dominates.
  json torus = json::array();
  auto torus_case = [&](const std::string& manifold, const std::string& dist, int chains, int steps,
                        const std::string& png, const std::string& title) {
    sampling::EquilibriumStudyOptions c;
    c.manifold = manifold;
    c.dist = dist;
    c.sigma = 0.3;
    // quick: the pair that isolates E_M (each RB drift costs a tabulation of r_sigma: about 25 CPU seconds);
    // rb behaves as rb-extrinsic and rb-full as rb-geometric under uniform q
    c.drifts = quick ? std::vector<std::string>{"true", "rb-extrinsic", "rb-geometric"}
                     : std::vector<std::string>{"true", "rb", "rb-extrinsic", "rb-geometric", "rb-full"};
    c.langevin.chains = chains;
    c.langevin.steps = steps;
    c.langevin.step_size = 0.005;
    c.sampler = "ula";  // one sampler for all drifts: the shifts against `true` cancel its O(h) bias
    c.langevin.seed = ctx.seed;
    c.langevin.threads = ctx.threads;
    try {
      const auto o = sampling::equilibrium_study(c, [](const std::string& line) { std::cerr << line << "\n"; });
      io::Figure tf;
      tf.title = title;
      tf.panels.assign(o.panels.begin(), o.panels.end());
      tf.save(dir / png);
      sec.figures.push_back("equilibrium/" + png);
      torus.push_back(o.summary);
      for (const auto& j : o.summary["drifts"]) {
        if (!j.contains("shift_cos_a1_vs_true")) continue;
        sec.rows.push_back({manifold + " " + dist + ": E[cos a1] shift vs true, drift " + j["drift"].get<std::string>(),
                            manifold == "torus:2,1" ? "(not in source; E_M alone predicts -0.0022 for rb, rb-extrinsic)"
                                                    : "(not in source)",
                            fmt(j["shift_cos_a1_vs_true"].get<double>(), 3) + " +- " +
                                fmt(j["shift_cos_a1_vs_true_se"].get<double>(), 2),
                            "truth E[cos a1] = " + fmt(o.summary["truth"]["mean_cos_a1"].get<double>(), 5)});
      }
    } catch (const Error& e) {
      torus.push_back({{"manifold", manifold}, {"error", e.what()}});
    }
  };
  torus_case("torus:2,1", "uniform", quick ? 8000 : 16000, quick ? 4000 : 6000, "equilibrium_torus_uniform.png",
             "Torus of revolution (2, 1), uniform q, sigma = 0.3: marginals at equilibrium");
  if (!quick)
    torus_case("torus:3,1", "vonmises:kappa1=1,kappa2=1", 8000, 6000, "equilibrium_torus.png",
               "Torus of revolution (3, 1), von Mises (1, 1), sigma = 0.3: marginals at equilibrium");

  sec.html =
      "<p>Drifts (docs/langevin.md §2): <b>rb</b> is the exact Rao-Blackwellized target r_sigma (what a perfectly "
      "trained ambient-DSM model outputs on M); <b>rb-extrinsic</b> = r - sigma^2 K r (the source's correction); "
      "<b>rb-full</b> also removes the heat-kernel term; <b>first-order</b> = grad + sigma^2 (b_q + K grad + E_M); "
      "<b>source-expansion</b> = grad + sigma^2 K grad, the source's extrinsic term alone. kappa_eff is the "
      "maximum-likelihood vMF concentration (known mean) of the equilibrium samples. The first figure is exact "
      "(stationary laws by quadrature); the second is unadjusted Langevin (h = 0.002; points) beside each drift's "
      "exact "
      "stationary law (lines).</p>"
      "<p>Tori: chains start at exact draws of q and every drift runs the same chains, so the shift of E[cos a1] "
      "against the true drift is measured chain by chain (common random numbers). On the torus of revolution (2, 1) "
      "under uniform q the exact RB target is sigma^2 E_M + O(sigma^4): rb and rb-extrinsic (the source's correction, "
      "K r only) keep the E_M shift (first-order prediction -0.0022 from the stationary law exp(sigma^2 k1^2 / 4)); "
      "rb-geometric and rb-full remove it up to O(sigma^4).</p>";
  sec.summary = {{"predicted_under_concentration_sigma_0.29", predicted},
                 {"sigma_reproducing_source", which},
                 {"simulated", simulated},
                 {"torus", torus}};
  sec.key_rows = {10, 15};  // the exact under-concentration of drift rb on S^6 and S^10 at sigma 0.29
  io::atomic_write(dir / "summary.json", sec.summary.dump(2));
  return sec;
}

RegisterExperiment reg("equilibrium", 40, run);

}  // namespace
}  // namespace rbsm::cli
