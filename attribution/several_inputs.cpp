#include "attribution/several_inputs.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <stdexcept>

#include "nn/stop.h"

namespace integrad::attr {
namespace {

// Columns [offset, offset + shape.numel()) of the packed input, as one input of `shape`.
template <ad::Scalar T>
struct InputPart : nn::Layer<T> {
  int64_t offset;
  ad::Shape shape;
  InputPart(int64_t o, ad::Shape s) : offset(o), shape(s) {}
  std::string kind() const override { return "InputPart"; }
  std::string architecture() const override { return fmt::format("InputPart({}, {})", offset, shape.str()); }
  ad::Var<T> forward(ad::Tape<T>&, ad::Var<T> x, nn::Grads) const override {
    return ad::reshape(ad::slice(x, 1, offset, offset + shape.numel()), nn::with_batch(x.shape()[0], shape));
  }
  ad::Shape output_shape(const ad::Shape&) const override { return shape; }
  std::unique_ptr<nn::Layer<T>> clone() const override { return std::make_unique<InputPart>(*this); }
};

// An input held at one example's value, repeated along the batch of the packed input it reads.
template <ad::Scalar T>
struct FixedInput : nn::Layer<T> {
  ad::Tensor<T> value;  // one example's
  explicit FixedInput(ad::Shape s) : value(s) {}
  std::string kind() const override { return "FixedInput"; }
  std::string architecture() const override { return fmt::format("FixedInput({})", value.shape().str()); }
  ad::Var<T> forward(ad::Tape<T>& tape, ad::Var<T> x, nn::Grads) const override {
    const int64_t batch = x.shape()[0], row = value.numel();
    ad::Tensor<T> repeated(nn::with_batch(batch, value.shape()));
    for (int64_t b = 0; b < batch; ++b) std::copy(value.data(), value.data() + row, repeated.data() + b * row);
    return tape.leaf(repeated);
  }
  ad::Shape output_shape(const ad::Shape&) const override { return value.shape(); }
  std::unique_ptr<nn::Layer<T>> clone() const override { return std::make_unique<FixedInput>(*this); }
};

template <ad::Scalar T>
std::string input_names(const nn::Model<T>& model) {
  std::vector<std::string> names;
  for (const nn::ModelInput& in : model.named_inputs) names.push_back(in.name);
  return names.empty() ? std::string("input") : fmt::format("{}", fmt::join(names, ", "));
}

template <ad::Scalar T>
std::string name_of(const nn::Model<T>& model, size_t k) {
  return model.named_inputs.empty() ? std::string("input") : model.named_inputs[k].name;
}

template <ad::Scalar T>
nn::InputDtype dtype_of(const nn::Model<T>& model, size_t k) {
  return model.named_inputs.empty() ? model.input_dtype : model.named_inputs[k].dtype;
}

// The adapter: one input [N, D], the explained inputs packed flat; FixedInput nodes for the others.
template <ad::Scalar T>
nn::Model<T> adapter_model(const nn::Model<T>& model, const std::vector<size_t>& explained, int64_t packed_width) {
  nn::Model<T> a;
  a.input_shape = ad::Shape{packed_width};
  a.input_dtype = nn::InputDtype::float32;
  for (size_t k : explained)
    if (dtype_of(model, k) == nn::InputDtype::int64) a.input_dtype = nn::InputDtype::int64;  // token ids: layer methods only
  a.output_kind = model.output_kind;
  const size_t inputs = model.input_count();
  int64_t offset = 0;
  for (size_t k = 0; k < inputs; ++k) {
    const ad::Shape& shape = model.input_shape_of(k);
    const bool is_explained = std::find(explained.begin(), explained.end(), k) != explained.end();
    std::unique_ptr<nn::Layer<T>> node;
    if (is_explained) node = std::make_unique<InputPart<T>>(offset, shape), offset += shape.numel();
    else node = std::make_unique<FixedInput<T>>(shape);
    a.add("input:" + name_of(model, k), std::move(node), {nn::Model<T>::kModelInput});
  }
  for (size_t i = 0; i < model.layers.size(); ++i) {
    std::vector<int> reads;
    for (int r : model.node_inputs(i)) reads.push_back(r < 0 ? -1 - r : r + static_cast<int>(inputs));
    a.add(model.node_name(i), model.layers[i]->clone(), reads);
  }
  return a;
}

// An explained input's baseline as [N, ...], from zero, a number, one example's shape or [N, ...].
template <ad::Scalar T>
ad::Tensor<T> expand_baseline(const Baseline<T>& b, const ad::Tensor<T>& x, const std::string& name) {
  if (b.kind != Baseline<T>::Kind::tensor) return b.expand(x);
  const ad::Shape example = x.shape().without(0);
  if (b.tensor.shape() != example && b.tensor.shape() != x.shape())
    throw std::invalid_argument(fmt::format("the baseline of input '{}' has shape {}; expected one example's shape {} or the inputs' {}", name,
                                            b.tensor.shape().str(), example.str(), x.shape().str()));
  return b.expand(x);
}

// Appends the attribution of examples [start, start + rows) to the whole run's.
template <ad::Scalar T>
void append(Attribution<T>& out, Attribution<T>&& a, int64_t start, int64_t n) {
  if (start == 0) {
    out.values = ad::Tensor<T>(a.values.shape().with(0, n));
    out.is_signed = a.is_signed;
    out.deltas_per_baseline.resize(a.deltas_per_baseline.size());
  }
  std::copy(a.values.data(), a.values.data() + a.values.numel(), out.values.data() + start * a.values.shape().stride(0));
  const auto join = [](auto& all, const auto& part) { all.insert(all.end(), part.begin(), part.end()); };
  join(out.targets, a.targets);
  join(out.f_input, a.f_input);
  join(out.f_baseline, a.f_baseline);
  join(out.deltas, a.deltas);
  join(out.steps, a.steps);
  for (size_t k = 0; k < a.deltas_per_baseline.size() && k < out.deltas_per_baseline.size(); ++k) join(out.deltas_per_baseline[k], a.deltas_per_baseline[k]);
  out.is_signed = out.is_signed && a.is_signed;
  for (auto& w : a.warnings)
    if (std::find(out.warnings.begin(), out.warnings.end(), w) == out.warnings.end()) out.warnings.push_back(std::move(w));
}

}  // namespace

template <ad::Scalar T>
std::vector<ad::Tensor<T>> inputs_in_order(const nn::Model<T>& model, const NamedTensors<T>& inputs, const std::string& where) {
  std::vector<ad::Tensor<T>> out;
  for (const auto& [name, x] : inputs) {
    bool known = false;
    for (size_t k = 0; k < model.input_count(); ++k) known = known || name_of(model, k) == name;
    if (!known) throw std::invalid_argument(fmt::format("{}: array '{}' is no input of the model; its inputs are {}", where, name, input_names(model)));
  }
  for (size_t k = 0; k < model.input_count(); ++k) {
    const std::string name = name_of(model, k);
    const auto it = std::find_if(inputs.begin(), inputs.end(), [&](const auto& p) { return p.first == name; });
    if (it == inputs.end()) throw std::invalid_argument(fmt::format("{}: no array '{}'; the model reads {}", where, name, input_names(model)));
    const ad::Tensor<T>& x = it->second;
    const ad::Shape& shape = model.input_shape_of(k);
    if (x.rank() != shape.rank() + 1 || x.shape().without(0) != shape)
      throw std::invalid_argument(fmt::format("{}: input '{}' has shape {}; the model reads [N, {}]", where, name, x.shape().str(),
                                              fmt::join(shape.dims(), ", ")));
    if (!out.empty() && x.size(0) != out[0].size(0))
      throw std::invalid_argument(fmt::format("{}: input '{}' holds {} examples, input '{}' {}", where, name, x.size(0), name_of(model, 0), out[0].size(0)));
    out.push_back(x);
  }
  return out;
}

template <ad::Scalar T>
std::vector<size_t> explained_inputs(const nn::Model<T>& model, const std::vector<std::string>& attribute_to) {
  std::vector<size_t> out;
  for (const std::string& name : attribute_to) {
    size_t k = 0;
    while (k < model.input_count() && name_of(model, k) != name) ++k;
    if (k == model.input_count()) throw std::invalid_argument(fmt::format("--attribute-to: the model has no input '{}'; its inputs are {}", name, input_names(model)));
    if (std::find(out.begin(), out.end(), k) != out.end()) throw std::invalid_argument(fmt::format("--attribute-to names input '{}' twice", name));
    out.push_back(k);
  }
  std::sort(out.begin(), out.end());
  if (attribute_to.empty()) {
    for (size_t k = 0; k < model.input_count(); ++k)
      if (dtype_of(model, k) != nn::InputDtype::int64) out.push_back(k);
    if (out.empty())
      throw std::invalid_argument(fmt::format("every input of the model ({}) holds token ids: name the ones to explain with --attribute-to and use a layer method "
                                              "(--layer)",
                                              input_names(model)));
  }
  return out;
}

template <ad::Scalar T>
InputsAttribution<T> explain_inputs(const Method<T>& method, const nn::Model<T>& model, const NamedTensors<T>& inputs,
                                    const std::vector<std::string>& attribute_to, const std::map<std::string, Baseline<T>>& baselines,
                                    const Target<T>& target, const Options& options, const std::function<void(double)>& progress) {
  const std::vector<ad::Tensor<T>> xs = inputs_in_order(model, inputs, "the inputs");
  const std::vector<size_t> explained = explained_inputs(model, attribute_to);
  for (const auto& given : baselines) {
    const std::string& name = given.first;  // not a structured binding: clang 14 cannot capture one in a lambda
    if (std::none_of(explained.begin(), explained.end(), [&](size_t k) { return name_of(model, k) == name; }))
      throw std::invalid_argument(fmt::format("--baseline: '{}' is not an explained input (--attribute-to)", name));
  }
  InputsAttribution<T> out;
  if (model.input_count() == 1) {  // one input in an .npz: explained as it would be from an .npy
    const auto it = baselines.begin();
    out.packed = explain(method, model, xs[0], it == baselines.end() ? Baseline<T>::zero() : it->second, target, options, 0, 0, progress);
    out.values.emplace_back(options.has("layer") && options.given("layer") ? options.text("layer") : name_of(model, 0), out.packed.values);
    return out;
  }
  {
    if (options.has("feature-mask") && options.given("feature-mask"))
      throw std::invalid_argument(fmt::format("--feature-mask: {} on a model of several inputs takes each scalar as a feature; per-input masks are not supported yet",
                                              method.name));
    if (options.has("window"))
      throw std::invalid_argument(fmt::format("{} slides windows over one input's dimensions; on a model of several inputs use ablation or shapley-sampling",
                                              method.name));
  }
  const int64_t n = xs[0].size(0);
  int64_t width = 0;
  for (size_t k : explained) width += model.input_shape_of(k).numel();
  // The explained inputs and their baselines side by side, one row per example.
  ad::Tensor<T> packed(ad::Shape{n, width}), packed_baseline(ad::Shape{n, width});
  bool baseline_zero = true;
  int64_t offset = 0;
  for (size_t k : explained) {
    const std::string name = name_of(model, k);
    const auto it = baselines.find(name);
    const Baseline<T> b = it == baselines.end() ? Baseline<T>::zero() : it->second;
    baseline_zero = baseline_zero && b.kind == Baseline<T>::Kind::zero;
    const ad::Tensor<T> bx = expand_baseline(b, xs[k], name);
    const int64_t row = model.input_shape_of(k).numel();
    for (int64_t i = 0; i < n; ++i) {
      std::copy(xs[k].data() + i * row, xs[k].data() + (i + 1) * row, packed.data() + i * width + offset);
      std::copy(bx.data() + i * row, bx.data() + (i + 1) * row, packed_baseline.data() + i * width + offset);
    }
    offset += row;
  }
  const Baseline<T> baseline = baseline_zero ? Baseline<T>::zero() : Baseline<T>::of(packed_baseline);
  nn::Model<T> adapter = adapter_model(model, explained, width);
  std::vector<size_t> held;  // inputs fed as given: their FixedInput node is node k of the adapter
  for (size_t k = 0; k < model.input_count(); ++k)
    if (std::find(explained.begin(), explained.end(), k) == explained.end()) held.push_back(k);
  if (held.empty()) {
    out.packed = explain(method, adapter, packed, baseline, target, options, 0, 0, progress);
  } else {
    if (target.kind == Target<T>::Kind::per_example && int64_t(target.indices.size()) != n)
      throw std::invalid_argument(fmt::format("{} targets for {} examples", target.indices.size(), n));
    for (int64_t i = 0; i < n; ++i) {
      nn::throw_if_stop_requested();
      for (size_t k : held) {
        auto& fixed = nn::layer_as<FixedInput<T>>(*adapter.layers[k]);
        const int64_t row = fixed.value.numel();
        std::copy(xs[k].data() + i * row, xs[k].data() + (i + 1) * row, fixed.value.data());
      }
      Target<T> t = target;
      if (target.kind == Target<T>::Kind::per_example) t.indices = {target.indices[size_t(i)]};
      const Baseline<T> b = baseline_zero ? baseline : Baseline<T>::of(packed_baseline.rows(i, i + 1));
      const auto step = [&](double d) { if (progress) progress(double(i) + d); };
      append(out.packed, explain(method, adapter, packed.rows(i, i + 1), b, t, options, i, n, step), i, n);
    }
    out.packed.is_signed = out.packed.is_signed && method.is_signed;
  }
  const ad::Tensor<T>& v = out.packed.values;
  if (v.rank() == 2 && v.size(1) == width && !(options.has("layer") && options.given("layer"))) {
    offset = 0;
    for (size_t k : explained) {
      const ad::Shape& shape = model.input_shape_of(k);
      ad::Tensor<T> part(nn::with_batch(n, shape));
      for (int64_t i = 0; i < n; ++i) std::copy(v.data() + i * width + offset, v.data() + i * width + offset + shape.numel(), part.data() + i * shape.numel());
      out.values.emplace_back(name_of(model, k), std::move(part));
      offset += shape.numel();
    }
  } else {
    out.values.emplace_back(options.has("layer") && options.given("layer") ? options.text("layer") : std::string("attributions"), v);
  }
  return out;
}

#define INTEGRAD_INSTANTIATE(T)                                                                                                                   \
  template std::vector<ad::Tensor<T>> inputs_in_order<T>(const nn::Model<T>&, const NamedTensors<T>&, const std::string&);                       \
  template std::vector<size_t> explained_inputs<T>(const nn::Model<T>&, const std::vector<std::string>&);                                          \
  template InputsAttribution<T> explain_inputs<T>(const Method<T>&, const nn::Model<T>&, const NamedTensors<T>&, const std::vector<std::string>&, \
                                                  const std::map<std::string, Baseline<T>>&, const Target<T>&, const Options&,                  \
                                                  const std::function<void(double)>&);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)
#undef INTEGRAD_INSTANTIATE

}  // namespace integrad::attr
