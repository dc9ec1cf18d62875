#pragma once
/// Errors thrown by rbsm. The CLI catches rbsm::Error once, prints its one-line message and exits
/// non-zero; the library never calls exit() and never asserts on user input.
#include <stdexcept>
#include <string>

namespace rbsm {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A malformed spec, an out-of-range parameter, a wrong shape, NaN input.
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// A point with no unique nearest point on M, outside the reach, or a projection that did not converge.
class GeometryError : public Error {
 public:
  using Error::Error;
};

/// A missing, truncated or corrupt file; a failed write (full disk).
class IoError : public Error {
 public:
  using Error::Error;
};

/// A computation that produced NaN/Inf or did not converge (e.g. a training loss that diverged).
class NumericalError : public Error {
 public:
  using Error::Error;
};

}  // namespace rbsm
