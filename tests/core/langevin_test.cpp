// Tests of manifold Langevin (docs/langevin.md §1, §3): the ziggurat normal, the equilibrium of the
// true vMF score (MALA: exact; unadjusted: O(h) bias that shrinks with h), determinism across thread
// counts, the sphere fast path against the generic step, the exact axial equilibrium, and the
// equilibria of the RB drifts (rb under-concentrates on S^6 and S^10; rb-full is closer to kappa = 2
// than rb-extrinsic, which is closer than rb).
//
// Statistical tests use fixed seeds; each states its tolerance in standard errors. The family of
// statistical checks in this file has at most 12 members, so each uses z = 3.5 (two-sided
// per-test level 4.7e-4, Bonferroni family level < 0.6%).
#include "rbsm/sampling/langevin.hpp"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rbsm/dist/density.hpp"
#include "rbsm/dist/special.hpp"
#include "rbsm/error.hpp"
#include "rbsm/geometry/manifold.hpp"
#include "rbsm/geometry/sphere.hpp"
#include "rbsm/geometry/torus.hpp"
#include "rbsm/random.hpp"
#include "rbsm/sampling/drifts.hpp"
#include "rbsm/sampling/equilibrium.hpp"
#include "rbsm/sampling/ziggurat.hpp"
#include "rbsm/stats.hpp"

namespace rs = rbsm::sampling;
using rbsm::geometry::Mat;
using rbsm::geometry::Vec;

namespace {
constexpr double kZ = 3.5;

Vec e1(int D) {
  Vec mu = Vec::Zero(D);
  mu[0] = 1.0;
  return mu;
}

rs::Drift vmf_true_drift(int d, double kappa) {
  return rs::axial_drift("true", e1(d + 1), rs::Table1D(-1.0, 1.0, {kappa, kappa}));
}
}  // namespace

TEST(Ziggurat, MomentsAndChiSquare) {
  rbsm::Rng rng(7, 0);
  const int n = 400000;
  std::vector<long> counts(40, 0);
  double m1 = 0, m2 = 0, m4 = 0;
  for (int i = 0; i < n; ++i) {
    const double x = rs::fast_normal(rng);
    m1 += x, m2 += x * x, m4 += x * x * x * x;
    const int bin = static_cast<int>(std::floor((x + 4.0) / 0.2));
    if (bin >= 0 && bin < 40) ++counts[bin];
  }
  m1 /= n, m2 /= n, m4 /= n;
  EXPECT_NEAR(m1, 0.0, kZ * std::sqrt(1.0 / n));
  EXPECT_NEAR(m2, 1.0, kZ * std::sqrt(2.0 / n));
  EXPECT_NEAR(m4, 3.0, kZ * std::sqrt(96.0 / n));
  // chi-square against the normal's bin probabilities (40 bins on [-4, 4] plus the two tails).
  std::vector<double> probs;
  std::vector<long> all;
  long inside = 0;
  for (int b = 0; b < 40; ++b) {
    const double a = -4.0 + 0.2 * b;
    probs.push_back(0.5 * (std::erf((a + 0.2) / std::sqrt(2.0)) - std::erf(a / std::sqrt(2.0))));
    all.push_back(counts[b]);
    inside += counts[b];
  }
  probs.push_back(std::erfc(4.0 / std::sqrt(2.0)));
  all.push_back(n - inside);
  const double stat = rbsm::stats::chi_square_statistic(all, probs);
  EXPECT_GT(rbsm::stats::chi_square_sf(stat, 40), 1e-3) << "chi2 = " << stat;
}

