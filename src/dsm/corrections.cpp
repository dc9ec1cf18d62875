#include "rbsm/dsm/corrections.hpp"

#include <cmath>

#include "rbsm/dist/tangent_fd.hpp"
#include "rbsm/error.hpp"

namespace rbsm::dsm {

Correction parse_correction(const std::string& name) {
  if (name == "none") return Correction::none;
  if (name == "extrinsic") return Correction::extrinsic;
  if (name == "geometric") return Correction::geometric;
  if (name == "full") return Correction::full;
  throw InvalidArgument("unknown correction '" + name + "' (expected none, extrinsic, geometric or full)");
}

std::string to_string(Correction c) {
  switch (c) {
    case Correction::none:
      return "none";
    case Correction::extrinsic:
      return "extrinsic";
    case Correction::geometric:
      return "geometric";
    case Correction::full:
      return "full";
  }
  return "?";
}

double tangent_divergence(const geometry::Manifold& manifold, const TangentField& s, const Vec& z, double h) {
  // <e_i, (s(c_i(h)) - s(c_i(-h))) / 2h>, Richardson-combined with step 2h: error O(h^4).
  const Mat E = manifold.tangent_frame(z);
  double div = 0.0;
  for (int i = 0; i < E.cols(); ++i) {
    const Vec e = E.col(i);
    auto diff = [&](double step) {
      return e.dot(s(manifold.project(z + step * e)) - s(manifold.project(z - step * e))) / (2.0 * step);
    };
    div += (4.0 * diff(h) - diff(2.0 * h)) / 3.0;
  }
  return div;
}

Vec heat_term(const geometry::Manifold& manifold, const TangentField& s, const Vec& z, double h) {
  const double inner = 0.5 * h;  // inner step smaller than the outer one
  const dist::ScalarField phi = [&](const Vec& y) {
    return tangent_divergence(manifold, s, y, inner) + s(y).squaredNorm();
  };
  return 0.5 * dist::tangent_gradient(manifold, phi, z, h);
}

Vec extrinsic_correction(const geometry::Manifold& manifold, const Vec& z, const Vec& s, double sigma) {
  return s - sigma * sigma * (manifold.correction_operator(z) * s);
}

Vec geometric_correction(const geometry::Manifold& manifold, const Vec& z, const Vec& s, double sigma) {
  return s - sigma * sigma * (manifold.correction_operator(z) * s + manifold.geometric_drift(z));
}

Vec full_correction(const geometry::Manifold& manifold, const TangentField& s, const Vec& z, double sigma, double h) {
  const Vec sz = s(z);
  return sz - sigma * sigma *
                  (heat_term(manifold, s, z, h) + manifold.correction_operator(z) * sz + manifold.geometric_drift(z));
}

TangentField corrected_field(const geometry::Manifold& manifold, TangentField s, Correction c, double sigma) {
  check_sigma(sigma);
  const geometry::Manifold* M = &manifold;
  switch (c) {
    case Correction::none:
      return s;
    case Correction::extrinsic:
      return [M, s, sigma](const Vec& z) { return extrinsic_correction(*M, z, s(z), sigma); };
    case Correction::geometric:
      return [M, s, sigma](const Vec& z) { return geometric_correction(*M, z, s(z), sigma); };
    case Correction::full:
      return [M, s, sigma](const Vec& z) { return full_correction(*M, s, z, sigma); };
  }
  return s;
}

}  // namespace rbsm::dsm
