#pragma once
/// The options of `rbsm lid-bench` (cmd_torch_lid.cpp), shared with its reproduce experiment "lid"
/// (exp_torch_lid.cpp): options -> study (rbsm/anatomy/lid_study.hpp) -> run folder.
#include <cstdint>
#include <string>

#include "cli.hpp"
#include "torchscript_cli.hpp"

#include "rbsm/anatomy/lid_study.hpp"

namespace rbsm::cli {

struct LidArgs {
  std::string manifolds = anatomy::default_lid_manifolds(), out = "runs/lid-bench", checkpoint;
  std::int64_t points = 32, steps = 8000, train_points = 8192, hidden = 256, layers = 3, batch = 256;
  std::int64_t normal_samples = 0, probes = 0, chunk = 128, per_class = 2;
  double t = 0.01, kappa = 0.1, lr = 2e-3;
  bool normal_centre = false;
  std::string param = "x0", data = "mnist", device = "cpu";
  TorchScriptArgs ts;  // --torchscript MODEL.pt (cmd_torch_torchscript.cpp)
};

anatomy::LidOptions lid_options(const LidArgs& a);
/// The benchmark over a.manifolds into the run folder a.out (lid_benchmark.csv/.png, lid_estimates.csv, result.json).
json run_lid_bench(const LidArgs& a, const Common& common);
/// Per-class LID of the score model a.checkpoint on a.data's held-out images (lid_per_image.csv, lid_per_class.png).
json run_lid_images(const LidArgs& a, const Common& common);

}  // namespace rbsm::cli
