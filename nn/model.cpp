#include "nn/model.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <initializer_list>
#include <map>
#include <memory>
#include <stdexcept>
#include <vector>

#include "autodiff/add_relu.h"
#include "autodiff/thread_tape.h"
#include "nn/architecture.h"
#include "nn/for_each_example.h"
#include "nn/layers_activation.h"
#include "nn/layers_batch_norm.h"
#include "nn/layers_conv.h"
#include "nn/layers_merge.h"
#include "nn/layer_registry.h"
#include "nn/layers_pool.h"
#include "nn/parts.h"
#include "nn/stop.h"

namespace integrad::nn {

template <ad::Scalar T>
void Model<T>::set_inputs(std::vector<ModelInput> in) {
  if (in.empty()) throw std::invalid_argument("a model reads at least one input");
  for (size_t k = 0; k < in.size(); ++k)
    for (size_t j = 0; j < k; ++j)
      if (in[j].name == in[k].name) throw std::invalid_argument(fmt::format("two inputs are named '{}'", in[k].name));
  input_shape = in[0].shape;
  input_dtype = in[0].dtype;
  named_inputs = std::move(in);
}

template <ad::Scalar T>
void Model<T>::add(std::string name, std::unique_ptr<Layer<T>> layer, std::vector<int> reads) {
  const int i = static_cast<int>(layers.size());
  if (reads.empty()) reads = {i - 1};
  for (int r : reads)
    if (r < model_input(input_count() - 1) || r >= i) throw std::invalid_argument(fmt::format("layer '{}' reads node {}, which does not come before it", name, r));
  const bool chain_node = name == std::to_string(i) && reads == std::vector<int>{i - 1};
  const bool graph = !names.empty() || !chain_node;
  if (names.empty() && graph)  // the first node off the chain turns the model into a graph
    for (int k = 0; k < i; ++k) names.push_back(std::to_string(k)), inputs.push_back({k - 1});
  if (graph) {
    if (std::find(names.begin(), names.end(), name) != names.end()) throw std::invalid_argument(fmt::format("two layers are named '{}'", name));
    names.push_back(std::move(name));
    inputs.push_back(std::move(reads));
  }
  layers.push_back(std::move(layer));
}

template <ad::Scalar T>
bool Model<T>::is_chain() const {
  if (named_inputs.size() > 1) return false;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i] != std::vector<int>{static_cast<int>(i) - 1} || names[i] != std::to_string(i)) return false;
  return true;
}

template <ad::Scalar T>
std::vector<int> Model<T>::node_inputs(size_t i) const {
  return inputs.empty() ? std::vector<int>{static_cast<int>(i) - 1} : inputs[i];
}

template <ad::Scalar T>
std::vector<size_t> Model<T>::node_readers(int i) const {
  std::vector<size_t> out;
  for (size_t k = 0; k < layers.size(); ++k)
    for (int r : node_inputs(k))
      if (r == i) {
        out.push_back(k);
        break;
      }
  return out;
}

template <ad::Scalar T>
size_t Model<T>::node_index(std::string_view name) const {
  const size_t i = any_node_index(name);
  if (batch_elsewhere.count(node_name(i)))
    throw std::invalid_argument(fmt::format("the layer '{}' (node '{}') holds its values without the batch as dimension 0 (inside the graph's "
                                            "reshaping); name a layer whose output has the batch first, such as a module's or a layer's output",
                                            name, node_name(i)));
  return i;
}

template <ad::Scalar T>
size_t Model<T>::any_node_index(std::string_view name) const {
  for (size_t i = 0; i < layers.size(); ++i)
    if (node_name(i) == name) return i;
  for (const auto& [alias, i] : aliases)
    if (alias == name) return i;
  // A module that holds several nodes (PyTorch's `layer1`, a Model of blocks): its output is
  // that of the last node in its scope, as a forward hook on the module sees it.
  const std::string scope = std::string(name) + ".";
  for (size_t i = layers.size(); i-- > 0;)
    if (node_name(i).starts_with(scope)) return i;
  std::vector<std::string> known;
  for (size_t i = 0; i < layers.size() && i < 40; ++i) known.push_back(node_name(i));
  if (layers.size() > 40) known.push_back("...");
  throw std::invalid_argument(fmt::format("the model has no layer '{}'; its layers are {}", name, fmt::join(known, ", ")));
}

