#pragma once
/// Exact readers of JSON values in configs and checkpoints. nlohmann's get<T> (3.11) converts numbers
/// silently (1.5 -> 1, -1 -> 2^64 - 1 for an unsigned, and 1e308 -> an undefined integer), so
/// a hand-edited or damaged config would run something other than what it says. These accept a value
/// only when T represents it exactly (an integer may be written 3 or 3.0; a double must be finite) and
/// throw IoError naming the key otherwise (docs/reliability.md).
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace rbsm::io {

/// j[key] as T, for T in {bool, int, std::int64_t, std::uint64_t, double, std::string,
/// std::vector<std::int64_t>, std::vector<double>}. Throws IoError when j is not an object, the key is
/// missing, or the value is of another kind or out of T's range.
template <class T>
T json_get(const nlohmann::json& j, const std::string& key);

/// As json_get, but `fallback` when the key is absent (a present key of the wrong kind still throws).
template <class T>
T json_get_or(const nlohmann::json& j, const std::string& key, const T& fallback) {
  return j.is_object() && !j.contains(key) ? fallback : json_get<T>(j, key);
}

}  // namespace rbsm::io
