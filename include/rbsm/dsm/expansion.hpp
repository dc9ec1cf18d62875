#pragma once
/// The sigma^2 expansion of the RB target (SPEC.md "Expansion"; docs/targets.md §5):
///
///   r_sigma(z) = grad_M log q + sigma^2 [ b_q + K grad_M log q + E_M ] + o(sigma^2).
///
/// b_q + K grad is the source document's prediction; E_M (embedding only) is the term it misses.
#include "rbsm/dist/density.hpp"

namespace rbsm::dsm {

using geometry::Vec;

struct ExpansionTerms {
  Vec z;       ///< the point on M
  Vec grad;    ///< grad_M log q
  Vec b_q;     ///< heat-kernel (intrinsic Tweedie) term
  Vec K_grad;  ///< K grad_M log q, K = 1/2 W_H - Ric#
  Vec E_M;     ///< the geometric drift
  /// b_q + K grad (the source document's sigma^2 coefficient).
  Vec source_coefficient() const { return b_q + K_grad; }
  /// b_q + K grad + E_M (the complete sigma^2 coefficient).
  Vec coefficient() const { return b_q + K_grad + E_M; }
  /// grad + sigma^2 (b_q + K grad + E_M).
  Vec expansion(double sigma) const { return grad + sigma * sigma * coefficient(); }
};

/// All terms at pi(y).
ExpansionTerms expansion_terms(const dist::Density& q, const Vec& y);

}  // namespace rbsm::dsm
