#pragma once
/// The --torchscript options shared by `rbsm anatomy` and `rbsm lid-bench` (apps/rbsm/cmd_torch_torchscript.cpp):
/// a user's TorchScript model (x, t) -> score | eps | x0 under a vp | ve schedule, analysed by the same
/// pipeline as rbsm's own U-Net (include/rbsm/anatomy/torchscript_field.hpp; docs/anatomy.md §11).
#include <cstdint>
#include <string>

#include "cli.hpp"

#include "rbsm/anatomy/analysis.hpp"
#include "rbsm/anatomy/lid.hpp"

namespace rbsm::cli {

struct TorchScriptArgs {
  std::string model;  ///< --torchscript MODEL.pt (empty: not a TorchScript run)
  std::string input_shape, parametrisation = "score", schedule = "vp";
  double sigma = 0;  ///< --sigma S (0: not given)
  double ve_sigma_min = 0.01, ve_sigma_max = 50;
  std::string points_text;  ///< --points: a count (fields, manifolds) or, with --torchscript, a FILE
  std::int64_t sample_steps = 1000, sample_points = 32;
  const CLI::Option* times_option = nullptr;  ///< --times / --t, to refuse them beside --sigma
  const CLI::Option* sigma_option = nullptr;
  bool given() const { return !model.empty(); }
};

/// Adds --torchscript, --input-shape, --parametrisation, --schedule, --sigma, --ve-sigma-min, --ve-sigma-max
/// and, if `sample_steps`, --sample-steps and --sample-points. `times_name` is the command's time option ("--times" or
/// "--t").
void add_torchscript_options(CLI::App& app, TorchScriptArgs& a, const std::string& times_name, bool sample_steps);

/// --points as a count: the text must be an integer (empty: `fallback`; the command checks the range). Throws
/// InvalidArgument otherwise.
std::int64_t points_count(const TorchScriptArgs& a, std::int64_t fallback);

struct TorchScriptAnatomyArgs {
  std::string times, linalg, out;
  std::int64_t images = 8, steps = 1000;
  int examples = 3;
  bool spectra_csv = true;
  double kappa = 0.1;
};
/// rbsm anatomy --torchscript: points from --points FILE or --images trajectories of the reverse SDE.
json run_torchscript_anatomy(const TorchScriptArgs& ts, const TorchScriptAnatomyArgs& a,
                             const anatomy::AnatomyOptions& options, const Common& common);

/// rbsm lid-bench --torchscript: the three LID estimators at clean points x_0 from --points FILE or
/// --sample-points draws of the reverse SDE, at lid.t (or the t of --sigma).
json run_torchscript_lid(const TorchScriptArgs& ts, anatomy::LidOptions lid, const std::string& out,
                         const Common& common);

}  // namespace rbsm::cli