TEST(AxialEquilibrium, ConstantDriftIsVmf) {
  // g = kappa: the stationary law is vMF(kappa), whose mean cosine is the Bessel ratio (closed form).
  for (int d : {1, 2, 6, 10}) {
    const auto law = rs::axial_equilibrium(d, [](double) { return 2.0; });
    EXPECT_NEAR(law.mean_cosine, rbsm::dist::bessel_ratio(d + 1, 2.0), 1e-9) << "d = " << d;
    EXPECT_NEAR(law.kappa_eff, 2.0, 1e-6) << "d = " << d;
  }
  // g(t) = kappa + c t is the gradient of kappa t + c t^2 / 2: check the mean against direct quadrature.
  const int d = 6;
  const auto law = rs::axial_equilibrium(d, [](double t) { return 2.0 - 1.5 * t; });
  auto w = [&](double t) { return std::exp(2.0 * t - 0.75 * t * t) * std::pow(1 - t * t, 0.5 * (d - 2)); };
  const double Z = rbsm::dist::integrate(w, -1, 1),
               M = rbsm::dist::integrate([&](double t) { return t * w(t); }, -1, 1);
  EXPECT_NEAR(law.mean_cosine, M / Z, 1e-8);
}

TEST(KappaInverse, RoundTrips) {
  for (int d : {2, 6, 10})
    for (double k : {0.1, 1.0, 2.0, 30.0, 500.0})
      EXPECT_NEAR(rs::vmf_kappa_from_mean_cosine(d, rs::vmf_mean_cosine(d, k)), k, 1e-8 * k) << d << " " << k;
  EXPECT_THROW(rs::vmf_kappa_from_mean_cosine(2, 1.0), rbsm::InvalidArgument);
}

TEST(Langevin, FastPathEqualsGenericStep) {
  // Same chain, same random stream: the allocation-free sphere path and the generic
  // pi(z + h b + sqrt(2h) P_T xi) agree to rounding.
  rbsm::geometry::Sphere S(6);
  const auto drift = rs::axial_drift("test", e1(7), rs::Table1D::tabulate(-1, 1, 101, [](double t) { return 2 + t; }));
  rs::LangevinOptions o;
  o.chains = 3, o.steps = 50, o.burn_in = 0, o.record_every = 1, o.step_size = 0.05, o.seed = 5;
  const auto fast = rs::run_langevin(S, drift, o);
  o.force_generic = true;
  const auto slow = rs::run_langevin(S, drift, o);
  ASSERT_TRUE(fast.fast_path);
  ASSERT_FALSE(slow.fast_path);
  EXPECT_LT((fast.samples - slow.samples).cwiseAbs().maxCoeff(), 1e-11);
}

TEST(Langevin, SimdLanesMatchScalar) {
  // The unadjusted fast path runs four chains in SIMD lanes; each lane must reproduce its chain's
  // scalar run bit for bit: 7 chains (a partial last block), 300 steps x 11 normals, so the
  // ziggurat's rare scalar fallback (~1.2% of draws) is taken in many lanes; with and without
  // given initial states.
  rbsm::geometry::Sphere S(10);
  const auto drift = vmf_true_drift(10, 2.0);
  rs::LangevinOptions o;
  o.chains = 7, o.steps = 300, o.burn_in = 100, o.record_every = 7, o.seed = 21, o.threads = 2;
  for (bool given_start : {false, true}) {
    if (given_start) {
      rbsm::Rng rng(3);
      o.initial = Mat(o.chains, 11);
      for (int c = 0; c < o.chains; ++c) o.initial->row(c) = S.sample_uniform(rng).transpose();
    }
    o.simd = false;
    const auto scalar = rs::run_langevin(S, drift, o);
    o.simd = true;
    for (const auto& isa : rs::simd_variants()) {  // every compiled variant this CPU runs
      o.simd_isa = isa;
      const auto lanes = rs::run_langevin(S, drift, o);
      ASSERT_TRUE(lanes.fast_path);
      ASSERT_EQ(lanes.samples.rows(), 7 * 28);
      EXPECT_EQ(lanes.samples, scalar.samples) << isa << ", initial states given: " << given_start;
    }
  }
  o.simd_isa = "no-such-isa";
  EXPECT_THROW(rs::run_langevin(S, drift, o), rbsm::InvalidArgument);
}

