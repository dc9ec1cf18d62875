#include "rbsm/io/table.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"

namespace rbsm::io {

std::vector<std::vector<double>> read_csv_numbers(const std::filesystem::path& path) {
  std::vector<std::vector<double>> rows;
  std::istringstream in(read_file(path));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<double> row;
    std::istringstream cells(line);
    std::string cell;
    while (std::getline(cells, cell, ',')) row.push_back(std::strtod(cell.c_str(), nullptr));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string format_double(double v) { return format_double(v, 17); }

std::string format_double(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
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

// RFC 4180: a cell with a comma, quote or line break is quoted, its quotes doubled ("torus:3,1").
static std::string csv_cell(const std::string& cell) {
  if (cell.find_first_of(",\"\n\r") == std::string::npos) return cell;
  std::string out = "\"";
  for (char c : cell) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string Table::to_csv() const {
  std::string out;
  for (std::size_t i = 0; i < columns_.size(); ++i) out += (i ? "," : "") + csv_cell(columns_[i]);
  out += '\n';
  for (const auto& r : rows_) {
    for (std::size_t i = 0; i < r.size(); ++i) out += (i ? "," : "") + csv_cell(r[i]);
    out += '\n';
  }
  return out;
}

void Table::save(const std::filesystem::path& path) const { atomic_write(path, to_csv()); }

}  // namespace rbsm::io
