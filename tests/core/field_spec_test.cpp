// The torch-free parsers of the fuzz targets field_spec and checkpoint_header (docs/reliability.md
// section 5): analytic field specs of `rbsm anatomy`, A_p(k), and checkpoint headers.
#include "rbsm/anatomy/field_spec.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "error_text.hpp"

#include "rbsm/error.hpp"
#include "rbsm/io/checkpoint_header.hpp"

namespace {

TEST(FieldSpec, ParsesTheThreeFieldsWithDefaults) {
  const auto g = rbsm::anatomy::parse_field_spec("gaussian-subspace:D=784,d=20,sigma=0.1");
  EXPECT_EQ(g.name, "gaussian-subspace");
  EXPECT_EQ(g.D, 784);
  EXPECT_EQ(g.d, 20);
  EXPECT_EQ(g.sigma, 0.1);
  const auto s = rbsm::anatomy::parse_field_spec("noisy-sphere:D=50,d=2,sigma=0.05");
  EXPECT_EQ(s.kappa, 0.0);  // default
  const auto l = rbsm::anatomy::parse_field_spec("linear:D=5,skew=0.5");
  EXPECT_EQ(l.d, 4);  // min(10, D - 1)
  EXPECT_EQ(l.sigma, 0.1);
  EXPECT_EQ(l.seed, 0u);
}

TEST(FieldSpec, RefusesBadValuesNamingTheSpec) {
  using rbsm::anatomy::parse_field_spec;
  EXPECT_NE(
      what_of([] { parse_field_spec("linear:D=5,skew=1,d=1e308"); }).find("d=1e+308, expected an integer 0 <= d < D"),
      std::string::npos);
  EXPECT_NE(what_of([] { parse_field_spec("noisy-sphere:D=3,d=1,sigma=1e-300"); }).find("is outside [1e-100, 1e100]"),
            std::string::npos);
  EXPECT_NE(what_of([] { parse_field_spec("noisy-sphere:D=2,d=2,sigma=1"); }).find("S^2 needs D >= 3"),
            std::string::npos);
  EXPECT_NE(what_of([] { parse_field_spec("gaussian-subspace:D=2,d=2,sigma=1"); }).find("expected d < D"),
            std::string::npos);
  EXPECT_NE(what_of([] { parse_field_spec("linear:D=4,skew=1,seed=-1"); }).find("seed must be a non-negative integer"),
            std::string::npos);
  EXPECT_NE(what_of([] { parse_field_spec("cube:D=4"); }).find("unknown field 'cube:D=4'"), std::string::npos);
}

// A_p(k) against closed forms: p = 3, A = coth k - 1/k; on both sides of the Hankel switch (k = 1e4).
TEST(FieldSpec, BesselRatioMatchesTheClosedFormForP3) {
  for (double k : {1e-3, 0.5, 2.0, 30.0, 9999.0, 1e4 + 1, 1e6, 1e308}) {
    // series at small k (coth k - 1/k cancels there); coth k = 1 to double precision beyond k = 20
    const double expected = k < 0.1  ? k / 3 - k * k * k / 45 + 2 * std::pow(k, 5) / 945
                            : k < 20 ? 1.0 / std::tanh(k) - 1.0 / k
                                     : 1.0 - 1.0 / k;
    EXPECT_NEAR(rbsm::anatomy::bessel_ratio_A(k, 3), expected, 1e-13 * std::max(1.0, expected)) << k;
  }
}

TEST(CheckpointHeader, FormatAndConfigErrorsNameTheFile) {
  using rbsm::io::check_checkpoint_format;
  using rbsm::io::parse_checkpoint_config;
  EXPECT_EQ(what_of([] { check_checkpoint_format(std::nullopt, "rbsm-score-model-v1", "score-model", "a.pt"); }),
            "checkpoint a.pt is not an rbsm score-model checkpoint (no format tag; expected rbsm-score-model-v1)");
  EXPECT_EQ(what_of([] {
              check_checkpoint_format(std::string("rbsm-vae-v1"), "rbsm-score-model-v1", "score-model", "a.pt");
            }),
            "checkpoint a.pt is not an rbsm score-model checkpoint (format rbsm-vae-v1, expected rbsm-score-model-v1)");
  EXPECT_EQ(what_of([] { check_checkpoint_format(std::string("rbsm-vae-v1"), "rbsm-vae-v1", "VAE", "a.pt"); }),
            "(no error)");
  EXPECT_EQ(what_of([] { parse_checkpoint_config(std::nullopt, "a.pt"); }), "checkpoint a.pt has no config");
  EXPECT_EQ(what_of([] {
              parse_checkpoint_config(std::string("{\"step\": 1e400}"), "a.pt");
            }).rfind("checkpoint a.pt has a malformed config (", 0),
            0u);
  EXPECT_EQ(parse_checkpoint_config(std::string("{\"step\": 7}"), "a.pt").at("step").get<int>(), 7);
}

}  // namespace

// A field with D = 10^6 would hold D x D matrices (8 TB each): refused before anything is allocated, naming
// the field (the fuzz finding of issue 16: the spec check alone accepted it).
TEST(FieldSpec, AFieldTooLargeForThisMachineIsRefusedBeforeAllocating) {
  const std::string w = what_of([] { rbsm::anatomy::parse_field_spec("linear:D=1000000,skew=1"); });
  EXPECT_NE(w.find("would need"), std::string::npos) << w;
  EXPECT_NE(w.find("D = 1000000"), std::string::npos) << w;
  EXPECT_NO_THROW(rbsm::anatomy::parse_field_spec("linear:D=784,skew=1"));
}