TEST(Langevin, DeterministicAcrossThreadCounts) {
  rbsm::geometry::Sphere S(10);
  rbsm::geometry::TorusOfRevolution T(3, 1);
  rs::LangevinOptions o;
  o.chains = 13, o.steps = 40, o.record_every = 5, o.seed = 11;
  const auto drift = vmf_true_drift(10, 2.0);
  rs::Drift flat{"zero", [](const Vec& z) { return Vec::Zero(z.size()); }, std::nullopt, nullptr};
  for (bool mala : {false, true}) {
    o.metropolis = mala;
    o.threads = 1;
    const auto a = rs::run_langevin(S, drift, o);
    o.threads = 2;
    const auto b = rs::run_langevin(S, drift, o);
    EXPECT_EQ(a.samples, b.samples);
  }
  o.metropolis = false;
  o.threads = 1;
  const auto a = rs::run_langevin(T, flat, o);
  o.threads = 2;
  const auto b = rs::run_langevin(T, flat, o);
  EXPECT_EQ(a.samples, b.samples);
}

TEST(Langevin, BadOptionsThrow) {
  rbsm::geometry::Sphere S(2);
  rbsm::geometry::CliffordTorus T(1, 1);
  rs::LangevinOptions o;
  o.chains = 2, o.steps = 10;
  const auto drift = vmf_true_drift(2, 2.0);
  o.step_size = -1;
  EXPECT_THROW(rs::run_langevin(S, drift, o), rbsm::InvalidArgument);
  o.step_size = 0.01, o.chains = 0;
  EXPECT_THROW(rs::run_langevin(S, drift, o), rbsm::InvalidArgument);
  o.chains = 2, o.metropolis = true;
  rs::Drift field_only{"f", [](const Vec& z) { return Vec::Zero(z.size()); }, std::nullopt, nullptr};
  EXPECT_THROW(rs::run_langevin(S, field_only, o), rbsm::InvalidArgument);
  o.initial = Mat::Zero(2, 4);  // initial states of the wrong width (S^2 lives in R^3)
  EXPECT_THROW(rs::run_langevin(S, drift, o), rbsm::InvalidArgument);
}

TEST(Langevin, RetractionJacobianAndInverseMatchFiniteDifferences) {
  // MALA's proposal density needs log |det d/dv pi(z + v)| (T_z M -> T_y M, orthonormal frames) and the
  // reverse move. Against central differences of pi itself on every kind of manifold, with |v| ~ 0.3.
  for (const std::string spec : {"sphere:3", "torus:3,1", "clifford-torus:1,0.7", "so3", "ellipsoid:1,2,3"}) {
    const auto M = rbsm::geometry::make_manifold(spec);
    const int d = M->dim();
    rbsm::Rng rng(9);
    for (int trial = 0; trial < 3; ++trial) {
      const Vec z = M->sample_uniform(rng);
      const Mat Ez = M->tangent_frame(z);
      Vec a(d);
      for (int i = 0; i < d; ++i) a[i] = rng.normal();
      const Vec v = 0.3 * Ez * a.normalized();
      const Vec y = M->project(z + v);
      const Mat Ey = M->tangent_frame(y);
      Mat J(d, d);
      const double e = 1e-5;
      for (int j = 0; j < d; ++j)
        J.col(j) = Ey.transpose() * (M->project(z + v + e * Ez.col(j)) - M->project(z + v - e * Ez.col(j))) / (2 * e);
      EXPECT_NEAR(rs::retraction_log_jacobian(*M, z, v), std::log(std::abs(J.determinant())), 1e-6) << spec;
      const Vec w = rs::retraction_inverse(*M, y, z);
      EXPECT_LT((Ey * (Ey.transpose() * w) - w).norm(), 1e-12) << spec << ": w must be tangent at y";
      EXPECT_LT((M->project(y + w) - z).norm(), 1e-10) << spec;
    }
  }
}

