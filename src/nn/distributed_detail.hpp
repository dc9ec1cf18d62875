#pragma once
// Small helpers shared by the two halves of data-parallel training (distributed.cpp: options and the
// world; distributed_launcher.cpp: the local launcher). Internal to src/nn.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>

namespace rbsm::nn::distributed_detail {

using Clock = std::chrono::steady_clock;

/// The first line of an exception's text (c10d's messages carry a C++ backtrace after it).
inline std::string first_line(const std::string& s) {
  const auto nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}
inline std::string seconds_text(double s) {
  std::ostringstream o;
  o << s << " s";
  return o.str();
}
inline std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000.0 + 0.5));
}
inline std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

}  // namespace rbsm::nn::distributed_detail
