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

// Where a file's data lies: its header checked as npy_parse checks it, the data not copied.
struct NpyLayout {
  std::string dtype;
  ad::Shape shape;
  bool fortran_order = false;
  size_t data_start = 0;
};
NpyLayout npy_layout(std::string_view bytes, const std::string& name_for_errors);
NpyArray npy_parse(std::string_view bytes, const std::string& name_for_errors);
NpyArray npy_read(const std::string& path);
template <ad::Scalar T>
ad::Tensor<T> npy_to_tensor(const NpyArray& array, const std::string& path_for_errors);
// The whole array. The file is memory-mapped and converted straight into the tensor, so reading
// costs the tensor's memory and not two more copies of the file.
template <ad::Scalar T>
ad::Tensor<T> npy_read_tensor(const std::string& path);
// Rows [begin, end) of the first dimension (end clamped to its size), read from a memory map of the
// file: only those rows' pages are touched (--shard, large inputs). whole_shape: the file's shape.
template <ad::Scalar T>
ad::Tensor<T> npy_read_rows(const std::string& path, int64_t begin, int64_t end, ad::Shape* whole_shape = nullptr);
// Integer labels (any integer dtype, or floats that hold exact integers).
std::vector<int64_t> npy_read_labels(const std::string& path, ad::Shape* shape_out = nullptr);

template <ad::Scalar T>
void npy_write(const std::string& path, const ad::Tensor<T>& tensor);
// The bytes of the .npy file npy_write writes (an .npz member).
template <ad::Scalar T>
std::string npy_bytes(const ad::Tensor<T>& tensor);
// An array as read (any dtype npy_read accepts, C order), written back unchanged: merge joins shards with it.
void npy_write_array(const std::string& path, const NpyArray& array);
void npy_write_labels(const std::string& path, std::span<const int64_t> labels, ad::Shape shape);

}  // namespace integrad::nn
