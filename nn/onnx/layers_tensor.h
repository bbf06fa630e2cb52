// ONNX's tensor plumbing as layers, over whole tensors (the batch where the graph put it):
// OnnxMatMul, OnnxReshape (also Squeeze, Unsqueeze and Flatten off the batch), OnnxTranspose,
// OnnxSlice, OnnxGather (constant indices), OnnxConcat and OnnxReduceMean.
#pragma once

#include "nn/onnx/layer_base.h"

namespace integrad::nn {

// numpy.matmul: [..., m, k]·[..., k, n]; the leading dimensions of one side may be absent.
template <ad::Scalar T>
ad::Var<T> onnx_matmul(ad::Var<T> a, ad::Var<T> b) {
  const ad::Shape sa = a.shape(), sb = b.shape();
  if (sa.rank() >= 2 && sb.rank() == 2) {  // a stack of rows times one matrix: one 2-D product
    std::vector<int64_t> o = sa.vec();
    o.back() = sb[1];
    return ad::reshape(ad::matmul(ad::reshape(a, ad::Shape{sa.numel() / sa[sa.rank() - 1], sa[sa.rank() - 1]}), b), ad::Shape(o));
  }
  if (sa.rank() == sb.rank() && sa.rank() >= 3) {  // batched: fold the leading dimensions into one
    int64_t lead = 1;
    for (int i = 0; i < sa.rank() - 2; ++i) {
      if (sa[i] != sb[i]) throw std::invalid_argument(fmt::format("MatMul of {} and {}: broadcast leading dimensions are not supported", sa.str(), sb.str()));
      lead *= sa[i];
    }
    const int r = sa.rank();
    std::vector<int64_t> o = sa.vec();
    o[r - 1] = sb[r - 1];
    ad::Var<T> y = ad::matmul(ad::reshape(a, ad::Shape{lead, sa[r - 2], sa[r - 1]}), ad::reshape(b, ad::Shape{lead, sb[r - 2], sb[r - 1]}));
    return ad::reshape(y, ad::Shape(o));
  }
  if (sa.rank() == 2 && sb.rank() == 2) return ad::matmul(a, b);
  throw std::invalid_argument(fmt::format("MatMul of {} and {} is not supported", sa.str(), sb.str()));
}

template <ad::Scalar T>
struct OnnxMatMul : OnnxLayer<T> {
  std::string kind() const override { return "OnnxMatMul"; }
  std::string architecture() const override { return fmt::format("OnnxMatMul({})", this->common_text()); }
  ad::Var<T> compute(std::span<const ad::Var<T>> v) const override { return onnx_matmul(v[0], v[1]); }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<OnnxMatMul>(*this); }
};

// The target shape may hold the batch N, found at run time in the input's dimension `batch_axis`
// divided by `batch_multiple`.
template <ad::Scalar T>
struct OnnxReshape : OnnxLayer<T> {
  std::vector<onnx_text::Sym> target;
  int batch_axis = -1;
  int64_t batch_multiple = 1;
  std::string kind() const override { return "OnnxReshape"; }
  std::string architecture() const override {
    return fmt::format("OnnxReshape({}, {}, {}, {})", onnx_text::syms_text(target), batch_axis, batch_multiple, this->common_text());
  }
  ad::Var<T> compute(std::span<const ad::Var<T>> v) const override {
    const int64_t n = batch_of(v[0].shape(), batch_axis, batch_multiple);
    std::vector<int64_t> dims;
    int64_t known = 1;
    int free = -1;
    for (size_t i = 0; i < target.size(); ++i) {
      dims.push_back(target[i].at(n));
      if (dims.back() == -1) free = static_cast<int>(i);
      else known *= dims.back();
    }
    if (free >= 0) dims[free] = known == 0 ? 0 : v[0].numel() / known;
    return ad::reshape(v[0], ad::Shape(dims));
  }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<OnnxReshape>(*this); }
};

