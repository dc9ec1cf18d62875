#pragma once
/// The options of `rbsm anatomy` (cmd_torch_anatomy.cpp), shared with its reproduce experiment "anatomy"
/// (exp_torch_anatomy.cpp): options -> study (rbsm/anatomy/anatomy_study.hpp) -> run folder.
#include <cstdint>
#include <string>
#include <vector>

#include "cli.hpp"
#include "torchscript_cli.hpp"

#include "rbsm/anatomy/anatomy_study.hpp"

namespace rbsm::cli {

struct AnatomyArgs {
  std::string checkpoint, field, out = "runs/anatomy", times = "0.01,0.03,0.05,0.15,0.3", linalg = "torch";
  std::string device = "cpu", sampler = "em";
  std::vector<std::string> images;  // --image PNG
  std::int64_t n_images = 128, points = 8, chunk = 98, steps = 1000;
  int examples = 3;
  double kappa = 0.1;
  bool spectra_csv = true;
  TorchScriptArgs ts;  // --torchscript MODEL.pt (cmd_torch_torchscript.cpp)
};

/// Checks --kappa, --chunk and --linalg.
anatomy::AnatomyOptions analysis_options(const AnatomyArgs& a);
/// --field: result.json and the report in the run folder a.out.
json run_anatomy_field(const AnatomyArgs& a, const Common& common);
/// --checkpoint (sampled trajectories, or --image PNGs).
json run_anatomy_checkpoint(const AnatomyArgs& a, const Common& common);

}  // namespace rbsm::cli
