// run_langevin_batched (langevin_batch.hpp): a batched drift equal to a Drift's field, row by row, gives
// run_langevin's generic path bit for bit (same streams, initial states, burn-in and records); bad drift
// results and MALA are refused.
#include "rbsm/sampling/langevin_batch.hpp"

#include <gtest/gtest.h>

#include "rbsm/error.hpp"
#include "rbsm/geometry/manifold.hpp"

namespace {

using namespace rbsm;
using geometry::Mat;
using geometry::Vec;

sampling::Drift pull_towards(const geometry::Manifold& M, Vec target) {
  sampling::Drift d;
  d.name = "pull";
  d.field = [&M, target](const Vec& z) { return Vec(M.tangent_projector(z) * (target - z)); };
  return d;
}

TEST(LangevinBatched, EqualsTheGenericPathBitForBit) {
  for (const char* spec : {"torus:3,1", "sphere:2", "so3"}) {
    const auto M = geometry::make_manifold(spec);
    const sampling::Drift d = pull_towards(*M, M->sample_uniform(*std::make_unique<Rng>(3)));
    sampling::LangevinOptions o;
    o.chains = 7;
    o.steps = 30;
    o.step_size = 0.02;
    o.record_every = 4;
    o.seed = 11;
    o.threads = 2;
    o.force_generic = true;
    const auto a = sampling::run_langevin(*M, d, o);
    int calls = 0;
    const auto b = sampling::run_langevin_batched(
        *M,
        [&](const Mat& Z, int step) {
          EXPECT_EQ(step, calls++);
          Mat B(Z.rows(), Z.cols());
          for (Eigen::Index c = 0; c < Z.rows(); ++c) B.row(c) = d.field(Z.row(c).transpose()).transpose();
          return B;
        },
        o);
    EXPECT_EQ(calls, 30);
    ASSERT_EQ(a.samples.rows(), b.samples.rows()) << spec;
    EXPECT_EQ(a.records_per_chain, b.records_per_chain);
    EXPECT_TRUE(a.samples == b.samples) << spec << ": max difference " << (a.samples - b.samples).cwiseAbs().maxCoeff();
  }
}

TEST(LangevinBatched, RefusesBadDriftsAndMala) {
  const auto M = geometry::make_manifold("sphere:2");
  sampling::LangevinOptions o;
  o.chains = 3;
  o.steps = 4;
  EXPECT_THROW(sampling::run_langevin_batched(
                   *M, [](const Mat& Z, int) { return Mat(Z.leftCols(2)); }, o),
               InvalidArgument);
  EXPECT_THROW(sampling::run_langevin_batched(
                   *M, [](const Mat& Z, int) { return Mat(Z * std::nan("")); }, o),
               InvalidArgument);
  o.metropolis = true;
  EXPECT_THROW(sampling::run_langevin_batched(
                   *M, [](const Mat& Z, int) { return Z; }, o),
               InvalidArgument);
  o.metropolis = false;
  o.steps = 0;
  EXPECT_THROW(sampling::run_langevin_batched(
                   *M, [](const Mat& Z, int) { return Z; }, o),
               InvalidArgument);
}

}  // namespace