template <ad::Scalar T>
std::vector<std::pair<std::string, size_t>> Model<T>::modules() const {
  std::map<std::string, size_t> last_of_scope;
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string name = node_name(i);
    for (size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1)) last_of_scope[name.substr(0, dot)] = i;
  }
  std::vector<std::pair<std::string, size_t>> out;
  for (const auto& [scope, last] : last_of_scope)
    if (std::find(names.begin(), names.end(), scope) == names.end()) out.emplace_back(scope, last);
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second < b.second : a.first.size() > b.first.size();
  });
  return out;
}

namespace {

// The boundary check of every forward: the layers' own shapes were checked when the model was built,
// so a tensor of the wrong shape can only come from the caller. Named here, in the model's terms,
// rather than by whichever op trips on it first ("conv2d: input ... and weight ... do not fit").
void check_forward_input(const ad::Shape& given, const ad::Shape& expected, size_t from) {
  if (given.rank() == expected.rank() + 1 && given.without(0) == expected) return;
  if (from == 0)
    throw std::invalid_argument(fmt::format("the model takes examples of shape {} (a batch [N, {}]); it was given {}", expected.str(),
                                            fmt::join(expected.vec(), ", "), given.str()));
  throw std::invalid_argument(fmt::format("layer {} of the model reads values of shape {} per example; it was given {}", from, expected.str(), given.str()));
}

}  // namespace

template <ad::Scalar T>
ad::Var<T> Model<T>::forward(ad::Tape<T>& tape, ad::Var<T> x, Grads grads, size_t from, size_t to) const {
  to = std::min(to, layers.size());
  check_forward_input(x.shape(), from == 0 ? input_shape : output_shape(from), from);
  if (!is_chain()) {
    if (from != 0) throw std::logic_error("a graph model computes from its input: use a NodeHook to replace a node's value");
    return forward_graph(tape, std::span<const ad::Var<T>>(&x, 1), grads, to, nullptr);
  }
  for (size_t i = from; i < to; ++i) {
    throw_if_stop_requested();  // Ctrl-C between layers: a forward of a large batch stops within one layer
    // Conv2d then ReLU (then MaxPool2d(2)) run as one op: the same values and gradients, one or
    // three passes fewer over the largest activations. Only inside [from, to), so a caller that
    // stops between them (layer attribution) still gets the convolution's own output.
    if (const size_t fused = fusable(i, to, grads); fused > 1) {
      x = forward_fused(tape, std::span<const ad::Var<T>>(&x, 1), grads, i, fused);
      i += fused - 1;
      continue;
    }
    x = layers[i]->forward(tape, x, grads);
  }
  return x;
}

template <ad::Scalar T>
ad::Var<T> Model<T>::forward(ad::Tape<T>& tape, ad::Var<T> x, Grads grads, const NodeHook<T>& hook) const {
  check_forward_input(x.shape(), input_shape, 0);
  return forward_graph(tape, std::span<const ad::Var<T>>(&x, 1), grads, layers.size(), &hook);
}

template <ad::Scalar T>
ad::Var<T> Model<T>::forward(ad::Tape<T>& tape, std::span<const ad::Var<T>> xs, Grads grads, const NodeHook<T>* hook) const {
  if (xs.size() == 1 && input_count() == 1) return hook ? forward(tape, xs[0], grads, *hook) : forward(tape, xs[0], grads);
  for (size_t k = 0; k < xs.size() && k < input_count(); ++k) check_forward_input(xs[k].shape(), input_shape_of(k), 0);
  return forward_graph(tape, xs, grads, layers.size(), hook);
}

