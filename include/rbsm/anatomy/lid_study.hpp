#pragma once
/// The studies of `rbsm lid-bench` and the reproduce experiment "lid" (docs/anatomy.md "Local intrinsic
/// dimension benchmark"):
///  - the benchmark over a list of manifolds of known dimension (run_lid_benchmark per manifold, its
///    tables and figure);
///  - per-class LID of a trained image score model: the three estimators at the first `per_class`
///    held-out images of every class, read at x_0 (alpha_t x_0 for the Jacobian rules, perturbed points
///    for the normal bundle), with per-class and overall means.
/// Progress bars go to stderr.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rbsm/anatomy/lid_bench.hpp"
#include "rbsm/data/images.hpp"
#include "rbsm/io/figure.hpp"
#include "rbsm/io/table.hpp"
#include "rbsm/nn/checkpoint.hpp"

namespace rbsm::anatomy {

/// {method, mae (null when the truth is unknown), mean_estimate, sd_estimate, seconds_per_point, estimates}.
nlohmann::json lid_method_json(const LidMethodResult& m);

struct LidBenchStudyOptions {
  std::vector<std::string> manifolds;  ///< specs of make_embedded_manifold (all checked before any work)
  LidBenchOptions bench;
  std::uint64_t seed = 0;  ///< manifold k runs with seed Rng(seed, 100 + k)()
};

struct LidBenchStudy {
  std::vector<LidBenchResult> results;
  /// lid_benchmark.csv: one row per (manifold, method).
  io::Table table{{"manifold", "spec", "true_dim", "method", "mae", "mean_estimate", "sd_estimate", "seconds_per_point",
                   "train_seconds", "final_loss"}};
  /// lid_estimates.csv: one row per held-out point.
  io::Table per_point{{"manifold", "point", "true_dim", "singular_value", "normal_bundle", "flipd"}};
  nlohmann::json rows;       ///< the table as JSON ("results" of lid-bench)
  nlohmann::json manifolds;  ///< per manifold: spec, true dims, training, per-method results
  io::Figure figure;         ///< estimates against the truth, MAE per manifold, seconds per point
};

/// `log` gets one line per manifold.
LidBenchStudy lid_bench_study(const LidBenchStudyOptions& options,
                              const std::function<void(const std::string&)>& log = {});

struct LidPerClassOptions {
  LidOptions lid;
  std::int64_t per_class = 2;        ///< held-out images per class (the first ones of each class)
  std::uint64_t seed = 0;            ///< class c runs with seed Rng(seed, 200 + c)()
  std::string data_label = "mnist";  ///< for titles and messages
};

struct LidPerClassStudy {
  std::int64_t ambient_dim = 0;
  io::Table table{{"class", "image", "singular_value", "normal_bundle", "flipd"}};  ///< lid_per_image.csv
  nlohmann::json classes;  ///< per class: {class, n, methods: [lid_method_json]}
  nlohmann::json overall;  ///< per method: {method, mean_estimate, sd_estimate, n} over all images
  io::Figure figure;       ///< per-class mean +- sd of the three estimators
};

/// Throws InvalidArgument for per_class < 1, images that do not fit the model (1 x h x w) or a label
/// outside 0-9.
LidPerClassStudy lid_per_class_study(const nn::LoadedScoreModel& model, const data::ImageSet& heldout,
                                     const LidPerClassOptions& options);

}  // namespace rbsm::anatomy
