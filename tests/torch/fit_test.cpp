// Manifold fits (include/rbsm/fit/fit.hpp): scores and corrected energies against finite differences on M,
// which corrections are energies, the normaliser of a trained model on an independent finer rule,
// bit-identical resume, thread independence, and recovery of a known density.
#include "rbsm/fit/fit.hpp"

#include <cmath>
#include <filesystem>
#include <limits>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "rbsm/dist/density.hpp"
#include "rbsm/dist/vmf.hpp"
#include "rbsm/dsm/corrections.hpp"
#include "rbsm/error.hpp"
#include "rbsm/fit/study.hpp"
#include "rbsm/random.hpp"

namespace rbsm::fit {
namespace {

namespace fs = std::filesystem;

FitModel untrained(const std::string& spec, std::uint64_t seed = 1) {
  FitOptions o;
  o.manifold = spec;
  o.net.dim = geometry::make_manifold(spec)->ambient_dim();
  o.net.width = 32;
  o.net.depth = 2;
  torch::manual_seed(seed);
  NoiseNet net(o.net);
  // a non-trivial energy: scale the output layer up so that E varies by O(1) over M
  {
    torch::NoGradGuard g;
    net->output->weight.mul_(20.0);
  }
  return FitModel(o, net, {});
}

Mat uniform_points(const geometry::Manifold& M, int n, std::uint64_t seed) {
  Rng rng(seed, 0);
  Mat Z(n, M.ambient_dim());
  for (int i = 0; i < n; ++i) Z.row(i) = M.sample_uniform(rng).transpose();
  return Z;
}

TEST(Fit, EnergyScoreIsTheTangentGradientOfTheEnergy) {
  for (const std::string spec : {"sphere:2", "torus:3,1", "so3"}) {
    FitModel m = untrained(spec);
    const auto& M = m.manifold();
    const Mat Z = uniform_points(M, 5, 2);
    const double sigma = 0.3;
    const Mat S = m.score(Z, sigma);
    for (int i = 0; i < Z.rows(); ++i) {
      const Vec z = Z.row(i).transpose();
      const geometry::Mat E = M.tangent_frame(z);
      for (int a = 0; a < E.cols(); ++a) {
        const double h = 1e-5;
        const Vec zp = M.project(z + h * E.col(a)), zm = M.project(z - h * E.col(a));
        Mat P(2, z.size());
        P.row(0) = zp.transpose();
        P.row(1) = zm.transpose();
        const Vec e = m.energy(P, sigma);
        const double fd = (e[0] - e[1]) / (2 * h);
        EXPECT_NEAR(S.row(i).dot(E.col(a)), fd, 1e-5 * (1 + std::abs(fd))) << spec;
      }
      EXPECT_LT((M.normal_projector(z) * S.row(i).transpose()).norm(), 1e-12) << "score not tangent on " << spec;
    }
  }
}

TEST(Fit, FullCorrectionMatchesTheFieldCorrectionOnSpheres) {
  // E_c = E - sigma^2 [1/2 (Delta_M E + |grad E|^2) + c E]; Delta_M E = div_M grad_M E by finite differences
  // along M (dsm::tangent_divergence), an independent evaluation of the autograd Hessian formula.
  for (const std::string spec : {"sphere:2", "sphere:3"}) {
    FitModel m = untrained(spec, 4);
    const auto& M = m.manifold();
    const double sigma = 0.2, c = 1.0 - M.dim() / 2.0;
    const Mat Z = uniform_points(M, 4, 6);
    const Vec E = m.energy(Z, sigma), Ec = m.energy(Z, sigma, dsm::Correction::full);
    const dsm::TangentField s = [&](const Vec& z) { return Vec(m.score(z.transpose(), sigma).row(0).transpose()); };
    for (int i = 0; i < Z.rows(); ++i) {
      const Vec z = Z.row(i).transpose();
      const double lap = dsm::tangent_divergence(M, s, z, 1e-3);
      const double expect = E[i] - sigma * sigma * (0.5 * (lap + s(z).squaredNorm()) + c * E[i]);
      EXPECT_NEAR(Ec[i], expect, 1e-5 * (1 + std::abs(expect))) << spec;
    }
    const Vec Ex = m.energy(Z, sigma, dsm::Correction::extrinsic);
    EXPECT_LT((Ex - (1 - sigma * sigma * c) * E).cwiseAbs().maxCoeff(), 1e-12);
  }
}

TEST(Fit, WhichCorrectionsAreEnergies) {
  EXPECT_NEAR(energy_correction(*geometry::make_manifold("sphere:2"), dsm::Correction::full).c, 0.0, 1e-12);
  EXPECT_NEAR(energy_correction(*geometry::make_manifold("sphere:6"), dsm::Correction::full).c, -2.0, 1e-12);
  EXPECT_NEAR(energy_correction(*geometry::make_manifold("clifford-torus:2,2"), dsm::Correction::geometric).c, 0.125,
              1e-12);
  EXPECT_THROW(energy_correction(*geometry::make_manifold("clifford-torus:1,2"), dsm::Correction::extrinsic),
               InvalidArgument);
  EXPECT_THROW(energy_correction(*geometry::make_manifold("torus:3,1"), dsm::Correction::full), InvalidArgument);
  EXPECT_NO_THROW(energy_correction(*geometry::make_manifold("torus:3,1"), dsm::Correction::none));
}

FitOptions small_options(Target target, std::int64_t steps) {
  FitOptions o;
  o.manifold = "sphere:2";
  o.net.dim = 3;
  o.net.width = 32;
  o.net.depth = 2;
  o.target = target;
  o.steps = steps;
  o.batch = 64;
  o.eval_every = 10;
  o.val_examples = 128;
  o.checkpoint_every = 10;
  o.patience = 0;
  o.seed = 3;
  return o;
}

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("rbsm_fit_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

Mat vmf_draws(double kappa, int n, std::uint64_t seed) {
  std::shared_ptr<const geometry::Manifold> S = geometry::make_manifold("sphere:2");
  const auto q = dist::make_density("vmf:kappa=" + std::to_string(kappa), S);
  Mat Z(n, 3);
  for (int i = 0; i < n; ++i) {
    Rng rng(seed, i);
    Z.row(i) = q->sample(rng).transpose();
  }
  return Z;
}

TEST(Fit, ResumeIsBitIdenticalAndThreadsChangeNothing) {
  const Mat train = vmf_draws(5, 300, 1), val = vmf_draws(5, 50, 2);
  const FitOptions o = small_options(Target::rb, 20);
  const fs::path a = fresh_dir("a"), b = fresh_dir("b"), c = fresh_dir("c");
  torch::set_num_threads(1);
  train_fit(train, val, o, a);
  int polls = 0;  // stop after 10 of the 20 steps (same options: the schedule depends on the total)
  FitHooks stop_at_10;
  stop_at_10.should_stop = [&polls] { return polls++ == 10; };
  EXPECT_TRUE(train_fit(train, val, o, b, false, stop_at_10).stopped);
  FitOptions rest = o;
  rest.threads = 2;  // the RB targets' pool: the result must not move
  train_fit(train, val, rest, b, /*resume=*/true);
  FitOptions two = o;
  two.threads = 2;
  train_fit(train, val, two, c);
  FitModel ma = FitModel::load(a), mb = FitModel::load(b), mc = FitModel::load(c);
  const auto pa = ma.net()->parameters(), pb = mb.net()->parameters(), pc = mc.net()->parameters();
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(torch::equal(pa[i], pb[i])) << "resume changed parameter " << i;
    EXPECT_TRUE(torch::equal(pa[i], pc[i])) << "threads changed parameter " << i;
  }
  for (const auto& d : {a, b, c}) fs::remove_all(d);
}

TEST(Fit, TrainedDensityIntegratesToOneOnAFinerRuleAndRecoversAVmf) {
  // 4000 draws of vMF(kappa = 8); an energy model with RB targets. Its density must integrate to one on
  // an independent rule (order 10, tolerance 1e-8), and its test NLL must approach the true entropy
  // (closed form 0.866 nats for kappa = 8; uniform scores 2.531).
  const Mat train = vmf_draws(8, 4000, 1), val = vmf_draws(8, 500, 2), test = vmf_draws(8, 2000, 3);
  FitOptions o = small_options(Target::rb, 400);
  o.net.width = 64;
  o.batch = 256;
  o.eval_every = 50;
  o.val_examples = 1024;
  o.sigma_min = 0.02;
  o.sigma_max = 0.5;
  o.levels = 12;
  const fs::path d = fresh_dir("vmf");
  torch::set_num_threads(2);
  train_fit(train, val, o, d);
  FitModel m = FitModel::load(d);
  std::vector<std::pair<double, double>> table;
  const ModelDensity p = choose_sigma_eval(m, val, dsm::Correction::none, {}, &table);
  EXPECT_TRUE(p.normaliser.converged);
  // The two-stage choice (screening at 1e-2, refinement at 1e-4) against every candidate at 1e-4: the same
  // sigma, the same log Z, and every screened NLL within its tolerance of the exact one.
  ASSERT_GE(table.size(), 3u);
  double exact_best = std::numeric_limits<double>::infinity(), exact_sigma = 0, exact_log_z = 0;
  for (const auto& [sigma, screened] : table) {
    const ModelDensity e = model_density(m, sigma, dsm::Correction::none);
    const double nll = -log_density(m, e, val).mean();
    EXPECT_NEAR(screened, nll, 2e-2) << "sigma " << sigma;
    if (nll < exact_best) exact_best = nll, exact_sigma = sigma, exact_log_z = e.normaliser.log_z;
  }
  EXPECT_EQ(p.sigma, exact_sigma);
  EXPECT_EQ(p.normaliser.log_z, exact_log_z);
  numerics::CubatureOptions fine;
  fine.order = 10;
  fine.rel_tol = 1e-8;
  const ModelDensity q = model_density(m, p.sigma, dsm::Correction::none, fine);
  EXPECT_NEAR(p.normaliser.log_z, q.normaliser.log_z, 2e-4);
  const double entropy = -dist::log_vmf_normaliser(2, 8) - 8 / std::tanh(8.0) + 1;
  const double nll = -log_density(m, p, test).mean();
  // statistical: the se of a 2000-point mean NLL is ~0.02 nats; the model error is the rest
  EXPECT_GT(nll, entropy - 0.08);
  EXPECT_LT(nll, entropy + 0.1);
  fs::remove_all(d);
}

}  // namespace
}  // namespace rbsm::fit
