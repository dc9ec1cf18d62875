#pragma once
// Private helpers of src/dist (not installed).
#include <cmath>
#include <cstdio>
#include <string>

#include "rbsm/numerics/constants.hpp"

namespace rbsm::dist::detail {

/// A number with 15 significant digits, for specs and error messages.
inline std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

/// Largest accepted concentration (kappa, f): beyond it q is a point mass to double precision
/// (kappa * 2^-52 > 1e-4, so log q loses every digit) and the normalisers overflow.
constexpr double kMaxConcentration = 1e12;
/// Throws InvalidArgument (defined in the TU: needs rbsm/error.hpp) if |k| > kMaxConcentration.
template <class E>
inline void check_concentration(double k, const std::string& what) {
  if (std::abs(k) > kMaxConcentration)
    throw E(what + " = " + number(k) +
            " is too large (at most 1e12: beyond it the density is a point mass to "
            "double precision)");
}

}  // namespace rbsm::dist::detail
