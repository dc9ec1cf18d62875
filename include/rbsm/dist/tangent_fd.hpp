#pragma once
/// Intrinsic derivatives by finite differences along M (docs/densities.md §6): the curves
/// c_i(t) = pi(z + t e_i) for an orthonormal tangent frame e_i. The metric projection is a second-order
/// retraction (c_i'(0) = e_i, c_i''(0) normal; Absil & Malick 2012), so
///   d/dt f(c_i(t))|_0 = <grad_M f, e_i>   and   sum_i d^2/dt^2 f(c_i(t))|_0 = Delta_M f(z).
/// Central differences with one Richardson step: error O(h^4) + O(eps |f| / h) for the gradient and
/// O(h^4) + O(eps |f| / h^2) for the Laplacian; with the defaults about 1e-9 relative for smooth f of
/// order one on manifolds of curvature of order one. Used to check every closed form and as the
/// fallback for quantities without one.
#include <functional>

#include "rbsm/geometry/manifold.hpp"

namespace rbsm::dist {

using ScalarField = std::function<double(const geometry::Vec&)>;

/// grad_M f(z) as a tangent D-vector.
geometry::Vec tangent_gradient(const geometry::Manifold& manifold, const ScalarField& f, const geometry::Vec& z,
                               double h = 1e-3);
/// Delta_M f(z) (Laplace-Beltrami).
double tangent_laplacian(const geometry::Manifold& manifold, const ScalarField& f, const geometry::Vec& z,
                         double h = 1e-2);

}  // namespace rbsm::dist
