// The SIMD lane helpers (here and Rng::xoshiro256ss_next) pass 32-byte vectors by value; they are always
// inlined, so no call ABI is involved.
#pragma GCC diagnostic ignored "-Wpsabi"
#include "rbsm/sampling/langevin.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "rbsm/error.hpp"
#include "rbsm/numerics/ziggurat.hpp"
#include "rbsm/parallel.hpp"
#include "rbsm/random.hpp"

namespace rbsm::sampling {

using numerics::fast_normal;
using numerics::Ziggurat;

namespace {

/// Whether the state after step k is chain's next record (after burn-in, every record_every steps).
bool is_record_step(const LangevinOptions& o, int k, int rec, int records_per_chain) {
  return k >= o.burn_in && (k + 1 - o.burn_in) % o.record_every == 0 && rec < records_per_chain;
}

/// Chain c's initial state: its row of o.initial, or uniform on M from the chain's own stream.
Vec initial_state(const geometry::Manifold& manifold, const LangevinOptions& o, std::size_t c, Rng& rng) {
  if (o.initial && c < static_cast<std::size_t>(o.chains)) return o.initial->row(c).transpose();
  return manifold.sample_uniform(rng);
}

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

// ------------------------------------------------------------------ the sphere fast path in SIMD lanes
// kLanes chains advance in lockstep, chain c in lane c - c0 of its block, each lane with the state of
// its own stream Rng(seed, c). Every lane does exactly the scalar SphereChain::step arithmetic (same
// operations in the same order; no FMA contraction anywhere in this file: -ffp-contract=off in
// CMakeLists.txt), so the samples are bit-identical to one chain at a time in every compiled variant
// (test Langevin.SimdLanesMatchScalar runs each variant the CPU supports).
constexpr int kLanes = 4;
typedef std::uint64_t U64x __attribute__((vector_size(8 * kLanes)));
typedef double F64x __attribute__((vector_size(8 * kLanes)));

/// True when every lane of a comparison mask is set.
template <class Mask>
[[gnu::always_inline]] inline bool all_set(Mask m) {
  auto acc = m[0];
  for (int l = 1; l < kLanes; ++l) acc &= m[l];
  return acc != 0;
}

/// One F64x per coordinate: std::vector<F64x> would drop the vector type's alignment (GCC ignores
/// attributes on template arguments), so the lanes are wrapped in an aligned struct.
struct alignas(sizeof(F64x)) Lanes {
  F64x v;
};

/// kLanes xoshiro256** generators, one per lane (rbsm::Rng's update, lane-wise).
struct LaneRng {
  U64x s[4];

