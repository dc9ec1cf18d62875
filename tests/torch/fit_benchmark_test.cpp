// The benchmark studies' building blocks (include/rbsm/fit/benchmark.hpp): the Monte Carlo KL against the
// closed-form KL between two von Mises-Fisher densities on S^2, the studies' option checks, and how a resumed
// study reuses finished fits and evaluations.
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "rbsm/dist/density.hpp"
#include "rbsm/error.hpp"
#include "rbsm/fit/benchmark.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/numerics/constants.hpp"

namespace rbsm::fit {
namespace {

using rbsm::kPi;

/// log C(kappa) of vMF on S^2: kappa / (4 pi sinh kappa).
double log_c(double kappa) { return std::log(kappa) - std::log(4 * kPi) - std::log(std::sinh(kappa)); }
/// Mean resultant length A(kappa) = coth kappa - 1 / kappa on S^2.
double mean_length(double kappa) { return 1.0 / std::tanh(kappa) - 1.0 / kappa; }

TEST(KlMonteCarlo, MatchesTheClosedFormBetweenTwoVmfDensities) {
  // KL(vMF(mu1, k1) || vMF(mu2, k2)) = log C(k1) - log C(k2) + A(k1) (k1 - k2 <mu1, mu2>).
  std::shared_ptr<const geometry::Manifold> M = geometry::make_manifold("sphere:2");
  Vec mu1(3), mu2(3);
  mu1 << 1, 0, 0;
  mu2 << 0.6, 0.8, 0;
  const auto q = dist::make_density("vmf:kappa=5", M, mu1);
  const auto p = dist::make_density("vmf:kappa=2", M, mu2);
  const double exact = log_c(5) - log_c(2) + mean_length(5) * (5 - 2 * mu1.dot(mu2));
  const KlMonteCarlo kl(*q, 20000, 3);
  Vec log_p(kl.draws().rows());
  for (Eigen::Index i = 0; i < log_p.size(); ++i) log_p[i] = p->log_density(kl.draws().row(i).transpose());
  const stats::Summary s = kl(log_p);
  EXPECT_EQ(s.n, 20000u);
  EXPECT_GT(s.se, 0);
  EXPECT_LT(s.se, 0.02);
  EXPECT_NEAR(s.mean, exact, 4 * s.se) << "exact " << exact;  // two-sided, 4 se: p < 1e-4 under the truth
  // p = q gives exactly 0 (every term vanishes).
  Vec log_q(kl.draws().rows());
  for (Eigen::Index i = 0; i < log_q.size(); ++i) log_q[i] = q->log_density(kl.draws().row(i).transpose());
  EXPECT_EQ(kl(log_q).mean, 0.0);
  // a density that vanishes at a draw: infinite KL
  log_q[7] = -std::numeric_limits<double>::infinity();
  EXPECT_TRUE(std::isinf(kl(log_q).mean));
}

TEST(KlMonteCarlo, DrawsDependOnTheSeedOnly) {
  std::shared_ptr<const geometry::Manifold> M = geometry::make_manifold("torus:3,1");
  const auto q = dist::make_density("vonmises:kappa1=2,kappa2=4", M);
  const KlMonteCarlo a(*q, 500, 9, 0, 1), b(*q, 500, 9, 0, 2), c(*q, 500, 10, 0, 2);
  EXPECT_EQ((a.draws() - b.draws()).cwiseAbs().maxCoeff(), 0.0);  // thread count changes nothing
  EXPECT_GT((a.draws() - c.draws()).cwiseAbs().maxCoeff(), 0.1);
  EXPECT_THROW(KlMonteCarlo(*q, 1, 0), InvalidArgument);
}

TEST(EarthBenchmark, RefusesOtherManifoldsAndEmptyLists) {
  EarthBenchmarkOptions o;
  o.fit.manifold = "torus:3,1";
  EXPECT_THROW(earth_benchmark(o), InvalidArgument);
  o.fit.manifold = "sphere:2";
  o.split_seeds.clear();
  EXPECT_THROW(earth_benchmark(o), InvalidArgument);
  EXPECT_EQ(published_earth_nll().size(), 7u);
}

/// A one-fit study (volcano, split 0, correction none) of a tiny network into `out`, fast enough for a unit test.
EarthBenchmarkOptions tiny_study(Target target, std::int64_t steps, const std::filesystem::path& out) {
  EarthBenchmarkOptions o;
  o.datasets = {"volcano"};
  o.split_seeds = {0};
  o.targets = {target};
  o.corrections = {dsm::Correction::none};
  o.fit.steps = steps;
  o.fit.eval_every = 10;
  o.fit.val_examples = 256;
  o.fit.net.width = 16;
  o.fit.net.depth = 1;
  o.fit.sigma_min = 0.1;
  o.fit.levels = 4;
  o.cubature.rel_tol = 1e-3;
  o.out = out;
  o.threads = 1;
  return o;
}

/// The study's test NLL of its one model method.
double model_nll(const EarthBenchmarkOptions& o) {
  return earth_benchmark(o).datasets.at(0).methods.at(1).test_nll.at(0);
}

TEST(EarthBenchmark, AResumedStudyReusesFinishedFitsAndEvaluationsOnlyWhenTheirKeysMatch) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("rbsm_earth_resume_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  EarthBenchmarkOptions o = tiny_study(Target::raw, 30, dir);
  const fs::path run = dir / "volcano" / "raw-seed0";
  const auto nll = [&] { return model_nll(o); };
  const double first = nll();
  const fs::path cache = run / "eval-none.json";
  ASSERT_TRUE(fs::exists(cache));
  const auto mtime = fs::last_write_time(run / "checkpoint.pt");
  EXPECT_EQ(nll(), first);  // bit-identical from the cache (JSON doubles round-trip)
  // The evaluation is read from the cache: log Z raised by 1 raises every test NLL by exactly 1.
  nlohmann::json c = nlohmann::json::parse(io::read_file(cache));
  c["density"]["log_normaliser"] = c["density"]["log_normaliser"].get<double>() + 1.0;
  io::atomic_write(cache, c.dump());
  EXPECT_NEAR(nll(), first + 1.0, 1e-9);
  EXPECT_EQ(fs::last_write_time(run / "checkpoint.pt"), mtime);  // the fit itself was not retrained
  // Other cubature options: re-evaluated (the doctored log Z is gone; a tighter rule moves log Z < 1e-3).
  o.cubature.rel_tol = 1e-4;
  EXPECT_NEAR(nll(), first, 2e-3);
  EXPECT_EQ(fs::last_write_time(run / "checkpoint.pt"), mtime);
  // Another split of the same folder (by location): retrained, and its evaluation redone.
  c = nlohmann::json::parse(io::read_file(cache));
  c["density"]["log_normaliser"] = c["density"]["log_normaliser"].get<double>() + 1.0;
  io::atomic_write(cache, c.dump());
  o.by_location = true;
  const double by_location = nll();
  const nlohmann::json marker = nlohmann::json::parse(io::read_file(run / "trained.json"));
  EXPECT_EQ(marker.at("data").at("by_location"), true);
  EXPECT_EQ(nlohmann::json::parse(io::read_file(cache)).at("key").at("fit"), marker);
  EXPECT_GT(std::abs(by_location - (first + 1.0)), 1e-6);
  fs::remove_all(dir);
}

TEST(EarthBenchmark, AStudyStoppedDuringAFitContinuesThatFitBitIdentically) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("rbsm_earth_stop_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  EarthBenchmarkOptions o = tiny_study(Target::rb, 40, dir / "whole");
  o.fit.checkpoint_every = 10;
  const double whole = model_nll(o);

  o.out = dir / "stopped";
  int polls = 0;
  o.should_stop = [&] { return ++polls > 25; };  // during the fit's training (40 steps)
  EXPECT_THROW(earth_benchmark(o), Error);
  const fs::path run = o.out / "volcano" / "rb-seed0";
  ASSERT_TRUE(fs::exists(run / "checkpoint.pt"));
  EXPECT_FALSE(fs::exists(run / "trained.json"));
  o.should_stop = {};
  std::size_t first_step = 0;
  o.progress = [&](const std::string& phase, std::size_t done, std::size_t) {
    if (first_step == 0 && phase.find(" loss ") != std::string::npos) first_step = done;
  };
  EXPECT_EQ(model_nll(o), whole);
  EXPECT_GE(first_step, 20u);  // continued from the checkpoint, not from step 0
  fs::remove_all(dir);
}

TEST(ModelDensityJson, RoundTripsExactlyAndNamesABadKey) {
  ModelDensity d;
  d.sigma = 0.1 / 3;  // not a short decimal: the JSON must carry every bit
  d.correction = dsm::Correction::full;
  d.normaliser.log_z = std::log(4 * kPi) / 7;
  d.normaliser.error = 3.3e-5;
  d.normaliser.method = "adaptive-cubature";
  d.normaliser.evaluations = 123456789;
  d.normaliser.converged = true;
  const ModelDensity e = model_density_from_json(nlohmann::json::parse(to_json(d).dump()));
  EXPECT_EQ(e.sigma, d.sigma);
  EXPECT_EQ(e.correction, d.correction);
  EXPECT_EQ(e.normaliser.log_z, d.normaliser.log_z);
  EXPECT_EQ(e.normaliser.error, d.normaliser.error);
  EXPECT_EQ(e.normaliser.method, d.normaliser.method);
  EXPECT_EQ(e.normaliser.evaluations, d.normaliser.evaluations);
  EXPECT_EQ(e.normaliser.converged, d.normaliser.converged);
  nlohmann::json j = to_json(d);
  j["log_normaliser"] = "high";
  try {
    model_density_from_json(j);
    ADD_FAILURE() << "a string log Z was read";
  } catch (const IoError& err) {
    EXPECT_NE(std::string(err.what()).find("log_normaliser"), std::string::npos) << err.what();
  }
  j = to_json(d);
  j["correction"] = "sideways";
  EXPECT_THROW(model_density_from_json(j), IoError);
}

}  // namespace
}  // namespace rbsm::fit
