#pragma once
/// E_M, the embedding-only drift of the sigma^2 expansion (SPEC.md "Expansion"; docs/level_set.md §4),
/// by two independent numerical routes that use only the virtual primitives of Manifold
/// (project, tangent_frame, normal_frame, weingarten), so they run on every manifold and check the
/// closed forms.
#include "rbsm/geometry/manifold.hpp"

namespace rbsm::geometry {

/// Graph-coordinate route (any d, k). Near y, M = {y + E t + N c(t)} (E, N the frames at y);
/// Psi(t) = log(J(t) det(I - W_{N c(t)}(y))), J(t) = sqrt(det(I + Dc^T Dc)) with Dc from the tangent
/// frame at the graph point; E_M = 1/2 grad_t Delta_t Psi at t = 0, third derivatives by central
/// differences with steps h, h/2, h/4 and two Richardson extrapolations (error O(h^6)).
/// `h = 0` picks h = 0.2 min(reach, 1). Returns an ambient vector in T_y M.
Vec graph_geometric_drift(const Manifold& M, const Vec& y, double h = 0);

/// Surface route (d = 2, D = 3): E_M = 1/2 W grad H + 1/2 H grad H - grad K_G with W = W_n,
/// H = tr W, K_G = det W|_T; gradients along M by central differences along the curves
/// pi(z + s e_i) (the projection as retraction), steps s, s/2, s/4 with Richardson extrapolation.
/// Throws InvalidArgument unless M is a surface in R^3.
Vec surface_geometric_drift(const Manifold& M, const Vec& z, double s = 0);

/// The graph point p of M over y + E t: p in M with E^T (p - y) = t (Newton with the projection as
/// retraction). Throws GeometryError if it does not converge.
Vec graph_point(const Manifold& M, const Vec& y, const Mat& E, const Vec& t);

}  // namespace rbsm::geometry
