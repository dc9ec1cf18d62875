#pragma once
/// The Langevin equilibrium study of `rbsm equilibrium` and the reproduce experiment "equilibrium"
/// (docs/langevin.md §3): manifold Langevin for a list of drifts (sampling::build_drift) on one
/// (M, q, sigma), each summarised against the truth:
///  - spheres under vMF: kappa_eff with a standard error, the law of <z, mu> (histogram) and, for
///    axial drifts, the exact stationary law p(t) ∝ exp(G(t)) (1 - t^2)^{(d-2)/2} (no sampling);
///  - the tori: the marginals of both angles and E[cos a_i] against the marginals of q by a periodic
///    rectangle rule in the angles (density q(p(a)) sqrt det(J^T J) w.r.t. da1 da2), and the shift of
///    E[cos a1] against the `true` drift chain by chain (every drift runs the same chains: common
///    random numbers);
///  - elsewhere E[log q] against its value under q (exact draws).
/// Standard errors come from the per-chain means (chains are independent).
///
/// The sampler: "ula" (projected Euler-Maruyama: its equilibrium carries an O(h) bias), "mala"
/// (Metropolis-adjusted: exact for every drift with a potential) or "auto" (the default): MALA when
/// every drift has a potential (sampling::drift_has_potential: `true` always, every built-in drift
/// under vMF on a sphere), otherwise ULA for all drifts (one sampler for all, so that differences
/// between drifts are not differences between samplers). The summary says which ran.
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rbsm/dist/density.hpp"
#include "rbsm/io/figure.hpp"
#include "rbsm/sampling/langevin.hpp"

namespace rbsm::sampling {

struct EquilibriumStudyOptions {
  std::string manifold = "sphere:6", dist = "vmf:kappa=2";
  std::string mean;  ///< optional vMF mean direction "x1,...,xD"
  double sigma = 0.29;
  std::vector<std::string> drifts{"true", "rb", "rb-extrinsic", "rb-full"};
  std::string correction = "none";  ///< applied to family drifts (model:PATH)
  std::string sampler = "auto";     ///< auto | ula | mala
  LangevinOptions langevin;         ///< langevin.metropolis is set from `sampler`
  int bins = 50;
  std::string init = "q";  ///< chains start from exact draws of q ("q") or uniform on M
  bool predict = true;     ///< exact stationary laws of axial drifts (spheres)
  /// Everything needed to rerun (the CLI's config.json).
  nlohmann::json to_json() const;
};

struct EquilibriumStudy {
  nlohmann::json summary;         ///< {config, sampler, truth, drifts: [...]}
  std::vector<io::Panel> panels;  ///< the histogram panel(s) of the figure
};

/// Runs every drift (all are built and checked before any chain runs). `log` gets one line per drift;
/// progress bars go to stderr.
EquilibriumStudy equilibrium_study(const EquilibriumStudyOptions& options,
                                   const std::function<void(const std::string&)>& log = {});

/// The sampler `auto` resolves to for these drifts: "mala" when every drift has a potential under q.
/// Throws InvalidArgument for an unknown sampler or "mala" with a drift that has none.
std::string resolve_sampler(const std::string& sampler, const std::vector<std::string>& drifts, const dist::Density& q);

}  // namespace rbsm::sampling
