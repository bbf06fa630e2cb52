// NumPy .npy arrays (format versions 1.0, 2.0 and 3.0): inputs, labels, baselines, logits and
// attributions travel in them. Numeric dtypes of either byte order are read; Fortran-order arrays
// are reordered to C order; everything else is refused with a message naming the file.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "autodiff/tensor.h"

namespace integrad::nn {

struct NpyArray {
  std::string dtype;  // as in the header, e.g. "<f4", ">i8", "|u1"
  ad::Shape shape;
  std::string data;   // raw bytes as stored in the file (C order after reading)
};

NpyArray npy_parse(std::string_view bytes, const std::string& name_for_errors);
NpyArray npy_read(const std::string& path);
template <ad::Scalar T>
ad::Tensor<T> npy_to_tensor(const NpyArray& array, const std::string& path_for_errors);
template <ad::Scalar T>
ad::Tensor<T> npy_read_tensor(const std::string& path);
// Integer labels (any integer dtype, or floats that hold exact integers).
std::vector<int64_t> npy_read_labels(const std::string& path, ad::Shape* shape_out = nullptr);

template <ad::Scalar T>
void npy_write(const std::string& path, const ad::Tensor<T>& tensor);
void npy_write_labels(const std::string& path, std::span<const int64_t> labels, ad::Shape shape);

}  // namespace integrad::nn
