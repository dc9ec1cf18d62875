#pragma once
/// Manifold Langevin with a batched drift: one call drift(Z) for the states of all chains per step
/// (chains x D in, chains x D out), for drifts that are cheap only in batches (a Python or PyTorch
/// callable, a network). The steps are those of run_langevin's generic path (langevin.hpp):
/// z' = pi(z + h b(z) + sqrt(2h) P_T(z) xi), chain c's noise and uniform initial state from Rng(seed, c)
/// drawn in the same order, burn-in and recording by the same rules, so a batched drift equal to a
/// Drift's field gives run_langevin's numbers (with force_generic) bit for bit. No MALA (no potential).
#include <functional>

#include "rbsm/sampling/langevin.hpp"

namespace rbsm::sampling {

/// drift(Z, step): Z is chains x D (rows on M); returns chains x D. Called from the calling thread.
using BatchDrift = std::function<Mat(const Mat& Z, int step)>;

/// Runs options.chains chains for options.steps steps (options.metropolis must be false; fast-path
/// options are ignored). `after_step(k)` (optional) is called after step k from the calling thread.
/// Throws InvalidArgument for bad options or a drift result of the wrong shape or with NaN/Inf.
LangevinResult run_langevin_batched(const geometry::Manifold& manifold, const BatchDrift& drift,
                                    const LangevinOptions& options,
                                    const std::function<void(int step)>& after_step = {});

}  // namespace rbsm::sampling
