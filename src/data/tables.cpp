// Tables of numbers from text (CSV, TSV, whitespace) and NumPy .npy files (include/rbsm/data/points.hpp).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "rbsm/data/points.hpp"
#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"

namespace rbsm::data {

namespace fs = std::filesystem;

namespace {
std::string trim(std::string s) {
  // all of isspace: a line of only \v or \f split into no field at all and made a zero-column row
  // (found by fuzz_points: rows of unequal length read out of range)
  const auto b = s.find_first_not_of(" \t\r\n\v\f");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n\v\f");
  return s.substr(b, e - b + 1);
}

/// Splits one line at commas, tabs or semicolons; if it has none, at runs of whitespace.
std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> out;
  if (line.find_first_of(",\t;") != std::string::npos) {
    std::string cur;
    for (char c : line) {
      if (c == ',' || c == '\t' || c == ';') {
        out.push_back(trim(cur));
        cur.clear();
      } else {
        cur += c;
      }
    }
    out.push_back(trim(cur));
  } else {
    std::istringstream is(line);
    std::string f;
    while (is >> f) out.push_back(f);
  }
  return out;
}

bool parse_number(const std::string& s, double& v) {
  if (s.empty()) return false;
  const char* b = s.data();
  const char* e = b + s.size();
  if (*b == '+') ++b;
  const auto r = std::from_chars(b, e, v);
  return r.ec == std::errc() && r.ptr == e;
}
}  // namespace

// ------------------------------------------------------------------ tables
Table parse_table_text(const std::string& text, const std::string& name) {
  std::vector<std::vector<double>> rows;
  std::vector<long> lines;
  std::size_t cols = 0;
  bool header_allowed = true;
  long line_no = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (const auto h = line.find('#'); h != std::string::npos) line.resize(h);
    line = trim(line);
    if (line.empty()) {
      if (end >= text.size()) break;
      continue;
    }
    const auto fields = split_fields(line);
    std::vector<double> row(fields.size());
    std::size_t bad = fields.size();
    for (std::size_t k = 0; k < fields.size(); ++k)
      if (!parse_number(fields[k], row[k])) {
        bad = k;
        break;
      }
    if (bad < fields.size()) {
      if (header_allowed) {  // one header line of names before the first numeric row
        header_allowed = false;
        cols = fields.size();
        continue;
      }
      throw InvalidArgument(name + ":" + std::to_string(line_no) + ": column " + std::to_string(bad + 1) + " '" +
                            fields[bad] + "' is not a number");
    }
    header_allowed = false;
    if (cols == 0) cols = row.size();
    if (row.size() != cols)
      throw InvalidArgument(name + ":" + std::to_string(line_no) + ": " + std::to_string(row.size()) +
                            " columns, expected " + std::to_string(cols));
    for (std::size_t k = 0; k < row.size(); ++k)
      if (!std::isfinite(row[k]))
        throw InvalidArgument(name + ":" + std::to_string(line_no) + ": column " + std::to_string(k + 1) +
                              " is not finite (" + fields[k] + ")");
    rows.push_back(std::move(row));
    lines.push_back(line_no);
    if (end >= text.size()) break;
  }
  if (rows.empty()) throw InvalidArgument(name + ": no data rows");
  Table t;
  t.values.resize(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(cols));
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t k = 0; k < cols; ++k) t.values(i, k) = rows[i][k];
  t.line = std::move(lines);
  return t;
}

Table parse_npy(const std::string& bytes, const std::string& name) {
  static const char kMagic[] = "\x93NUMPY";
  if (bytes.size() < 10 || bytes.compare(0, 6, std::string(kMagic, 6)) != 0)
    throw InvalidArgument(name + ": not a .npy file (bad magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len, start;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw InvalidArgument(name + ": truncated .npy header");
    header_len = 0;
    for (int k = 0; k < 4; ++k)
      header_len |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + k])) << (8 * k);
    start = 12;
  } else {
    throw InvalidArgument(name + ": unsupported .npy version " + std::to_string(major));
  }
  if (header_len > bytes.size() - start) throw InvalidArgument(name + ": truncated .npy header");
  const std::string header = bytes.substr(start, header_len);
  const auto field = [&](const std::string& key) -> std::string {
    const auto k = header.find("'" + key + "'");
    if (k == std::string::npos) throw InvalidArgument(name + ": .npy header has no '" + key + "'");
    const auto c = header.find(':', k);
    if (c == std::string::npos) throw InvalidArgument(name + ": malformed .npy header");
    return header.substr(c + 1);
  };
  const std::string descr = field("descr");
  const auto q1 = descr.find('\''), q2 = descr.find('\'', q1 + 1);
  if (q1 == std::string::npos || q2 == std::string::npos) throw InvalidArgument(name + ": malformed .npy descr");
  const std::string dtype = descr.substr(q1 + 1, q2 - q1 - 1);
  if (dtype != "<f8" && dtype != "=f8")
    throw InvalidArgument(name + ": .npy dtype " + dtype + " is not supported (need little-endian float64, '<f8')");
  const bool fortran = trim(field("fortran_order")).rfind("True", 0) == 0;
  const std::string shape_text = field("shape");
  const auto p1 = shape_text.find('('), p2 = shape_text.find(')');
  if (p1 == std::string::npos || p2 == std::string::npos) throw InvalidArgument(name + ": malformed .npy shape");
  std::vector<long long> shape;
  std::string cur;
  for (char c : shape_text.substr(p1 + 1, p2 - p1 - 1) + ",") {
    if (c == ',') {
      cur = trim(cur);
      if (!cur.empty()) {
        long long v = 0;
        const auto r = std::from_chars(cur.data(), cur.data() + cur.size(), v);
        if (r.ec != std::errc() || v < 0) throw InvalidArgument(name + ": malformed .npy shape");
        shape.push_back(v);
      }
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (shape.empty() || shape.size() > 2)
    throw InvalidArgument(name + ": .npy array has " + std::to_string(shape.size()) + " dimensions (need 1 or 2)");
  const long long n = shape[0], c = shape.size() == 2 ? shape[1] : 1;
  if (n < 1 || c < 1) throw InvalidArgument(name + ": no data rows");
  if (n > (1LL << 34) / c) throw InvalidArgument(name + ": .npy array too large");
  const std::size_t data_start = start + header_len;
  const std::size_t need = static_cast<std::size_t>(n * c) * 8;
  if (bytes.size() - data_start < need)
    throw InvalidArgument(name + ": truncated .npy data (" + std::to_string(bytes.size() - data_start) +
                          " bytes, need " + std::to_string(need) + ")");
  Table t;
  t.values.resize(n, c);
  for (long long i = 0; i < n; ++i)
    for (long long k = 0; k < c; ++k) {
      const long long idx = fortran ? k * n + i : i * c + k;
      double v;
      std::memcpy(&v, bytes.data() + data_start + 8 * idx, 8);
      if (!std::isfinite(v))
        throw InvalidArgument(name + ": row " + std::to_string(i + 1) + " column " + std::to_string(k + 1) +
                              " is not finite");
      t.values(i, k) = v;
    }
  t.line.resize(n);
  std::iota(t.line.begin(), t.line.end(), 1L);
  return t;
}

Table read_table(const fs::path& path) {
  const std::string bytes = io::read_file(path);
  if (path.extension() == ".npy") return parse_npy(bytes, path.string());
  return parse_table_text(bytes, path.string());
}

}  // namespace rbsm::data
