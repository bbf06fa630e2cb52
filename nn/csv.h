// Tabular data as .csv (interfaces.md, "Tabular data"): a header row of feature names, then one
// example a row, numbers only. Numbers read as numpy does (Python's float()): surrounding spaces,
// a sign, decimals and exponents, and nan / inf / infinity in any case. Anything else — an empty
// cell, a quoted field, text, a row with another number of cells than the header — is refused
// with the file, the line, the column's number and name, and the cell. Blank lines are skipped
// (as numpy.loadtxt does); \r\n line ends are accepted.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "autodiff/tensor.h"

namespace integrad::nn {

struct CsvTable {
  std::vector<std::string> columns;  // the header's names, in order
  std::vector<double> values;        // row-major, rows × columns.size()
  int64_t rows = 0;

  int64_t column_index(const std::string& name) const;  // -1 if absent
};

bool is_csv_path(const std::string& path);

// `name` is the file's name in error messages.
CsvTable csv_parse(std::string_view text, const std::string& name);
CsvTable csv_read(const std::string& path);

// The columns other than `except` (none if empty) as a tensor [rows, columns], and their names.
template <ad::Scalar T>
ad::Tensor<T> csv_features(const CsvTable& table, const std::string& except = "", std::vector<std::string>* names = nullptr);

// Column `name` as class labels: whole numbers ≥ 0, else refused naming the line.
std::vector<int64_t> csv_labels(const CsvTable& table, const std::string& name, const std::string& file);

// Writes [rows, names.size()] values (row-major) under a header of `names`, each number in its
// shortest form that reads back to the same value (nan, inf, -inf as such); whole file or nothing.
template <ad::Scalar T>
void csv_write(const std::string& path, const std::vector<std::string>& names, const T* values, int64_t rows);

// One cell as numpy reads a float; false if it is not a number.
bool csv_number(std::string_view cell, double& out);

}  // namespace integrad::nn
