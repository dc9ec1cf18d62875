#include "rbsm/dist/tangent_fd.hpp"

namespace rbsm::dist {

using geometry::Mat;
using geometry::Vec;

Vec tangent_gradient(const geometry::Manifold& manifold, const ScalarField& f, const Vec& z, double h) {
  const Mat E = manifold.tangent_frame(z);
  Vec grad = Vec::Zero(z.size());
  auto diff = [&](const Vec& e, double s) {
    return (f(manifold.project(z + s * e)) - f(manifold.project(z - s * e))) / (2.0 * s);
  };
  for (int i = 0; i < E.cols(); ++i) {
    const Vec e = E.col(i);
    // Richardson: D(h/2) + (D(h/2) - D(h)) / 3 cancels the h^2 term of the central difference.
    const double d1 = diff(e, h), d2 = diff(e, 0.5 * h);
    grad += (d2 + (d2 - d1) / 3.0) * e;
  }
  return grad;
}

double tangent_laplacian(const geometry::Manifold& manifold, const ScalarField& f, const Vec& z, double h) {
  const Mat E = manifold.tangent_frame(z);
  const double f0 = f(z);
  auto second = [&](const Vec& e, double s) {
    return (f(manifold.project(z + s * e)) - 2.0 * f0 + f(manifold.project(z - s * e))) / (s * s);
  };
  double lap = 0.0;
  for (int i = 0; i < E.cols(); ++i) {
    const Vec e = E.col(i);
    const double d1 = second(e, h), d2 = second(e, 0.5 * h);
    lap += d2 + (d2 - d1) / 3.0;
  }
  return lap;
}

}  // namespace rbsm::dist