  [[gnu::always_inline]] U64x next() { return Rng::xoshiro256ss_next(s); }
  /// The stream of lane l, and back (through a copy: indexing the vectors with a variable lane
  /// would keep the state out of registers in the hot loop).
  Rng lane(int l) const {
    std::uint64_t all[4][kLanes], st[4];
    std::memcpy(all, s, sizeof all);
    for (int k = 0; k < 4; ++k) st[k] = all[k][l];
    return Rng::from_state(st);
  }
  void set_lane(int l, const Rng& rng) {
    std::uint64_t all[4][kLanes], st[4];
    std::memcpy(all, s, sizeof all);
    rng.get_state(st);
    for (int k = 0; k < 4; ++k) all[k][l] = st[k];
    std::memcpy(s, all, sizeof all);
  }
};

/// Exact double of integers below 2^53 (vector int64 -> double needs AVX-512): two 26/27-bit halves
/// through the 2^52 exponent trick; each step is exact, so this equals static_cast<double>.
[[gnu::always_inline]] inline F64x to_double53(U64x u) {
  const U64x magic = U64x{} + 0x4330000000000000ULL;
  const F64x two52 = F64x{} + 0x1p52;
  const F64x hi = (F64x)((u >> 26) | magic) - two52;
  const F64x lo = (F64x)((u & (U64x{} + ((1ULL << 26) - 1))) | magic) - two52;
  return hi * 0x1p26 + lo;
}

/// One N(0, 1) per lane: Ziggurat::operator() lane-wise; the rare misses finish in scalar code.
[[gnu::always_inline]] inline F64x lane_normals(LaneRng& r, const Ziggurat& zig) {
  const U64x bits = r.next();
  F64x w = {}, edge = {};
  for (int l = 0; l < kLanes; ++l) {
    const int i = static_cast<int>(bits[l] & 0xff);
    w[l] = zig.w(i);
    edge[l] = zig.edge(i);
  }
  const F64x x = to_double53(bits >> 11) * w;
  const auto inside = x < edge;  // -1 in the lanes inside their rectangle
  F64x out = (F64x)((U64x)x ^ ((bits & 0x100) << 55));
  if (__builtin_expect(!all_set(inside), 0)) {
    for (int l = 0; l < kLanes; ++l) {
      if (inside[l]) continue;
      Rng rng = r.lane(l);
      out[l] = zig.slow(rng, bits[l]);
      r.set_lane(l, rng);
    }
  }
  return out;
}

struct SphereBlockJob {
  const geometry::Manifold* manifold;
  const LangevinOptions* o;
  const double* mu;
  const Table1D* g;
  int D, records_per_chain;
  double h, s;
  Mat* samples;
};

/// Chains [c0, c0 + kLanes) of the unadjusted sphere fast path (lanes beyond o.chains run and are
/// dropped). Returns the number of real chains in the block. Compiled once per instruction set below.
[[gnu::always_inline]] inline int sphere_block(const SphereBlockJob& job, std::size_t c0) {
  const LangevinOptions& o = *job.o;
  const int D = job.D;
  const Ziggurat& zig = Ziggurat::instance();
  const int active = static_cast<int>(std::min<std::size_t>(kLanes, o.chains - c0));
  std::vector<Lanes> z(D), y(D), xi(D);
  LaneRng r;
  for (int l = 0; l < kLanes; ++l) {
    const std::size_t c = c0 + l;
    Rng rng(o.seed, c);
    const Vec z0 = initial_state(*job.manifold, o, c, rng);  // lanes beyond o.chains: uniform, dropped
    for (int j = 0; j < D; ++j) z[j].v[l] = z0[j];
    r.set_lane(l, rng);
  }
  const double h = job.h, s = job.s;
  int rec = 0;
  for (int k = 0; k < o.steps; ++k) {
    F64x t = {}, xz = {};
    for (int j = 0; j < D; ++j) {
      xi[j].v = lane_normals(r, zig);
      t += job.mu[j] * z[j].v;
      xz += xi[j].v * z[j].v;
    }
    F64x a = {};
    for (int l = 0; l < kLanes; ++l) a[l] = h * (*job.g)(t[l]);
    const F64x c = -a * t - s * xz;
    F64x n2 = {};
    for (int j = 0; j < D; ++j) {
      const F64x v = z[j].v + a * job.mu[j] + s * xi[j].v + c * z[j].v;
      y[j].v = v;
      n2 += v * v;
    }
    F64x inv = {};
    for (int l = 0; l < kLanes; ++l) inv[l] = 1.0 / std::sqrt(n2[l]);
    for (int j = 0; j < D; ++j) z[j].v = y[j].v * inv;
    if (is_record_step(o, k, rec, job.records_per_chain)) {
      for (int l = 0; l < active; ++l) {
        const Eigen::Index row = static_cast<Eigen::Index>(c0 + l) * job.records_per_chain + rec;
        for (int j = 0; j < D; ++j) (*job.samples)(row, j) = z[j].v[l];
      }
      ++rec;
    }
  }
  return active;
}

using SphereBlockFn = int (*)(const SphereBlockJob&, std::size_t);
int sphere_block_baseline(const SphereBlockJob& job, std::size_t c0) { return sphere_block(job, c0); }
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) int sphere_block_avx2(const SphereBlockJob& job, std::size_t c0) {
  return sphere_block(job, c0);
}
#if !defined(__clang__) || __clang_major__ >= 16  // older clang knows no x86-64-v4 (the fuzz build uses clang-14)
#define RBSM_HAVE_X86_64_V4 1
__attribute__((target("arch=x86-64-v4"))) int sphere_block_v4(const SphereBlockJob& job, std::size_t c0) {
  return sphere_block(job, c0);
}
#endif
#endif

/// The compiled variants this CPU can run, best first (name, function).
std::vector<std::pair<std::string, SphereBlockFn>> sphere_block_variants() {
  std::vector<std::pair<std::string, SphereBlockFn>> v;
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
#ifdef RBSM_HAVE_X86_64_V4
  if (__builtin_cpu_supports("x86-64-v4")) v.emplace_back("x86-64-v4", &sphere_block_v4);
#endif
  if (__builtin_cpu_supports("avx2")) v.emplace_back("avx2", &sphere_block_avx2);
#endif
  v.emplace_back("baseline", &sphere_block_baseline);
  return v;
}

SphereBlockFn pick_sphere_block(const std::string& isa) {
  const auto variants = sphere_block_variants();
  if (isa.empty()) return variants.front().second;
  for (const auto& [name, fn] : variants)
    if (name == isa) return fn;
  std::string names;
  for (const auto& [name, fn] : variants) names += (names.empty() ? "" : ", ") + name;
  throw InvalidArgument("langevin: SIMD variant '" + isa + "' is not available on this CPU (available: " + names + ")");
}

}  // namespace

