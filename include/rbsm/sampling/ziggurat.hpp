#pragma once
/// A fast standard-normal sampler for hot loops (Langevin steps): Marsaglia and Tsang's ziggurat with
/// 256 layers (J. Stat. Softw. 5(8), 2000), driven by rbsm::Rng so that streams stay deterministic.
/// One 64-bit draw gives the layer (8 bits), the sign (1 bit) and a 53-bit uniform; about 99% of
/// draws return after one multiply and one comparison. Exact in law (the wedges and the tail are
/// handled by rejection), tested by moments and a chi-square test in tests/core/langevin_test.cpp.
#include <array>
#include <cmath>
#include <cstdint>

#include "rbsm/random.hpp"

namespace rbsm::sampling {

class Ziggurat {
 public:
  /// The shared, immutable tables (built once, thread-safe static initialisation).
  static const Ziggurat& instance() {
    static const Ziggurat z;
    return z;
  }

  /// One N(0, 1) draw.
  double operator()(Rng& rng) const {
    for (;;) {
      const std::uint64_t bits = rng();
      const int i = static_cast<int>(bits & 0xff);
      const bool negative = (bits >> 8) & 1;
      const double u = static_cast<double>(bits >> 11) * 0x1.0p-53;
      const double x = u * x_[i];
      if (x < x_[i + 1]) return negative ? -x : x;  // inside the rectangle under the curve
      if (i == 0) {                                  // the tail beyond r, Marsaglia's method
        double a, b;
        do {
          a = -std::log(rng.uniform_open()) / kR;
          b = -std::log(rng.uniform_open());
        } while (2.0 * b < a * a);
        return negative ? -(kR + a) : kR + a;
      }
      // the wedge between the layer's rectangle and the curve
      if (f_[i + 1] + rng.uniform() * (f_[i] - f_[i + 1]) < std::exp(-0.5 * x * x)) return negative ? -x : x;
    }
  }

 private:
  static constexpr double kR = 3.6541528853610088;    // right edge of the base layer
  static constexpr double kV = 0.00492867323399;      // area of every layer
  Ziggurat() {
    // x_0 is the width of the base strip (rectangle plus tail), x_1 = r, x_256 = 0.
    auto f = [](double x) { return std::exp(-0.5 * x * x); };
    x_[0] = kV / f(kR);
    x_[1] = kR;
    for (int i = 1; i < 255; ++i) x_[i + 1] = std::sqrt(-2.0 * std::log(kV / x_[i] + f(x_[i])));
    x_[256] = 0.0;
    for (int i = 0; i <= 256; ++i) f_[i] = f(x_[i]);
    f_[0] = 0.0;  // unused (the base layer never reaches its wedge test)
  }
  std::array<double, 257> x_{}, f_{};
};

/// N(0, 1) by the ziggurat.
inline double fast_normal(Rng& rng) { return Ziggurat::instance()(rng); }

}  // namespace rbsm::sampling
