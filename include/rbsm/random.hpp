#pragma once
/// Deterministic random numbers. Every random function in rbsm takes an `Rng&`; parallel code gives
/// each work item its own stream `Rng(seed, item)`, so results depend on the seed only, never on the
/// thread count or timing. The generator (xoshiro256**) and the normal sampler (Marsaglia's polar
/// method) are implemented here, so streams are identical on every platform and standard library.
#include <cmath>
#include <cstdint>
#include <limits>

namespace rbsm {

class Rng {
 public:
  using result_type = std::uint64_t;

  /// Stream `stream` of seed `seed`: independent streams for parallel work items.
  explicit Rng(std::uint64_t seed = 0, std::uint64_t stream = 0) {
    std::uint64_t x = seed ^ (0x9E3779B97F4A7C15ULL * (stream + 1));
    for (auto& s : s_) s = splitmix64(x);
  }

  /// The generator's four state words (to run several streams in SIMD lanes, sampling/langevin.cpp);
  /// `from_state` continues the stream from them. The normal() spare is not part of it.
  void get_state(std::uint64_t out[4]) const {
    for (int k = 0; k < 4; ++k) out[k] = s_[k];
  }
  static Rng from_state(const std::uint64_t state[4]) {
    Rng r;
    for (int k = 0; k < 4; ++k) r.s_[k] = state[k];
    return r;
  }

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

  result_type operator()() { return xoshiro256ss_next(s_); }

  /// One xoshiro256** step on four state words. W is std::uint64_t or a GCC vector of them (several
  /// streams in SIMD lanes, sampling/langevin.cpp): * 5 and * 9 are written as shifts and adds, which
  /// are the same modulo 2^64 and exist for 64-bit vector lanes (a 64-bit vector multiply does not in AVX2).
  template <class W>
  [[gnu::always_inline]] static W xoshiro256ss_next(W (&s)[4]) {
    const W x5 = (s[1] << 2) + s[1];
    const W rot = (x5 << 7) | (x5 >> 57);
    const W result = (rot << 3) + rot;
    const W t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
  }

  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }
  /// Uniform in (0, 1): safe for log().
  double uniform_open() {
    double u;
    do u = uniform();
    while (u == 0.0);
    return u;
  }
  /// Uniform in [a, b).
  double uniform(double a, double b) { return a + (b - a) * uniform(); }
  /// Standard normal N(0, 1).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, s;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }
  /// Gamma(shape, 1) by Marsaglia-Tsang (shape > 0).
  double gamma(double shape) {
    if (shape < 1.0) return gamma(shape + 1.0) * std::pow(uniform_open(), 1.0 / shape);
    const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      double x, v;
      do {
        x = normal();
        v = 1.0 + c * x;
      } while (v <= 0.0);
      v = v * v * v;
      const double u = uniform_open();
      if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
    }
  }
  /// Beta(a, b).
  double beta(double a, double b) {
    const double x = gamma(a), y = gamma(b);
    return x / (x + y);
  }

 private:
  static std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::uint64_t s_[4];
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace rbsm
