#pragma once
/// The learning-rate and EMA schedules that every training loop shares (docs/math.md §8). No LibTorch.
///   warm-up factor        w(k) = min(1, (k + 1) / W)           (1 when W <= 0)
///   cosine factor         c(p) = f + (1 - f) (1 + cos(pi p)) / 2, p = progress in [0, 1], f = floor
///   EMA decay at step k   min(decay, (1 + k) / (10 + k))       (short memory early, `decay` later)
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "rbsm/numerics/constants.hpp"

namespace rbsm::nn {

inline double warmup_factor(std::int64_t step, std::int64_t warmup) {
  if (warmup <= 0) return 1.0;
  return std::min(1.0, static_cast<double>(step + 1) / static_cast<double>(warmup));
}

inline double cosine_factor(double progress, double floor = 0.0) {
  return floor + (1.0 - floor) * 0.5 * (1.0 + std::cos(kPi * progress));
}

inline double ema_decay(double decay, std::int64_t step) {
  return std::min(decay, static_cast<double>(1 + step) / static_cast<double>(10 + step));
}

}  // namespace rbsm::nn
