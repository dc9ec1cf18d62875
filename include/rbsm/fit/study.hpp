#pragma once
/// The manifold-fit study behind `rbsm fit` and the earth benchmark (docs/fit.md): data and splits, the
/// trained model's exact likelihoods at sigma_eval, the von Mises-Fisher KDE baseline, and figures.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rbsm/data/points.hpp"
#include "rbsm/fit/fit.hpp"
#include "rbsm/io/figure.hpp"

namespace rbsm::fit {

struct DataSpec {
  /// FILE (CSV/TSV/.npy), earth:volcano|earthquake|flood|fire, or synthetic:N (N exact draws of `dist`).
  std::string data;
  data::PointOptions points;
  std::string dist;                 ///< the density of synthetic data (a spec of dist::make_density)
  std::string val_file, test_file;  ///< explicit splits (both or neither): `data` is then the training set
  std::vector<double> split{0.8, 0.1, 0.1};
  std::uint64_t split_seed = 0;
  bool by_location = false;  ///< --split-by location: all copies of a location on one side
};

struct FitData {
  Mat train, val, test;
  long test_duplicates_in_train = 0;
  std::string source;  ///< what was read (file, catalogue, density)
};
/// Reads and splits the data (errors name the file and row). Synthetic draws use Rng(seed, i).
FitData load_fit_data(const geometry::Manifold& manifold, const DataSpec& spec, std::uint64_t seed);

struct EvaluationOptions {
  dsm::Correction correction = dsm::Correction::none;
  double sigma_eval = 0;  ///< 0: chosen on the validation split (choose_sigma_eval)
  numerics::CubatureOptions cubature;
  bool kde = true;  ///< also fit the KDE baseline (spheres and tori)
  int threads = 0;
  std::function<void(const std::string& phase, std::size_t done, std::size_t total)> progress;
  /// Polled after each sigma_eval candidate: true -> Error("interrupted ...") (a candidate of a sharp fit takes
  /// seconds; the whole choice minutes).
  std::function<bool()> should_stop;
};

struct Nll {
  double train = 0, val = 0, test = 0;
};
struct Evaluation {
  ModelDensity density;
  Nll nll;
  std::vector<std::pair<double, double>> sigma_table;  ///< (sigma, val NLL) of the candidates
  bool has_kde = false;
  double kde_kappa = 0;
  Nll kde_nll;
};
/// The model's density at sigma_eval, its NLL on each split, and the KDE baseline.
Evaluation evaluate_fit(FitModel& model, const FitData& data, const EvaluationOptions& options);
/// {"nll": {train, val, test}, "sigma_eval", "log_normaliser", "log_normaliser_error", "normaliser_method",
///  "correction", "kde": {...}} (the keys of `rbsm fit --json`).
nlohmann::json to_json(const Evaluation& e);

/// The model density on a map (sphere:2: equirectangular longitude x latitude; tori: a1 x a2) with
/// `points` on top; empty figure on other manifolds.
io::Figure density_map(FitModel& model, const ModelDensity& density, const Mat& points, const std::string& title);

}  // namespace rbsm::fit
