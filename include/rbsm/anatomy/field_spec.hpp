#pragma once
/// The spec strings of the analytic score fields (`rbsm anatomy --field SPEC`, analytic_fields.hpp),
/// parsed and range-checked without LibTorch, so that the parser is fuzzed in the core build
/// (fuzz/fuzz_field_spec.cpp, docs/reliability.md section 5). make_analytic_field builds the field
/// from the parsed values.
#include <cstdint>
#include <string>

namespace rbsm::anatomy {

struct FieldSpec {
  std::string text;        ///< the spec as given
  std::string name;        ///< gaussian-subspace | noisy-sphere | linear
  int D = 0;               ///< ambient dimension
  int d = 0;               ///< the data's dimension (local dimension of the field)
  double sigma = 0;        ///< noise level, in [1e-100, 1e100]
  double kappa = 0;        ///< noisy-sphere: vMF concentration >= 0
  double skew = 0;         ///< linear: size of the skew part >= 0
  std::uint64_t seed = 0;  ///< linear: rotation seed
};

/// Parses `gaussian-subspace:D=..,d=..,sigma=..`, `noisy-sphere:D=..,d=..,kappa=..,sigma=..` or
/// `linear:D=..,skew=..[,d=..,sigma=..,seed=..]`. Throws InvalidArgument naming the spec for an
/// unknown name, unknown or missing keys, non-integer or out-of-range sizes (D, d <= 1e6, d < D;
/// d + 1 <= D for the sphere), sigma outside [1e-100, 1e100], kappa < 0, skew < 0 or a bad seed.
FieldSpec parse_field_spec(const std::string& text);

/// A_p(k) = I_{p/2}(k) / I_{p/2-1}(k), the mean resultant length of vMF in R^p (p >= 2, finite k >= 0):
/// dist::bessel_ratio(p, k) (dist/special.hpp), the one scalar implementation, under the name the
/// anatomy code uses. Throws InvalidArgument for p < 2 or a bad k.
double bessel_ratio_A(double k, int p);

}  // namespace rbsm::anatomy
