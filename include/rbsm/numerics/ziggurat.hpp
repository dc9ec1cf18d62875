#pragma once
/// A fast standard-normal sampler for hot loops (Langevin steps): Marsaglia and Tsang's ziggurat with
/// 256 layers (J. Stat. Softw. 5(8), 2000), driven by rbsm::Rng so that streams stay deterministic.
/// One 64-bit draw gives the layer (8 bits), the sign (1 bit) and a 53-bit uniform; about 99% of
/// draws return after one multiply and one comparison. Exact in law (the wedges and the tail are
/// handled by rejection), tested by moments and a chi-square test in tests/core/langevin_test.cpp.
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "rbsm/random.hpp"

namespace rbsm::numerics {

class Ziggurat {
 public:
  /// The shared, immutable tables (built once, thread-safe static initialisation).
  static const Ziggurat& instance() {
    static const Ziggurat z;
    return z;
  }

  /// One N(0, 1) draw.
  double operator()(Rng& rng) const {
    const std::uint64_t bits = rng();
    const int i = static_cast<int>(bits & 0xff);
    // (signed conversion: much faster than unsigned 64-bit to double on x86-64)
    const double x = static_cast<double>(static_cast<std::int64_t>(bits >> 11)) * w_[i];
    if (__builtin_expect(x < x_[i + 1], 1)) return with_sign(x, bits);  // inside the rectangle
    return slow(rng, bits);
  }

  /// x with its sign bit set from bit 8 of `bits`, without a branch (a random sign is a branch the CPU
  /// mispredicts half the time: that alone doubled the cost of a draw).
  static double with_sign(double x, std::uint64_t bits) {
    std::uint64_t u;
    std::memcpy(&u, &x, sizeof u);
    u ^= (bits & 0x100) << 55;
    std::memcpy(&x, &u, sizeof x);
    return x;
  }

  /// The layer tables: a draw with layer i = bits & 0xff is accepted at once when
  /// x = (bits >> 11) * w(i) < edge(i) (used by the SIMD lanes of sampling/langevin.cpp).
  double w(int i) const { return w_[i]; }
  double edge(int i) const { return x_[i + 1]; }

  /// The rare cases (about 1.2% of draws): the tail beyond r and the wedges; loops until accepted.
  /// `bits` is the draw that missed its rectangle; further draws come from `rng`.
  __attribute__((noinline)) double slow(Rng& rng, std::uint64_t bits) const {
    for (;;) {
      const int i = static_cast<int>(bits & 0xff);
      const bool negative = bits & 0x100;
      const double x = static_cast<double>(static_cast<std::int64_t>(bits >> 11)) * w_[i];
      if (x < x_[i + 1]) return negative ? -x : x;
      if (i == 0) {  // the tail beyond r, Marsaglia's method
        double a, b;
        do {
          a = -std::log(rng.uniform_open()) / kR;
          b = -std::log(rng.uniform_open());
        } while (2.0 * b < a * a);
        return negative ? -(kR + a) : kR + a;
      }
      // the wedge between the layer's rectangle and the curve
      if (f_[i + 1] + rng.uniform() * (f_[i] - f_[i + 1]) < std::exp(-0.5 * x * x)) return negative ? -x : x;
      bits = rng();
    }
  }

 private:
  static constexpr double kR = 3.6541528853610088;  // right edge of the base layer
  static constexpr double kV = 0.00492867323399;    // area of every layer
  Ziggurat() {
    // x_0 is the width of the base strip (rectangle plus tail), x_1 = r, x_256 = 0.
    auto f = [](double x) { return std::exp(-0.5 * x * x); };
    x_[0] = kV / f(kR);
    x_[1] = kR;
    for (int i = 1; i < 255; ++i) x_[i + 1] = std::sqrt(-2.0 * std::log(kV / x_[i] + f(x_[i])));
    x_[256] = 0.0;
    for (int i = 0; i <= 256; ++i) f_[i] = f(x_[i]);
    for (int i = 0; i < 256; ++i) w_[i] = x_[i] * 0x1.0p-53;
    f_[0] = 0.0;  // unused (the base layer never reaches its wedge test)
  }
  std::array<double, 257> x_{}, f_{}, w_{};  // w_i = x_i 2^-53: a 53-bit integer times w_i is u x_i
};

/// N(0, 1) by the ziggurat.
inline double fast_normal(Rng& rng) { return Ziggurat::instance()(rng); }

}  // namespace rbsm::numerics
