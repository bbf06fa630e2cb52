// Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat, Slice, Gather, Expand: on constants they
// are folded now (shape arithmetic), on computed values they become layers over whole tensors.
#include <fmt/format.h>

#include <numeric>

#include "nn/layers_embedding.h"
#include "nn/layers_shape.h"
#include "nn/onnx/converters.h"
#include "nn/onnx/layers_tensor.h"
#include "nn/onnx/shape_folding.h"

namespace integrad::nn::onnx_in {

std::pair<int, int64_t> batch_position(const Value& v) {
  for (size_t i = 0; i < v.shape.size(); ++i)
    if (!v.shape[i].fixed()) return {static_cast<int>(i), v.shape[i].n};
  return {-1, 1};
}

Value reshape_runtime(Builder& b, const onnx::NodeProto& node, const Value& x, const std::vector<Sym>& target, const std::string& suffix) {
  auto layer = std::make_unique<OnnxReshape<double>>();
  layer->target = target;
  std::tie(layer->batch_axis, layer->batch_multiple) = batch_position(x);
  if (layer->batch_multiple < 1) b.fail(node, "reshapes a value whose batch dimension it cannot find");
  return b.add_onnx_layer(node, std::move(layer), {&x}, target, suffix);
}

namespace {

// The full shape after a reshape to `want` (0 copies, −1 infers), as n·N + c where it can be known.
std::vector<Sym> resolve(Builder& b, const onnx::NodeProto& node, const Value& x, std::vector<Sym> want) {
  int free = -1;
  Sym total{0, 1}, known{0, 1};
  bool batch_total = false;
  for (Sym s : x.shape) {
    if (!s.fixed()) {
      if (batch_total) b.fail(node, "reshapes a value with the batch in two dimensions");
      batch_total = true;
      total = {total.c * s.n, total.c * s.c};
    } else total = {total.n * s.c, total.c * s.c};
  }
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] == Sym{0, 0} && i < x.shape.size()) want[i] = x.shape[i];
    if (want[i] == Sym{0, -1}) {
      if (free >= 0) b.fail(node, "has two -1 dimensions");
      free = static_cast<int>(i);
      continue;
    }
    const Sym s = want[i];
    if (!s.fixed() && !known.fixed()) b.fail(node, "has the batch in two target dimensions");
    if (s.fixed() && s.c < 0) b.fail(node, fmt::format("has dimension {}", s.c));
    known = s.fixed() ? Sym{known.n * s.c, known.c * s.c} : Sym{s.n * known.c, s.c * known.c};
  }
  if (free >= 0) {
    // total / known: both n·N + c; the quotient must be a fixed number or a multiple of N.
    if (known.fixed() && known.c > 0 && total.n % known.c == 0 && total.c % known.c == 0) want[free] = {total.n / known.c, total.c / known.c};
    else if (!known.fixed() && known.c == 0 && total.c == 0 && total.n % known.n == 0) want[free] = {0, total.n / known.n};
    else b.fail(node, fmt::format("cannot infer its -1 dimension from {} to {}", onnx_text::syms_text(x.shape), onnx_text::syms_text(want)));
  } else if (!(known == total)) {
    b.fail(node, fmt::format("reshapes {} to {}, which holds a different number of values", onnx_text::syms_text(x.shape), onnx_text::syms_text(want)));
  }
  return want;
}

// A constant reshaped (any type): the values in the same order.
Value reshape_constant(const Value& x, const std::vector<Sym>& shape) {
  Value v = x;
  v.shape = shape;
  v.initializer.clear();
  return v;
}

void reshape_to(Builder& b, const onnx::NodeProto& node, const Value& x, const std::vector<Sym>& want) {
  const std::vector<Sym> target = resolve(b, node, x, want);
  if (x.runtime()) b.set_output(node, reshape_runtime(b, node, x, target));
  else if (x.constant()) b.set_output(node, reshape_constant(x, target));
  else b.fail(node, "reshapes a constant whose shape depends on the batch");
}