template <ad::Scalar T>
size_t Model<T>::fusable(size_t i, size_t to, Grads grads) const {
  // Node i + 1 must read node i alone, and nothing else may read node i (nor i + 1, for the pool).
  auto only_reader = [&](size_t k) {
    if (k + 1 >= to) return false;
    if (inputs.empty()) return true;  // a chain: the next node alone reads each node (and no search on the hot path)
    return inputs[k + 1] == std::vector<int>{static_cast<int>(k)} && node_readers(static_cast<int>(k)).size() == 1;
  };
  if (layer_is<Add<T>>(*layers[i])) return only_reader(i) && layer_is<ReLU<T>>(*layers[i + 1]) ? 2 : 1;
  // Training: BatchNorm and the ReLU after it (evaluation folds BatchNorm into a convolution).
  if (grads != Grads::none && layer_is<BatchNorm<T>>(*layers[i])) return only_reader(i) && layer_is<ReLU<T>>(*layers[i + 1]) ? 2 : 1;
  if (!layer_is<Conv2d<T>>(*layers[i]) || !only_reader(i)) return 1;
  // BatchNorm2d (and a ReLU that alone reads it) with the convolution before it: in evaluation an
  // affine map per channel, folded into the convolution; in training ad::conv2d_batch_norm_train.
  const auto* bn = layer_if<BatchNorm<T>>(*layers[i + 1]);
  if (bn && bn->dims == 2) return only_reader(i + 1) && layer_is<ReLU<T>>(*layers[i + 2]) ? 3 : 2;
  if (!layer_is<ReLU<T>>(*layers[i + 1])) return 1;
  if (only_reader(i + 1)) {
    const auto* pool = layer_if<MaxPool2d<T>>(*layers[i + 2]);
    if (pool && pool->kernel == 2 && pool->stride == 2) return 3;
  }
  return 2;
}

template <ad::Scalar T>
size_t Model<T>::residual_end(size_t i, size_t to, Grads grads) const {
  if (grads == Grads::none || inputs.empty() || !layer_is<BatchNorm<T>>(*layers[i])) return npos;
  const std::vector<size_t> readers = node_readers(static_cast<int>(i));
  if (readers.size() != 1) return npos;
  const size_t add = readers[0];
  const std::vector<int>& addends = inputs[add];
  if (!layer_is<Add<T>>(*layers[add]) || addends.size() != 2 || addends[0] == addends[1] || add + 1 >= to) return npos;
  if (!layer_is<ReLU<T>>(*layers[add + 1]) || inputs[add + 1] != std::vector<int>{static_cast<int>(add)}) return npos;
  return node_readers(static_cast<int>(add)).size() == 1 ? add : npos;
}

template <ad::Scalar T>
ad::Var<T> Model<T>::forward_fused(ad::Tape<T>& tape, std::span<const ad::Var<T>> xs, Grads grads, size_t i, size_t count) const {
  if (layer_is<Add<T>>(*layers[i])) {  // Add's sum in its order, the last addend and the ReLU in one pass
    ad::Var<T> sum = xs[0];
    for (size_t k = 1; k + 1 < xs.size(); ++k) sum = ad::add(sum, xs[k]);
    return xs.size() == 1 ? ad::relu(sum) : ad::add_relu(sum, xs.back());
  }
  const ad::Var<T> x = xs[0];
  if (const auto* bn = layer_if<BatchNorm<T>>(*layers[i])) return bn->forward_train_relu(tape, x, grads);
  const auto& conv = layer_as<Conv2d<T>>(*layers[i]);
  if (const auto* bn = layer_if<BatchNorm<T>>(*layers[i + 1])) {
    if (grads != Grads::none) return bn->forward_train_after(conv, tape, x, grads, count == 3);
    // w'_o = w_o·scale_o, b'_o = b_o·scale_o + shift_o: the same function as the convolution and
    // the normalisation, to rounding, in one pass over the output instead of two or three.
    const auto [scale, shift] = bn->affine();
    ad::Tensor<T> w(conv.weight.value.shape()), b(ad::Shape{conv.out_ch});
    const int64_t per_channel = w.numel() / conv.out_ch;
    for (int64_t o = 0; o < conv.out_ch; ++o) {
      for (int64_t k = 0; k < per_channel; ++k) w[o * per_channel + k] = conv.weight.value[o * per_channel + k] * scale[o];
      b[o] = (conv.has_bias ? conv.bias.value[o] : T(0)) * scale[o] + shift[o];
    }
    return count == 3 ? ad::conv2d_relu(x, tape.leaf(w), tape.leaf(b), conv.stride, conv.padding)
                      : ad::conv2d(x, tape.leaf(w), tape.leaf(b), conv.stride, conv.padding);
  }
  return count == 3 ? conv.forward_relu_max_pool(tape, x, grads) : conv.forward_relu(tape, x, grads);
}

