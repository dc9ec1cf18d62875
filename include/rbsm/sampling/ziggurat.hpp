#pragma once
/// The ziggurat normal sampler lives in rbsm/numerics/ziggurat.hpp; its old names in rbsm::sampling.
#include "rbsm/numerics/ziggurat.hpp"

namespace rbsm::sampling {

using numerics::fast_normal;
using numerics::Ziggurat;

}  // namespace rbsm::sampling