namespace {
/// A chain whose state became NaN/inf (a step far too large for the drift) is an error, not a result.
void check_finite_states(const LangevinResult& res, const Drift& drift, const LangevinOptions& o) {
  if (!res.samples.allFinite()) {
    char h[32];
    std::snprintf(h, sizeof h, "%g", o.step_size);
    throw NumericalError("langevin: the chains of drift '" + drift.name +
                         "' diverged (non-finite states) with --step-size " + h + ": use a smaller step");
  }
}
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

  if (fast && !o.metropolis && o.simd) {
    const SphereBlockJob job{&manifold,   &o, drift.axial->mu.data(), &drift.axial->g, D, res.records_per_chain, h, s,
                             &res.samples};
    const SphereBlockFn block = pick_sphere_block(o.simd_isa);
    const std::size_t blocks = (static_cast<std::size_t>(o.chains) + kLanes - 1) / kLanes;
    parallel_for(blocks, o.threads, [&](std::size_t b) {
      const std::size_t n = done += block(job, b * kLanes);
      if (o.on_chain_done) o.on_chain_done(n);
    });
    check_finite_states(res, drift, o);
    return res;
  }

  parallel_for(
      static_cast<std::size_t>(o.chains), o.threads,
      [&](std::size_t c) {
        Rng rng(o.seed, c);
        const Vec z0 = initial_state(manifold, o, c, rng);
        const Eigen::Index row0 = static_cast<Eigen::Index>(c) * res.records_per_chain;
        long long acc = 0;
        int rec = 0;
        auto record = [&](int step, const auto& state) {
          if (is_record_step(o, step, rec, res.records_per_chain)) {
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
            } else {  // generic MALA with the projection retraction (docs/langevin.md §1.2)
              const MalaProposal p = mala_propose(manifold, z, drift.field(z), h, xi);
              if (p.ok) {
                const double logp1 = drift.log_target(p.y);
                const double log_alpha =
                    logp1 - logp - (p.w - h * drift.field(p.y)).squaredNorm() / (4.0 * h) + p.log_ratio;
                if (std::isfinite(log_alpha) && (log_alpha >= 0.0 || std::log(rng.uniform_open()) < log_alpha)) {
                  z = p.y;
                  logp = logp1;
                  ++acc;
                }
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
  check_finite_states(res, drift, o);
  return res;
}

std::vector<std::string> simd_variants() {
  std::vector<std::string> names;
  for (const auto& [name, fn] : sphere_block_variants()) names.push_back(name);
  return names;
}

}  // namespace rbsm::sampling
