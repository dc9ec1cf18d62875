// The terms of the sigma^2 expansion (docs/targets.md §5).
#include "rbsm/dsm/expansion.hpp"

namespace rbsm::dsm {

ExpansionTerms expansion_terms(const dist::Density& q, const Vec& y) {
  const auto& M = q.manifold();
  M.check_ambient(y, "point");
  ExpansionTerms t;
  t.z = M.project(y);
  t.grad = q.grad_log(t.z);
  t.b_q = q.heat_drift(t.z);
  t.K_grad = M.correction_operator(t.z) * t.grad;
  t.E_M = M.geometric_drift(t.z);
  return t;
}

}  // namespace rbsm::dsm
