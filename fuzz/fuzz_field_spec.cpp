// Fuzz target: the analytic field specs of `rbsm anatomy --field SPEC` (gaussian-subspace, noisy-sphere,
// linear), parsed by the torch-free parse_field_spec, and the Bessel ratio A_p(k) at the concentrations
// a noisy-sphere field evaluates (|kappa e_1 + x / sigma^2| for |x| = 0, 1 and 10): an accepted spec
// must have consistent sizes and give A_p in [0, 1] (a spec parameter of 1e308 used to hang here).
#include <cmath>
#include <cstdlib>
#include <string>

#include "fuzz_common.hpp"

#include "rbsm/anatomy/field_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  rbsm::fuzz::expect_clean([&] {
    const rbsm::anatomy::FieldSpec f = rbsm::anatomy::parse_field_spec(text);
    if (f.D < 1 || f.D > 1000000 || f.d < 0 || f.d >= f.D) std::abort();
    if (!(f.sigma >= 1e-100 && f.sigma <= 1e100) || !(f.kappa >= 0) || !(f.skew >= 0)) std::abort();
    if (f.name == "noisy-sphere") {
      if (f.d + 1 > f.D) std::abort();
      for (double x : {0.0, 1.0, 10.0}) {
        const double k = std::abs(f.kappa + x / (f.sigma * f.sigma));
        if (!std::isfinite(k)) continue;  // the field itself refuses (bessel_ratio_A: k = inf)
        const double A = rbsm::anatomy::bessel_ratio_A(k, f.d + 1);
        rbsm::fuzz::require_finite(A, "A_p(k)");
        if (A < 0 || A > 1 + 1e-12) std::abort();
      }
    }
  });
  return 0;
}
