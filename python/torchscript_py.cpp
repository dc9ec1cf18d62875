// rbsm.TorchScriptModel (docs/python.md §7): a user's torch.jit.ScriptModule (or a saved MODEL.pt) in the
// anatomy and LID pipeline of include/rbsm/anatomy/torchscript_field.hpp, the same code as `rbsm anatomy
// --torchscript` and `rbsm lid-bench --torchscript`.
//
// Passing the module from Python to C++: the module is written with torch.jit.save to an in-memory buffer
// (io.BytesIO) and that archive is loaded by torch::jit::load from an istream. This needs no ABI agreement
// between the torch Python extension and this module beyond the archive format, and works for scripted and
// traced modules alike (Debian's python3-torch and libtorch-dev are one build in any case).
#include <memory>
#include <optional>
#include <string>

#include <pybind11/stl.h>
#include <torch/torch.h>

#include "common.hpp"

#include "rbsm/anatomy/lid_bench.hpp"
#include "rbsm/anatomy/torchscript_field.hpp"
#include "rbsm/nn/eigen_tensor.hpp"
#include "rbsm/random.hpp"

namespace rbsm::py {
namespace {

using namespace pybind11::literals;

struct PyTorchScript {
  std::shared_ptr<anatomy::TorchScriptModel> model;
  std::int64_t D() const { return model->dim(); }
};

PyTorchScript open_model(const pb::object& obj, const std::vector<std::int64_t>& input_shape,
                         const std::string& parametrisation, const std::string& schedule, double ve_sigma_min,
                         double ve_sigma_max) {
  anatomy::TorchScriptOptions o;
  o.parametrisation = anatomy::parse_parametrisation(parametrisation);
  o.schedule = anatomy::parse_schedule(schedule);
  o.schedule.ve_sigma_min = ve_sigma_min;
  o.schedule.ve_sigma_max = ve_sigma_max;
  o.input_shape = input_shape;
  for (auto v : input_shape)
    if (v < 1) throw InvalidArgument("input_shape: sizes must be >= 1");
  PyTorchScript r;
  const pb::module_ os = pb::module_::import("os");
  if (pb::isinstance<pb::str>(obj) || pb::hasattr(obj, "__fspath__")) {
    const std::string path = pb::str(os.attr("fspath")(obj));
    without_gil(
        [&] { r.model = std::make_shared<anatomy::TorchScriptModel>(anatomy::TorchScriptModel::load(path, o)); });
    return r;
  }
  const pb::module_ torch = pb::module_::import("torch");
  if (!pb::isinstance(obj, torch.attr("jit").attr("ScriptModule")))
    throw pb::type_error(
        "model: expected a torch.jit.ScriptModule (torch.jit.script(module) or torch.jit.trace("
        "module, (x, t))) or the path of a saved one, got " +
        std::string(pb::str(obj.get_type().attr("__name__"))));
  const pb::object buffer = pb::module_::import("io").attr("BytesIO")();
  torch.attr("jit").attr("save")(obj, buffer);
  const std::string bytes = pb::bytes(buffer.attr("getvalue")());
  const std::string name = "<" + std::string(pb::str(obj.get_type().attr("__name__"))) + ">";
  without_gil([&] {
    r.model = std::make_shared<anatomy::TorchScriptModel>(anatomy::TorchScriptModel::load_bytes(bytes, name, o));
  });
  return r;
}

pb::array_t<double> tensor_to_numpy(const torch::Tensor& t) {
  const auto c = t.to(torch::kFloat64).contiguous();
  std::vector<pb::ssize_t> shape(c.sizes().begin(), c.sizes().end());
  auto out = new_array(shape);
  std::copy(c.data_ptr<double>(), c.data_ptr<double>() + c.numel(), out.mutable_data());
  return out;
}

/// Rows of Eigen vectors as an (n, D) array.
pb::array_t<double> rows(const std::vector<anatomy::PointAnatomy>& pts, Eigen::VectorXd anatomy::PointAnatomy::*field) {
  const auto n = static_cast<pb::ssize_t>(pts.size());
  const auto D = n ? static_cast<pb::ssize_t>((pts[0].*field).size()) : 0;
  auto out = new_array({n, D});
  for (pb::ssize_t i = 0; i < n; ++i) Eigen::Map<Vec>(out.mutable_data() + i * D, D) = pts[i].*field;
  return out;
}

}  // namespace

void bind_torchscript(pb::module_& m) {
  pb::class_<PyTorchScript>(
      m, "TorchScriptModel",
      "A user's PyTorch score model exported to TorchScript, forward(x, t) -> output of x's shape\n"
      "(x: (n, *input_shape), t: (n,)), read as the score s(x, t), the noise eps (s = -eps / sigma_t) or the\n"
      "clean point x0 (s = (alpha_t x0 - x) / sigma_t^2) of a schedule x_t = alpha_t x_0 + sigma_t eps:\n"
      "  vp: rbsm's VP-SDE, beta(t) = 0.1 + 19.9 t, alpha_t = exp(-B(t)/2), sigma_t^2 = 1 - alpha_t^2;\n"
      "  ve: alpha_t = 1, sigma_t = ve_sigma_min (ve_sigma_max / ve_sigma_min)^t.\n"
      "TorchScriptModel(model, input_shape, parametrisation='score', schedule='vp', ve_sigma_min=0.01,\n"
      "ve_sigma_max=50): `model` is a torch.jit.ScriptModule (saved with torch.jit.save to a buffer and\n"
      "loaded by LibTorch: later changes to the Python object are not seen) or the path of a saved one.\n"
      "The model runs in its own dtype (its first floating parameter or buffer; float32 if none) on the CPU,\n"
      "with torch's intra-op threads (torch.set_num_threads). Points are flattened: (N, D), D = prod(input_shape).")
      .def(pb::init(&open_model), "model"_a, "input_shape"_a, "parametrisation"_a = "score", "schedule"_a = "vp",
           "ve_sigma_min"_a = 0.01, "ve_sigma_max"_a = 50.0)
      .def_property_readonly("D", &PyTorchScript::D, "flattened dimension D = prod(input_shape)")
      .def_property_readonly("dtype",
                             [](const PyTorchScript& r) { return std::string(c10::toString(r.model->dtype())); })
      .def(
          "alpha", [](const PyTorchScript& r, double t) { return r.model->options().schedule.alpha(t); }, "t"_a)
      .def(
          "sigma", [](const PyTorchScript& r, double t) { return r.model->options().schedule.sigma(t); }, "t"_a)
      .def(
          "time_of_sigma",
          [](const PyTorchScript& r, double s) { return r.model->options().schedule.time_of_sigma(s); }, "sigma"_a,
          "The t in (0, 1] with sigma_t = sigma.")
      .def(
          "score",
          [](const PyTorchScript& r, const pb::handle& X, double t) {
            const Batch b = to_batch(X, static_cast<int>(r.D()), "X");
            torch::Tensor s;
            without_gil([&] {
              torch::NoGradGuard g;
              const auto x = nn::to_tensor(b.m);
              s = r.model->score(x, torch::full({x.size(0)}, t, torch::kFloat64));
            });
            return maybe_single(tensor_to_numpy(s), b.single);
          },
          "X"_a, "t"_a, "The score s(x, t) from the model's output by its parametrisation: (N, D) -> (N, D).")
      .def(
          "jacobian",
          [](const PyTorchScript& r, const pb::handle& x, double t, std::int64_t chunk) {
            const Batch b = to_batch(x, static_cast<int>(r.D()), "x");
            if (b.m.rows() != 1) throw InvalidArgument("x: one point (D,) expected");
            torch::Tensor J;
            without_gil([&] {
              J = anatomy::score_jacobian(r.model->field(t), nn::to_tensor(b.m).to(r.model->dtype())[0],
                                          anatomy::JacobianOptions().with_chunk(chunk));
            });
            return tensor_to_numpy(J);
          },
          "x"_a, "t"_a, "chunk"_a = 98, "J_ij = d s_i / d x_j at one point x (D,) at time t: (D, D).")
      .def(
          "sample",
          [](const PyTorchScript& r, std::int64_t n, std::int64_t steps, std::uint64_t seed, bool progress) {
            torch::Tensor x;
            LongCall call("sample", static_cast<std::size_t>(steps), progress);
            without_gil([&] {
              x = r.model->sample(n, steps, seed, {}, nullptr,
                                  [&](std::int64_t i) { call.poll(static_cast<std::size_t>(i)); });
              call.finish();
            });
            return tensor_to_numpy(x);
          },
          "n"_a, "steps"_a = 1000, "seed"_a = 0, "progress"_a = true,
          "n points drawn by the model's reverse SDE (Euler-Maruyama from t = 1 to 1e-3; the same draws as the\n"
          "CLI's for the same seed): (n, D).")
      .def(
          "anatomy",
          [](const PyTorchScript& r, const std::optional<std::vector<double>>& times, std::optional<double> sigma,
             const pb::object& points, std::int64_t n, std::int64_t steps, double kappa, std::int64_t chunk,
             const std::string& linalg, std::uint64_t seed, bool progress) {
            if (times && sigma) throw InvalidArgument("give times or sigma, not both");
            std::vector<double> ts = times.value_or(std::vector<double>{0.01, 0.03, 0.05, 0.15, 0.3});
            if (sigma) ts = {r.model->options().schedule.time_of_sigma(*sigma)};
            torch::Tensor pts;
            if (!points.is_none()) pts = nn::to_tensor(to_batch(points, static_cast<int>(r.D()), "points", false).m);
            anatomy::AnatomyOptions o;
            o.kappa = kappa;
            o.jacobian.chunk = chunk;
            o.backend = anatomy::parse_linalg_backend(linalg);
            o.keep_features = false;
            if (chunk < 1) throw InvalidArgument("chunk must be >= 1");
            std::vector<anatomy::AnatomySlice> slices;
            const std::size_t total = static_cast<std::size_t>(pts.defined() ? pts.size(0) : n) * ts.size();
            LongCall call("anatomy", total, progress);
            without_gil([&] {
              slices = anatomy::torchscript_anatomy(
                  *r.model, ts, pts, n, steps, o, seed,
                  [&](std::int64_t done, std::int64_t) { call.poll(static_cast<std::size_t>(done)); },
                  [&](std::int64_t, std::int64_t) { call.poll(0); });
              call.finish();
            });
            pb::list out;
            for (const auto& s : slices) {
              pb::dict d;
              d["t"] = s.t;
              d["requested_t"] = s.requested_t;
              d["sigma"] = s.sigma;
              Mat P(static_cast<Eigen::Index>(s.points.size()), r.D());
              for (std::size_t i = 0; i < s.points.size(); ++i)
                P.row(static_cast<Eigen::Index>(i)) = s.points[i].transpose();
              d["points"] = to_numpy(P);
              d["singular_values"] = rows(s.anatomy, &anatomy::PointAnatomy::s);
              d["eigenvalues"] = rows(s.anatomy, &anatomy::PointAnatomy::lambda);
              d["cos_uv"] = rows(s.anatomy, &anatomy::PointAnatomy::cos_uv);
              d["phi_uv"] = rows(s.anatomy, &anatomy::PointAnatomy::phi_uv);
              d["phi_uw"] = rows(s.anatomy, &anatomy::PointAnatomy::phi_uw);
              d["phi_vw"] = rows(s.anatomy, &anatomy::PointAnatomy::phi_vw);
              std::vector<int> ld;
              for (const auto& p : s.anatomy) ld.push_back(p.local_dim);
              d["local_dim"] = pb::array_t<int>(static_cast<pb::ssize_t>(ld.size()), ld.data());
              out.append(d);
            }
            return out;
          },
          "times"_a = pb::none(), "sigma"_a = pb::none(), "points"_a = pb::none(), "n"_a = 8, "steps"_a = 1000,
          "kappa"_a = 0.1, "chunk"_a = 98, "linalg"_a = "torch", "seed"_a = 0, "progress"_a = true,
          "The anatomy of `rbsm anatomy --torchscript` (docs/anatomy.md): at each time (default the document's\n"
          "0.01, 0.03, 0.05, 0.15, 0.3; or the one t with sigma_t = sigma) the Jacobian J = grad_x s(x, t), its\n"
          "SVD (s ascending) and the eigenvalues of (J + J^T)/2 (by |lambda| ascending), cos_i = u_i . v_i, the\n"
          "overlaps Phi_n and the local dimension r = #{i: 1/s_i >= (1 + kappa) sigma_t^2}. At `points` (N, D)\n"
          "(analysed as x_t at every time) or at x_t along n reverse-SDE trajectories (`steps` steps, `seed`).\n"
          "Returns one dict per time: t (grid time used), requested_t, sigma, points (N, D), singular_values,\n"
          "eigenvalues, cos_uv, phi_uv, phi_uw, phi_vw (N, D) and local_dim (N,).")
      .def(
          "lid",
          [](const PyTorchScript& r, const pb::object& points, std::int64_t n, std::int64_t steps, double t,
             std::optional<double> sigma, double kappa, std::int64_t normal_samples, bool normal_centre,
             std::int64_t probes, std::int64_t chunk, std::uint64_t seed, bool progress) {
            anatomy::LidOptions lid;
            lid.t = sigma ? r.model->options().schedule.time_of_sigma(*sigma) : t;
            lid.kappa = kappa;
            lid.normal_samples = normal_samples;
            lid.normal_centre = normal_centre;
            lid.hutchinson_probes = probes;
            lid.chunk = chunk;
            lid.validate();
            Mat X;
            if (!points.is_none()) X = to_batch(points, static_cast<int>(r.D()), "points", false).m;
            std::vector<anatomy::LidMethodResult> methods;
            LongCall call("lid", static_cast<std::size_t>(points.is_none() ? n : X.rows()) * 3, progress);
            without_gil([&] {
              if (points.is_none()) {
                const auto x = r.model->sample(n, steps, seed, {}, nullptr, [&](std::int64_t) { call.poll(0); });
                X = nn::to_eigen(x.reshape({n, r.D()}));
              }
              methods = anatomy::evaluate_lid(
                  r.model->time_score(), X, {}, lid, Rng(seed, 300)(),
                  [&](std::int64_t done, std::int64_t) { call.poll(static_cast<std::size_t>(done)); });
              call.finish();
            });
            pb::dict d;
            d["t"] = lid.t;
            d["sigma_t"] = r.model->options().schedule.sigma(lid.t);
            d["alpha_t"] = r.model->options().schedule.alpha(lid.t);
            d["points"] = to_numpy(X);
            for (const auto& mr : methods)
              d[pb::str(anatomy::to_string(mr.method))] =
                  pb::array_t<double>(static_cast<pb::ssize_t>(mr.estimates.size()), mr.estimates.data());
            return d;
          },
          "points"_a = pb::none(), "n"_a = 32, "steps"_a = 1000, "t"_a = 0.01, "sigma"_a = pb::none(), "kappa"_a = 0.1,
          "normal_samples"_a = 0, "normal_centre"_a = false, "probes"_a = 0, "chunk"_a = 128, "seed"_a = 0,
          "progress"_a = true,
          "The local intrinsic dimension of `rbsm lid-bench --torchscript` (docs/anatomy.md §9) at clean points\n"
          "x_0 (N, D) (or n reverse-SDE draws), at time t (or the t with sigma_t = sigma): 'singular-value'\n"
          "(r_t of J at alpha_t x_0), 'normal-bundle' (D - argmax gap of the spectrum of 4D perturbed scores),\n"
          "'flipd' (D + sigma_t^2 (tr J + |s|^2) at alpha_t x_0): dict of (N,) arrays, plus t, sigma_t, alpha_t,\n"
          "points. The same numbers as the CLI for the same points and seed.");
}

}  // namespace rbsm::py
