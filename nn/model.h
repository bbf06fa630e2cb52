// The model: a graph of named layers held in topological order. A chain — torch.nn.Sequential —
// is its simplest form, whose nodes are named by their index ("{i}.weight" in the state_dict,
// parameterless layers counting in i). In a graph each node reads the model's input (or one of
// its named inputs) or earlier nodes, is named by its PyTorch module path ("layer1.0.conv1", also
// its parameters' prefix), and the last node's value is the model's output.
#pragma once

#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nn/layer.h"

namespace integrad::nn {

enum class InputDtype { float32, float64, int64 };

// One named input of a model that reads several (a numeric table beside token ids, an ONNX graph's
// inputs): its per-example shape and dtype (docs/inputs.md).
struct ModelInput {
  std::string name;
  ad::Shape shape;
  InputDtype dtype = InputDtype::float32;
};

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
  // In `inputs`: model input k (kModelInput for the first); −1 − k.
  static constexpr int model_input(size_t k) { return -1 - static_cast<int>(k); }

  std::vector<std::unique_ptr<Layer<T>>> layers;  // the nodes, in topological order
  // The graph, parallel to `layers`: node i is named names[i] and reads inputs[i]. Both empty: a
  // chain named by index (each node reads the one before it).
  std::vector<std::string> names;
  std::vector<std::vector<int>> inputs;
  ad::Shape input_shape;  // per example, e.g. {1, 28, 28}
  InputDtype input_dtype = InputDtype::float32;
  // The inputs by name, in order, when there are several (or one with its own name); empty: the one
  // input above, named "input". Set with set_inputs, which keeps input_shape and input_dtype those
  // of input 0 and must come before the nodes that read them.
  std::vector<ModelInput> named_inputs;
  std::vector<std::string> feature_names;  // tabular models: one name per input feature (metadata "feature_names"), else empty
  // What the outputs are (metadata "output"): "logits" (classes, softmax), "binary-logit" (one
  // logit, sigmoid) or "regression" (values); empty when the file does not say.
  std::string output_kind;
  // Other names --layer takes for a node, besides node_name (an ONNX model's tensor names and the
  // PyTorch module paths recovered from its node names, nn/onnx/read.h).
  std::vector<std::pair<std::string, size_t>> aliases;
  // Nodes whose values do not hold the batch as dimension 0 (an ONNX graph's transposed or reshaped
  // internals, such as the time-major sequence around an LSTM node): --layer refuses them, since
  // every layer method reads dimension 0 as the batch.
  std::set<std::string> batch_elsewhere;
  // Where the model came from, for a writer that maps it back: "onnx" (the file's path) and, for each
  // parameter held from an ONNX initializer, its full name → the initializer's name.
  std::map<std::string, std::string> origin;

  Model() = default;
  Model(Model&&) noexcept = default;
  Model& operator=(Model&&) noexcept = default;

  // Appends a node; an empty `reads` reads the node before (or the input, for the first).
  void add(std::string name, std::unique_ptr<Layer<T>> layer, std::vector<int> reads = {});

  void set_inputs(std::vector<ModelInput> in);
  size_t input_count() const { return named_inputs.empty() ? 1 : named_inputs.size(); }
  const ad::Shape& input_shape_of(size_t k) const { return named_inputs.empty() ? input_shape : named_inputs.at(k).shape; }

  bool is_chain() const;
  std::string node_name(size_t i) const { return names.empty() ? std::to_string(i) : names[i]; }
  std::vector<int> node_inputs(size_t i) const;
  // The nodes that read node i's value (kModelInput: the input's readers).
  std::vector<size_t> node_readers(int i) const;
  // A node by its name, an alias, a module scope, or in a chain by its index, for --layer; throws
  // naming what there is, or when the node's values do not have the batch first (batch_elsewhere).
  size_t node_index(std::string_view name) const;
  size_t any_node_index(std::string_view name) const;  // the same, whatever the node's layout
  // The modules that hold several nodes (scopes such as `layer1` and `layer1.0` that name no node),
  // each with its last node, whose output is the module's: in node order, the innermost module
  // first where several end at one node. What node_index resolves a module's name to.
  std::vector<std::pair<std::string, size_t>> modules() const;

  // Nodes [from, to) applied to x [N, ...]: the value of node to − 1. A graph computes from its
  // input (from 0); in a chain x may be the output of node from − 1.
  ad::Var<T> forward(ad::Tape<T>& tape, ad::Var<T> x, Grads grads = Grads::none, size_t from = 0, size_t to = npos) const;
  // The output, with `hook` shown each node's value and free to replace it.
  ad::Var<T> forward(ad::Tape<T>& tape, ad::Var<T> x, Grads grads, const NodeHook<T>& hook) const;
  // The output of a model of several inputs, xs[k] being input k [N, ...].
  ad::Var<T> forward(ad::Tape<T>& tape, std::span<const ad::Var<T>> xs, Grads grads, const NodeHook<T>* hook = nullptr) const;
  // Logits for all inputs, in batches, no gradients.
  ad::Tensor<T> predict(const ad::Tensor<T>& inputs, int64_t batch_size = 256) const;
  ad::Tensor<T> predict(std::span<const ad::Tensor<T>> inputs, int64_t batch_size = 256) const;  // one tensor per input

  std::vector<std::pair<std::string, Parameter<T>*>> named_parameters();
  std::vector<std::pair<std::string, const Parameter<T>*>> named_parameters() const;
  int64_t parameter_count() const;  // buffers (running statistics) not counted, as PyTorch's numel over parameters()
  // "Conv2d(1, 16, 3, padding=1); ReLU(); ..." for a chain; a graph's node per line (nn/architecture.h).
  std::string architecture() const;
  ad::Shape output_shape(size_t upto = npos) const;  // per-example shape of node upto − 1 (the input for 0)
  std::vector<ad::Shape> output_shapes() const;      // of each node, in one pass
  // Values the forward of one example records through nodes [from, to), about: what sizes the
  // parts a batch is cut into so that a part's tape stays in cache (nn/parts.h).
  int64_t values_per_example(size_t from = 0, size_t to = npos) const;
  void zero_grad();

  Model clone() const;
  template <ad::Scalar U>
  Model<U> to() const;

 private:
  // How many nodes from i on run as one fused op, each the only reader of the one before: Conv2d,
  // ReLU (and a 2×2 MaxPool2d); in evaluation (`grads` none) also Conv2d, BatchNorm2d (and a ReLU),
  // the normalisation folded into the convolution's weights and bias; in training BatchNorm, ReLU;
  // and Add, ReLU (a residual block's end). 1 when none can.
  size_t fusable(size_t i, size_t to, Grads grads = Grads::parameters) const;
  // Training: when node i is a BatchNorm whose one reader is an Add of two values, itself read by a
  // ReLU alone (a residual block's end), that Add's index; npos otherwise. The three then run as
  // one op when the Add's turn comes, the BatchNorm's own turn skipped: a downsampling shortcut
  // may be computed in between.
  size_t residual_end(size_t i, size_t to, Grads grads) const;
  // Runs the `count` nodes from i that fusable found as one op, on node i's inputs xs.
  ad::Var<T> forward_fused(ad::Tape<T>& tape, std::span<const ad::Var<T>> xs, Grads grads, size_t i, size_t count) const;
  ad::Var<T> forward_graph(ad::Tape<T>& tape, std::span<const ad::Var<T>> xs, Grads grads, size_t to, const NodeHook<T>* hook) const;
};

}  // namespace integrad::nn
