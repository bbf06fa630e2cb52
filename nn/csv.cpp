#include "nn/csv.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>

#include "nn/atomic_file.h"
#include "nn/printable.h"

namespace integrad::nn {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> cells;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    cells.push_back(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return cells;
}

bool equals_lower(std::string_view s, std::string_view lower) {
  return s.size() == lower.size() && std::equal(s.begin(), s.end(), lower.begin(), [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

}  // namespace

bool csv_number(std::string_view cell, double& out) {
  std::string_view s = trim(cell);
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.front() == '+' || s.front() == '-') return false;
  if (equals_lower(s, "nan")) {
    out = std::numeric_limits<double>::quiet_NaN();
  } else if (equals_lower(s, "inf") || equals_lower(s, "infinity")) {
    out = std::numeric_limits<double>::infinity();
  } else {
    // Digits, a point, an exponent: from_chars' general format, without its nan/inf spellings (handled above).
    if (!(std::isdigit(static_cast<unsigned char>(s.front())) || s.front() == '.')) return false;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (end != s.data() + s.size()) return false;
    if (ec == std::errc::result_out_of_range) {
      // As Python: overflow is ±inf, underflow 0 (from_chars leaves out unchanged).
      const bool big = s.find_first_of("eE") != std::string_view::npos && s[s.find_first_of("eE") + 1] != '-';
      out = big ? std::numeric_limits<double>::infinity() : 0.0;
    } else if (ec != std::errc()) {
      return false;
    }
  }
  if (negative) out = -out;
  return true;
}

int64_t CsvTable::column_index(const std::string& name) const {
  const auto it = std::find(columns.begin(), columns.end(), name);
  return it == columns.end() ? -1 : int64_t(it - columns.begin());
}

bool is_csv_path(const std::string& path) {
  if (path.size() < 4) return false;
  std::string ext = path.substr(path.size() - 4);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".csv";
}

CsvTable csv_parse(std::string_view text, const std::string& name) {
  CsvTable t;
  const std::string file = printable(name);
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a UTF-8 byte-order mark
  size_t pos = 0;
  int64_t line_no = 0;
  bool header = true;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    const std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (trim(line).empty()) continue;
    const std::vector<std::string_view> cells = split(line);
    if (header) {
      std::set<std::string> seen;
      for (size_t c = 0; c < cells.size(); ++c) {
        const std::string_view cell = trim(cells[c]);
        if (cell.empty()) throw std::invalid_argument(fmt::format("{} line {}: column {} of the header has no name (the header row names every feature)", file, line_no, c + 1));
        if (cell.find('"') != std::string_view::npos || cell.find('\'') != std::string_view::npos)
          throw std::invalid_argument(fmt::format("{} line {}: column {} of the header is quoted ({}); integrad reads plain names and numbers only", file, line_no, c + 1,
                                                  printable(std::string(cell))));
        double ignored = 0;
        if (csv_number(cell, ignored))
          throw std::invalid_argument(fmt::format("{} line {}: the first row holds a number ({}) in column {}: expected a header row of feature names", file, line_no,
                                                  printable(std::string(cell)), c + 1));
        if (!seen.insert(std::string(cell)).second)
          throw std::invalid_argument(fmt::format("{} line {}: the header names column '{}' twice", file, line_no, printable(std::string(cell))));
        t.columns.emplace_back(cell);
      }
      header = false;
      continue;
    }
    if (cells.size() != t.columns.size())
      throw std::invalid_argument(fmt::format("{} line {}: {} cells, the header has {} columns", file, line_no, cells.size(), t.columns.size()));
    for (size_t c = 0; c < cells.size(); ++c) {
      double v = 0;
      if (!csv_number(cells[c], v)) {
        const std::string cell = printable(std::string(trim(cells[c])));
        const std::string why = cell.empty() ? "is empty" : cells[c].find('"') != std::string_view::npos ? fmt::format("'{}' is quoted", cell) : fmt::format("'{}' is not a number", cell);
        throw std::invalid_argument(fmt::format("{} line {} (example {}), column {} '{}': {} (numbers only: 1.5, -2e3, nan, inf)", file, line_no, t.rows, c + 1,
                                                t.columns[c], why));
      }
      t.values.push_back(v);
    }
    ++t.rows;
  }
  if (header) throw std::invalid_argument(fmt::format("{} is empty: expected a header row of feature names, then one example a row", file));
  return t;
}

CsvTable csv_read(const std::string& path) {
  record_input(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: no such file or not readable", printable(path)));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return csv_parse(buffer.str(), path);
}

template <ad::Scalar T>
ad::Tensor<T> csv_features(const CsvTable& table, const std::string& except, std::vector<std::string>* names) {
  std::vector<size_t> keep;
  for (size_t c = 0; c < table.columns.size(); ++c)
    if (except.empty() || table.columns[c] != except) keep.push_back(c);
  ad::Tensor<T> x(ad::Shape{table.rows, int64_t(keep.size())});
  for (int64_t r = 0; r < table.rows; ++r)
    for (size_t k = 0; k < keep.size(); ++k) x[r * int64_t(keep.size()) + int64_t(k)] = T(table.values[size_t(r) * table.columns.size() + keep[k]]);
  if (names) {
    names->clear();
    for (size_t c : keep) names->push_back(table.columns[c]);
  }
  return x;
}

std::vector<int64_t> csv_labels(const CsvTable& table, const std::string& name, const std::string& file) {
  const int64_t c = table.column_index(name);
  if (c < 0)
    throw std::invalid_argument(fmt::format("{} has no column '{}' (--labels-column); its columns: {}", printable(file), printable(name), fmt::join(table.columns, ", ")));
  std::vector<int64_t> labels(size_t(table.rows));
  for (int64_t r = 0; r < table.rows; ++r) {
    const double v = table.values[size_t(r) * table.columns.size() + size_t(c)];
    if (!(v >= 0 && v < 1e15 && v == std::floor(v)))
      throw std::invalid_argument(fmt::format("{} example {}, column '{}': label {} is not a class index (a whole number >= 0)", printable(file), r, name, v));
    labels[size_t(r)] = int64_t(v);
  }
  return labels;
}

template <ad::Scalar T>
void csv_write(const std::string& path, const std::vector<std::string>& names, const T* values, int64_t rows) {
  for (const auto& n : names)
    if (n.empty() || n.find_first_of(",\"'\n\r") != std::string::npos)
      throw std::invalid_argument(fmt::format("{}: column name '{}' cannot be written to a .csv header", printable(path), printable(n)));
  std::string text = fmt::format("{}\n", fmt::join(names, ","));
  const size_t cols = names.size();
  for (int64_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < cols; ++c) {
      const T v = values[size_t(r) * cols + c];
      text += std::isnan(v) ? std::string("nan") : fmt::format("{}", v);
      text += c + 1 < cols ? ',' : '\n';
    }
  write_file_atomically(path, text);
}

template void csv_write<float>(const std::string&, const std::vector<std::string>&, const float*, int64_t);
template void csv_write<double>(const std::string&, const std::vector<std::string>&, const double*, int64_t);
template ad::Tensor<float> csv_features<float>(const CsvTable&, const std::string&, std::vector<std::string>*);
template ad::Tensor<double> csv_features<double>(const CsvTable&, const std::string&, std::vector<std::string>*);

}  // namespace integrad::nn
