// Points on a manifold from files, the earth catalogues and the fit splits (include/rbsm/data/points.hpp).
#include "rbsm/data/points.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <numeric>
#include <sstream>

#include "rbsm/error.hpp"
#include "rbsm/geometry/so3.hpp"
#include "rbsm/geometry/sphere.hpp"
#include "rbsm/geometry/torus.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/io/share.hpp"
#include "rbsm/io/table.hpp"
#include "rbsm/numerics/constants.hpp"
#include "rbsm/random.hpp"

namespace rbsm::data {

namespace fs = std::filesystem;

namespace {
constexpr double kDegree = kPi / 180.0;

bool is_sphere2(const geometry::Manifold& M) { return M.spec() == "sphere:2"; }
bool is_so3(const geometry::Manifold& M) { return M.spec() == "so3"; }
const geometry::AngularChart* chart_of(const geometry::Manifold& M) { return geometry::angular_chart(M); }

/// Row-major 3 x 3 matrix -> unit quaternion (w, x, y, z) with w >= 0 (Shepperd's branch choice).
Vec quaternion_from_rotation(const Vec& R) {
  const auto m = [&](int a, int b) { return R[3 * a + b]; };
  const double tr = m(0, 0) + m(1, 1) + m(2, 2);
  Vec q(4);
  if (tr > 0) {
    const double s = 2.0 * std::sqrt(1.0 + tr);
    q << 0.25 * s, (m(2, 1) - m(1, 2)) / s, (m(0, 2) - m(2, 0)) / s, (m(1, 0) - m(0, 1)) / s;
  } else if (m(0, 0) > m(1, 1) && m(0, 0) > m(2, 2)) {
    const double s = 2.0 * std::sqrt(1.0 + m(0, 0) - m(1, 1) - m(2, 2));
    q << (m(2, 1) - m(1, 2)) / s, 0.25 * s, (m(0, 1) + m(1, 0)) / s, (m(0, 2) + m(2, 0)) / s;
  } else if (m(1, 1) > m(2, 2)) {
    const double s = 2.0 * std::sqrt(1.0 + m(1, 1) - m(0, 0) - m(2, 2));
    q << (m(0, 2) - m(2, 0)) / s, (m(0, 1) + m(1, 0)) / s, 0.25 * s, (m(1, 2) + m(2, 1)) / s;
  } else {
    const double s = 2.0 * std::sqrt(1.0 + m(2, 2) - m(0, 0) - m(1, 1));
    q << (m(1, 0) - m(0, 1)) / s, (m(0, 2) + m(2, 0)) / s, (m(1, 2) + m(2, 1)) / s, 0.25 * s;
  }
  q.normalize();
  if (q[0] < 0) q = -q;
  return q;
}
}  // namespace

PointFormat parse_point_format(const std::string& name) {
  if (name == "ambient") return PointFormat::ambient;
  if (name == "latlon") return PointFormat::latlon;
  if (name == "angles") return PointFormat::angles;
  if (name == "quaternion") return PointFormat::quaternion;
  if (name == "matrix") return PointFormat::matrix;
  throw InvalidArgument("unknown point format '" + name + "' (expected ambient, latlon, angles, quaternion or matrix)");
}

std::string to_string(PointFormat f) {
  switch (f) {
    case PointFormat::ambient:
      return "ambient";
    case PointFormat::latlon:
      return "latlon";
    case PointFormat::angles:
      return "angles";
    case PointFormat::quaternion:
      return "quaternion";
    case PointFormat::matrix:
      return "matrix";
  }
  return "?";
}

int format_columns(PointFormat format, const geometry::Manifold& M) {
  switch (format) {
    case PointFormat::ambient:
      return M.ambient_dim();
    case PointFormat::latlon:
      if (!is_sphere2(M)) throw InvalidArgument("format latlon needs --manifold sphere:2, not " + M.spec());
      return 2;
    case PointFormat::angles:
      if (!chart_of(M))
        throw InvalidArgument("format angles needs a torus (torus:R,r or clifford-torus:r1,r2), not " + M.spec());
      return 2;
    case PointFormat::quaternion:
      if (!is_so3(M)) throw InvalidArgument("format quaternion needs --manifold so3, not " + M.spec());
      return 4;
    case PointFormat::matrix:
      if (!is_so3(M)) throw InvalidArgument("format matrix needs --manifold so3, not " + M.spec());
      return 9;
  }
  return 0;
}

std::vector<std::string> format_header(PointFormat format, const geometry::Manifold& M) {
  switch (format) {
    case PointFormat::latlon:
      return {"lat", "lon"};
    case PointFormat::angles:
      return {"a1", "a2"};
    case PointFormat::quaternion:
      return {"w", "x", "y", "z"};
    case PointFormat::matrix:
      return {"r11", "r12", "r13", "r21", "r22", "r23", "r31", "r32", "r33"};
    case PointFormat::ambient:
      break;
  }
  std::vector<std::string> h;
  for (int i = 0; i < M.ambient_dim(); ++i) h.push_back("x" + std::to_string(i + 1));
  return h;
}

// ------------------------------------------------------------------ points
Mat to_manifold_points(const Table& table, const geometry::Manifold& M, const PointOptions& options,
                       const std::string& name) {
  if (!(options.tolerance >= 0) || !std::isfinite(options.tolerance))
    throw InvalidArgument("point tolerance must be finite and >= 0");
  const int cols = format_columns(options.format, M);
  if (table.values.cols() != cols)
    throw InvalidArgument(name + ": " + std::to_string(table.values.cols()) + " columns, but format " +
                          to_string(options.format) + " on " + M.spec() + " has " + std::to_string(cols));
  const Eigen::Index n = table.values.rows();
  const int D = M.ambient_dim();
  Mat out(n, D);
  const auto where = [&](Eigen::Index i) {
    return name + (table.line.empty() ? ": row " + std::to_string(i + 1) : ":" + std::to_string(table.line[i]));
  };
  for (Eigen::Index i = 0; i < n; ++i) {
    const Vec row = table.values.row(i).transpose();
    Vec x(D);
    bool exact = false;  // the format parametrises M itself
    switch (options.format) {
      case PointFormat::latlon: {
        const double lat = row[0], lon = row[1];
        if (std::abs(lat) > 90.0)
          throw InvalidArgument(where(i) + ": latitude " + io::format_double(lat) + " outside [-90, 90]");
        x << std::cos(lat * kDegree) * std::cos(lon * kDegree), std::cos(lat * kDegree) * std::sin(lon * kDegree),
            std::sin(lat * kDegree);
        exact = true;
        break;
      }
      case PointFormat::angles:
        x = chart_of(M)->point(row[0], row[1]);
        exact = true;
        break;
      case PointFormat::quaternion: {
        const double norm = row.norm();
        if (!(norm > 0)) throw InvalidArgument(where(i) + ": zero quaternion");
        if (!options.project && std::abs(norm - 1.0) > options.tolerance)
          throw InvalidArgument(where(i) + ": quaternion norm " + io::format_double(norm) + " is not 1 (tolerance " +
                                io::format_double(options.tolerance) + "; --project normalises)");
        x = geometry::rotation_from_quaternion(row[0], row[1], row[2], row[3]);
        exact = true;
        break;
      }
      case PointFormat::ambient:
      case PointFormat::matrix:
        x = row;
        break;
    }
    if (!exact) {
      Vec z;
      try {
        z = M.project(x);
      } catch (const Error& e) {
        throw InvalidArgument(where(i) + ": the point has no nearest point on " + M.spec() + " (" + e.what() + ")");
      }
      const double dist = (x - z).norm();
      if (!options.project && dist > options.tolerance)
        throw InvalidArgument(where(i) + ": the point is " + io::format_double(dist) + " from " + M.spec() +
                              " (tolerance " + io::format_double(options.tolerance) + "; --project projects it)");
      x = z;
    }
    out.row(i) = x.transpose();
  }
  return out;
}

Mat from_manifold_points(const Mat& points, const geometry::Manifold& M, PointFormat format) {
  const int cols = format_columns(format, M);
  Mat out(points.rows(), cols);
  for (Eigen::Index i = 0; i < points.rows(); ++i) {
    const Vec z = points.row(i).transpose();
    switch (format) {
      case PointFormat::latlon:
        out(i, 0) = std::asin(std::clamp(z[2] / z.norm(), -1.0, 1.0)) / kDegree;
        out(i, 1) = std::atan2(z[1], z[0]) / kDegree;
        break;
      case PointFormat::angles: {
        const Eigen::Vector2d a = chart_of(M)->angles(z);
        out(i, 0) = a[0];
        out(i, 1) = a[1];
        break;
      }
      case PointFormat::quaternion:
        out.row(i) = quaternion_from_rotation(z).transpose();
        break;
      case PointFormat::ambient:
      case PointFormat::matrix:
        out.row(i) = z.transpose();
        break;
    }
  }
  return out;
}

void write_points_csv(const fs::path& path, const Mat& rows, const std::vector<std::string>& header) {
  std::string text;
  for (std::size_t k = 0; k < header.size(); ++k) text += (k ? "," : "") + header[k];
  text += "\n";
  for (Eigen::Index i = 0; i < rows.rows(); ++i) {
    for (Eigen::Index k = 0; k < rows.cols(); ++k) text += (k ? "," : "") + io::format_double(rows(i, k));
    text += "\n";
  }
  io::atomic_write(path, text);
}

Mat read_points(const fs::path& path, const geometry::Manifold& M, const PointOptions& options) {
  return to_manifold_points(read_table(path), M, options, path.string());
}

// ------------------------------------------------------------------ earth
const std::vector<std::string>& earth_datasets() {
  static const std::vector<std::string> names{"volcano", "earthquake", "flood", "fire"};
  return names;
}

fs::path data_file(const std::string& relative) {
  if (const char* env = std::getenv("RBSM_DATA_DIR"); env && *env) {
    const fs::path p = fs::path(env) / relative;
    if (fs::exists(p)) return p;
  }
  try {
    return io::share_file("data/" + relative);
  } catch (const IoError&) {
    throw IoError("data file " + relative + " not found (looked in " +
                  (std::getenv("RBSM_DATA_DIR") ? std::string("$RBSM_DATA_DIR, ") : std::string()) +
                  "the data/ folder of every rbsm share directory; set RBSM_DATA_DIR)");
  }
}

fs::path earth_file(const std::string& dataset) {
  static const std::map<std::string, std::string> files{
      {"volcano", "volerup.csv"}, {"earthquake", "quakes_all.csv"}, {"flood", "flood.csv"}, {"fire", "fire.csv"}};
  const auto it = files.find(dataset);
  if (it == files.end())
    throw InvalidArgument("unknown earth dataset '" + dataset + "' (expected volcano, earthquake, flood or fire)");
  return data_file("earth/" + it->second);
}

Mat load_earth(const std::string& dataset, const geometry::Manifold& sphere2) {
  PointOptions o;
  o.format = PointFormat::latlon;
  return read_points(earth_file(dataset), sphere2, o);
}

// ------------------------------------------------------------------ splits
Split make_split(long n, const std::vector<double>& fractions, std::uint64_t seed, const Mat* points) {
  if (n < 3) throw InvalidArgument("a split needs at least 3 rows, got " + std::to_string(n));
  if (fractions.size() != 3) throw InvalidArgument("--split needs three fractions train,val,test");
  double total = 0;
  for (double f : fractions) {
    if (!(f > 0) || !std::isfinite(f))
      throw InvalidArgument("--split fractions must be > 0, got " + io::format_double(f));
    total += f;
  }
  if (std::abs(total - 1.0) > 1e-9)
    throw InvalidArgument("--split fractions sum to " + io::format_double(total) + ", not 1");
  // Groups: one per row, or one per location.
  std::vector<std::vector<long>> groups;
  if (points) {
    std::map<std::vector<long long>, long> index;
    for (long i = 0; i < n; ++i) {
      std::vector<long long> key;
      for (Eigen::Index k = 0; k < points->cols(); ++k) key.push_back(std::llround((*points)(i, k) * 1e6));
      const auto [it, fresh] = index.emplace(key, static_cast<long>(groups.size()));
      if (fresh) groups.emplace_back();
      groups[it->second].push_back(i);
    }
  } else {
    for (long i = 0; i < n; ++i) groups.push_back({i});
  }
  std::vector<long> order(groups.size());
  std::iota(order.begin(), order.end(), 0L);
  Rng rng(seed, 0);
  for (long i = static_cast<long>(order.size()) - 1; i > 0; --i) {
    const long j = static_cast<long>(rng() % static_cast<std::uint64_t>(i + 1));
    std::swap(order[i], order[j]);
  }
  // Whole groups in permuted order; a group goes to the part whose row quota it starts in.
  Split s;
  const double cut1 = fractions[0] * n, cut2 = (fractions[0] + fractions[1]) * n;
  long filled = 0;
  for (long g : order) {
    auto& part = filled < std::llround(cut1) ? s.train : (filled < std::llround(cut2) ? s.val : s.test);
    part.insert(part.end(), groups[g].begin(), groups[g].end());
    filled += static_cast<long>(groups[g].size());
  }
  if (s.train.empty() || s.val.empty() || s.test.empty())
    throw InvalidArgument("the split left a part empty (" + std::to_string(s.train.size()) + " / " +
                          std::to_string(s.val.size()) + " / " + std::to_string(s.test.size()) + " rows)");
  return s;
}

long count_duplicates(const Mat& train, const Mat& test) {
  std::map<std::vector<long long>, int> seen;
  const auto key = [](const Mat& m, Eigen::Index i) {
    std::vector<long long> k;
    for (Eigen::Index c = 0; c < m.cols(); ++c) k.push_back(std::llround(m(i, c) * 1e6));
    return k;
  };
  for (Eigen::Index i = 0; i < train.rows(); ++i) seen[key(train, i)] = 1;
  long count = 0;
  for (Eigen::Index i = 0; i < test.rows(); ++i) count += seen.count(key(test, i)) ? 1 : 0;
  return count;
}

Mat take_rows(const Mat& points, const std::vector<long>& index) {
  Mat out(static_cast<Eigen::Index>(index.size()), points.cols());
  for (std::size_t i = 0; i < index.size(); ++i) {
    if (index[i] < 0 || index[i] >= points.rows()) throw InvalidArgument("take_rows: index out of range");
    out.row(static_cast<Eigen::Index>(i)) = points.row(index[i]);
  }
  return out;
}

}  // namespace rbsm::data
