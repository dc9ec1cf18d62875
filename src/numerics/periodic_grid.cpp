#include "rbsm/numerics/periodic_grid.hpp"

#include <cmath>

#include "rbsm/error.hpp"
#include "rbsm/numerics/constants.hpp"
#include "rbsm/parallel.hpp"

namespace rbsm::numerics {

namespace {
constexpr double kTwoPi = 2.0 * kPi;

int wrap(int k, int n) { return ((k % n) + n) % n; }

/// Catmull-Rom weights for fractional position u in [0, 1) between p1 and p2.
void catmull_rom(double u, double w[4]) {
  const double u2 = u * u, u3 = u2 * u;
  w[0] = 0.5 * (-u3 + 2 * u2 - u);
  w[1] = 0.5 * (3 * u3 - 5 * u2 + 2);
  w[2] = 0.5 * (-3 * u3 + 4 * u2 + u);
  w[3] = 0.5 * (u3 - u2);
}
}  // namespace

PeriodicGrid2D::PeriodicGrid2D(int n1, int n2, const std::function<double(double, double)>& f, int threads)
    : n1_(n1), n2_(n2) {
  if (n1 < 4 || n2 < 4) throw InvalidArgument("PeriodicGrid2D: need at least 4 points per angle");
  v_.assign(static_cast<std::size_t>(n1) * n2, 0.0);
  parallel_for(v_.size(), threads, [&](std::size_t i) {
    const int k1 = static_cast<int>(i) / n2, k2 = static_cast<int>(i) % n2;
    v_[i] = f(kTwoPi * k1 / n1, kTwoPi * k2 / n2);
  });
  prepare_spectral();
}

PeriodicGrid2D::PeriodicGrid2D(int n1, int n2, std::vector<double> values) : n1_(n1), n2_(n2), v_(std::move(values)) {
  if (n1 < 4 || n2 < 4 || v_.size() != static_cast<std::size_t>(n1) * n2)
    throw InvalidArgument("PeriodicGrid2D: need n1, n2 >= 4 and n1 * n2 values");
  prepare_spectral();
}

void PeriodicGrid2D::prepare_spectral() {
  // c[k1][k2] = 1/(n1 n2) sum_j v[j1][j2] exp(-i (k1 a_j1 + k2 a_j2)), separably.
  std::vector<std::complex<double>> tmp(v_.size());
  for (int j1 = 0; j1 < n1_; ++j1)
    for (int k2 = 0; k2 < n2_; ++k2) {
      std::complex<double> s = 0;
      for (int j2 = 0; j2 < n2_; ++j2) s += v_[j1 * n2_ + j2] * std::polar(1.0, -kTwoPi * k2 * j2 / n2_);
      tmp[j1 * n2_ + k2] = s / static_cast<double>(n2_);
    }
  c_.assign(v_.size(), 0.0);
  for (int k1 = 0; k1 < n1_; ++k1)
    for (int k2 = 0; k2 < n2_; ++k2) {
      std::complex<double> s = 0;
      for (int j1 = 0; j1 < n1_; ++j1) s += tmp[j1 * n2_ + k2] * std::polar(1.0, -kTwoPi * k1 * j1 / n1_);
      c_[k1 * n2_ + k2] = s / static_cast<double>(n1_);
    }
}

double PeriodicGrid2D::cubic(double a1, double a2) const {
  const double s1 = a1 / kTwoPi * n1_, s2 = a2 / kTwoPi * n2_;
  const double f1 = std::floor(s1), f2 = std::floor(s2);
  double w1[4], w2[4];
  catmull_rom(s1 - f1, w1);
  catmull_rom(s2 - f2, w2);
  const int i1 = static_cast<int>(f1), i2 = static_cast<int>(f2);
  double out = 0.0;
  for (int p = 0; p < 4; ++p) {
    const int r = wrap(i1 - 1 + p, n1_) * n2_;
    double row = 0.0;
    for (int q = 0; q < 4; ++q) row += w2[q] * v_[r + wrap(i2 - 1 + q, n2_)];
    out += w1[p] * row;
  }
  return out;
}

double PeriodicGrid2D::spectral(double a1, double a2) const {
  // Symmetric frequencies k in (-n/2, n/2]; the Nyquist term is split evenly (real interpolant).
  auto freq = [](int k, int n) { return k <= n / 2 ? k : k - n; };
  std::vector<std::complex<double>> e2(n2_);
  for (int k2 = 0; k2 < n2_; ++k2) {
    const int f = freq(k2, n2_);
    e2[k2] = (n2_ % 2 == 0 && f == n2_ / 2) ? std::complex<double>(std::cos(f * a2), 0.0) : std::polar(1.0, f * a2);
  }
  double out = 0.0;
  for (int k1 = 0; k1 < n1_; ++k1) {
    const int f = freq(k1, n1_);
    const std::complex<double> e1 =
        (n1_ % 2 == 0 && f == n1_ / 2) ? std::complex<double>(std::cos(f * a1), 0.0) : std::polar(1.0, f * a1);
    std::complex<double> row = 0;
    for (int k2 = 0; k2 < n2_; ++k2) row += c_[k1 * n2_ + k2] * e2[k2];
    out += (e1 * row).real();
  }
  return out;
}

}  // namespace rbsm::numerics