template <ad::Scalar T>
struct OnnxTranspose : OnnxLayer<T> {
  std::vector<int64_t> perm;
  std::string kind() const override { return "OnnxTranspose"; }
  std::string architecture() const override { return fmt::format("OnnxTranspose({}, {})", onnx_text::ints_text(perm), this->common_text()); }
  ad::Var<T> compute(std::span<const ad::Var<T>> v) const override {
    std::vector<int> p(perm.begin(), perm.end());
    return ad::permute(v[0], std::span<const int>(p));
  }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<OnnxTranspose>(*this); }
};

// Slices [start, end) along each axis, step 1, the bounds already clamped by the reader.
template <ad::Scalar T>
struct OnnxSlice : OnnxLayer<T> {
  std::vector<int64_t> axes, starts, ends;
  std::string kind() const override { return "OnnxSlice"; }
  std::string architecture() const override {
    return fmt::format("OnnxSlice({}, {}, {}, {})", onnx_text::ints_text(axes), onnx_text::ints_text(starts), onnx_text::ints_text(ends), this->common_text());
  }
  ad::Var<T> compute(std::span<const ad::Var<T>> v) const override {
    ad::Var<T> x = v[0];
    for (size_t i = 0; i < axes.size(); ++i) x = ad::slice(x, static_cast<int>(axes[i]), starts[i], ends[i]);
    return x;
  }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<OnnxSlice>(*this); }
};

// Gather along an axis at constant indices; a scalar index removes the axis.
template <ad::Scalar T>
struct OnnxGather : OnnxLayer<T> {
  int64_t axis = 0;
  std::vector<int64_t> indices;
  bool scalar = false;
  std::string kind() const override { return "OnnxGather"; }
  std::string architecture() const override {
    return fmt::format("OnnxGather({}, {}, {}, {})", axis, onnx_text::ints_text(indices), scalar ? "True" : "False", this->common_text());
  }
  ad::Var<T> compute(std::span<const ad::Var<T>> v) const override {
    ad::Var<T> y = ad::index_select(v[0], static_cast<int>(axis), std::span<const int64_t>(indices));
    if (!scalar) return y;
    std::vector<int64_t> dims = y.shape().vec();
    dims.erase(dims.begin() + axis);
    return ad::reshape(y, ad::Shape(dims));
  }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<OnnxGather>(*this); }
};

template <ad::Scalar T>
struct OnnxConcat : OnnxLayer<T> {
  int64_t axis = 0;
  std::string kind() const override { return "OnnxConcat"; }
  std::string architecture() const override { return fmt::format("OnnxConcat({}, {})", axis, this->common_text()); }
  ad::Var<T> compute(std::span<const ad::Var<T>> v) const override { return ad::concat(v, static_cast<int>(axis)); }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<OnnxConcat>(*this); }
};

template <ad::Scalar T>
struct OnnxReduceMean : OnnxLayer<T> {
  std::vector<int64_t> axes;  // ascending, non-negative
  bool keepdims = true;
  std::string kind() const override { return "OnnxReduceMean"; }
  std::string architecture() const override {
    return fmt::format("OnnxReduceMean({}, {}, {})", onnx_text::ints_text(axes), keepdims ? "True" : "False", this->common_text());
  }
  ad::Var<T> compute(std::span<const ad::Var<T>> v) const override {
    ad::Var<T> x = v[0];
    for (size_t i = axes.size(); i-- > 0;) x = ad::mean(x, static_cast<int>(axes[i]), keepdims);
    return x;
  }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<OnnxReduceMean>(*this); }
};

namespace detail {
template <class L, ad::Scalar T, class Fill>
LayerType<T> onnx_layer_type(std::string name, std::vector<std::string> own, size_t reads_min, Fill fill) {
  return {name, OnnxLayer<T>::common_arguments(own), [reads_min, fill](const LayerArgs& a) -> std::unique_ptr<Layer<T>> {
            auto l = std::make_unique<L>();
            l->parse_common(a);
            if (l->operands.size() < reads_min) a.fail(fmt::format("needs at least {} operands", reads_min));
            fill(*l, a);
            return l;
          }};
}
inline int64_t axis_arg(const LayerArgs& a, const std::string& key) {
  const int64_t v = a.integer(key);
  if (v < 0 || v > 5) a.fail("'" + key + "' must be in [0, 5]");
  return v;
}
}  // namespace detail