template <ad::Scalar T>
ad::Var<T> Model<T>::forward_graph(ad::Tape<T>& tape, std::span<const ad::Var<T>> xs, Grads grads, size_t to, const NodeHook<T>* hook) const {
  if (xs.size() != input_count()) {
    std::vector<std::string> names;
    for (const ModelInput& in : named_inputs) names.push_back(in.name);
    throw std::invalid_argument(fmt::format("the model reads {} inputs ({}), given {}", input_count(), fmt::join(names, ", "), xs.size()));
  }
  std::vector<ad::Var<T>> values(to);
  std::vector<ad::Var<T>> reads;
  auto value_of = [&](int r) { return r < 0 ? xs[size_t(-1 - r)] : values[r]; };
  std::vector<size_t> deferred(to, npos);  // deferred[add]: the BatchNorm that runs with that Add (residual_end)
  std::vector<bool> with_conv(to, false);   // with_conv[bn]: that BatchNorm's convolution was deferred with it
  // Whether the nodes `group` may run at the Add's turn: not if a hook acts on one of them, or on any node.
  const auto unhooked = [&](std::initializer_list<size_t> group) {
    return !hook || (hook->only != npos && std::find(group.begin(), group.end(), hook->only) == group.end());
  };
  for (size_t i = 0; i < to; ++i) {
    throw_if_stop_requested();  // Ctrl-C between nodes, as in the chain's forward
    if (const size_t bn = deferred[i]; bn != npos) {
      // BatchNorm, Add, ReLU as one op, with the convolution before it if that was deferred too:
      // the Add's other addend is the residual.
      const std::vector<int>& addends = inputs[i];
      const int residual = addends[0] == static_cast<int>(bn) ? addends[1] : addends[0];
      const auto& norm = layer_as<BatchNorm<T>>(*layers[bn]);
      const int source = inputs[bn][0];
      values[i + 1] = with_conv[bn] ? norm.forward_train_after(layer_as<Conv2d<T>>(*layers[size_t(source)]), tape, value_of(inputs[size_t(source)][0]), grads,
                                                                true, value_of(residual))
                                    : norm.forward_train_add_relu(tape, value_of(source), value_of(residual), grads);
      ++i;
      continue;
    }
    // Only the first of two BatchNorms that the Add sums (a downsampling shortcut's is the other):
    // the second runs then, with its convolution if it has one (fusable).
    const bool conv_then_bn = grads != Grads::none && layer_is<Conv2d<T>>(*layers[i]) && i + 1 < to && layer_is<BatchNorm<T>>(*layers[i + 1]) &&
                              fusable(i, to, grads) >= 2;
    const size_t bn = conv_then_bn ? i + 1 : i;
    if (const size_t add = residual_end(bn, to, grads); add != npos && deferred[add] == npos && unhooked({i, bn, add, add + 1})) {
      deferred[add] = bn;
      with_conv[bn] = conv_then_bn;
      i = bn;
      continue;
    }
    // A hook that acts on one node lets the rest fuse: a group may end at that node (its value is
    // the group's) unless the hook computes the node itself.
    if (!hook || hook->only != npos) {
      size_t fused = fusable(i, to, grads);
      if (hook && hook->only >= i && (hook->only < i + fused - 1 || (hook->only == i + fused - 1 && hook->instead))) fused = 1;
      if (fused > 1) {
        reads.clear();
        for (int r : node_inputs(i)) reads.push_back(value_of(r));
        values[i + fused - 1] = forward_fused(tape, std::span<const ad::Var<T>>(reads), grads, i, fused);
        i += fused - 1;
        if (hook && hook->after && hook->only == i) values[i] = hook->after(i, values[i]);
        continue;
      }
    }
    reads.clear();
    for (int r : node_inputs(i)) reads.push_back(value_of(r));
    if (hook && hook->instead) values[i] = hook->instead(i, std::span<const ad::Var<T>>(reads));
    if (!values[i].valid())
      values[i] = reads.size() == 1 ? layers[i]->forward(tape, reads[0], grads) : layers[i]->forward(tape, std::span<const ad::Var<T>>(reads), grads);
    if (hook && hook->after) values[i] = hook->after(i, values[i]);
  }
  return to == 0 ? xs[0] : values[to - 1];
}

