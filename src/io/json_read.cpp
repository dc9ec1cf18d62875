#include "rbsm/io/json_read.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include "rbsm/error.hpp"

namespace rbsm::io {
namespace {

using nlohmann::json;

[[noreturn]] void refuse(const std::string& key, const char* expected, const json& v) {
  std::string shown = v.dump();
  if (shown.size() > 40) shown = shown.substr(0, 37) + "...";
  throw IoError("key '" + key + "' must be " + expected + ", got " + shown);
}

template <class Int>
Int as_integer(const std::string& key, const json& v, const char* expected) {
  using L = std::numeric_limits<Int>;
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(L::max())) refuse(key, expected, v);
    return static_cast<Int>(u);
  }
  if (v.is_number_integer()) {
    const auto i = v.get<std::int64_t>();
    if ((L::is_signed && i < static_cast<std::int64_t>(L::min())) || (!L::is_signed && i < 0) ||
        (L::is_signed && i > static_cast<std::int64_t>(L::max())))
      refuse(key, expected, v);
    return static_cast<Int>(i);
  }
  if (v.is_number_float()) {  // 3.0 is an integer; 3.5, 1e308 and non-finite values are not
    const double d = v.get<double>();
    // 2^63 and 2^64 are exact doubles; the ranges below are half-open so the cast is defined.
    const double lo = L::is_signed ? -9223372036854775808.0 : 0.0;
    const double hi = L::is_signed ? 9223372036854775808.0 : 18446744073709551616.0;
    if (!std::isfinite(d) || d != std::floor(d) || d < lo || d >= hi) refuse(key, expected, v);
    if (L::is_signed) {
      const auto i = static_cast<std::int64_t>(d);
      if (i < static_cast<std::int64_t>(L::min()) || i > static_cast<std::int64_t>(L::max())) refuse(key, expected, v);
      return static_cast<Int>(i);
    }
    return static_cast<Int>(static_cast<std::uint64_t>(d));
  }
  refuse(key, expected, v);
}

double as_double(const std::string& key, const json& v) {
  if (!v.is_number()) refuse(key, "a number", v);
  const double d = v.get<double>();
  if (!std::isfinite(d)) refuse(key, "a finite number", v);
  return d;
}

const json& member(const json& j, const std::string& key) {
  if (!j.is_object()) throw IoError("expected a JSON object with key '" + key + "', got " + std::string(j.type_name()));
  const auto it = j.find(key);
  if (it == j.end()) throw IoError("key '" + key + "' is missing");
  return *it;
}

}  // namespace

template <>
bool json_get<bool>(const json& j, const std::string& key) {
  const json& v = member(j, key);
  if (!v.is_boolean()) refuse(key, "true or false", v);
  return v.get<bool>();
}
template <>
int json_get<int>(const json& j, const std::string& key) {
  return as_integer<int>(key, member(j, key), "an integer");
}
template <>
std::int64_t json_get<std::int64_t>(const json& j, const std::string& key) {
  return as_integer<std::int64_t>(key, member(j, key), "an integer");
}
template <>
std::uint64_t json_get<std::uint64_t>(const json& j, const std::string& key) {
  return as_integer<std::uint64_t>(key, member(j, key), "an integer >= 0");
}
template <>
double json_get<double>(const json& j, const std::string& key) {
  return as_double(key, member(j, key));
}
template <>
std::string json_get<std::string>(const json& j, const std::string& key) {
  const json& v = member(j, key);
  if (!v.is_string()) refuse(key, "a string", v);
  return v.get<std::string>();
}
template <>
std::vector<std::int64_t> json_get<std::vector<std::int64_t>>(const json& j, const std::string& key) {
  const json& v = member(j, key);
  if (!v.is_array()) refuse(key, "a list of integers", v);
  std::vector<std::int64_t> out;
  out.reserve(v.size());
  for (const json& e : v) out.push_back(as_integer<std::int64_t>(key, e, "a list of integers"));
  return out;
}
template <>
std::vector<double> json_get<std::vector<double>>(const json& j, const std::string& key) {
  const json& v = member(j, key);
  if (!v.is_array()) refuse(key, "a list of numbers", v);
  std::vector<double> out;
  out.reserve(v.size());
  for (const json& e : v) out.push_back(as_double(key, e));
  return out;
}

}  // namespace rbsm::io