TEST(Langevin, GenericMalaEqualsTheSphereFastPath) {
  // The generic MALA (projection retraction, Jacobians from the Weingarten map) and the sphere fast
  // path's gnomonic form (Jacobians cancel in closed form) are the same kernel: same chains to rounding.
  rbsm::geometry::Sphere S(6);
  rs::LangevinOptions o;
  o.chains = 5, o.steps = 200, o.burn_in = 0, o.record_every = 1, o.step_size = 0.3, o.seed = 8, o.metropolis = true;
  const auto fast = rs::run_langevin(S, vmf_true_drift(6, 2.0), o);
  o.force_generic = true;
  const auto generic = rs::run_langevin(S, vmf_true_drift(6, 2.0), o);
  ASSERT_TRUE(fast.fast_path);
  ASSERT_FALSE(generic.fast_path);
  EXPECT_GT(fast.acceptance_rate, 0.3);
  EXPECT_LT(fast.acceptance_rate, 0.95);  // rejections happen, so the accept test itself is compared
  EXPECT_EQ(fast.acceptance_rate, generic.acceptance_rate);
  EXPECT_LT((fast.samples - generic.samples).cwiseAbs().maxCoeff(), 1e-9);
}

TEST(Langevin, MalaIsExactOnTheTorusOfRevolution) {
  // Von Mises (1.5, 1) on the torus (3, 1) with the true drift at a large step h = 0.25: MALA's
  // E[cos a1], E[cos a2] agree with 2-D quadrature of q within kZ standard errors (chains
  // independent; se from the spread of per-chain means), while the unadjusted chain at the same h
  // misses E[cos a1] by more than kZ se (so the test can tell a biased kernel from an exact one).
  auto M = std::shared_ptr<const rbsm::geometry::Manifold>(rbsm::geometry::make_manifold("torus:3,1"));
  const auto& T = dynamic_cast<const rbsm::geometry::TorusOfRevolution&>(*M);
  const auto q = rbsm::dist::make_density("vonmises:kappa1=1.5,kappa2=1", M);
  // truth: the periodic trapezoid rule (spectrally accurate) of cos a_i q dA, dA = r (R + r cos a1) da1 da2
  const int n = 256;
  double Z = 0, c1 = 0, c2 = 0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const double a1 = -M_PI + 2 * M_PI * i / n, a2 = -M_PI + 2 * M_PI * j / n;
      const double w = std::exp(q->log_density(T.point(a1, a2))) * (3.0 + std::cos(a1));
      Z += w, c1 += w * std::cos(a1), c2 += w * std::cos(a2);
    }
  const double truth1 = c1 / Z, truth2 = c2 / Z;
  const auto drift = rs::make_drift("true", *q, 0.1);
  rs::LangevinOptions o;
  o.chains = 400, o.steps = 400, o.burn_in = 50, o.record_every = 5, o.step_size = 0.25, o.seed = 31;
  rbsm::Rng rng(32);
  o.initial = Mat(o.chains, 3);
  for (int c = 0; c < o.chains; ++c) o.initial->row(c) = q->sample(rng).transpose();
  auto stats = [&](const rs::LangevinResult& res, int which) {
    Eigen::VectorXd means = Eigen::VectorXd::Zero(res.chains);
    for (int c = 0; c < res.chains; ++c) {
      for (int r = 0; r < res.records_per_chain; ++r) {
        const Vec z = res.samples.row(c * res.records_per_chain + r).transpose();
        means[c] += std::cos(T.angles(z)[which]) / res.records_per_chain;
      }
    }
    const double m = means.mean();
    const double se = std::sqrt((means.array() - m).square().sum() / (res.chains - 1) / res.chains);
    return std::pair<double, double>(m, se);
  };
  o.metropolis = true;
  const auto mala = rs::run_langevin(*M, drift, o);
  EXPECT_GT(mala.acceptance_rate, 0.3);
  const auto [m1, se1] = stats(mala, 0);
  const auto [m2, se2] = stats(mala, 1);
  EXPECT_NEAR(m1, truth1, kZ * se1) << "acceptance " << mala.acceptance_rate;
  EXPECT_NEAR(m2, truth2, kZ * se2);
  o.metropolis = false;
  const auto [u1, su1] = stats(rs::run_langevin(*M, drift, o), 0);
  EXPECT_GT(std::abs(u1 - truth1), kZ * su1) << "unadjusted " << u1 << " truth " << truth1;
}