template <ad::Scalar T>
LayerType<T> onnx_matmul_layer_type() {
  return detail::onnx_layer_type<OnnxMatMul<T>, T>("OnnxMatMul", {}, 2, [](OnnxMatMul<T>&, const LayerArgs&) {});
}
template <ad::Scalar T>
LayerType<T> onnx_reshape_layer_type() {
  return detail::onnx_layer_type<OnnxReshape<T>, T>("OnnxReshape", {"shape", "batch_axis", "batch_multiple"}, 1, [](OnnxReshape<T>& l, const LayerArgs& a) {
    l.target = onnx_text::parse_syms(a, a.word("shape", "-"));
    if (l.target.size() > 6) a.fail("more than 6 dimensions");
    l.batch_axis = static_cast<int>(a.integer("batch_axis", -1));
    l.batch_multiple = a.positive("batch_multiple", 1);
  });
}
template <ad::Scalar T>
LayerType<T> onnx_transpose_layer_type() {
  return detail::onnx_layer_type<OnnxTranspose<T>, T>("OnnxTranspose", {"perm"}, 1, [](OnnxTranspose<T>& l, const LayerArgs& a) {
    l.perm = onnx_text::parse_ints(a, a.word("perm", "-"));
    std::vector<int64_t> sorted = l.perm;
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < sorted.size(); ++i)
      if (sorted[i] != static_cast<int64_t>(i)) a.fail("'perm' must be a permutation of 0..rank-1");
  });
}
template <ad::Scalar T>
LayerType<T> onnx_slice_layer_type() {
  return detail::onnx_layer_type<OnnxSlice<T>, T>("OnnxSlice", {"axes", "starts", "ends"}, 1, [](OnnxSlice<T>& l, const LayerArgs& a) {
    l.axes = onnx_text::parse_ints(a, a.word("axes", "-"));
    l.starts = onnx_text::parse_ints(a, a.word("starts", "-"));
    l.ends = onnx_text::parse_ints(a, a.word("ends", "-"));
    if (l.starts.size() != l.axes.size() || l.ends.size() != l.axes.size()) a.fail("'axes', 'starts' and 'ends' must have one entry each per axis");
    for (size_t i = 0; i < l.axes.size(); ++i)
      if (l.axes[i] < 0 || l.axes[i] > 5 || l.starts[i] < 0 || l.ends[i] < l.starts[i]) a.fail("a slice is out of range");
  });
}
template <ad::Scalar T>
LayerType<T> onnx_gather_layer_type() {
  return detail::onnx_layer_type<OnnxGather<T>, T>("OnnxGather", {"axis", "indices", "scalar"}, 1, [](OnnxGather<T>& l, const LayerArgs& a) {
    l.axis = detail::axis_arg(a, "axis");
    l.indices = onnx_text::parse_ints(a, a.word("indices", "-"));
    l.scalar = a.boolean("scalar", false);
    for (int64_t i : l.indices)
      if (i < 0) a.fail("'indices' must be non-negative");
    if (l.scalar && l.indices.size() != 1) a.fail("a scalar gather takes one index");
  });
}
template <ad::Scalar T>
LayerType<T> onnx_concat_layer_type() {
  return detail::onnx_layer_type<OnnxConcat<T>, T>("OnnxConcat", {"axis"}, 1, [](OnnxConcat<T>& l, const LayerArgs& a) { l.axis = detail::axis_arg(a, "axis"); });
}
template <ad::Scalar T>
LayerType<T> onnx_reduce_mean_layer_type() {
  return detail::onnx_layer_type<OnnxReduceMean<T>, T>("OnnxReduceMean", {"axes", "keepdims"}, 1, [](OnnxReduceMean<T>& l, const LayerArgs& a) {
    l.axes = onnx_text::parse_ints(a, a.word("axes", "-"));
    l.keepdims = a.boolean("keepdims", true);
    for (size_t i = 0; i < l.axes.size(); ++i)
      if (l.axes[i] < 0 || l.axes[i] > 5 || (i > 0 && l.axes[i] <= l.axes[i - 1])) a.fail("'axes' must be ascending in [0, 5]");
  });
}

}  // namespace integrad::nn
