#pragma once
/// r_sigma as a pointwise tangent field for the Langevin drifts (docs/langevin.md §2.1): the exact
/// Rao-Blackwellized target from the dsm layer's quadrature where it exists (vMF on spheres:
/// dsm::VmfRbTarget; any density on the two tori: 2-D quadrature), otherwise the self-normalised RB
/// estimator of SPEC.md with `references` exact draws of q (seeded by `seed`).
#include <cstdint>

#include "rbsm/dist/density.hpp"
#include "rbsm/dsm/corrections.hpp"

namespace rbsm::sampling {

/// Throws InvalidArgument for sigma <= 0 or NaN.
dsm::TangentField rb_field(const dist::Density& q, double sigma, int references = 4096, std::uint64_t seed = 0);

}  // namespace rbsm::sampling
