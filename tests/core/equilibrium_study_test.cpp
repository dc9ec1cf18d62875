// Tests of the equilibrium study (sampling::equilibrium_study, docs/langevin.md §3) and the pieces it is
// made of: the sampler choice (MALA whenever every drift has a potential), the drift-family registry,
// histogram densities, and the quadrature truth on the tori against closed forms.
#include "rbsm/sampling/equilibrium_study.hpp"

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rbsm/dist/density.hpp"
#include "rbsm/dist/special.hpp"
#include "rbsm/error.hpp"
#include "rbsm/geometry/manifold.hpp"
#include "rbsm/sampling/drifts.hpp"

namespace rs = rbsm::sampling;
using rbsm::geometry::Vec;

namespace {

std::unique_ptr<rbsm::dist::Density> density(const std::string& manifold, const std::string& dist) {
  return rbsm::dist::make_density(dist, rbsm::geometry::make_manifold(manifold));
}

}  // namespace

TEST(EquilibriumStudy, AutoSamplerIsMalaExactlyWhenEveryDriftHasAPotential) {
  const auto vmf = density("sphere:6", "vmf:kappa=2");
  EXPECT_EQ(rs::resolve_sampler("auto", {"true", "rb", "rb-full", "first-order"}, *vmf), "mala");
  const auto vm = density("torus:3,1", "vonmises:kappa1=1,kappa2=1");
  EXPECT_EQ(rs::resolve_sampler("auto", {"true"}, *vm), "mala");
  EXPECT_EQ(rs::resolve_sampler("auto", {"true", "rb"}, *vm), "ula");  // rb on a torus has no potential
  EXPECT_EQ(rs::resolve_sampler("auto", {"model:x.pt"}, *vmf), "ula");
  EXPECT_EQ(rs::resolve_sampler("ula", {"true"}, *vmf), "ula");
  EXPECT_THROW(rs::resolve_sampler("mala", {"true", "rb"}, *vm), rbsm::InvalidArgument);
  EXPECT_THROW(rs::resolve_sampler("metropolis", {"true"}, *vm), rbsm::InvalidArgument);
}

TEST(EquilibriumStudy, DriftFamiliesAreFoundByPrefixWithTheirArgumentAndCorrection) {
  const auto q = density("sphere:2", "vmf:kappa=2");
  std::string got_argument;
  rbsm::dsm::Correction got = rbsm::dsm::Correction::none;
  rs::register_drift_family("test-family", [&](const std::string& argument, const rbsm::dist::Density& qq, double sigma,
                                               rbsm::dsm::Correction c, const rs::DriftOptions& o) {
    got_argument = argument;
    got = c;
    return rs::make_drift("true", qq, sigma, o);
  });
  const auto d = rs::build_drift("test-family:a:b", *q, 0.1, "full");
  EXPECT_EQ(got_argument, "a:b");
  EXPECT_EQ(got, rbsm::dsm::Correction::full);
  EXPECT_EQ(d.name, "true");
  // Built-in names ignore the correction but still validate it; unknown families are named.
  EXPECT_NO_THROW(rs::build_drift("rb", *q, 0.1, "none"));
  EXPECT_THROW(rs::build_drift("rb", *q, 0.1, "sideways"), rbsm::InvalidArgument);
  try {
    rs::build_drift("nowhere:x", *q, 0.1, "none");
    FAIL() << "an unregistered family must throw";
  } catch (const rbsm::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("nowhere:"), std::string::npos) << e.what();
  }
}

// The truth on the tori is a periodic rectangle rule over the angles with the area element: on the Clifford
// torus the a1-marginal of von Mises (k1, k2) is von Mises(k1), E[cos a1] = I_1(k1) / I_0(k1); on the torus
// of revolution (R, r) under the uniform density E[cos a1] = int cos a (R + r cos a) / int (R + r cos a) = r / 2R.
TEST(EquilibriumStudy, TorusTruthMatchesClosedForms) {
  rs::EquilibriumStudyOptions o;
  o.drifts = {"true"};
  o.langevin.chains = 4;
  o.langevin.steps = 20;
  o.langevin.record_every = 5;
  o.manifold = "clifford-torus:1,1";
  o.dist = "vonmises:kappa1=1.5,kappa2=0.5";
  const auto a = rs::equilibrium_study(o);
  EXPECT_NEAR(a.summary["truth"]["mean_cos_a1"].get<double>(),
              std::exp(rbsm::dist::log_bessel_i(1, 1.5) - rbsm::dist::log_bessel_i(0, 1.5)), 1e-10);
  EXPECT_EQ(a.summary["sampler"], "mala");
  o.manifold = "torus:2,1";
  o.dist = "uniform";
  const auto b = rs::equilibrium_study(o);
  EXPECT_NEAR(b.summary["truth"]["mean_cos_a1"].get<double>(), 0.25, 1e-10);
  EXPECT_NEAR(b.summary["truth"]["mean_cos_a2"].get<double>(), 0.0, 1e-12);
  ASSERT_EQ(b.panels.size(), 2u);
}