std::vector<int64_t> axes_of(Builder& b, const onnx::NodeProto& node, int input) {
  // Opset 13 moved `axes` from an attribute to an input.
  if (b.has_input(node, input)) return b.constant_input(node, input).fixed_ints("axes");
  return b.attr_ints(node, "axes");
}

}  // namespace

void convert_reshape(Builder& b, const onnx::NodeProto& node) {
  b.only_attributes(node, {"allowzero"});
  if (b.attr_int(node, "allowzero", 0) != 0) b.fail(node, "uses allowzero");
  const Value& shape = b.constant_input(node, 1);
  if (!shape.integer || shape.shape.size() != 1) b.fail(node, "needs a 1-D integer shape");
  reshape_to(b, node, b.input(node, 0), shape.ints);
}

void convert_flatten(Builder& b, const onnx::NodeProto& node) {
  b.only_attributes(node, {"axis"});
  const Value& x = b.input(node, 0);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  const int64_t axis = b.attr_int(node, "axis", 1) < 0 ? b.attr_int(node, "axis", 1) + rank : b.attr_int(node, "axis", 1);
  if (axis < 0 || axis > rank) b.fail(node, "has an axis out of range");
  if (x.runtime() && axis == 1 && x.shape[0] == Sym{1, 0}) {  // PyTorch's Flatten()
    b.set_output(node, b.add_layer(node, std::make_unique<Flatten<double>>(), {x.node}, batch_first(ad::Shape{example_shape(x.shape).numel()})));
    return;
  }
  std::vector<Sym> want{{0, 1}, {0, 1}};
  for (int64_t i = 0; i < rank; ++i) want[i < axis ? 0 : 1] = {0, 0};
  // Leave the inference to resolve(): [left, -1] with left the product of the dims before axis.
  Sym left{0, 1};
  for (int64_t i = 0; i < axis; ++i) {
    const Sym s = x.shape[i];
    if (!s.fixed() && !left.fixed()) b.fail(node, "flattens the batch twice");
    left = s.fixed() ? Sym{left.n * s.c, left.c * s.c} : Sym{s.n * left.c, s.c * left.c};
  }
  reshape_to(b, node, x, {left, {0, -1}});
}

void convert_squeeze(Builder& b, const onnx::NodeProto& node) {
  const Value& x = b.input(node, 0);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  std::vector<int64_t> axes = axes_of(b, node, 1);
  for (int64_t& a : axes) a = normalise_axis(a, rank, "axis");
  std::vector<Sym> want;
  for (int64_t i = 0; i < rank; ++i) {
    const bool drop = axes.empty() ? x.shape[i] == Sym{0, 1} : std::find(axes.begin(), axes.end(), i) != axes.end();
    if (drop && !(x.shape[i] == Sym{0, 1})) b.fail(node, fmt::format("squeezes axis {} of size {}", i, onnx_text::sym_text(x.shape[i])));
    if (!drop) want.push_back(x.shape[i]);
  }
  reshape_to(b, node, x, want);
}

void convert_unsqueeze(Builder& b, const onnx::NodeProto& node) {
  const Value& x = b.input(node, 0);
  std::vector<int64_t> axes = axes_of(b, node, 1);
  const int64_t rank = static_cast<int64_t>(x.shape.size() + axes.size());
  if (rank > 6) b.fail(node, "makes more than 6 dimensions");
  for (int64_t& a : axes) a = normalise_axis(a, rank, "axis");
  std::vector<Sym> want;
  size_t k = 0;
  for (int64_t i = 0; i < rank; ++i) want.push_back(std::find(axes.begin(), axes.end(), i) != axes.end() ? Sym{0, 1} : x.shape[k++]);
  reshape_to(b, node, x, want);
}

