// Fuzz target: mixture files (`--dist @file.json`: {"weights": [...], "components": [{"dist": ..., "mean": [...]}]})
// on S^2 and the torus; an accepted mixture must give a finite log density and score.
#include <string>

#include "fuzz_common.hpp"

#include "rbsm/dist/density.hpp"
#include "rbsm/geometry/manifold.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 4096) return 0;
  const std::string mspec = (data[0] & 1) ? "torus:3,1" : "sphere:2";
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  rbsm::fuzz::expect_clean([&] {
    std::shared_ptr<const rbsm::geometry::Manifold> M = rbsm::geometry::make_manifold(mspec);
    const auto q = rbsm::dist::make_mixture_json(text, M, "fuzz.json");
    rbsm::geometry::Vec x = rbsm::geometry::Vec::Constant(M->ambient_dim(), 0.2);
    x(0) = 1.3;
    const rbsm::geometry::Vec z = M->project(x);
    rbsm::fuzz::require_finite(q->log_density(z), "log density");
    const rbsm::geometry::Vec g = q->grad_log(z);
    for (int i = 0; i < g.size(); ++i) rbsm::fuzz::require_finite(g(i), "score");
  });
  return 0;
}
