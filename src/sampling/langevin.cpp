#include "rbsm/sampling/langevin.hpp"

#include <atomic>
#include <cmath>

#include "rbsm/error.hpp"
#include "rbsm/geometry/sphere.hpp"
#include "rbsm/parallel.hpp"
#include "rbsm/random.hpp"
#include "rbsm/sampling/ziggurat.hpp"

namespace rbsm::sampling {

// ------------------------------------------------------------------------------------------ Table1D
Table1D::Table1D(double a, double b, std::vector<double> values) : a_(a), b_(b), v_(std::move(values)) {
  if (!(b > a) || v_.size() < 2) throw InvalidArgument("Table1D: need b > a and at least 2 values");
  inv_dx_ = static_cast<double>(v_.size() - 1) / (b - a);
}

Table1D Table1D::tabulate(double a, double b, int n, const std::function<double(double)>& f) {
  if (n < 2) throw InvalidArgument("Table1D::tabulate: need n >= 2, got " + std::to_string(n));
  std::vector<double> v(n);
  for (int i = 0; i < n; ++i) v[i] = f(a + (b - a) * i / (n - 1));
  return Table1D(a, b, std::move(v));
}

Table1D Table1D::antiderivative() const {
  std::vector<double> F(v_.size(), 0.0);
  const double dx = 1.0 / inv_dx_;
  for (std::size_t i = 1; i < v_.size(); ++i) F[i] = F[i - 1] + 0.5 * dx * (v_[i - 1] + v_[i]);
  return Table1D(a_, b_, std::move(F));
}

// ------------------------------------------------------------------------------------------ drifts
Drift axial_drift(std::string name, const Vec& mu, Table1D g) {
  if (std::abs(mu.norm() - 1.0) > 1e-12) throw InvalidArgument("axial_drift: mu must be a unit vector");
  Drift d;
  d.name = std::move(name);
  d.axial = AxialProfile{mu, g};
  d.field = [mu, g](const Vec& z) -> Vec {
    const double t = mu.dot(z);
    return g(t) * (mu - t * z);
  };
  const Table1D G = g.antiderivative();
  d.log_target = [mu, G](const Vec& z) { return G(mu.dot(z)); };
  return d;
}

bool is_sphere(const geometry::Manifold& manifold) {
  return dynamic_cast<const geometry::Sphere*>(&manifold) != nullptr;
}

Vec langevin_step(const geometry::Manifold& manifold, const Drift& drift, const Vec& z, double h, const Vec& xi) {
  const Mat E = manifold.tangent_frame(z);
  const Vec noise = E * (E.transpose() * xi);
  return manifold.project(z + h * drift.field(z) + std::sqrt(2.0 * h) * noise);
}

void check_langevin_options(const geometry::Manifold& manifold, const Drift& drift, const LangevinOptions& o_in) {
  LangevinOptions o = o_in;
  if (o.burn_in < 0) o.burn_in = o.steps / 2;
  if (o.chains < 1) throw InvalidArgument("langevin: --chains must be >= 1, got " + std::to_string(o.chains));
  if (o.steps < 1) throw InvalidArgument("langevin: --steps must be >= 1, got " + std::to_string(o.steps));
  if (!(o.step_size > 0.0) || !std::isfinite(o.step_size))
    throw InvalidArgument("langevin: --step-size must be a positive number, got " + std::to_string(o.step_size));
  if (o.record_every < 1)
    throw InvalidArgument("langevin: record_every must be >= 1, got " + std::to_string(o.record_every));
  if (o.burn_in >= o.steps)
    throw InvalidArgument("langevin: burn-in (" + std::to_string(o.burn_in) + ") must be below --steps (" +
                          std::to_string(o.steps) + ")");
  if (!drift.field) throw InvalidArgument("langevin: drift '" + drift.name + "' has no field");
  if (o.metropolis) {
    if (!drift.log_target)
      throw InvalidArgument("langevin: --mala needs a drift with a known potential (true, or an axial drift on a "
                            "sphere); '" + drift.name + "' has none");
    if (!is_sphere(manifold))
      throw InvalidArgument("langevin: --mala is implemented for spheres only, not " + manifold.spec());
  }
  if (o.initial && (o.initial->rows() != o.chains || o.initial->cols() != manifold.ambient_dim()))
    throw InvalidArgument("langevin: initial states must be chains x D");
}

namespace {

/// State of one chain on the sphere fast path: plain arrays, allocated once per chain.
struct SphereChain {
  int D;
  const double* mu;
  const Table1D* g;
  const Table1D* G;  // potential (MALA only)
  double h, s;       // step and sqrt(2h)
  std::vector<double> z, y, xi;

  double drift_coef(double t) const { return (*g)(t); }

  /// Draws xi ~ N(0, I_D) and returns t = <mu, z> and <xi, z> (shared by both steps).
  void draw_noise(Rng& rng, double& t, double& xz) {
    const auto& normal = Ziggurat::instance();
    t = 0.0;
    xz = 0.0;
    for (int j = 0; j < D; ++j) {
      xi[j] = normal(rng);
      t += mu[j] * z[j];
      xz += xi[j] * z[j];
    }
  }

