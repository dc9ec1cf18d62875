#include "rbsm/sampling/langevin_batch.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "rbsm/error.hpp"
#include "rbsm/parallel.hpp"
#include "rbsm/random.hpp"
#include "rbsm/sampling/ziggurat.hpp"

namespace rbsm::sampling {

LangevinResult run_langevin_batched(const geometry::Manifold& manifold, const BatchDrift& drift,
                                    const LangevinOptions& o_in, const std::function<void(int)>& after_step) {
  LangevinOptions o = o_in;
  if (o.burn_in < 0) o.burn_in = o.steps / 2;
  if (!drift) throw InvalidArgument("langevin: no drift");
  if (o.metropolis)
    throw InvalidArgument("langevin: MALA needs a drift with a known potential; a batched drift has none");
  Drift probe;
  probe.name = "batched";
  probe.field = [](const Vec& z) { return z; };
  check_langevin_options(manifold, probe, o);
  const int D = manifold.ambient_dim();
  const std::size_t chains = static_cast<std::size_t>(o.chains);
  LangevinResult res;
  res.chains = o.chains;
  res.records_per_chain = (o.steps - o.burn_in) / o.record_every;
  res.samples.resize(static_cast<Eigen::Index>(o.chains) * res.records_per_chain, D);

  std::vector<Rng> rngs;
  rngs.reserve(chains);
  Mat Z(o.chains, D);
  for (std::size_t c = 0; c < chains; ++c) rngs.emplace_back(o.seed, c);
  parallel_for(chains, o.threads, [&](std::size_t c) {
    Z.row(c) = o.initial ? Vec(o.initial->row(c).transpose()) : manifold.sample_uniform(rngs[c]);
  });
  const double h = o.step_size;
  int rec = 0;
  for (int k = 0; k < o.steps; ++k) {
    const Mat B = drift(Z, k);
    if (B.rows() != o.chains || B.cols() != D)
      throw InvalidArgument("langevin: the drift returned " + std::to_string(B.rows()) + " x " +
                            std::to_string(B.cols()) + " values for " + std::to_string(o.chains) + " x " +
                            std::to_string(D) + " states");
    if (!B.allFinite()) throw InvalidArgument("langevin: the drift returned NaN or Inf at step " + std::to_string(k));
    parallel_for(
        chains, o.threads,
        [&](std::size_t c) {
          Vec xi(D);
          for (int j = 0; j < D; ++j) xi[j] = fast_normal(rngs[c]);
          Drift d;
          const Vec b = B.row(c).transpose();
          d.field = [&b](const Vec&) { return b; };
          Z.row(c) = langevin_step(manifold, d, Z.row(c).transpose(), h, xi).transpose();
        },
        16);
    if (k >= o.burn_in && (k + 1 - o.burn_in) % o.record_every == 0 && rec < res.records_per_chain) {
      for (std::size_t c = 0; c < chains; ++c)
        res.samples.row(static_cast<Eigen::Index>(c) * res.records_per_chain + rec) = Z.row(c);
      ++rec;
    }
    if (after_step) after_step(k);
  }
  return res;
}

}  // namespace rbsm::sampling