namespace {
// predict's parts: about this many recorded values each (nn/parts.h), as the gradient methods'.
constexpr int64_t kPredictPartValues = int64_t(1) << 20;
}  // namespace

template <ad::Scalar T>
ad::Tensor<T> Model<T>::predict(const ad::Tensor<T>& inputs, int64_t batch_size) const {
  return predict(std::span<const ad::Tensor<T>>(&inputs, 1), batch_size);
}

// The rows in fixed parts of at most batch_size, each the size that keeps its activations in
// cache (about 2^20 values: 5 rows of the ResNet, 256 of a small MLP), shared among threads, each
// part forward on its thread's reused tape. A batch of 256 ResNet images went through memory at
// every layer, and each layer's loop over images waited for both threads: the forward of 10,000
// images took 1.36–1.47 s in batches of 256 and 0.94 s in parts (2 threads). The parts depend on the
// rows and the model alone, and a row's sums do not depend on its part's size (each GEMM keeps
// one block of rows up to 264), so the bits do not change with the thread count.
template <ad::Scalar T>
ad::Tensor<T> Model<T>::predict(std::span<const ad::Tensor<T>> inputs, int64_t batch_size) const {
  if (batch_size < 1) throw std::invalid_argument(fmt::format("predict: the batch size must be at least 1, got {}", batch_size));
  if (inputs.size() != input_count()) throw std::invalid_argument(fmt::format("predict: the model takes {} inputs, got {}", input_count(), inputs.size()));
  const int64_t n = inputs[0].size(0);
  for (const ad::Tensor<T>& x : inputs)
    if (x.rank() < 1 || x.size(0) != n) throw std::invalid_argument("the inputs of one batch must hold the same number of examples");
  const ad::Shape out_shape = output_shape();
  ad::Tensor<T> out(with_batch(n, out_shape));
  const int64_t out_row = out_shape.numel();
  const int64_t per_part = rows_per_part(values_per_example(), kPredictPartValues, batch_size), parts = (n + per_part - 1) / per_part;
  for_each_example(parts, [&](int64_t p) {
    const int64_t start = p * per_part, count = std::min(per_part, n - start);
    // A reused tape (autodiff/thread_tape.h): the perturbation methods and metrics call predict
    // thousands of times on small batches.
    ad::ThreadTape<T> thread_tape;
    ad::Tape<T>& tape = *thread_tape;
    std::vector<ad::Var<T>> xs;
    for (const ad::Tensor<T>& x : inputs) xs.push_back(tape.leaf(x.shape().with(0, count), x.data() + start * x.shape().stride(0)));
    const ad::Var<T> y = forward(tape, std::span<const ad::Var<T>>(xs), Grads::none);
    // A layer whose stated output shape is not what it computes (an ONNX kind's text edited by
    // hand: "OnnxMaxPool(1, 2,)") must not write past the output (found by fuzz_architecture).
    if (int64_t(y.value().size()) != count * out_row)
      throw std::invalid_argument(
          fmt::format("the model computes outputs of shape {} but its layers declare {}", y.shape().str(), with_batch(count, out_shape).str()));
    std::copy(y.value().begin(), y.value().end(), out.data() + start * out_row);
  });
  return out;
}

template <ad::Scalar T>
std::vector<std::pair<std::string, Parameter<T>*>> Model<T>::named_parameters() {
  std::vector<std::pair<std::string, Parameter<T>*>> out;
  for (size_t i = 0; i < layers.size(); ++i)
    for (Parameter<T>* p : layers[i]->parameters()) out.emplace_back(node_name(i) + "." + p->name, p);
  return out;
}

