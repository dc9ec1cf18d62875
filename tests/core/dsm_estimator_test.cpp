// The RB estimator (docs/targets.md §4) against the exact target, and its determinism.
#include <cmath>
#include <memory>

#include <gtest/gtest.h>

#include "rbsm/dist/density.hpp"
#include "rbsm/dsm/rb_estimator.hpp"
#include "rbsm/dsm/rb_exact.hpp"
#include "rbsm/dsm/rb_sphere.hpp"
#include "rbsm/error.hpp"
#include "rbsm/geometry/manifold.hpp"

namespace {

using rbsm::dsm::Mat;
using rbsm::dsm::Vec;

Mat draw(const rbsm::dist::Density& q, int n, std::uint64_t seed) {
  Mat m(n, q.manifold().ambient_dim());
  for (int i = 0; i < n; ++i) {
    rbsm::Rng rng(seed, i);
    m.row(i) = q.sample(rng).transpose();
  }
  return m;
}

// Mean squared error over independent reference sets, for N = 200, 800, 3200: the estimator is
// consistent and its error falls like N^{-1/2} (MSE like 1/N). 24 replicates per N; the fitted
// log-log slope of the MSE must be -1 +- 0.3 (the replicate scatter gives ~ +-0.12 at one standard deviation).
TEST(DsmEstimator, ConvergesToExactAtRateInverseSqrtN) {
  std::shared_ptr<const rbsm::geometry::Manifold> M = rbsm::geometry::make_manifold("sphere:2");
  const auto q = rbsm::dist::make_density("vmf:kappa=2", M);
  const double sigma = 0.3;
  const Mat Y = draw(*q, 16, 99);
  const rbsm::dsm::VmfRbTarget exact(2, 2.0, Vec::Unit(3, 0), sigma);
  Mat R(16, 3);
  for (int i = 0; i < 16; ++i) R.row(i) = exact(Y.row(i).transpose()).transpose();
  std::vector<double> logn, logmse;
  for (int N : {200, 800, 3200}) {
    double mse = 0;
    for (int rep = 0; rep < 24; ++rep) {
      const rbsm::dsm::RbEstimator est(M, draw(*q, N, 1000 * N + rep), sigma);
      mse += (est.estimate(Y, 1).r - R).squaredNorm() / 16;
    }
    mse /= 24;
    logn.push_back(std::log(N));
    logmse.push_back(std::log(mse));
  }
  const double slope = (logmse[2] - logmse[0]) / (logn[2] - logn[0]);
  EXPECT_NEAR(slope, -1.0, 0.3);
  EXPECT_LT(logmse[2], logmse[0] - std::log(8.0));  // 1/N predicts a factor 16 from N = 200 to 3200
}

// The sphere fast path (table + polynomial + pruning) against the generic per-pair weights.
TEST(DsmEstimator, SphereFastPathMatchesDirectWeights) {
  for (int d : {2, 10})
    for (double sigma : {0.01, 0.1, 1.0}) {
      std::shared_ptr<const rbsm::geometry::Manifold> M = rbsm::geometry::make_manifold("sphere:" + std::to_string(d));
      const auto q = rbsm::dist::make_density("vmf:kappa=2", M);
      const Mat refs = draw(*q, 500, 7), Y = draw(*q, 5, 8);
      const rbsm::dsm::RbEstimator est(M, refs, sigma);
      const auto e = est.estimate(Y, 2);
      for (int i = 0; i < Y.rows(); ++i) {
        const Vec y = Y.row(i).transpose();
        std::vector<double> lw(refs.rows());
        double lmax = -1e300;
        for (int j = 0; j < refs.rows(); ++j) {
          lw[j] = rbsm::dsm::log_sphere_ray_weight(d, sigma, y.dot(refs.row(j).transpose()));
          lmax = std::max(lmax, lw[j]);
        }
        Vec s = Vec::Zero(d + 1);
        double sw = 0, sw2 = 0;
        for (int j = 0; j < refs.rows(); ++j) {
          const double w = std::exp(lw[j] - lmax);
          s += w * refs.row(j).transpose();
          sw += w;
          sw2 += w * w;
        }
        const Vec r = (s - y.dot(s) * y) / (sigma * sigma * sw);
        EXPECT_LT((e.r.row(i).transpose() - r).norm(), 1e-9 * (1 + r.norm())) << "d " << d << " sigma " << sigma;
        EXPECT_NEAR(e.ess[i], sw * sw / sw2, 1e-9 * sw * sw / sw2);
      }
    }
}

TEST(DsmEstimator, NoOverflowAtSmallSigmaAndThreadIndependent) {
  std::shared_ptr<const rbsm::geometry::Manifold> M = rbsm::geometry::make_manifold("sphere:10");
  const auto q = rbsm::dist::make_density("vmf:kappa=2", M);
  const rbsm::dsm::RbEstimator est(M, draw(*q, 1000, 3), 0.01);
  const Mat Y = draw(*q, 100, 4);
  const auto a = est.estimate(Y, 1), b = est.estimate(Y, 2);
  EXPECT_TRUE(a.r.allFinite());
  EXPECT_EQ((a.r - b.r).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_GE(a.ess.minCoeff(), 1.0 - 1e-12);
}

// Torus of revolution (exact fibre weights, generic path): the estimator with many references
// agrees with the 2-D quadrature within its Monte Carlo error.
TEST(DsmEstimator, TorusEstimatorAgreesWithQuadrature) {
  std::shared_ptr<const rbsm::geometry::Manifold> M = rbsm::geometry::make_manifold("torus:3,1");
  const auto q = rbsm::dist::make_density("vonmises:kappa1=1,kappa2=1", M);
  const double sigma = 0.3;
  const Vec y = M->project(Vec(Eigen::Vector3d(3.1, 1.7, 0.84)));
  const Vec exact = rbsm::dsm::exact_rb_target(*q, y, sigma, 1e-9);
  const rbsm::dsm::RbEstimator est(M, draw(*q, 20000, 5), sigma);
  double ess = 0;
  const Vec r = est.estimate_one(y, &ess);
  // Standard error ~ sqrt(2)/(sigma sqrt(ESS)); 5 standard errors.
  EXPECT_LT((r - exact).norm(), 5.0 * std::sqrt(2.0) / (sigma * std::sqrt(ess)))
      << r.transpose() << " vs " << exact.transpose();
}

TEST(DsmEstimator, RejectsBadInput) {
  std::shared_ptr<const rbsm::geometry::Manifold> M = rbsm::geometry::make_manifold("sphere:2");
  EXPECT_THROW(rbsm::dsm::RbEstimator(M, Mat(0, 3), 0.1), rbsm::InvalidArgument);
  EXPECT_THROW(rbsm::dsm::RbEstimator(M, Mat::Ones(4, 2), 0.1), rbsm::InvalidArgument);
  EXPECT_THROW(rbsm::dsm::RbEstimator(M, Mat::Ones(4, 3), 0.0), rbsm::InvalidArgument);
}

}  // namespace

namespace rbsm::dsm {
namespace {
// Leave-one-out (the fit's RB target): excluding reference j equals an estimator built without row j.
TEST(RbEstimatorLeaveOneOut, EqualsTheEstimatorWithoutThatReference) {
  for (const std::string spec : {"sphere:2", "torus:3,1", "clifford-torus:1,1.5"}) {
    std::shared_ptr<const geometry::Manifold> M = geometry::make_manifold(spec);
    Rng rng(11, 0);
    const int N = 12;
    Mat refs(N, M->ambient_dim());
    for (int j = 0; j < N; ++j) refs.row(j) = M->sample_uniform(rng).transpose();
    const double sigma = 0.4;
    RbEstimator full(M, refs, sigma);
    Mat Q(N, M->ambient_dim());
    std::vector<long> skip(N);
    for (int j = 0; j < N; ++j) {
      Vec x = refs.row(j).transpose();
      for (int k = 0; k < x.size(); ++k) x[k] += 0.1 * rng.normal();
      Q.row(j) = M->project(x).transpose();
      skip[j] = j;
    }
    const RbEstimate loo = full.estimate(Q, 1, &skip);
    for (int j = 0; j < N; ++j) {
      Mat rest(N - 1, M->ambient_dim());
      for (int i = 0, r = 0; i < N; ++i)
        if (i != j) rest.row(r++) = refs.row(i);
      const Vec brute = RbEstimator(M, rest, sigma).estimate_one(Q.row(j).transpose());
      EXPECT_LT((loo.r.row(j).transpose() - brute).norm(), 1e-9 * (1 + brute.norm())) << spec << " " << j;
    }
    // and it differs from the full estimate (the own reference pulls the target back to it)
    EXPECT_GT((full.estimate(Q, 1).r - loo.r).norm(), 1e-3) << spec;
  }
}
}  // namespace
}  // namespace rbsm::dsm
