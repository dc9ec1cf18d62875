#pragma once
// Shared by `rbsm equilibrium` and the reproduce experiment "equilibrium" (docs/langevin.md §3):
// runs manifold Langevin for a list of drifts on one (M, q, sigma) and summarises the equilibria
// against the truth: kappa_eff and the law of <z, mu> on spheres under vMF, the marginals of both
// angles on the tori, E[log q] elsewhere.
#include <memory>
#include <string>
#include <vector>

#include "cli.hpp"
#include "rbsm/dist/density.hpp"
#include "rbsm/io/figure.hpp"
#include "rbsm/sampling/drifts.hpp"

namespace rbsm::cli {

struct EquilibriumConfig {
  std::string manifold, dist, mean;           ///< specs (mean: optional "x1,...,xD")
  double sigma = 0.29;
  std::vector<std::string> drifts{"true", "rb", "rb-extrinsic", "rb-full"};
  std::string correction = "none";            ///< applied to model:PATH drifts
  sampling::LangevinOptions langevin;
  int bins = 50;
  std::string init = "q";                     ///< chains start from exact samples of q ("q") or uniform on M
  bool predict = true;                        ///< exact stationary laws of axial drifts (spheres)
  json to_json() const;
};

struct EquilibriumOutcome {
  json summary;                 ///< one entry per drift plus the truth
  std::vector<io::Panel> panels;///< the histogram panel(s) for the figure
};

/// Builds a drift by name, including `model:PATH` (needs LibTorch).
sampling::Drift build_drift(const std::string& name, const dist::Density& q, double sigma, const std::string& correction,
                            const sampling::DriftOptions& options);

/// Runs every drift of `config` (progress and log lines on stderr via `log`).
EquilibriumOutcome run_equilibrium(const EquilibriumConfig& config, const std::function<void(const std::string&)>& log);

}  // namespace rbsm::cli
