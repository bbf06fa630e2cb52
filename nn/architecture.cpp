#include "nn/architecture.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <map>
#include <optional>
#include <stdexcept>
#include <vector>

#include "nn/init.h"
#include "nn/layer_args.h"
#include "nn/layer_registry.h"
#include "nn/layers_activation.h"
#include "nn/layers_conv.h"
#include "nn/layers_embedding.h"
#include "nn/layers_linear.h"
#include "nn/layers_pool.h"
#include "nn/layers_shape.h"
#include "nn/layers_transformer.h"

namespace integrad::nn {

namespace {

// What one example's activations may need: every layer's output at most 2^22 values (16 MB in
// float32), a convolution's unfolded input at most 2^24. Without these caps a 3 KB file
// (Conv2d(1, 16, 1, padding=1024); ...) asks for gigabytes per 28x28 image and the allocation
// fails deep inside a kernel.
constexpr int64_t kMaxActivationValues = int64_t(1) << 22;
constexpr int64_t kMaxConvColumns = int64_t(1) << 24;
constexpr size_t kMaxLayers = 4096;
// And all the layers' outputs together, which one example holds on the tape for the backward
// pass: at most 2^26 values (256 MB in float32). Each layer within its own limit is not enough:
// 4000 ReLUs after a Linear(2^20, ...) hold 2^20 values each, 16 GB for one example.
constexpr int64_t kMaxActivationTotal = int64_t(1) << 26;

void check_activation_size(const ad::Shape& s, const std::string& what) {
  int64_t n = 1;  // multiplied with care: the dimensions alone may overflow int64 together
  for (int64_t d : s.dims()) {
    if (d > 0 && n > kMaxActivationValues / d) throw std::invalid_argument(fmt::format("{} gives {} per example, more than the limit of 2^22 values", what, s.str()));
    n *= d;
  }
}

}  // namespace

template <ad::Scalar T>
std::unique_ptr<Layer<T>> parse_layer(std::string_view text) {
  text = trim(text);
  const size_t open = text.find('(');
  if (open == std::string_view::npos || text.back() != ')') throw std::invalid_argument(fmt::format("layer '{}': expected Name(arguments)", text));
  const std::string name(trim(text.substr(0, open)));
  const std::string_view inside = text.substr(open + 1, text.size() - open - 2);
  if (inside.find('(') != std::string_view::npos)
    throw std::invalid_argument(fmt::format("layer '{}': tuple arguments are not supported (use square kernels and a single number)", text));
  const LayerType<T>* type = nullptr;
  try {
    type = &layer_type<T>(name);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("layer '{}': {}", text, e.what()));
  }
  return type->make(LayerArgs(text, inside, type->arguments));
}

