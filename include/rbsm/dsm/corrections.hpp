#pragma once
/// Post-hoc corrections of a tangent score field s on M (SPEC.md "Post-hoc corrections";
/// docs/langevin.md §2). With K = 1/2 W_H - Ric# and the embedding drift E_M:
///   extrinsic:  s - sigma^2 K s                                   (the source document's correction)
///   geometric:  s - sigma^2 (K s + E_M)                           (the complete embedding correction)
///   full:       s - sigma^2 [1/2 grad_M(div_M s + |s|^2) + K s + E_M]
/// Since r_sigma = grad_M log q + sigma^2 [b_q + K grad_M log q + E_M] + o(sigma^2) and, for
/// s = grad_M log q, 1/2 grad_M(div_M s + |s|^2) = b_q, the full correction of r_sigma is
/// grad_M log q + o(sigma^2): it also removes the heat-kernel smoothing (docs/langevin.md §2.2).
/// The intrinsic derivatives div_M and grad_M are central differences along c_i(t) = pi(z + t e_i)
/// (with one Richardson step), so every correction works on every manifold.
#include <functional>
#include <memory>
#include <string>

#include "rbsm/dist/density.hpp"
#include "rbsm/dsm/fibre.hpp"  // check_sigma
#include "rbsm/geometry/manifold.hpp"

namespace rbsm::dsm {

using geometry::Mat;
using geometry::Vec;
/// A tangent vector field on M (ambient coordinates).
using TangentField = std::function<Vec(const Vec& z)>;

enum class Correction { none, extrinsic, geometric, full };
/// "none", "extrinsic", "geometric", "full"; throws InvalidArgument otherwise.
Correction parse_correction(const std::string& name);
std::string to_string(Correction c);

/// div_M s(z) = sum_i <e_i, d/dt s(c_i(t))|_0> (central differences with Richardson, step h).
double tangent_divergence(const geometry::Manifold& manifold, const TangentField& s, const Vec& z, double h = 1e-3);

/// 1/2 grad_M(div_M s + |s|^2)(z): the heat-kernel term of the field s (b_q when s = grad_M log q).
Vec heat_term(const geometry::Manifold& manifold, const TangentField& s, const Vec& z, double h = 2e-3);

/// s - sigma^2 K s at z (s = the field's value at z).
Vec extrinsic_correction(const geometry::Manifold& manifold, const Vec& z, const Vec& s, double sigma);
/// s - sigma^2 (K s + E_M) at z.
Vec geometric_correction(const geometry::Manifold& manifold, const Vec& z, const Vec& s, double sigma);
/// s(z) - sigma^2 [heat_term(s)(z) + K s(z) + E_M(z)].
Vec full_correction(const geometry::Manifold& manifold, const TangentField& s, const Vec& z, double sigma,
                    double h = 2e-3);

/// The corrected field z -> correction(s)(z). The manifold must outlive the returned field.
TangentField corrected_field(const geometry::Manifold& manifold, TangentField s, Correction c, double sigma);

}  // namespace rbsm::dsm
