// The noise-conditional residual MLP (include/rbsm/fit/noise_net.hpp).
#include "rbsm/fit/noise_net.hpp"

#include <cmath>

#include "rbsm/error.hpp"
#include "rbsm/io/json_read.hpp"
#include "rbsm/random.hpp"

namespace rbsm::fit {

Parametrisation parse_parametrisation(const std::string& name) {
  if (name == "vector") return Parametrisation::vector;
  if (name == "energy") return Parametrisation::energy;
  throw InvalidArgument("unknown parametrisation '" + name + "' (expected vector or energy)");
}
std::string to_string(Parametrisation p) { return p == Parametrisation::vector ? "vector" : "energy"; }

void NoiseNetOptions::validate() const {
  const auto check = [](const char* what, std::int64_t v, std::int64_t hi) {
    if (v < 1 || v > hi)
      throw InvalidArgument(std::string(what) + " must be in [1, " + std::to_string(hi) + "], got " +
                            std::to_string(v));
  };
  check("dim", dim, 4096);
  check("--width", width, 4096);
  check("--depth", depth, 64);
  check("--frequencies", frequencies, 30);
  if (fourier_features < 0 || fourier_features > 4096)
    throw InvalidArgument("--fourier-features must be in [0, 4096], got " + std::to_string(fourier_features));
  if (fourier_features > 0 && (!(fourier_scale > 0) || !std::isfinite(fourier_scale)))
    throw InvalidArgument("--fourier-scale must be > 0 and finite");
}

nlohmann::json NoiseNetOptions::to_json() const {
  nlohmann::json j = {{"dim", dim},
                      {"width", width},
                      {"depth", depth},
                      {"frequencies", frequencies},
                      {"parametrisation", to_string(parametrisation)}};
  // Written only when used, so a network without them has the description it had before they existed.
  if (fourier_features > 0) j["fourier_features"] = fourier_features, j["fourier_scale"] = fourier_scale;
  return j;
}

NoiseNetOptions NoiseNetOptions::from_json(const nlohmann::json& j) {
  try {
    NoiseNetOptions o;
    o.dim = io::json_get<std::int64_t>(j, "dim");
    o.width = io::json_get<std::int64_t>(j, "width");
    o.depth = io::json_get<std::int64_t>(j, "depth");
    o.frequencies = io::json_get<std::int64_t>(j, "frequencies");
    o.parametrisation = parse_parametrisation(io::json_get<std::string>(j, "parametrisation"));
    o.fourier_features = io::json_get_or(j, "fourier_features", std::int64_t{0});
    if (o.fourier_features > 0) o.fourier_scale = io::json_get<double>(j, "fourier_scale");
    o.validate();
    return o;
  } catch (const std::exception& e) {  // the JSON kinds (io::json_get) and the values (validate)
    throw IoError(std::string("malformed network description in checkpoint: ") + e.what());
  }
}

torch::Tensor fourier_matrix(const NoiseNetOptions& o) {
  if (o.fourier_features == 0) return {};
  torch::Tensor B = torch::empty({o.fourier_features, o.dim}, torch::kFloat64);
  auto a = B.accessor<double, 2>();
  Rng rng(kFourierSeed, 0);
  for (std::int64_t i = 0; i < o.fourier_features; ++i)
    for (std::int64_t k = 0; k < o.dim; ++k) a[i][k] = o.fourier_scale * rng.normal();
  return B;
}

NoiseNetImpl::NoiseNetImpl(const NoiseNetOptions& o) : options(o) {
  o.validate();
  fourier = fourier_matrix(o);
  const std::int64_t out = o.parametrisation == Parametrisation::energy ? 1 : o.dim;
  input = register_module("input", torch::nn::Linear(o.dim + 2 * o.fourier_features + 2 * o.frequencies, o.width));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (std::int64_t l = 0; l < o.depth; ++l) {
    torch::nn::Sequential b(torch::nn::SiLU(), torch::nn::Linear(o.width, o.width), torch::nn::SiLU(),
                            torch::nn::Linear(o.width, o.width));
    blocks->push_back(b);
  }
  output = register_module("output", torch::nn::Linear(o.width, out));
  to(torch::kFloat64);
}

torch::Tensor NoiseNetImpl::forward(const torch::Tensor& x, const torch::Tensor& sigma) {
  const torch::Tensor u = torch::log(sigma).unsqueeze(1);                                    // B x 1
  const torch::Tensor k = torch::pow(2.0, torch::arange(options.frequencies, x.options()));  // F
  const torch::Tensor phase = u * k.unsqueeze(0);
  torch::Tensor h;
  if (options.fourier_features > 0) {
    const torch::Tensor bx = torch::mm(x, fourier.t());  // B x N
    h = input(torch::cat({x, torch::sin(bx), torch::cos(bx), torch::sin(phase), torch::cos(phase)}, 1));
  } else {
    h = input(torch::cat({x, torch::sin(phase), torch::cos(phase)}, 1));
  }
  for (const auto& b : *blocks) h = h + b->as<torch::nn::Sequential>()->forward(h);
  torch::Tensor out = output(torch::silu(h));
  if (options.parametrisation == Parametrisation::energy) out = out.squeeze(1);
  return out / (options.parametrisation == Parametrisation::energy ? sigma : sigma.unsqueeze(1));
}

}  // namespace rbsm::fit
