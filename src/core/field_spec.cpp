// Analytic field specs, torch-free (include/rbsm/anatomy/field_spec.hpp).
#include "rbsm/anatomy/field_spec.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "rbsm/dist/special.hpp"
#include "rbsm/error.hpp"
#include "rbsm/spec.hpp"
#include "rbsm/validate.hpp"

namespace rbsm::anatomy {

// ------------------------------------------------------------------ A_p(k) = I_{p/2}(k) / I_{p/2-1}(k)
double bessel_ratio_A(double k, int p) { return dist::bessel_ratio(p, k); }

// ------------------------------------------------------------------ specs
namespace {

double require_key(const std::map<std::string, double>& kv, const std::string& key, const Spec& spec) {
  const auto it = kv.find(key);
  if (it == kv.end()) throw InvalidArgument("field '" + spec.text + "': missing " + key + "=...");
  return it->second;
}
int require_int(const std::map<std::string, double>& kv, const std::string& key, const Spec& spec, int min_value) {
  const double v = require_key(kv, key, spec);
  if (v != std::floor(v) || v < min_value || v > 1e6)
    throw InvalidArgument("field '" + spec.text + "': " + key + "=" + std::to_string(v) +
                          ", expected an integer >= " + std::to_string(min_value));
  return static_cast<int>(v);
}
double get_or(const std::map<std::string, double>& kv, const std::string& key, double fallback) {
  const auto it = kv.find(key);
  return it == kv.end() ? fallback : it->second;
}
void require_positive(double v, const std::string& key, const Spec& spec) {
  if (!(v > 0)) throw InvalidArgument("field '" + spec.text + "': " + key + "=" + std::to_string(v) + ", expected > 0");
  // 1/sigma^2 and sigma^2 must stay finite (sigma = 1e-300 gave "bessel_ratio_A: k = inf")
  if (v < 1e-100 || v > 1e100) {
    char got[32];
    std::snprintf(got, sizeof got, "%g", v);
    throw InvalidArgument("field '" + spec.text + "': " + key + "=" + got + " is outside [1e-100, 1e100]");
  }
}
/// A double as `operator<<` writes it (1e+308, not 300 digits).
std::string shortest(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

FieldSpec parse_unchecked(const std::string& text) {
  const Spec spec = Spec::parse(text);
  FieldSpec f;
  f.text = spec.text;
  f.name = spec.name;
  if (spec.name == "gaussian-subspace") {
    const auto kv = spec.keyvalues({"D", "d", "sigma"});
    f.D = require_int(kv, "D", spec, 1);
    f.d = require_int(kv, "d", spec, 0);
    f.sigma = require_key(kv, "sigma", spec);
    require_positive(f.sigma, "sigma", spec);
    if (f.d >= f.D) throw InvalidArgument("field '" + spec.text + "': d=" + std::to_string(f.d) + ", expected d < D");
    return f;
  }
  if (spec.name == "noisy-sphere") {
    const auto kv = spec.keyvalues({"D", "d", "kappa", "sigma"});
    f.D = require_int(kv, "D", spec, 2);
    f.d = require_int(kv, "d", spec, 1);
    f.kappa = get_or(kv, "kappa", 0.0);
    f.sigma = require_key(kv, "sigma", spec);
    require_positive(f.sigma, "sigma", spec);
    if (!(f.kappa >= 0))
      throw InvalidArgument("field '" + spec.text + "': kappa=" + std::to_string(f.kappa) + ", expected >= 0");
    if (f.d + 1 > f.D)
      throw InvalidArgument("field '" + spec.text + "': S^" + std::to_string(f.d) +
                            " needs D >= " + std::to_string(f.d + 1));
    return f;
  }
  if (spec.name == "linear") {
    const auto kv = spec.keyvalues({"D", "d", "sigma", "skew", "seed"});
    f.D = require_int(kv, "D", spec, 1);
    const double d_value = get_or(kv, "d", std::min(10, f.D - 1));
    if (!(d_value >= 0 && d_value < f.D) || d_value != std::floor(d_value))  // before the cast: 1e308 is no int
      throw InvalidArgument("field '" + spec.text + "': d=" + shortest(d_value) + ", expected an integer 0 <= d < D");
    f.d = static_cast<int>(d_value);
    f.sigma = get_or(kv, "sigma", 0.1);
    f.skew = require_key(kv, "skew", spec);
    const double seed = get_or(kv, "seed", 0);
    require_positive(f.sigma, "sigma", spec);
    if (!(f.skew >= 0))
      throw InvalidArgument("field '" + spec.text + "': skew=" + std::to_string(f.skew) + ", expected >= 0");
    if (!(seed >= 0 && seed < 9007199254740992.0) || seed != std::floor(seed))
      throw InvalidArgument("field '" + spec.text + "': seed must be a non-negative integer");
    f.seed = static_cast<std::uint64_t>(seed);
    return f;
  }
  throw InvalidArgument("unknown field '" + text +
                        "', expected gaussian-subspace:D=..,d=..,sigma=.. | noisy-sphere:D=..,d=..,kappa=..,sigma=.. | "
                        "linear:D=..,skew=..[,d=..,sigma=..,seed=..]");
}

}  // namespace

FieldSpec parse_field_spec(const std::string& text) {
  FieldSpec f = parse_unchecked(text);
  // The field and its analysis hold D x D matrices (the rotation of `linear`, each point's Jacobian and its
  // SVD): about four of them at once. Fail before allocating when that exceeds this machine's memory.
  const double D = f.D;
  validate::memory(4.0 * 8.0 * D * D, "field '" + f.text + "' (D = " + std::to_string(f.D) + ", four D x D matrices)");
  return f;
}

}  // namespace rbsm::anatomy