void convert_transpose(Builder& b, const onnx::NodeProto& node) {
  b.only_attributes(node, {"perm"});
  const Value& x = b.input(node, 0);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  std::vector<int64_t> perm = b.attr_ints(node, "perm");
  if (perm.empty())
    for (int64_t i = rank; i-- > 0;) perm.push_back(i);
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < rank; ++i)
    if (static_cast<int64_t>(sorted.size()) != rank || sorted[i] != i) b.fail(node, "has a perm that is not a permutation of its input's axes");
  std::vector<Sym> shape;
  for (int64_t p : perm) shape.push_back(x.shape[p]);
  if (x.runtime()) {
    auto layer = std::make_unique<OnnxTranspose<double>>();
    layer->perm = perm;
    b.set_output(node, b.add_onnx_layer(node, std::move(layer), {&x}, shape));
    return;
  }
  if (!x.constant() || !x.fixed_shape()) b.fail(node, "transposes a constant whose shape depends on the batch");
  const std::vector<int64_t> dims = x.dims(), st = strides_of(dims);
  std::vector<int64_t> out_dims;
  for (int64_t p : perm) out_dims.push_back(dims[p]);
  const std::vector<int64_t> ost = strides_of(out_dims);
  std::vector<int64_t> from(static_cast<size_t>(x.count()));
  for (int64_t i = 0; i < x.count(); ++i) {
    int64_t src = 0;
    for (int64_t d = 0; d < rank; ++d) src += (i / ost[d]) % out_dims[d] * st[perm[d]];
    from[i] = src;
  }
  b.set_output(node, pick(x, out_dims, from));
}

void convert_concat(Builder& b, const onnx::NodeProto& node) {
  b.only_attributes(node, {"axis"});
  std::vector<const Value*> parts;
  bool runtime = false;
  for (int k = 0; k < node.input_size(); ++k) {
    parts.push_back(&b.input(node, k));
    runtime = runtime || parts.back()->runtime();
  }
  const int64_t rank = static_cast<int64_t>(parts[0]->shape.size());
  const int64_t axis = normalise_axis(b.attr_int(node, "axis", 0), rank, "axis");
  std::vector<Sym> shape = parts[0]->shape;
  shape[axis] = {0, 0};
  for (const Value* p : parts) {
    if (static_cast<int64_t>(p->shape.size()) != rank) b.fail(node, "joins values of different ranks");
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && !(p->shape[d] == parts[0]->shape[d])) b.fail(node, "joins values whose other dimensions differ");
    if (!p->shape[axis].fixed()) b.fail(node, "joins along the batch, which would mix examples");
    shape[axis] = {shape[axis].n + p->shape[axis].n, shape[axis].c + p->shape[axis].c};
  }
  if (runtime) {
    auto layer = std::make_unique<OnnxConcat<double>>();
    layer->axis = axis;
    b.set_output(node, b.add_onnx_layer(node, std::move(layer), parts, shape));
    return;
  }
  // Constants: rows of the outer dimensions, each part's block in turn.
  Value v;
  v.integer = parts[0]->integer;
  v.shape = shape;
  for (const Value* p : parts) {
    if (p->integer != v.integer || !p->constant() || !p->fixed_shape()) b.fail(node, "joins constants of different types, or of batch-dependent shape");
  }
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= parts[0]->shape[d].c;
  for (int64_t o = 0; o < outer; ++o)
    for (const Value* p : parts) {
      const int64_t block = p->count() / std::max<int64_t>(outer, 1);
      for (int64_t i = 0; i < block; ++i) {
        if (v.integer) v.ints.push_back(p->ints[o * block + i]);
        else v.real.push_back(p->real[o * block + i]);
      }
    }
  b.set_output(node, v);
}