TEST(Langevin, TrueDriftRecoversKappaWithMala) {
  // MALA leaves vMF(kappa = 2) exactly invariant: kappa_eff within kZ standard errors of 2 on S^2, S^6, S^10.
  for (int d : {2, 6, 10}) {
    rbsm::geometry::Sphere S(d);
    rs::LangevinOptions o;
    o.chains = 400, o.steps = 1200, o.burn_in = 200, o.record_every = 5, o.step_size = 0.1;
    o.metropolis = true, o.seed = 100 + d;
    const auto res = rs::run_langevin(S, vmf_true_drift(d, 2.0), o);
    const auto k = rs::kappa_eff(res, e1(d + 1));
    EXPECT_GT(res.acceptance_rate, 0.5);
    EXPECT_NEAR(k.kappa, 2.0, kZ * k.kappa_se) << "d = " << d << " se = " << k.kappa_se;
    EXPECT_LT(k.kappa_se, 0.05);
  }
}

TEST(Langevin, UnadjustedStepBiasShrinksWithStep) {
  // Unadjusted Langevin on S^10 with the true vMF score: |kappa_eff - 2| is O(h). The bias at h = 0.2
  // is resolved (> kZ se), and at h = 0.05 it is below half of it (with kZ se of slack).
  rbsm::geometry::Sphere S(10);
  auto bias = [&](double h, int steps) {
    rs::LangevinOptions o;
    o.chains = 400, o.steps = steps, o.burn_in = steps / 4, o.record_every = 5, o.step_size = h, o.seed = 77;
    const auto k = rs::kappa_eff(rs::run_langevin(S, vmf_true_drift(10, 2.0), o), e1(11));
    return std::pair<double, double>(k.kappa - 2.0, k.kappa_se);
  };
  const auto [b_big, se_big] = bias(0.2, 600);
  const auto [b_small, se_small] = bias(0.05, 2400);
  EXPECT_GT(std::abs(b_big), kZ * se_big) << "bias " << b_big;
  EXPECT_LT(std::abs(b_small), 0.5 * std::abs(b_big) + kZ * std::hypot(se_small, 0.5 * se_big))
      << b_small << " vs " << b_big;
}

TEST(Langevin, RbDriftsOrderedAsThePaperPredicts) {
  // sigma = 0.29, vMF(kappa = 2), MALA with each drift's tabulated potential (exact equilibria of the
  // drifts, no step bias). On S^6 and S^10: rb under-concentrates (kappa_eff < 2 by > kZ se), and
  // |kappa_eff - 2| orders as rb-full < rb-extrinsic < rb (each gap > kZ se of the difference).
  for (int d : {6, 10}) {
    const std::shared_ptr<const rbsm::geometry::Manifold> M =
        rbsm::geometry::make_manifold("sphere:" + std::to_string(d));
    const auto q = rbsm::dist::make_density("vmf:kappa=2", M);
    auto gap = [&](const std::string& name) {
      rs::LangevinOptions o;
      o.chains = 300, o.steps = 1000, o.burn_in = 200, o.record_every = 5, o.step_size = 0.1;
      o.metropolis = true, o.seed = 900 + d;
      const auto k = rs::kappa_eff(rs::run_langevin(*M, rs::make_drift(name, *q, 0.29), o), e1(d + 1));
      return std::pair<double, double>(k.kappa - 2.0, k.kappa_se);
    };
    const auto [rb, rb_se] = gap("rb");
    const auto [ext, ext_se] = gap("rb-extrinsic");
    const auto [full, full_se] = gap("rb-full");
    EXPECT_LT(rb, -kZ * rb_se) << "d = " << d;
    EXPECT_GT(std::abs(rb) - std::abs(ext), kZ * std::hypot(rb_se, ext_se)) << "d = " << d << ": " << rb << " " << ext;
    EXPECT_GT(std::abs(ext) - std::abs(full), kZ * std::hypot(ext_se, full_se))
        << "d = " << d << ": " << ext << " " << full;
  }
}