  /// Unadjusted step: z <- normalise(z + h g(t)(mu - t z) + s (xi - <xi, z> z)).
  void step(Rng& rng) {
    double t, xz;
    draw_noise(rng, t, xz);
    const double a = h * (*g)(t);
    const double c = -a * t - s * xz;  // coefficient of z in the increment
    double n2 = 0.0;
    for (int j = 0; j < D; ++j) {
      const double v = z[j] + a * mu[j] + s * xi[j] + c * z[j];
      y[j] = v;
      n2 += v * v;
    }
    const double inv = 1.0 / std::sqrt(n2);
    for (int j = 0; j < D; ++j) z[j] = y[j] * inv;
  }

  /// MALA step with the gnomonic retraction (docs/langevin.md §1.2). Returns true if accepted.
  bool mala_step(Rng& rng) {
    double t, xz;
    draw_noise(rng, t, xz);
    const double a = h * (*g)(t);
    double n2 = 0.0, fwd = 0.0;  // fwd = |v - h b(z)|^2 = s^2 |P_T xi|^2
    for (int j = 0; j < D; ++j) {
      const double pt = xi[j] - xz * z[j];
      fwd += pt * pt;
      const double v = z[j] + a * (mu[j] - t * z[j]) + s * pt;
      y[j] = v;
      n2 += v * v;
    }
    fwd *= s * s;
    const double inv = 1.0 / std::sqrt(n2);
    double t1 = 0.0, c = 0.0;
    for (int j = 0; j < D; ++j) {
      y[j] *= inv;
      t1 += mu[j] * y[j];
      c += y[j] * z[j];
    }
    // reverse move v' = z / <z, z'> - z', residual v' - h b(z')
    const double a1 = h * (*g)(t1);
    double rev = 0.0;
    for (int j = 0; j < D; ++j) {
      const double r = z[j] / c - y[j] - a1 * (mu[j] - t1 * y[j]);
      rev += r * r;
    }
    const double log_alpha = (*G)(t1) - (*G)(t) - (rev - fwd) / (4.0 * h);
    if (log_alpha >= 0.0 || std::log(rng.uniform_open()) < log_alpha) {
      z.swap(y);
      return true;
    }
    return false;
  }
};

}  // namespace

LangevinResult run_langevin(const geometry::Manifold& manifold, const Drift& drift, const LangevinOptions& o_in) {
  LangevinOptions o = o_in;
  if (o.burn_in < 0) o.burn_in = o.steps / 2;
  check_langevin_options(manifold, drift, o);
  const int D = manifold.ambient_dim();
  LangevinResult res;
  res.chains = o.chains;
  res.records_per_chain = (o.steps - o.burn_in) / o.record_every;
  res.samples.resize(static_cast<Eigen::Index>(o.chains) * res.records_per_chain, D);
  const double h = o.step_size, s = std::sqrt(2.0 * h);
  const bool fast = drift.axial && is_sphere(manifold) && !o.force_generic;
  res.fast_path = fast;
  const Table1D G = fast && o.metropolis ? drift.axial->g.antiderivative() : Table1D();
  std::atomic<long long> accepted{0};
  std::atomic<std::size_t> done{0};

  parallel_for(
      static_cast<std::size_t>(o.chains), o.threads,
      [&](std::size_t c) {
        Rng rng(o.seed, c);
        Vec z0 = o.initial ? Vec(o.initial->row(c).transpose()) : manifold.sample_uniform(rng);
        const Eigen::Index row0 = static_cast<Eigen::Index>(c) * res.records_per_chain;
        long long acc = 0;
        int rec = 0;
        auto record = [&](int step, const auto& state) {
          if (step >= o.burn_in && (step + 1 - o.burn_in) % o.record_every == 0 && rec < res.records_per_chain) {
            for (int j = 0; j < D; ++j) res.samples(row0 + rec, j) = state[j];
            ++rec;
          }
        };
        if (fast) {
          SphereChain ch{D, drift.axial->mu.data(), &drift.axial->g, &G, h, s, {}, {}, {}};
          ch.z.assign(z0.data(), z0.data() + D);
          ch.y.resize(D);
          ch.xi.resize(D);
          for (int k = 0; k < o.steps; ++k) {
            if (o.metropolis)
              acc += ch.mala_step(rng);
            else
              ch.step(rng);
            record(k, ch.z);
          }
        } else {
          Vec z = z0, xi(D);
          double logp = o.metropolis ? drift.log_target(z) : 0.0;
          for (int k = 0; k < o.steps; ++k) {
            for (int j = 0; j < D; ++j) xi[j] = fast_normal(rng);
            if (!o.metropolis) {
              z = langevin_step(manifold, drift, z, h, xi);
            } else {  // generic MALA on a sphere (gnomonic retraction)
              const Vec b = drift.field(z);
              const Vec pt = xi - xi.dot(z) * z;
              const Vec y = (z + h * b + s * pt).normalized();
              const Vec r = z / z.dot(y) - y - h * drift.field(y);
              const double logp1 = drift.log_target(y);
              const double log_alpha = logp1 - logp - (r.squaredNorm() - s * s * pt.squaredNorm()) / (4.0 * h);
              if (log_alpha >= 0.0 || std::log(rng.uniform_open()) < log_alpha) {
                z = y;
                logp = logp1;
                ++acc;
              }
            }
            record(k, z);
          }
        }
        accepted += acc;
        const std::size_t n = ++done;
        if (o.on_chain_done) o.on_chain_done(n);
      },
      /*grain=*/4);
  if (o.metropolis) res.acceptance_rate = static_cast<double>(accepted) / (static_cast<double>(o.chains) * o.steps);
  return res;
}

}  // namespace rbsm::sampling
