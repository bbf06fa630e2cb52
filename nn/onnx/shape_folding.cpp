#include "nn/onnx/shape_folding.h"

#include <fmt/format.h>

namespace integrad::nn::onnx_in {

std::vector<int64_t> strides_of(const std::vector<int64_t>& dims) {
  std::vector<int64_t> s(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;) s[i - 1] = s[i] * dims[i];
  return s;
}

Value pick(const Value& src, const std::vector<int64_t>& dims, const std::vector<int64_t>& from) {
  Value v;
  v.integer = src.integer;
  v.shape = fixed_syms(dims);
  for (int64_t i : from) {
    if (src.integer) v.ints.push_back(src.ints.at(i));
    else v.real.push_back(src.real.at(i));
  }
  return v;
}

int64_t normalise_axis(int64_t axis, int64_t rank, const std::string& what) {
  if (axis < -rank || axis >= rank) throw std::invalid_argument(fmt::format("{} {} is out of range for rank {}", what, axis, rank));
  return axis < 0 ? axis + rank : axis;
}

Value int_arithmetic(const std::string& op, const Value& a, const Value& b) {
  if (!a.fixed_shape() || !b.fixed_shape()) throw std::invalid_argument("integer arithmetic on a tensor whose shape depends on the batch");
  const int64_t na = a.count(), nb = b.count();
  if (na != nb && na != 1 && nb != 1) throw std::invalid_argument("integer arithmetic broadcasts only a scalar");
  Value v;
  v.integer = true;
  v.shape = na >= nb ? a.shape : b.shape;
  for (int64_t i = 0; i < std::max(na, nb); ++i) {
    const Sym x = a.ints[na == 1 ? 0 : i], y = b.ints[nb == 1 ? 0 : i];
    Sym r;
    if (op == "Add") r = {x.n + y.n, x.c + y.c};
    else if (op == "Sub") r = {x.n - y.n, x.c - y.c};
    else if (op == "Mul") {
      if (!x.fixed() && !y.fixed()) throw std::invalid_argument("shape arithmetic multiplies the batch by itself");
      r = x.fixed() ? Sym{y.n * x.c, y.c * x.c} : Sym{x.n * y.c, x.c * y.c};
    } else {  // Div
      if (!y.fixed() || y.c == 0) throw std::invalid_argument("shape arithmetic divides by the batch or by zero");
      if (!x.fixed() && (x.n % y.c != 0 || x.c % y.c != 0)) throw std::invalid_argument("shape arithmetic divides the batch unevenly");
      r = {x.n / y.c, x.c / y.c};
    }
    v.ints.push_back(r);
  }
  return v;
}

Value shape_of(const Value& v, int64_t start, int64_t end) {
  const int64_t rank = static_cast<int64_t>(v.shape.size());
  start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
  end = std::clamp<int64_t>(end < 0 ? end + rank : end, 0, rank);
  Value s;
  s.integer = true;
  for (int64_t i = start; i < end; ++i) s.ints.push_back(v.shape[i]);
  s.shape = {{0, static_cast<int64_t>(s.ints.size())}};
  return s;
}

}  // namespace integrad::nn::onnx_in
