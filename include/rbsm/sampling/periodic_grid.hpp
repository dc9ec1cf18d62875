#pragma once
/// The periodic 2-D grid lives in rbsm/numerics/periodic_grid.hpp; its old name in rbsm::sampling.
#include "rbsm/numerics/periodic_grid.hpp"

namespace rbsm::sampling {

using numerics::PeriodicGrid2D;

}  // namespace rbsm::sampling
