#pragma once
/// Manifold Langevin dynamics for any drift field on any Manifold (docs/langevin.md §1).
///
/// Projected (retraction-based) Euler-Maruyama: z' = pi(z + h b(z) + sqrt(2h) P_T(z) xi), xi ~ N(0, I_D).
/// For b = grad_M log p its stationary law tends to p as h -> 0 (bias O(h)). With `metropolis` the
/// proposal is accepted with the MALA ratio (exact stationary law p for every h); this needs the
/// potential log p. The proposal's retraction is the projection pi, inverted and differentiated with
/// the manifold's own primitives (tangent frames, Weingarten maps), so MALA runs on every manifold
/// (docs/langevin.md §1.2); on spheres the two Jacobians cancel (the fast path's gnomonic form).
/// Chains run in parallel with rbsm::parallel_for; chain c uses Rng(seed, c), so results do not
/// depend on the thread count. On spheres an axially symmetric drift b(z) = g(<mu, z>) P_T(z) mu runs
/// on a fast path (no virtual calls, no heap allocation per step); its unadjusted steps run four chains
/// in SIMD lanes, each lane with its own chain's stream, so the numbers are those of one chain at a time.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rbsm/geometry/manifold.hpp"
#include "rbsm/numerics/table1d.hpp"

namespace rbsm::sampling {

using geometry::Mat;
using geometry::Vec;
using numerics::Table1D;  // numerics/table1d.hpp

/// An axially symmetric drift on S^d: b(z) = g(t) P_T(z) mu with t = <mu, z> (|mu| = 1). It is the
/// gradient of G(<mu, z>) with G' = g, so its stationary density is exp(G(t)) (docs/langevin.md §1.3).
struct AxialProfile {
  Vec mu;
  Table1D g;  ///< g(t) on [-1, 1]
};

/// A drift field on M. `field` is always set; `axial` enables the sphere fast path and MALA;
/// `log_target` (an unnormalised log p with drift = grad_M log p) enables MALA on other fields.
struct Drift {
  std::string name;
  std::function<Vec(const Vec& z)> field;
  std::optional<AxialProfile> axial;
  std::function<double(const Vec& z)> log_target;
};

/// Builds the Drift of an axial profile (field, axial and log_target all set).
Drift axial_drift(std::string name, const Vec& mu, Table1D g);

struct LangevinOptions {
  int chains = 1000;
  int steps = 2000;
  double step_size = 1e-2;     ///< h
  int burn_in = -1;            ///< steps discarded before recording (-1: steps / 2)
  int record_every = 10;       ///< record the state every this many steps after burn-in
  bool metropolis = false;     ///< MALA accept/reject
  bool force_generic = false;  ///< never use the sphere fast path (tests compare the two)
  /// Run the sphere fast path's unadjusted steps four chains at a time in SIMD lanes. false: one chain
  /// at a time. Both give the same numbers bit for bit (tested).
  bool simd = true;
  /// The compiled variant of the lanes: "" = the best this CPU runs, or one of simd_variants(). All give
  /// the same numbers bit for bit (tested on every variant the CPU supports).
  std::string simd_isa;
  std::uint64_t seed = 0;
  int threads = 0;
  /// Optional initial states (chains x D, rows on M); default: uniform on M from the chain's stream.
  std::optional<Mat> initial;
  /// Optional progress callback (chains finished so far), called from worker threads.
  std::function<void(std::size_t)> on_chain_done;
};

struct LangevinResult {
  int chains = 0, records_per_chain = 0;
  /// (chains * records_per_chain) x D, chain-major: row c * records_per_chain + r.
  Mat samples;
  double acceptance_rate = 1.0;  ///< MALA only (1 otherwise)
  bool fast_path = false;        ///< whether the sphere fast path ran
};

/// Runs `options.chains` independent chains of manifold Langevin with drift `drift` on `manifold`.
/// Throws InvalidArgument for a non-positive step or counts, or a drift without a potential when
/// `metropolis` is asked for.
LangevinResult run_langevin(const geometry::Manifold& manifold, const Drift& drift, const LangevinOptions& options);

/// The one-line error for MALA with a drift that has no potential (check_langevin_options throws it; a
/// caller that knows the drift's name before building it can throw it earlier).
std::string mala_without_potential_message(const std::string& drift_name);

/// The checks run_langevin makes before it starts (throws InvalidArgument naming the bad option).
void check_langevin_options(const geometry::Manifold& manifold, const Drift& drift, const LangevinOptions& options);

/// One projected Euler-Maruyama step from z with the given D-dimensional standard normal xi
/// (exposed for tests): pi(z + h b(z) + sqrt(2h) P_T(z) xi).
Vec langevin_step(const geometry::Manifold& manifold, const Drift& drift, const Vec& z, double h, const Vec& xi);

/// The model-free half of one MALA step with the projection retraction (docs/langevin.md §1.2), from z with
/// drift b = drift(z), step h and standard normal xi in R^D: the proposal y = pi(z + v),
/// v = h b + sqrt(2h) P_T(z) xi, the reverse move w (retraction_inverse) and the terms of log alpha that need
/// no model, |v - h b|^2 / (4h) - log|det(I - E_y^T W_{x-y} E_y)| + log|det(I - E_z^T W_{y+w-z} E_z)| (the
/// |det(E_y^T E_z)| factors of both retraction Jacobians cancel). Then
///   log alpha = log p(y) - log p(z) - |w - h drift(y)|^2 / (4h) + log_ratio.
/// ok is false (reject) when z + v has no nearest point or z is not the nearest point of y + w.
struct MalaProposal {
  bool ok = false;
  Vec y, w;
  double log_ratio = 0.0;
};
MalaProposal mala_propose(const geometry::Manifold& manifold, const Vec& z, const Vec& b, double h, const Vec& xi);

/// The projection retraction R_z(v) = pi(z + v) of MALA's proposal (docs/langevin.md §1.2):
/// log |det dR_z(v)| as a map T_z M -> T_y M in orthonormal frames, y = pi(z + v):
/// log |det(E_y^T E_z)| - log |det(I - E_y^T W_{z + v - y} E_y)|.
double retraction_log_jacobian(const geometry::Manifold& manifold, const Vec& z, const Vec& v);
/// The tangent vector w at y with y + w - z normal to M at z (so pi(y + w) = z when z is the nearest
/// point): the reverse move of MALA's proposal.
Vec retraction_inverse(const geometry::Manifold& manifold, const Vec& y, const Vec& z);

/// The compiled variants of the SIMD lanes this CPU can run, best first: "x86-64-v4" (AVX-512),
/// "avx2", "baseline" (x86-64: SSE2) on x86-64; "baseline" elsewhere.
std::vector<std::string> simd_variants();

/// True for the round unit spheres `sphere:d` (where the fast path and MALA apply).
bool is_sphere(const geometry::Manifold& manifold);

}  // namespace rbsm::sampling