void convert_slice(Builder& b, const onnx::NodeProto& node) {
  const Value& x = b.input(node, 0);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  const std::vector<int64_t> starts = b.constant_input(node, 1).fixed_ints("starts"), ends = b.constant_input(node, 2).fixed_ints("ends");
  std::vector<int64_t> axes = b.has_input(node, 3) ? b.constant_input(node, 3).fixed_ints("axes") : std::vector<int64_t>();
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (b.has_input(node, 4))
    for (int64_t s : b.constant_input(node, 4).fixed_ints("steps"))
      if (s != 1) b.fail(node, "has a step other than 1");
  if (starts.size() != axes.size() || ends.size() != axes.size()) b.fail(node, "has starts, ends and axes of different lengths");
  std::vector<Sym> shape = x.shape;
  std::vector<int64_t> lo(rank, 0), hi(rank);
  for (int64_t d = 0; d < rank; ++d) hi[d] = x.shape[d].c;
  auto layer = std::make_unique<OnnxSlice<double>>();
  for (size_t i = 0; i < axes.size(); ++i) {
    const int64_t a = normalise_axis(axes[i], rank, "axis");
    if (!x.shape[a].fixed()) b.fail(node, "slices along the batch");
    const int64_t n = x.shape[a].c;
    auto clamp = [&](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + n : v, 0, n); };
    lo[a] = clamp(starts[i]);
    hi[a] = std::max(lo[a], clamp(ends[i]));
    shape[a] = {0, hi[a] - lo[a]};
    layer->axes.push_back(a);
    layer->starts.push_back(lo[a]);
    layer->ends.push_back(hi[a]);
  }
  if (x.runtime()) {
    b.set_output(node, b.add_onnx_layer(node, std::move(layer), {&x}, shape));
    return;
  }
  if (!x.constant() || !x.fixed_shape()) b.fail(node, "slices a constant whose shape depends on the batch");
  const std::vector<int64_t> dims = x.dims(), st = strides_of(dims);
  std::vector<int64_t> out_dims;
  for (Sym s : shape) out_dims.push_back(s.c);
  const std::vector<int64_t> ost = strides_of(out_dims);
  int64_t count = 1;
  for (int64_t d : out_dims) count *= d;
  std::vector<int64_t> from;
  for (int64_t i = 0; i < count; ++i) {
    int64_t src = 0;
    for (int64_t d = 0; d < rank; ++d) src += ((i / ost[d]) % out_dims[d] + lo[d]) * st[d];
    from.push_back(src);
  }
  b.set_output(node, pick(x, out_dims, from));
}

void convert_gather(Builder& b, const onnx::NodeProto& node) {
  b.only_attributes(node, {"axis"});
  const Value &x = b.input(node, 0), &idx = b.input(node, 1);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  const int64_t axis = normalise_axis(b.attr_int(node, "axis", 0), rank, "axis");
  if (idx.runtime()) {
    // Token ids into an initializer table: torch.nn.Embedding.
    if (!idx.integer || !x.constant() || rank != 2 || axis != 0) b.fail(node, "gathers at computed indices other than token ids into a 2-D table");
    auto emb = std::make_unique<Embedding<double>>(x.shape[0].c, x.shape[1].c);
    emb->weight.value = b.tensor(x);
    b.note_origin(b.layer_name(node, ""), "weight", x);
    std::vector<Sym> shape = idx.shape;
    shape.push_back(x.shape[1]);
    const ad::Shape out = emb->output_shape(example_shape(idx.shape));
    if (!(idx.shape[0] == Sym{1, 0})) b.fail(node, "looks up token ids whose batch is not first");
    (void)out;
    b.set_output(node, b.add_layer(node, std::move(emb), {idx.node}, shape));
    return;
  }
  if (!idx.constant() || !idx.integer || !idx.fixed_shape()) b.fail(node, "needs constant integer indices");
  if (!x.shape[axis].fixed()) b.fail(node, "gathers along the batch");
  const int64_t n = x.shape[axis].c;
  std::vector<int64_t> indices;
  for (int64_t i : idx.fixed_ints("indices")) {
    if (i < -n || i >= n) b.fail(node, fmt::format("has index {} out of range for size {}", i, n));
    indices.push_back(i < 0 ? i + n : i);
  }
  std::vector<Sym> shape(x.shape.begin(), x.shape.begin() + axis);
  for (Sym s : idx.shape) shape.push_back(s);
  shape.insert(shape.end(), x.shape.begin() + axis + 1, x.shape.end());
  if (x.runtime()) {
    if (idx.shape.size() > 1) b.fail(node, "gathers with indices of more than one dimension");
    auto layer = std::make_unique<OnnxGather<double>>();
    layer->axis = axis;
    layer->indices = indices;
    layer->scalar = idx.shape.empty();
    b.set_output(node, b.add_onnx_layer(node, std::move(layer), {&x}, shape));
    return;
  }
  // A constant (above all a shape): pick the elements.
  if (!x.constant()) b.fail(node, "gathers from a batch-dependent fill");
  if (!x.fixed_shape()) b.fail(node, "gathers from a constant whose shape depends on the batch");
  const std::vector<int64_t> dims = x.dims(), st = strides_of(dims);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= dims[d];
  for (int64_t d = axis + 1; d < rank; ++d) inner *= dims[d];
  std::vector<int64_t> from, out_dims;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i : indices)
      for (int64_t k = 0; k < inner; ++k) from.push_back(o * n * inner + i * inner + k);
  for (Sym s : shape) out_dims.push_back(s.c);
  b.set_output(node, pick(x, out_dims, from));
}

