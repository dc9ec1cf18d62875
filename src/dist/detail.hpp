#pragma once
// Private helpers of src/dist (not installed).
#include <cstdio>
#include <string>

namespace rbsm::dist::detail {

/// A number with 15 significant digits, for specs and error messages.
inline std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

constexpr double kPi = 3.14159265358979323846;

}  // namespace rbsm::dist::detail