namespace {

// A graph node's line: [name =] Layer(arguments) [(input, input, ...)].
struct NodeText {
  std::string name;  // empty: named by its index
  std::string_view layer;
  std::vector<std::string> reads;  // empty: the node before
};

bool valid_node_name(std::string_view n) {
  if (n.empty() || n.size() > 200) return false;
  for (char c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' || c == '/' || c == ':')) return false;
  return true;
}

NodeText split_node(std::string_view item) {
  NodeText node;
  const size_t open = item.find('(');
  if (const size_t eq = item.find('='); eq != std::string_view::npos && eq < open) {
    node.name = std::string(trim(item.substr(0, eq)));
    if (!valid_node_name(node.name))
      throw std::invalid_argument(fmt::format("'{}': a layer's name is letters, digits and _ . - / :, at most 200 characters", item));
    item = trim(item.substr(eq + 1));
  }
  const size_t close = item.find(')');
  if (close == std::string_view::npos) throw std::invalid_argument(fmt::format("layer '{}': expected Name(arguments)", item));
  node.layer = trim(item.substr(0, close + 1));
  std::string_view rest = trim(item.substr(close + 1));
  if (rest.empty()) return node;
  if (rest.front() != '(' || rest.back() != ')') throw std::invalid_argument(fmt::format("layer '{}': after the arguments only (its inputs, ...) may follow", item));
  rest = rest.substr(1, rest.size() - 2);
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view read = trim(rest.substr(0, comma));
    if (!valid_node_name(read)) throw std::invalid_argument(fmt::format("layer '{}': input '{}' is not a layer's name", item, read));
    node.reads.emplace_back(read);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return node;
}

}  // namespace

template <ad::Scalar T>
std::string input_name(const Model<T>& model, size_t k) {
  return model.named_inputs.empty() ? std::string(kInputName) : model.named_inputs[k].name;
}

template <ad::Scalar T>
std::string architecture_text(const Model<T>& model) {
  std::string s;
  if (model.is_chain()) {
    for (size_t i = 0; i < model.layers.size(); ++i) s += (i ? "; " : "") + model.layers[i]->architecture();
    return s;
  }
  for (size_t i = 0; i < model.layers.size(); ++i) {
    s += fmt::format("{}{} = {}", i ? "\n" : "", model.node_name(i), model.layers[i]->architecture());
    const std::vector<int> reads = model.node_inputs(i);
    if (reads == std::vector<int>{static_cast<int>(i) - 1} && (i > 0 || model.named_inputs.empty())) continue;  // named inputs: always say which
    std::vector<std::string> read_names;
    for (int r : reads) read_names.push_back(r < 0 ? input_name(model, size_t(-1 - r)) : model.node_name(r));
    s += fmt::format("({})", fmt::join(read_names, ", "));
  }
  return s;
}

namespace {

// The inputs as named (empty: one, named "input", of input_shape and input_dtype).
template <ad::Scalar T>
Model<T> parse_nodes(std::string_view text, const std::vector<ModelInput>& inputs, uint64_t init_seed, ad::Shape input_shape, InputDtype input_dtype) {
  Model<T> model;
  model.input_shape = input_shape;
  model.input_dtype = input_dtype;
  std::map<std::string, int> input_of;  // how nodes name the inputs: "input", or each input's own name
  if (inputs.empty()) input_of[std::string(kInputName)] = Model<T>::kModelInput;
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (!valid_node_name(inputs[k].name))
      throw std::invalid_argument(fmt::format("input name '{}': letters, digits and _ . - / :, at most 200 characters", inputs[k].name));
    input_of[inputs[k].name] = Model<T>::model_input(k);
  }
  if (!inputs.empty()) model.set_inputs(inputs);
  // Each layer is checked as it is read — its parameters against the model's running total, its
  // output shape against the previous one — so parsing stays linear in the number of layers and
  // a hostile text is refused before the layers after the offending one are built.
  int64_t parameters = 0;
  for (size_t k = 0; k < model.input_count(); ++k) check_activation_size(model.input_shape_of(k), "the input");
  std::map<std::string, int> index_of;  // node names so far
  std::vector<ad::Shape> shapes;        // per-example output shape of each node
  double activations = 0;               // values per example, all layers' outputs (a double: no overflow)
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = text.find_first_of(";\n", start);
    const std::string_view item = trim(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (!item.empty()) {
      if (model.layers.size() >= kMaxLayers) throw std::invalid_argument(fmt::format("architecture has more than {} layers", kMaxLayers));
      const size_t i = model.layers.size();
      const NodeText node = split_node(item);
      std::vector<int> reads;
      for (const std::string& r : node.reads) {
        if (const auto in = input_of.find(r); in != input_of.end()) {
          reads.push_back(in->second);
          continue;
        }
        const auto it = index_of.find(r);
        if (it == index_of.end()) throw std::invalid_argument(fmt::format("layer '{}' reads '{}', which is no layer before it", node.name, r));
        reads.push_back(it->second);
      }
      std::unique_ptr<Layer<T>> layer = parse_layer<T>(node.layer);
      const size_t arity = layer->arity(), count = reads.empty() ? 1 : reads.size();
      const std::string name = node.name.empty() ? std::to_string(i) : node.name;
      if (arity == 0 ? count < 2 : count != arity)
        throw std::invalid_argument(fmt::format("layer '{}' ({}) reads {} value(s), it takes {}", name, layer->architecture(), count,
                                                arity == 0 ? std::string("two or more") : std::to_string(arity)));
      if (input_of.count(name) || index_of.count(name)) throw std::invalid_argument(fmt::format("two layers are named '{}'", name));
      index_of[name] = static_cast<int>(i);
      model.add(name, std::move(layer), reads);
      shapes.push_back(ad::Shape{});
      for (const Parameter<T>* p : model.layers.back()->parameters()) parameters += p->value.numel();
      if (parameters > kMaxLayerParameters) throw std::invalid_argument("architecture has more than 2^26 parameters");
      std::vector<ad::Shape> in;
      for (int r : model.node_inputs(i)) in.push_back(r < 0 ? model.input_shape_of(size_t(-1 - r)) : shapes[r]);
      ad::Shape& s = shapes.back();
      try {
        s = in.size() == 1 ? model.layers.back()->output_shape(in[0]) : model.layers.back()->output_shape(std::span<const ad::Shape>(in));
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(fmt::format("layer {} does not fit: {}", i, e.what()));
      }
      check_activation_size(s, fmt::format("layer {} ({})", i, model.layers.back()->architecture()));
      activations += double(s.numel());
      if (const auto* conv = layer_if<Conv2d<T>>(*model.layers.back())) {
        // The convolution unfolds its input into [C·k·k, Ho·Wo] columns per example, and pads it
        // to [C, H + 2p, W + 2p] first.
        const int64_t patch = conv->in_ch * conv->kernel * conv->kernel, pixels = s[1] * s[2];
        if (patch > kMaxConvColumns / std::max<int64_t>(pixels, 1))
          throw std::invalid_argument(fmt::format("layer {} ({}) on input {} unfolds into {} x {} values per example, above the limit of 2^24",
                                                  i, conv->architecture(), in[0].str(), patch, pixels));
        const int64_t padded = conv->in_ch * (in[0][1] + 2 * conv->padding) * (in[0][2] + 2 * conv->padding);
        if (padded > kMaxConvColumns)
          throw std::invalid_argument(fmt::format("layer {} ({}) pads input {} to {} values per example, above the limit of 2^24", i,
                                                  conv->architecture(), in[0].str(), padded));
      }
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (model.layers.empty()) throw std::invalid_argument("architecture has no layers");
  if (activations > double(kMaxActivationTotal))
    throw std::invalid_argument(fmt::format("the layers' outputs need {:.0f} values per example ({:.1f} GB in float32) on the tape, more than the budget of "
                                            "2^26 values (256 MB): the model is too large to run",
                                            activations, activations * 4 / 1e9));
  init_parameters(model, init_seed);
  return model;
}

}  // namespace

template <ad::Scalar T>
Model<T> parse_architecture(std::string_view text, ad::Shape input_shape, InputDtype input_dtype, uint64_t init_seed) {
  return parse_nodes<T>(text, std::vector<ModelInput>{}, init_seed, input_shape, input_dtype);
}

template <ad::Scalar T>
Model<T> parse_architecture(std::string_view text, const std::vector<ModelInput>& inputs, uint64_t init_seed) {
  if (inputs.empty()) throw std::invalid_argument("a model reads at least one input");
  return parse_nodes<T>(text, inputs, init_seed, inputs[0].shape, inputs[0].dtype);
}

template std::unique_ptr<Layer<float>> parse_layer<float>(std::string_view);
template std::unique_ptr<Layer<double>> parse_layer<double>(std::string_view);
template std::string architecture_text<float>(const Model<float>&);
template std::string architecture_text<double>(const Model<double>&);
template Model<float> parse_architecture<float>(std::string_view, ad::Shape, InputDtype, uint64_t);
template Model<double> parse_architecture<double>(std::string_view, ad::Shape, InputDtype, uint64_t);
template Model<float> parse_architecture<float>(std::string_view, const std::vector<ModelInput>&, uint64_t);
template Model<double> parse_architecture<double>(std::string_view, const std::vector<ModelInput>&, uint64_t);
template std::string input_name<float>(const Model<float>&, size_t);
template std::string input_name<double>(const Model<double>&, size_t);

}  // namespace integrad::nn
