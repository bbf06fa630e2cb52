// Tensor<T>: an owning, contiguous, row-major N-d array of float or double. Parameters, data sets
// and results live in Tensors; values on the tape live in the tape's arena and are read through
// Var (tape.h), which can be copied out into a Tensor.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "autodiff/rng.h"
#include "autodiff/shape.h"

namespace integrad::ad {

template <class T>
concept Scalar = std::is_same_v<T, float> || std::is_same_v<T, double>;

template <Scalar T>
class Tensor {
 public:
  using value_type = T;

  // An empty tensor: shape [0] (a default Shape would be a 0-d scalar with one element).
  Tensor() : shape_{0} {}
  explicit Tensor(Shape shape, T fill = T(0)) : shape_(shape), data_(static_cast<size_t>(shape.numel()), fill) {}
  Tensor(Shape shape, std::vector<T> data) : shape_(shape), data_(std::move(data)) {
    if (static_cast<int64_t>(data_.size()) != shape_.numel())
      throw std::invalid_argument("Tensor: " + std::to_string(data_.size()) + " values for shape " + shape_.str());
  }
  Tensor(Shape shape, std::span<const T> data) : Tensor(shape, std::vector<T>(data.begin(), data.end())) {}

  static Tensor zeros(Shape shape) { return Tensor(shape, T(0)); }
  static Tensor ones(Shape shape) { return Tensor(shape, T(1)); }
  static Tensor full(Shape shape, T value) { return Tensor(shape, value); }
  static Tensor arange(int64_t n, T start = T(0), T step = T(1)) {
    Tensor t(Shape{n});
    for (int64_t i = 0; i < n; ++i) t.data_[static_cast<size_t>(i)] = start + step * static_cast<T>(i);
    return t;
  }
  static Tensor uniform(Shape shape, Rng& rng, double lo = 0.0, double hi = 1.0) {
    Tensor t(shape);
    for (T& v : t.data_) v = static_cast<T>(rng.uniform(lo, hi));
    return t;
  }
  static Tensor normal(Shape shape, Rng& rng, double mean = 0.0, double stdev = 1.0) {
    Tensor t(shape);
    for (T& v : t.data_) v = static_cast<T>(mean + stdev * rng.normal());
    return t;
  }

  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  int64_t size(int dim) const { return shape_[shape_.axis(dim)]; }
  int64_t numel() const { return shape_.numel(); }
  T* data() { return data_.data(); }
  const T* data() const { return data_.data(); }
  std::span<T> span() { return data_; }
  std::span<const T> span() const { return data_; }
  const std::vector<T>& vector() const { return data_; }

  T& operator[](int64_t flat) { return data_[static_cast<size_t>(flat)]; }
  T operator[](int64_t flat) const { return data_[static_cast<size_t>(flat)]; }
  T& at(std::initializer_list<int64_t> index) { return data_[static_cast<size_t>(offset(index))]; }
  T at(std::initializer_list<int64_t> index) const { return data_[static_cast<size_t>(offset(index))]; }

  // Same data, new shape with the same number of elements.
  Tensor reshaped(Shape shape) const {
    if (shape.numel() != numel()) throw std::invalid_argument("reshape " + shape_.str() + " to " + shape.str());
    return Tensor(shape, data_);
  }
  void fill(T value) { std::fill(data_.begin(), data_.end(), value); }
  // A copy of rows [begin, end) of the first dimension (end clamped to the size).
  Tensor rows(int64_t begin, int64_t end) const {
    end = std::min(end, size(0));
    if (begin < 0 || begin > end) throw std::invalid_argument("rows [" + std::to_string(begin) + ", " + std::to_string(end) + ") of " + shape_.str());
    const int64_t row = shape_.stride(0);
    return Tensor(shape_.with(0, end - begin), std::span<const T>(data_.data() + begin * row, static_cast<size_t>((end - begin) * row)));
  }

  template <Scalar U>
  Tensor<U> to() const {
    std::vector<U> out(data_.begin(), data_.end());
    return Tensor<U>(shape_, std::move(out));
  }

 private:
  int64_t offset(std::initializer_list<int64_t> index) const {
    if (static_cast<int>(index.size()) != shape_.rank())
      throw std::invalid_argument("Tensor::at: index rank does not match shape " + shape_.str());
    int64_t off = 0;
    int d = 0;
    for (int64_t i : index) {
      if (i < 0 || i >= shape_[d]) throw std::out_of_range("Tensor::at: index out of range for shape " + shape_.str());
      off = off * shape_[d++] + i;
    }
    return off;
  }

  Shape shape_;
  std::vector<T> data_;
};

// Per row of the first dimension: the sum, in double and in index order.
template <Scalar T>
std::vector<double> row_sums(const Tensor<T>& t) {
  const int64_t n = t.rank() ? t.size(0) : 0, row = n ? t.numel() / n : 0;
  std::vector<double> sums(static_cast<size_t>(n), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < row; ++j) sums[static_cast<size_t>(i)] += double(t[i * row + j]);
  return sums;
}

// Per row of the first dimension: the index of the largest value, the first of equals; a NaN
// counts as larger than any number, as in torch.argmax.
template <Scalar T>
std::vector<int64_t> row_argmax(const Tensor<T>& t) {
  const int64_t n = t.rank() ? t.size(0) : 0, row = n ? t.numel() / n : 0;
  std::vector<int64_t> best(static_cast<size_t>(n), 0);
  for (int64_t i = 0; i < n; ++i) {
    const T* r = t.data() + i * row;
    for (int64_t j = 1; j < row && r[best[size_t(i)]] == r[best[size_t(i)]]; ++j)
      if (r[j] > r[best[size_t(i)]] || r[j] != r[j]) best[size_t(i)] = j;
  }
  return best;
}

}  // namespace integrad::ad
