#pragma once
/// Points on a manifold read from a user's file (docs/fit.md §1): CSV/TSV tables (header or not, `#`
/// comments, CRLF) or `.npy` (float64, N x columns), in one of five formats:
///   ambient     D columns, coordinates in R^D;
///   latlon      latitude, longitude in degrees (sphere:2): x = (cos lat cos lon, cos lat sin lon, sin lat);
///   angles      (a1, a2) in radians (both tori: the manifold's own chart, SPEC.md "Parametrisations");
///   quaternion  (w, x, y, z), normalised (so3);
///   matrix      row-major 3 x 3 rotation (so3; the same as ambient).
/// Every row is checked: column count, a parse error, NaN/inf, and a point farther than `tolerance` from
/// M (the message names the row, as a 1-based line of the file, and its distance), unless `project`.
/// Also the earth-science catalogues shipped with rbsm (`earth:volcano|earthquake|flood|fire`,
/// data/earth/PROVENANCE.md) and the train / validation / test splits of the fit protocol.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "rbsm/geometry/manifold.hpp"

namespace rbsm::data {

using geometry::Mat;
using geometry::Vec;

enum class PointFormat { ambient, latlon, angles, quaternion, matrix };
/// "ambient", "latlon", "angles", "quaternion", "matrix"; throws InvalidArgument otherwise.
PointFormat parse_point_format(const std::string& name);
std::string to_string(PointFormat f);
/// Number of columns a row of `format` has on `manifold`; throws InvalidArgument if the format does not
/// fit the manifold (latlon off sphere:2, angles off the tori, quaternion/matrix off so3).
int format_columns(PointFormat format, const geometry::Manifold& manifold);

/// A numeric table with the 1-based file line of each row (for error messages).
struct Table {
  Mat values;              ///< rows x columns
  std::vector<long> line;  ///< line (text) or row index + 1 (.npy) of each row
};
/// Reads a CSV/TSV (comma, tab, semicolon or whitespace separated; one optional header line of
/// non-numbers; `#` comments; CRLF) or a `.npy` file (little-endian float64, C or Fortran order,
/// 1-D or 2-D). Throws IoError for a missing or unreadable file and InvalidArgument naming the line for a
/// ragged row, a non-number or a non-finite value, or an empty table.
Table read_table(const std::filesystem::path& path);
/// The same for text already in memory (`name` appears in messages).
Table parse_table_text(const std::string& text, const std::string& name);
/// The same for the bytes of a .npy file.
Table parse_npy(const std::string& bytes, const std::string& name);

struct PointOptions {
  PointFormat format = PointFormat::ambient;
  double tolerance = 1e-6;  ///< largest accepted distance |x - pi(x)| (ambient / matrix formats)
  bool project = false;     ///< project every row onto M instead of refusing off-manifold rows
};
/// Rows of `table` as points of M (N x D). Throws InvalidArgument naming the first bad row.
Mat to_manifold_points(const Table& table, const geometry::Manifold& manifold, const PointOptions& options,
                       const std::string& name);
/// The inverse: points of M (N x D) in `format` (for writing samples in the data's own format).
Mat from_manifold_points(const Mat& points, const geometry::Manifold& manifold, PointFormat format);
/// Writes `rows` as CSV with a header of column names (atomically).
void write_points_csv(const std::filesystem::path& path, const Mat& rows, const std::vector<std::string>& header);
/// Column names of `format` on `manifold` (e.g. lat, lon).
std::vector<std::string> format_header(PointFormat format, const geometry::Manifold& manifold);

/// read_table + to_manifold_points.
Mat read_points(const std::filesystem::path& path, const geometry::Manifold& manifold, const PointOptions& options);

// ------------------------------------------------------------------ the earth-science catalogues
/// "volcano", "earthquake", "flood", "fire".
const std::vector<std::string>& earth_datasets();
/// A file shipped with rbsm under data/: $RBSM_DATA_DIR/<relative>, else the installed
/// <prefix>/share/rbsm/data/<relative>, else the source tree's data/<relative>. Throws IoError naming
/// the folders searched if none holds it.
std::filesystem::path data_file(const std::string& relative);
/// The file of an earth catalogue (data_file("earth/<file>")). Throws InvalidArgument for an unknown
/// name, IoError if no copy is found.
std::filesystem::path earth_file(const std::string& dataset);
/// The catalogue as points of sphere:2 (latlon rows).
Mat load_earth(const std::string& dataset, const geometry::Manifold& sphere2);

// ------------------------------------------------------------------ splits
struct Split {
  std::vector<long> train, val, test;  ///< row indices
};
/// A random permutation of 0..n-1 from Rng(seed, 0), cut at the cumulative fractions (train, val, test;
/// each > 0, summing to 1 within 1e-9). With `points` given (by_location), rows at the same location
/// (equal after rounding to 1e-6) are kept on one side: whole groups are permuted and assigned.
Split make_split(long n, const std::vector<double>& fractions, std::uint64_t seed, const Mat* points = nullptr);
/// Number of rows of `test` with an exact copy (to 1e-6 per coordinate) among the rows of `train`.
long count_duplicates(const Mat& train, const Mat& test);
/// Rows of `points` at `index`.
Mat take_rows(const Mat& points, const std::vector<long>& index);

}  // namespace rbsm::data
