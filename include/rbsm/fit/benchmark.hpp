#pragma once
/// Benchmarks of fitted manifold score models (docs/fit.md §7-8):
///
/// - the earth benchmark: the four earth catalogues on S^2, several random 80/10/10 splits, test NLL
///   (nats, w.r.t. the area of the unit sphere) of the KDE baseline and of {raw, rb} x {corrections},
///   beside the published numbers of the Riemannian generative models on the same catalogues;
/// - the known-truth study: exact draws of a density q rbsm knows, KL(q || p) = E_q[log q - log p] by
///   Monte Carlo over fresh exact draws of q (with its standard error), against the training size, for
///   raw targets, RB targets and the KDE.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rbsm/dist/density.hpp"
#include "rbsm/fit/fit.hpp"
#include "rbsm/stats.hpp"

namespace rbsm::fit {

/// A published test NLL on the four catalogues (volcano, earthquake, flood, fire), nats.
struct PublishedNll {
  std::string method, source;
  double nll[4];
};
/// The table of the issue (Mixture of Kent, Riemannian CNF, Moser flow, stereographic SGM, RSGM,
/// Riemannian diffusion, Riemannian flow matching) in the order of `earth_datasets()`.
const std::vector<PublishedNll>& published_earth_nll();
/// {"volcano", "earthquake", "flood", "fire"}.
const std::vector<std::string>& earth_datasets();

/// Progress of a benchmark: a phase name and optimiser steps done out of the whole study's (a reused or
/// early-stopped fit counts as all its steps).
using StudyProgress = std::function<void(const std::string& phase, std::size_t done, std::size_t total)>;

struct EarthBenchmarkOptions {
  std::vector<std::string> datasets = earth_datasets();
  std::vector<std::uint64_t> split_seeds{0, 1, 2, 3, 4};
  std::vector<Target> targets{Target::raw, Target::rb};
  std::vector<dsm::Correction> corrections{dsm::Correction::none, dsm::Correction::full};
  bool by_location = false;  ///< --split-by location instead of a random split
  FitOptions fit;            ///< manifold must be sphere:2; seed of each fit = fit.seed + split seed
  numerics::CubatureOptions cubature;
  std::filesystem::path out;  ///< runs go to out/<dataset>/<target>-seed<k>/
  int threads = 0;
  StudyProgress progress;
  std::function<bool()> should_stop;  ///< polled every step: true -> the fit checkpoints, the study throws Error
};

/// One method's test NLL over the splits.
struct MethodNll {
  std::string method;              ///< "kde", or "<target>/<correction>" (e.g. "rb/full")
  std::vector<double> test_nll;    ///< one per split seed
  std::vector<double> sigma_eval;  ///< model methods: the chosen sigma per seed (KDE: its kappa)
  stats::Summary summary;          ///< of test_nll
};
struct EarthDatasetResult {
  std::string dataset;
  long n = 0;                           ///< rows of the catalogue
  double test_duplicates_in_train = 0;  ///< mean over splits
  std::vector<MethodNll> methods;       ///< kde first
  std::filesystem::path best_run;       ///< the run of the best model method at the first seed (for figures)
  std::string best_method;              ///< the model method with the lowest mean test NLL
};
struct EarthBenchmarkResult {
  std::vector<EarthDatasetResult> datasets;
  double seconds = 0;
};
/// Fits every (dataset, seed, target), evaluates every correction on it (sigma_eval chosen on the
/// validation split per correction) and the KDE per (dataset, seed). Throws InvalidArgument for bad options.
EarthBenchmarkResult earth_benchmark(const EarthBenchmarkOptions& options);
nlohmann::json to_json(const EarthBenchmarkResult& r);

/// KL(q || p) = E_q[log q(Z) - log p(Z)] by Monte Carlo over n exact draws Z_i of q (Rng(seed, stream + i)):
/// the mean of log q - log p over the draws, with its standard error sd / sqrt(n).
class KlMonteCarlo {
 public:
  /// Throws InvalidArgument for n < 2.
  KlMonteCarlo(const dist::Density& q, long n, std::uint64_t seed, std::uint64_t stream = 0, int threads = 0);
  const Mat& draws() const { return draws_; }
  /// The estimate from log p at draws() (n values; a non-finite log p gives an infinite KL).
  stats::Summary operator()(const Vec& log_p) const;

 private:
  Mat draws_;
  Vec log_q_;
};

struct KnownTruthOptions {
  std::string dist;  ///< a density spec of dist::make_density (e.g. @mixture.json)
  std::vector<long> sizes{500, 2000, 8000};
  std::vector<Target> targets{Target::raw, Target::rb};
  bool kde = true;        ///< spheres and tori
  FitOptions fit;         ///< the manifold is fit.manifold
  long mc_draws = 20000;  ///< exact draws of q for the KL estimate
  numerics::CubatureOptions cubature;
  std::filesystem::path out;  ///< runs go to out/n<size>-<target>/
  int threads = 0;
  StudyProgress progress;
  std::function<bool()> should_stop;  ///< as in EarthBenchmarkOptions
};
struct KlRow {
  long n = 0;
  std::string method;           ///< "raw", "rb" or "kde"
  double kl = 0, kl_se = 0;     ///< KL(q || p) in nats and its Monte Carlo standard error
  double normaliser_error = 0;  ///< the model's log Z error (cubature estimate or IS standard error)
  double sigma_eval = 0;        ///< model: sigma_eval; KDE: kappa
};
struct KnownTruthResult {
  std::string manifold, dist;
  std::vector<KlRow> rows;
  double seconds = 0;
};
/// For each size n: n exact training draws (Rng(seed, i)) and n / 8 validation draws (another stream),
/// a fit per target (sigma_eval on validation) and the KDE; KL over mc_draws fresh draws of q.
KnownTruthResult known_truth_study(const KnownTruthOptions& options);
nlohmann::json to_json(const KnownTruthResult& r);

}  // namespace rbsm::fit