template <ad::Scalar T>
std::vector<std::pair<std::string, const Parameter<T>*>> Model<T>::named_parameters() const {
  std::vector<std::pair<std::string, const Parameter<T>*>> out;
  for (auto& [name, p] : const_cast<Model*>(this)->named_parameters()) out.emplace_back(name, p);
  return out;
}

template <ad::Scalar T>
int64_t Model<T>::parameter_count() const {
  int64_t n = 0;
  for (auto& [name, p] : named_parameters())
    if (!p->buffer) n += p->value.numel();
  return n;
}

template <ad::Scalar T>
std::string Model<T>::architecture() const {
  return architecture_text(*this);
}

template <ad::Scalar T>
ad::Shape Model<T>::output_shape(size_t upto) const {
  upto = std::min(upto, layers.size());
  if (upto == 0) return input_shape;
  if (is_chain()) {
    ad::Shape s = input_shape;
    for (size_t i = 0; i < upto; ++i) s = layers[i]->output_shape(s);
    return s;
  }
  return output_shapes()[upto - 1];
}

template <ad::Scalar T>
int64_t Model<T>::values_per_example(size_t from, size_t to) const {
  const std::vector<ad::Shape> shapes = output_shapes();
  int64_t values = 0;
  for (size_t i = from; i < std::min(to, shapes.size()); ++i) values += shapes[i].numel();
  return values;
}

template <ad::Scalar T>
std::vector<ad::Shape> Model<T>::output_shapes() const {
  std::vector<ad::Shape> shapes;
  shapes.reserve(layers.size());
  std::vector<ad::Shape> reads;
  for (size_t i = 0; i < layers.size(); ++i) {
    reads.clear();
    for (int r : node_inputs(i)) reads.push_back(r < 0 ? input_shape_of(size_t(-1 - r)) : shapes[r]);
    shapes.push_back(reads.size() == 1 ? layers[i]->output_shape(reads[0]) : layers[i]->output_shape(std::span<const ad::Shape>(reads)));
  }
  return shapes;
}

template <ad::Scalar T>
void Model<T>::zero_grad() {
  for (auto& [name, p] : named_parameters()) p->grad.fill(T(0));
}

namespace {
// Everything a model holds but its layers: the graph's names and edges, the inputs, the metadata.
template <ad::Scalar T, ad::Scalar U>
void copy_all_but_layers(const Model<T>& from, Model<U>& to) {
  to.input_shape = from.input_shape;
  to.input_dtype = from.input_dtype;
  to.named_inputs = from.named_inputs;
  to.feature_names = from.feature_names;
  to.names = from.names;
  to.inputs = from.inputs;
  to.output_kind = from.output_kind;
  to.aliases = from.aliases;
  to.origin = from.origin;
  to.batch_elsewhere = from.batch_elsewhere;
}
}  // namespace

template <ad::Scalar T>
Model<T> Model<T>::clone() const {
  Model copy;
  copy_all_but_layers(*this, copy);
  for (const auto& l : layers) copy.layers.push_back(l->clone());
  return copy;
}

template <ad::Scalar T>
template <ad::Scalar U>
Model<U> Model<T>::to() const {
  Model<U> out;
  copy_all_but_layers(*this, out);
  for (const auto& l : layers) out.layers.push_back(parse_layer<U>(l->architecture()));
  auto src = named_parameters();
  auto dst = out.named_parameters();
  for (size_t i = 0; i < src.size(); ++i) {
    dst[i].second->value = src[i].second->value.template to<U>();
    dst[i].second->grad = ad::Tensor<U>(dst[i].second->value.shape());
  }
  return out;
}

template class Model<float>;
template class Model<double>;
template Model<double> Model<float>::to<double>() const;
template Model<float> Model<double>::to<float>() const;
template Model<float> Model<float>::to<float>() const;
template Model<double> Model<double>::to<double>() const;

}  // namespace integrad::nn
