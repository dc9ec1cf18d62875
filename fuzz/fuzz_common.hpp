#pragma once
// Shared by the fuzz targets (docs/reliability.md). Each target feeds arbitrary bytes to one parser of
// user input. The contract checked: the parser returns, or throws rbsm::Error (the CLI's one-line
// message); anything else -- a crash, a sanitizer report, a hang, a leak, or a raw library exception
// (std::out_of_range, nlohmann::json::exception, ...) escaping as an unexplained message -- is a finding.
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>

#include "rbsm/error.hpp"

namespace rbsm::fuzz {

/// Runs `f`; rbsm::Error is the expected way to refuse input, any other exception aborts (a finding).
template <class F>
void expect_clean(F&& f) {
  try {
    f();
  } catch (const rbsm::Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz: a non-rbsm exception escaped: %s\n", e.what());
    std::abort();
  }
}

/// A finite-output check: a parser that accepted its input must not produce NaN/Inf where it promises numbers.
inline void require_finite(double v, const char* what) {
  if (!std::isfinite(v)) {
    std::fprintf(stderr, "fuzz: accepted input gave a non-finite %s\n", what);
    std::abort();
  }
}

/// Writes bytes to a per-process temporary file (for parsers that take a path) and returns its path.
inline std::filesystem::path temp_file(const std::string& name, const uint8_t* data, size_t size) {
  const auto p = std::filesystem::temp_directory_path() / ("rbsm-fuzz-" + std::to_string(::getpid()) + "-" + name);
  std::FILE* f = std::fopen(p.c_str(), "wb");
  if (!f) std::abort();
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
  return p;
}

}  // namespace rbsm::fuzz
