// The model: a graph of named layers held in topological order. A chain — torch.nn.Sequential —
// is its simplest form, whose nodes are named by their index ("{i}.weight" in the state_dict,
// parameterless layers counting in i). In a graph each node reads the model's input or earlier
// nodes, is named by its PyTorch module path ("layer1.0.conv1", also its parameters' prefix), and
// the last node's value is the model's output.
#pragma once

#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nn/layer.h"

namespace integrad::nn {

enum class InputDtype { float32, float64, int64 };

// How a method looks inside a model: the forward calls these for every node, in node order. This is
// the one way in — DeepLift's secant slopes, guided backpropagation's ReLU, layer attribution and
// model surgery are each a hook in their own file, not branches in the model.
template <ad::Scalar T>
struct NodeHook {
  // Computes node i from the values it reads, instead of its layer; an empty Var: the layer's own.
  std::function<ad::Var<T>(size_t node, std::span<const ad::Var<T>> reads)> instead = {};
  // Sees node i's value and returns it, or another in its place.
  std::function<ad::Var<T>(size_t node, ad::Var<T> value)> after = {};
  // The one node `instead` and `after` act on, when they act on one (Grad-CAM's layer): the forward
  // may then fuse the nodes around it as it does without a hook. npos: they may act on any node.
  size_t only = std::numeric_limits<size_t>::max();
};

template <ad::Scalar T>
class Model {
 public:
  static constexpr size_t npos = std::numeric_limits<size_t>::max();
  static constexpr int kModelInput = -1;  // in `inputs`: the model's input, not a node

  std::vector<std::unique_ptr<Layer<T>>> layers;  // the nodes, in topological order
  // The graph, parallel to `layers`: node i is named names[i] and reads inputs[i]. Both empty: a
  // chain named by index (each node reads the one before it).
  std::vector<std::string> names;
  std::vector<std::vector<int>> inputs;
  ad::Shape input_shape;  // per example, e.g. {1, 28, 28}
  InputDtype input_dtype = InputDtype::float32;
  std::vector<std::string> feature_names;  // tabular models: one name per input feature (metadata "feature_names"), else empty
  // What the outputs are (metadata "output"): "logits" (classes, softmax), "binary-logit" (one
  // logit, sigmoid) or "regression" (values); empty when the file does not say.
  std::string output_kind;

  Model() = default;
  Model(Model&&) noexcept = default;
  Model& operator=(Model&&) noexcept = default;

  // Appends a node; an empty `reads` reads the node before (or the input, for the first).
  void add(std::string name, std::unique_ptr<Layer<T>> layer, std::vector<int> reads = {});

  bool is_chain() const;
  std::string node_name(size_t i) const { return names.empty() ? std::to_string(i) : names[i]; }
  std::vector<int> node_inputs(size_t i) const;
  // The nodes that read node i's value (kModelInput: the input's readers).
  std::vector<size_t> node_readers(int i) const;
  // A node by its name, or in a chain by its index; throws naming what there is.
  size_t node_index(std::string_view name) const;

  // Nodes [from, to) applied to x [N, ...]: the value of node to − 1. A graph computes from its
  // input (from 0); in a chain x may be the output of node from − 1.
  ad::Var<T> forward(ad::Tape<T>& tape, ad::Var<T> x, Grads grads = Grads::none, size_t from = 0, size_t to = npos) const;
  // The output, with `hook` shown each node's value and free to replace it.
  ad::Var<T> forward(ad::Tape<T>& tape, ad::Var<T> x, Grads grads, const NodeHook<T>& hook) const;
  // Logits for all inputs, in batches, no gradients.
  ad::Tensor<T> predict(const ad::Tensor<T>& inputs, int64_t batch_size = 256) const;

  std::vector<std::pair<std::string, Parameter<T>*>> named_parameters();
  std::vector<std::pair<std::string, const Parameter<T>*>> named_parameters() const;
  int64_t parameter_count() const;  // buffers (running statistics) not counted, as PyTorch's numel over parameters()
  // "Conv2d(1, 16, 3, padding=1); ReLU(); ..." for a chain; a graph's node per line (nn/architecture.h).
  std::string architecture() const;
  ad::Shape output_shape(size_t upto = npos) const;  // per-example shape of node upto − 1 (the input for 0)
  std::vector<ad::Shape> output_shapes() const;      // of each node, in one pass
  void zero_grad();

  Model clone() const;
  template <ad::Scalar U>
  Model<U> to() const;

 private:
  // How many nodes from i on run as one fused op, each the only reader of the one before: Conv2d,
  // ReLU (and a 2×2 MaxPool2d); in evaluation (`grads` none) also Conv2d, BatchNorm2d (and a ReLU),
  // the normalisation folded into the convolution's weights and bias. 1 when none can.
  size_t fusable(size_t i, size_t to, Grads grads = Grads::parameters) const;
  // Runs the `count` nodes from i that fusable found as one op.
  ad::Var<T> forward_fused(ad::Tape<T>& tape, ad::Var<T> x, Grads grads, size_t i, size_t count) const;
  ad::Var<T> forward_graph(ad::Tape<T>& tape, ad::Var<T> x, Grads grads, size_t to, const NodeHook<T>* hook) const;
};

}  // namespace integrad::nn
