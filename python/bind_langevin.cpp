// rbsm.langevin (docs/python.md §6): manifold Langevin chains with a named drift of `rbsm equilibrium`
// (the GIL released, Ctrl-C and progress) or a Python callable called once per step on all chains.
#include <string>

#include <pybind11/functional.h>

#include "bindings.hpp"

#include "rbsm/sampling/drifts.hpp"
#include "rbsm/sampling/langevin.hpp"
#include "rbsm/sampling/langevin_batch.hpp"

namespace rbsm::py {
namespace {

using namespace pybind11::literals;

struct PyLangevin {
  pb::array_t<double> samples;  // (chains, records, D)
  double acceptance_rate = 1;
  bool fast_path = false;
};

PyLangevin langevin(const PyManifold& M, const pb::object& drift, const pb::object& q, const pb::object& sigma_obj,
                    int chains, int steps, double step_size, std::uint64_t seed, int burn_in, int record_every,
                    bool metropolis, const pb::object& initial, bool fast_path, int references, int threads,
                    bool progress) {
  sampling::LangevinOptions o;
  o.chains = chains;
  o.steps = steps;
  o.step_size = step_size;
  o.seed = seed;
  o.burn_in = burn_in;
  o.record_every = record_every;
  o.metropolis = metropolis;
  o.force_generic = !fast_path;
  o.threads = threads;
  const int D = M.D();
  if (!initial.is_none()) {
    Batch b = to_batch(initial, D, "initial", false);
    if (b.m.rows() != chains)
      throw InvalidArgument("initial: expected shape (" + std::to_string(chains) + ", " + std::to_string(D) +
                            ") (one row per chain), got " + std::to_string(b.m.rows()) + " rows");
    o.initial = std::move(b.m);
  }
  sampling::LangevinResult res;
  if (pb::isinstance<pb::str>(drift)) {
    if (q.is_none()) throw InvalidArgument("langevin: a named drift needs the density q (q=rbsm.density(M, ...))");
    const PyDensity& Q = q.cast<const PyDensity&>();
    check_same_manifold(M, Q);
    const std::string name = drift.cast<std::string>();
    double sigma = 0.1;
    if (!sigma_obj.is_none()) {
      sigma = sigma_obj.cast<double>();
    } else if (name != "true") {
      throw InvalidArgument("langevin: drift '" + name + "' needs the noise level sigma");
    }
    if (o.metropolis && !sampling::drift_has_potential(name, *Q.q))
      throw InvalidArgument(sampling::mala_without_potential_message(name));
    sampling::DriftOptions dopt;
    dopt.references = references;
    dopt.seed = seed;
    dopt.threads = threads;
    LongCall call("langevin", static_cast<std::size_t>(chains), progress);
    o.on_chain_done = [&](std::size_t done) { call.poll(done); };
    without_gil([&] {
      const sampling::Drift d = sampling::build_drift(name, *Q.q, sigma, "none", dopt);
      call.poll(0);
      res = sampling::run_langevin(*M.M, d, o);
      call.finish();
    });
  } else if (PyCallable_Check(drift.ptr())) {
    if (!q.is_none() || !sigma_obj.is_none())
      throw InvalidArgument("langevin: q and sigma are for named drifts; a callable drift takes neither");
    LongCall call("langevin", static_cast<std::size_t>(steps), progress);
    // The GIL is held here: the callable runs once per step on all chains (chains x D -> chains x D).
    res = sampling::run_langevin_batched(
        *M.M,
        [&](const Mat& Z, int) -> Mat {
          pb::object r = drift(to_numpy(Z));
          Batch b = to_batch(r, D, "the drift's result", false);
          if (b.m.rows() != Z.rows())
            throw InvalidArgument("the drift's result: expected shape (" + std::to_string(Z.rows()) + ", " +
                                  std::to_string(D) + "), got " + std::to_string(b.m.rows()) + " rows");
          return std::move(b.m);
        },
        o,
        [&](int k) {
          if (PyErr_CheckSignals() != 0) throw pb::error_already_set();
          call.poll(static_cast<std::size_t>(k + 1));
        });
    call.finish();
  } else {
    throw pb::type_error(
        "langevin: drift must be a drift name (true, rb, rb-extrinsic, ...) or a callable f(Z) -> (N, D)");
  }
  PyLangevin out;
  auto S = new_array({res.chains, res.records_per_chain, D});
  Eigen::Map<RowMat>(S.mutable_data(), res.samples.rows(), D) = res.samples;
  out.samples = S;
  out.acceptance_rate = res.acceptance_rate;
  out.fast_path = res.fast_path;
  return out;
}

}  // namespace

void bind_langevin(pb::module_& m) {
  pb::class_<PyLangevin>(m, "LangevinResult", "Recorded states of manifold Langevin chains.")
      .def_readonly("samples", &PyLangevin::samples, "(chains, records, D): the recorded states of each chain")
      .def_readonly("acceptance_rate", &PyLangevin::acceptance_rate, "MALA acceptance rate (1 without metropolis)")
      .def_readonly("fast_path", &PyLangevin::fast_path, "whether the sphere fast path ran");

  m.def("langevin", &langevin, "M"_a, "drift"_a, "q"_a = pb::none(), "sigma"_a = pb::none(), "chains"_a = 1000,
        "steps"_a = 2000, "step_size"_a = 1e-2, "seed"_a = 0, "burn_in"_a = -1, "record_every"_a = 10,
        "metropolis"_a = false, "initial"_a = pb::none(), "fast_path"_a = true, "references"_a = 4096, "threads"_a = 0,
        "progress"_a = true,
        "Manifold Langevin dynamics, projected Euler-Maruyama (docs/langevin.md):\n"
        "    z' = pi(z + h b(z) + sqrt(2h) P_T(z) xi),  xi ~ N(0, I_D),  h = step_size.\n"
        "drift: a name of `rbsm equilibrium --drift` for the density q at noise level sigma (true = grad_M log q,\n"
        "rb, rb-extrinsic, rb-geometric, rb-full, first-order, source-expansion), or a Python callable\n"
        "f(Z) -> (chains, D) called once per step with the states of all chains (chains, D).\n"
        "Chain c uses the stream Rng(seed, c) (uniform start unless initial (chains, D) is given); states are\n"
        "recorded every record_every steps after burn_in (-1: steps / 2). metropolis=True: MALA (named drifts\n"
        "with a potential). fast_path=False forces the generic path on spheres. Returns a LangevinResult\n"
        "(samples: (chains, records, D)).");
}

}  // namespace rbsm::py
