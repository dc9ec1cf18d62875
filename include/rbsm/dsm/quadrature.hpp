#pragma once
/// The quadrature of the exact RB targets (docs/targets.md §3): the one adaptive Gauss-Kronrod integrator
/// of rbsm/numerics/gauss_kronrod.hpp, under the names the dsm code uses.
#include "rbsm/numerics/gauss_kronrod.hpp"

namespace rbsm::dsm {

using numerics::integrate_adaptive;
using numerics::peak_breaks;
using numerics::QuadratureOptions;
using numerics::VectorIntegrand;

}  // namespace rbsm::dsm
