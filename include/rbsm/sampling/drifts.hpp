#pragma once
/// The Langevin drifts of `rbsm equilibrium --drift` (docs/langevin.md §2), for a density q on M and
/// a noise level sigma:
///   true              grad_M log q
///   rb                r_sigma, the exact Rao-Blackwellized target (what a perfectly trained
///                     ambient-DSM model outputs on M)
///   rb-extrinsic      r - sigma^2 K r                        (the source document's correction)
///   rb-geometric      r - sigma^2 (K r + E_M)                (the complete embedding correction)
///   rb-full           r - sigma^2 [1/2 grad_M(div_M r + |r|^2) + K r + E_M]
///   first-order       grad + sigma^2 (b_q + K grad + E_M)    (the expansion's model of r)
///   source-expansion  grad + sigma^2 K grad                  (the source's extrinsic term alone)
/// Fast evaluation: on spheres under vMF every drift is axial, g(t) P_T mu, and g is tabulated once
/// (the RB target's g from dsm::VmfRbTarget; rb-full's derivatives of g in closed form in t, §2.3);
/// on the two tori every drift is tabulated once on a periodic grid of the angles and interpolated
/// (bicubic; the full correction differentiates a spectral interpolant of r). Elsewhere the drift is
/// evaluated pointwise (rb from the RB estimator with reference draws of q).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rbsm/dist/density.hpp"
#include "rbsm/dsm/corrections.hpp"
#include "rbsm/sampling/langevin.hpp"

namespace rbsm::sampling {

/// The names accepted by make_drift (families such as model:PATH: build_drift).
const std::vector<std::string>& drift_names();

struct DriftOptions {
  int axial_grid = 4001;  ///< table size for axial drifts on spheres
  int torus_grid = 96;    ///< grid per angle for drifts on the tori
  int rb_grid = 32;       ///< grid per angle of the exact r_sigma on the tori (spectral interpolation)
  int references = 4096;  ///< reference draws of q for the RB estimator (manifolds without quadrature)
  std::uint64_t seed = 0;
  int threads = 0;
};

/// Builds the drift `name` for q at noise level sigma. Throws InvalidArgument for an unknown name or
/// a bad sigma.
Drift make_drift(const std::string& name, const dist::Density& q, double sigma, const DriftOptions& options = {});

/// Drift families named by a prefix, `PREFIX:ARGUMENT` (e.g. `model:PATH`, a learned score model). The
/// core library knows none; rbsm_torch registers `model` (nn::register_model_drifts), so that the
/// studies need no LibTorch. A factory gets the argument after the colon and the post-hoc correction.
using DriftFactory = std::function<Drift(const std::string& argument, const dist::Density& q, double sigma,
                                         dsm::Correction correction, const DriftOptions& options)>;
/// Registers (or replaces) the family `prefix`. Thread-safe.
void register_drift_family(const std::string& prefix, DriftFactory factory);

/// make_drift, or a registered family for `PREFIX:ARGUMENT` names, with `correction` (a name of
/// dsm::parse_correction) applied to family drifts; the built-in drifts carry their correction in the
/// name, so `correction` is only validated for them. An unregistered prefix is an InvalidArgument
/// naming what provides it (`model:` needs rbsm built with LibTorch).
Drift build_drift(const std::string& name, const dist::Density& q, double sigma, const std::string& correction,
                  const DriftOptions& options = {});

/// Whether make_drift(name, q, ...) has a potential (Drift::log_target, which MALA needs), known without
/// building it: `true` always, and every make_drift name under vMF on a sphere (axial drifts, G' = g).
bool drift_has_potential(const std::string& name, const dist::Density& q);

/// A learned (or any) tangent score field s with a post-hoc correction, tabulated where M allows it
/// (tori) and evaluated pointwise otherwise. `s` must be thread-safe. M must outlive the drift.
Drift field_drift(std::string name, const geometry::Manifold& manifold, dsm::TangentField s, dsm::Correction c,
                  double sigma, const DriftOptions& options = {});

/// For an axial field b(z) = g(<mu, z>) P_T mu on S^d: g(t), read off along a meridian.
double axial_coefficient(const dsm::TangentField& b, const Vec& mu, double t);

/// Closed form of rb-full on S^d for an axial field g (docs/langevin.md §2.3):
///   g_full = g - sigma^2 [Phi'(t) / 2 + (1 - d/2) g],  Phi = g' (1 - t^2) - d t g + g^2 (1 - t^2),
/// with g' and Phi' by central differences of step h in t.
double axial_full_correction(const std::function<double(double)>& g, int d, double sigma, double t, double h = 1e-3);

}  // namespace rbsm::sampling
