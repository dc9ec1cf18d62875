// Fuzz target: data point files (`rbsm fit --data FILE`, docs/fit.md §1): CSV/TSV text or .npy bytes,
// then the rows as points of a manifold in one of the five formats. The first byte picks the
// manifold/format and text vs .npy; accepted points must lie on M (finite).
#include <string>

#include "fuzz_common.hpp"

#include "rbsm/data/points.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > (1u << 15)) return 0;
  struct Case {
    const char* manifold;
    rbsm::data::PointFormat format;
  };
  using F = rbsm::data::PointFormat;
  static const Case cases[] = {{"sphere:2", F::ambient},  {"sphere:2", F::latlon}, {"torus:3,1", F::angles},
                               {"so3", F::quaternion},    {"so3", F::matrix},      {"clifford-torus:1,1", F::angles},
                               {"torus:3,1", F::ambient}, {"sphere:3", F::ambient}};
  const Case c = cases[data[0] & 7];
  const bool npy = data[0] & 8;
  const bool project = data[0] & 16;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  rbsm::fuzz::expect_clean([&] {
    const auto table = npy ? rbsm::data::parse_npy(bytes, "fuzz.npy") : rbsm::data::parse_table_text(bytes, "fuzz.csv");
    const auto M = rbsm::geometry::make_manifold(c.manifold);
    rbsm::data::PointOptions options;
    options.format = c.format;
    options.project = project;
    const auto points = rbsm::data::to_manifold_points(table, *M, options, "fuzz");
    for (long i = 0; i < points.size(); ++i) rbsm::fuzz::require_finite(points.data()[i], "point");
  });
  return 0;
}
