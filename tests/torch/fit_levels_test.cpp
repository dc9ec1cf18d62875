// The example law of manifold fits (include/rbsm/fit/fit.hpp): the noise-level law FitOptions::level_power
// drawn by fit::LevelSampler (empirical frequencies against the intended geometric law, chi-square at a
// fixed seed; the uniform law keeps the stream of fits made before the option), the options' JSON (old
// configs read as the defaults), and the noise spread (an RB fit with spread 1 is the plain fit's).
#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "rbsm/dist/density.hpp"
#include "rbsm/error.hpp"
#include "rbsm/fit/fit.hpp"
#include "rbsm/random.hpp"

namespace rbsm::fit {
namespace {

namespace fs = std::filesystem;

TEST(FitLevels, UniformLawKeepsTheStreamOfEarlierFits) {
  FitOptions o;
  o.levels = 24;
  const LevelSampler draw(o);
  Rng a(3, 7), b(3, 7);
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(draw(a), static_cast<int>(b() % 24)) << "draw " << i;
  for (double p : o.level_probabilities()) EXPECT_DOUBLE_EQ(p, 1.0 / 24);
}

TEST(FitLevels, PowerLawFrequenciesMatchTheIntendedLaw) {
  // P(l) ∝ sigma_l^-a on L log-spaced levels is geometric: P(l) = r^l (1 - r) / (1 - r^L) with
  // r = (sigma_max / sigma_min)^(-a / (L - 1)). 120,000 draws at a fixed seed; the chi-square statistic
  // with L - 1 = 11 degrees of freedom must be below its 0.999 quantile 31.26 (the uniform law, the
  // law of the wrong sign or an off-by-one level would give thousands).
  for (double a : {1.0, 2.0}) {
    FitOptions o;
    o.levels = 12;
    o.sigma_min = 0.01;
    o.sigma_max = 0.5;
    o.level_power = a;
    const double r = std::pow(50.0, -a / 11.0);
    const std::vector<double> p = o.level_probabilities();
    ASSERT_EQ(p.size(), 12u);
    for (int l = 0; l < 12; ++l)
      EXPECT_NEAR(p[l], std::pow(r, l) * (1 - r) / (1 - std::pow(r, 12)), 1e-14) << "level " << l;
    const LevelSampler draw(o);
    Rng rng(11, 0);
    const int n = 120000;
    std::vector<double> count(12, 0.0);
    for (int i = 0; i < n; ++i) {
      const int l = draw(rng);
      ASSERT_TRUE(l >= 0 && l < 12);
      count[l] += 1;
    }
    double chi2 = 0;
    for (int l = 0; l < 12; ++l) chi2 += std::pow(count[l] - n * p[l], 2) / (n * p[l]);
    EXPECT_LT(chi2, 31.26) << "power " << a;
    EXPECT_GT(count[0], count[11]);
  }
}

TEST(FitLevels, OptionsRoundTripAndOldConfigsReadAsDefaults) {
  FitOptions o;
  const nlohmann::json plain = o.to_json();
  EXPECT_FALSE(plain.contains("level_power"));  // a default fit's config is the one written before the options
  EXPECT_FALSE(plain.contains("spread"));
  EXPECT_FALSE(plain.contains("leave_one_out"));
  const FitOptions back = FitOptions::from_json(plain);
  EXPECT_EQ(back.level_power, 0.0);
  EXPECT_EQ(back.spread, 1.0);
  EXPECT_TRUE(back.leave_one_out);
  o.level_power = 1.5;
  o.spread = 2;
  o.leave_one_out = false;
  const FitOptions b2 = FitOptions::from_json(o.to_json());
  EXPECT_FALSE(b2.leave_one_out);
  EXPECT_EQ(b2.level_power, 1.5);
  EXPECT_EQ(b2.spread, 2.0);
  for (double bad : {-1.0, 9.0, std::nan("")}) {
    FitOptions w;
    w.level_power = bad;
    EXPECT_THROW(w.validate(), InvalidArgument) << bad;
  }
  for (double bad : {0.5, 11.0, std::nan("")}) {
    FitOptions w;
    w.spread = bad;
    EXPECT_THROW(w.validate(), InvalidArgument) << bad;
  }
  FitOptions raw;
  raw.target = Target::raw;
  raw.spread = 2;  // the raw target is the score of the noise that made y: it has no other level
  EXPECT_THROW(raw.validate(), InvalidArgument);
  FitOptions raw_all;
  raw_all.target = Target::raw;
  raw_all.leave_one_out = false;  // only the RB estimate has references
  EXPECT_THROW(raw_all.validate(), InvalidArgument);
}

Mat vmf_draws(int n, std::uint64_t seed) {
  const auto q = dist::make_density("vmf:kappa=5", geometry::make_manifold("sphere:2"));
  Mat Z(n, 3);
  for (int i = 0; i < n; ++i) {
    Rng rng(seed, i);
    Z.row(i) = q->sample(rng).transpose();
  }
  return Z;
}

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("rbsm_fit_levels_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TEST(FitLevels, SpreadAndPowerChangeTheFitAndTheirDefaultsDoNot) {
  // spread 1 and power 0 given explicitly are the plain fit to the bit; spread 2 or power 1 train on
  // other examples, so their weights differ.
  const Mat train = vmf_draws(200, 1), val = vmf_draws(40, 2);
  FitOptions o;
  o.net.width = 16;
  o.net.depth = 1;
  o.steps = 6;
  o.batch = 32;
  o.levels = 6;
  o.val_examples = 64;
  o.eval_every = 3;
  o.warmup = 2;
  o.threads = 1;
  torch::set_num_threads(1);
  const auto params = [&](const FitOptions& f, const std::string& name) {
    const fs::path d = fresh_dir(name);
    train_fit(train, val, f, d);
    FitModel m = FitModel::load(d);
    std::vector<torch::Tensor> p;
    for (const auto& t : m.net()->parameters()) p.push_back(t.clone());
    fs::remove_all(d);
    return p;
  };
  const auto same = [](const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!torch::equal(a[i], b[i])) return false;
    return true;
  };
  const auto base = params(o, "base");
  FitOptions e = o;
  e.spread = 1.0;
  e.level_power = 0.0;
  EXPECT_TRUE(same(base, params(e, "explicit")));
  FitOptions s = o;
  s.spread = 2.0;
  EXPECT_FALSE(same(base, params(s, "spread")));
  FitOptions w = o;
  w.level_power = 1.0;
  EXPECT_FALSE(same(base, params(w, "power")));
  FitOptions all = o;  // the own point among the references: other targets, other weights
  all.leave_one_out = false;
  EXPECT_FALSE(same(base, params(all, "all-references")));
}

}  // namespace
}  // namespace rbsm::fit
