// Shape: the dimensions of a contiguous row-major tensor, held inline (no heap) so that shapes can
// be captured by value in backward closures that live in the tape's arena.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace integrad::ad {

class Shape {
 public:
  static constexpr int kMaxRank = 6;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) : Shape(std::span<const int64_t>(dims.begin(), dims.size())) {}
  explicit Shape(std::span<const int64_t> dims) {
    if (dims.size() > kMaxRank) throw std::invalid_argument("Shape: rank above " + std::to_string(kMaxRank));
    for (int64_t d : dims) {
      if (d < 0) throw std::invalid_argument("Shape: negative dimension");
      dims_[rank_++] = d;
    }
  }
  explicit Shape(const std::vector<int64_t>& dims) : Shape(std::span<const int64_t>(dims)) {}

  int rank() const { return rank_; }
  int64_t operator[](int i) const { return dims_[static_cast<size_t>(i)]; }
  int64_t& operator[](int i) { return dims_[static_cast<size_t>(i)]; }
  // Python-style index: -1 is the last dimension.
  int axis(int dim) const {
    int a = dim < 0 ? dim + rank_ : dim;
    if (a < 0 || a >= rank_) throw std::invalid_argument("dimension " + std::to_string(dim) + " out of range for shape " + str());
    return a;
  }
  // Checked: a size computed from user input ([2^61, 1, 28, 28]) must not wrap around into a
  // small allocation that is then written past.
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < rank_; ++i)
      if (__builtin_mul_overflow(n, dims_[static_cast<size_t>(i)], &n)) throw std::length_error("shape " + str() + " holds more than 2^63 elements");
    return n;
  }
  // Number of elements after dimension `dim` (the stride of `dim` in row-major order).
  int64_t stride(int dim) const {
    int64_t s = 1;
    for (int i = dim + 1; i < rank_; ++i) s *= dims_[static_cast<size_t>(i)];
    return s;
  }
  std::vector<int64_t> vec() const { return {dims_.begin(), dims_.begin() + rank_}; }
  std::span<const int64_t> dims() const { return {dims_.data(), static_cast<size_t>(rank_)}; }

  Shape with(int dim, int64_t size) const {
    Shape s = *this;
    s.dims_[static_cast<size_t>(axis(dim))] = size;
    return s;
  }
  Shape without(int dim) const {
    int a = axis(dim);
    Shape s;
    for (int i = 0; i < rank_; ++i)
      if (i != a) s.dims_[static_cast<size_t>(s.rank_++)] = dims_[static_cast<size_t>(i)];
    return s;
  }

  bool operator==(const Shape& o) const {
    if (rank_ != o.rank_) return false;
    for (int i = 0; i < rank_; ++i)
      if (dims_[static_cast<size_t>(i)] != o.dims_[static_cast<size_t>(i)]) return false;
    return true;
  }

  std::string str() const {
    std::string s = "[";
    for (int i = 0; i < rank_; ++i) s += (i ? ", " : "") + std::to_string(dims_[static_cast<size_t>(i)]);
    return s + "]";
  }

 private:
  std::array<int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

// NumPy broadcasting: align trailing dimensions; each pair must be equal or contain a 1.
inline Shape broadcast_shapes(const Shape& a, const Shape& b) {
  int rank = std::max(a.rank(), b.rank());
  std::vector<int64_t> out(static_cast<size_t>(rank));
  for (int i = 0; i < rank; ++i) {
    int ia = a.rank() - rank + i, ib = b.rank() - rank + i;
    int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1)
      throw std::invalid_argument("cannot broadcast shapes " + a.str() + " and " + b.str());
    out[static_cast<size_t>(i)] = da == 1 ? db : da;
  }
  return Shape(out);
}

}  // namespace integrad::ad