void convert_expand(Builder& b, const onnx::NodeProto& node) {
  const Value& x = b.input(node, 0);
  const Value& shape = b.constant_input(node, 1);
  // Only the expansions that change nothing: the target shape equal to or broadcast by the input's.
  const std::vector<Sym>& want = shape.ints;
  if (want.size() > x.shape.size()) b.fail(node, "expands to more dimensions, which integrad does not do");
  for (size_t i = 0; i < want.size(); ++i) {
    const Sym have = x.shape[x.shape.size() - want.size() + i];
    if (!(want[i] == Sym{0, 1}) && !(want[i] == have)) b.fail(node, "repeats values along an axis, which integrad does not do");
  }
  b.set_output(node, x);
}

}  // namespace integrad::nn::onnx_in

namespace integrad::nn::onnx_in {

// Split of a constant, folded now: how integrad's own exporter reorders LSTM and GRU gates in the
// graph (nn/onnx/export_recurrent.cpp). Sizes from the `split` input (opset 13 on), the attribute
// (before), or equal parts. A Split of a computed value is refused.
void convert_split(Builder& b, const onnx::NodeProto& node) {
  b.only_attributes(node, {"axis", "split"});
  const Value& x = b.input(node, 0);
  if (!x.constant() || !x.fixed_shape()) b.fail(node, "splits a computed value; integrad folds a Split of constants only");
  const std::vector<int64_t> dims = x.dims();
  const int64_t rank = static_cast<int64_t>(dims.size());
  if (rank < 1) b.fail(node, "splits a scalar");
  const int64_t axis = normalise_axis(b.attr_int(node, "axis", 0), rank, "axis");
  const int64_t parts = node.output_size();
  std::vector<int64_t> sizes = b.has_input(node, 1) ? b.input(node, 1).fixed_ints("split") : b.attr_ints(node, "split");
  if (sizes.empty()) {
    if (parts < 1 || dims[size_t(axis)] % parts != 0) b.fail(node, fmt::format("cannot split {} rows into {} equal parts", dims[size_t(axis)], parts));
    sizes.assign(size_t(parts), dims[size_t(axis)] / parts);
  }
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) b.fail(node, "has a negative split size");
    total += s;
  }
  if (int64_t(sizes.size()) != parts || total != dims[size_t(axis)])
    b.fail(node, fmt::format("splits {} rows into {} parts of {} rows in all", dims[size_t(axis)], sizes.size(), total));
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= dims[size_t(d)];
  for (int64_t d = axis + 1; d < rank; ++d) inner *= dims[size_t(d)];
  int64_t offset = 0;
  for (int64_t k = 0; k < parts; ++k) {
    std::vector<int64_t> part_dims = dims;
    part_dims[size_t(axis)] = sizes[size_t(k)];
    Value v;
    v.integer = x.integer;
    v.shape = fixed_syms(part_dims);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = offset; j < offset + sizes[size_t(k)]; ++j) {
        const size_t from = size_t((o * dims[size_t(axis)] + j) * inner);
        if (x.integer) v.ints.insert(v.ints.end(), x.ints.begin() + from, x.ints.begin() + from + inner);
        else v.real.insert(v.real.end(), x.real.begin() + from, x.real.begin() + from + inner);
      }
    offset += sizes[size_t(k)];
    b.set_output(node, std::move(v), int(k));
  }
}

}  // namespace integrad::nn::onnx_in
