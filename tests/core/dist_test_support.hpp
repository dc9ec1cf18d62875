#pragma once
// Helpers shared by the density tests (dist_test.cpp, dist_normalisation_test.cpp).
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "rbsm/geometry/manifold.hpp"

namespace rbsm::testing {

inline std::shared_ptr<const geometry::Manifold> manifold(const std::string& spec) {
  return std::shared_ptr<const geometry::Manifold>(geometry::make_manifold(spec));
}

/// Writes `text` to a file named `name` (made unique per process: ctest runs tests in parallel) in the
/// temporary directory and returns its path.
inline std::string write_temp(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("rbsm_dist_" + std::to_string(::getpid()) + "_" + name);
  std::ofstream(path) << text;
  return path.string();
}

}  // namespace rbsm::testing
