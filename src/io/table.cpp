#include "rbsm/io/table.hpp"

#include <cstdio>

#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"

namespace rbsm::io {

std::string format_double(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void Table::add_row(const std::vector<double>& row) {
  std::vector<std::string> cells;
  cells.reserve(row.size());
  for (double v : row) cells.push_back(format_double(v));
  add_row_text(cells);
}

void Table::add_row_text(const std::vector<std::string>& row) {
  if (row.size() != columns_.size())
    throw InvalidArgument("table row has " + std::to_string(row.size()) + " cells, expected " +
                          std::to_string(columns_.size()));
  rows_.push_back(row);
}

std::string Table::to_csv() const {
  std::string out;
  for (std::size_t i = 0; i < columns_.size(); ++i) out += (i ? "," : "") + columns_[i];
  out += '\n';
  for (const auto& r : rows_) {
    for (std::size_t i = 0; i < r.size(); ++i) out += (i ? "," : "") + r[i];
    out += '\n';
  }
  return out;
}

void Table::save(const std::filesystem::path& path) const { atomic_write(path, to_csv()); }

}  // namespace rbsm::io
