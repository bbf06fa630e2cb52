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
#include "nn/layers_activation.h"
#include "nn/layers_conv.h"
#include "nn/layers_embedding.h"
#include "nn/layers_linear.h"
#include "nn/layers_pool.h"
#include "nn/layers_shape.h"
#include "nn/layers_transformer.h"

namespace integrad::nn {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// A layer's arguments matched to PyTorch's parameter names, positional first, then key=value.
class Args {
 public:
  Args(std::string_view layer, std::string_view args, std::vector<std::string> names) : layer_(layer), names_(std::move(names)) {
    size_t position = 0;
    for (std::string_view rest = args; !trim(rest).empty();) {
      const size_t comma = rest.find(',');
      std::string_view item = trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (item.empty()) fail("empty argument");
      const size_t eq = item.find('=');
      std::string key;
      if (eq == std::string_view::npos) {
        if (!values_.empty() && keyword_seen_) fail("positional argument after a keyword argument");
        if (position >= names_.size()) fail(fmt::format("takes at most {} arguments", names_.size()));
        key = names_[position++];
      } else {
        keyword_seen_ = true;
        key = std::string(trim(item.substr(0, eq)));
        if (std::find(names_.begin(), names_.end(), key) == names_.end()) fail("unknown option '" + key + "'");
        item = trim(item.substr(eq + 1));
      }
      if (values_.count(key)) fail("'" + key + "' given twice");
      values_[key] = std::string(item);
    }
  }

  int64_t integer(const std::string& key, std::optional<int64_t> fallback = std::nullopt) const {
    auto it = values_.find(key);
    if (it == values_.end()) {
      if (!fallback) fail("missing '" + key + "'");
      return *fallback;
    }
    try {
      size_t used = 0;
      const int64_t v = std::stoll(it->second, &used);
      if (used != it->second.size()) throw std::invalid_argument("trailing text");
      return v;
    } catch (const std::exception&) {
      fail("'" + key + "' is '" + it->second + "', expected an integer");
    }
  }
  int64_t positive(const std::string& key, std::optional<int64_t> fallback = std::nullopt) const {
    const int64_t v = integer(key, fallback);
    if (v < 1 || v > (int64_t(1) << 24)) fail(fmt::format("'{}' is {}, expected a positive integer below 2^24", key, v));
    return v;
  }
  bool boolean(const std::string& key, bool fallback) const {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    if (it->second == "True" || it->second == "true") return true;
    if (it->second == "False" || it->second == "false") return false;
    fail("'" + key + "' is '" + it->second + "', expected True or False");
  }
  // A finite real number in [lo, hi].
  double real(const std::string& key, double fallback, double lo, double hi) const {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    double v = 0;
    try {
      size_t used = 0;
      v = std::stod(it->second, &used);
      if (used != it->second.size()) throw std::invalid_argument("trailing text");
    } catch (const std::exception&) {
      fail("'" + key + "' is '" + it->second + "', expected a number");
    }
    if (!(v >= lo && v <= hi)) fail(fmt::format("'{}' is {}, expected a number in [{}, {}]", key, it->second, lo, hi));
    return v;
  }
  // A word, with or without quotes ('relu', "relu", relu).
  std::string word(const std::string& key, const std::string& fallback) const {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    std::string v = it->second;
    if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"') && v.back() == v.front()) v = v.substr(1, v.size() - 2);
    return v;
  }
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  bool is_none(const std::string& key) const { return has(key) && values_.at(key) == "None"; }

  [[noreturn]] void fail(const std::string& what) const { throw std::invalid_argument(fmt::format("layer '{}': {}", layer_, what)); }

 private:
  std::string layer_;
  std::vector<std::string> names_;
  std::map<std::string, std::string> values_;
  bool keyword_seen_ = false;
};

// A layer's parameters (values and gradients) are allocated when it is built: refuse sizes no toy
// model needs (2^26 values per layer and per model) before allocating, so a hostile file cannot
// exhaust memory.
constexpr int64_t kMaxLayerParameters = int64_t(1) << 26;

void check_size(const Args& a, std::initializer_list<int64_t> dims) {
  int64_t total = 1;
  for (int64_t d : dims) {
    if (d > kMaxLayerParameters / std::max<int64_t>(total, 1)) a.fail("more than 2^26 parameters");
    total *= d;
  }
}

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
  auto args = [&](std::vector<std::string> names) { return Args(text, inside, std::move(names)); };

  if (name == "Linear") {
    Args a = args({"in_features", "out_features", "bias"});
    check_size(a, {a.positive("in_features"), a.positive("out_features")});
    return std::make_unique<Linear<T>>(a.positive("in_features"), a.positive("out_features"), a.boolean("bias", true));
  }
  if (name == "Conv2d") {
    Args a = args({"in_channels", "out_channels", "kernel_size", "stride", "padding", "bias"});
    const int64_t padding = a.integer("padding", 0);
    if (padding < 0 || padding > 1024) a.fail("'padding' must be in [0, 1024]");
    if (a.positive("kernel_size") > 1024 || a.positive("stride", 1) > 1024) a.fail("'kernel_size' and 'stride' must be at most 1024");
    check_size(a, {a.positive("in_channels"), a.positive("out_channels"), a.positive("kernel_size"), a.positive("kernel_size")});
    return std::make_unique<Conv2d<T>>(a.positive("in_channels"), a.positive("out_channels"), static_cast<int>(a.positive("kernel_size")),
                                       static_cast<int>(a.positive("stride", 1)), static_cast<int>(padding), a.boolean("bias", true));
  }
  if (name == "MaxPool2d" || name == "AvgPool2d") {
    Args a = args({"kernel_size", "stride"});
    if (a.positive("kernel_size") > 1024 || (a.has("stride") && !a.is_none("stride") && a.positive("stride") > 1024))
      a.fail("'kernel_size' and 'stride' must be at most 1024");
    const int k = static_cast<int>(a.positive("kernel_size"));
    const int s = a.has("stride") && !a.is_none("stride") ? static_cast<int>(a.positive("stride")) : k;
    if (name == "MaxPool2d") return std::make_unique<MaxPool2d<T>>(k, s);
    return std::make_unique<AvgPool2d<T>>(k, s);
  }
  if (name == "Flatten") {
    Args a = args({"start_dim"});
    if (a.integer("start_dim", 1) != 1) a.fail("only start_dim=1 is supported");
    return std::make_unique<Flatten<T>>();
  }
  if (name == "ReLU") return (void)args({"inplace"}), std::make_unique<ElementWise<T>>(Activation::relu);
  if (name == "Sigmoid") return (void)args({}), std::make_unique<ElementWise<T>>(Activation::sigmoid);
  if (name == "Tanh") return (void)args({}), std::make_unique<ElementWise<T>>(Activation::tanh);
  if (name == "Softmax") {
    Args a = args({"dim"});
    return std::make_unique<Softmax<T>>(static_cast<int>(a.integer("dim", -1)));
  }
  if (name == "Embedding") {
    Args a = args({"num_embeddings", "embedding_dim"});
    check_size(a, {a.positive("num_embeddings"), a.positive("embedding_dim")});
    return std::make_unique<Embedding<T>>(a.positive("num_embeddings"), a.positive("embedding_dim"));
  }
  if (name == "Mean") {
    Args a = args({"dim"});
    return std::make_unique<Mean<T>>(static_cast<int>(a.integer("dim")));
  }
  if (name == "LayerNorm") {
    Args a = args({"normalized_shape", "eps", "elementwise_affine"});
    if (!a.boolean("elementwise_affine", true)) a.fail("only elementwise_affine=True is supported");
    check_size(a, {a.positive("normalized_shape")});
    return std::make_unique<LayerNorm<T>>(a.positive("normalized_shape"), a.real("eps", 1e-5, 1e-30, 1.0));
  }
  if (name == "GELU") {
    Args a = args({"approximate"});
    if (a.word("approximate", "none") != "none") a.fail("only approximate='none' (the exact erf form) is supported");
    return std::make_unique<GELU<T>>();
  }
  if (name == "Dropout") {
    Args a = args({"p", "inplace"});
    return std::make_unique<Dropout<T>>(a.real("p", 0.5, 0.0, 1.0));
  }
  if (name == "PositionalEmbedding") {
    Args a = args({"max_len", "embedding_dim"});
    check_size(a, {a.positive("max_len"), a.positive("embedding_dim")});
    return std::make_unique<PositionalEmbedding<T>>(a.positive("max_len"), a.positive("embedding_dim"));
  }
  if (name == "Select") {
    Args a = args({"dim", "index"});
    const int64_t dim = a.integer("dim"), index = a.integer("index");
    if (dim == 0) a.fail("dim 0 is the batch: Select(0, ...) would pick one example");
    if (dim < -5 || dim > 5 || index < -(int64_t(1) << 24) || index >= (int64_t(1) << 24)) a.fail("'dim' must be in [-5, 5] and 'index' below 2^24 in size");
    return std::make_unique<Select<T>>(static_cast<int>(dim), index);
  }
  if (name == "TransformerEncoderLayer") {
    Args a = args({"d_model", "nhead", "dim_feedforward", "dropout", "activation", "layer_norm_eps", "batch_first", "norm_first"});
    const int64_t d = a.positive("d_model"), heads = a.positive("nhead"), ff = a.positive("dim_feedforward", 2048);
    if (d % heads != 0) a.fail(fmt::format("nhead {} does not divide d_model {} (each head takes d_model/nhead features)", heads, d));
    if (!a.boolean("batch_first", true)) a.fail("only batch_first=True is supported (inputs are [N, T, d_model])");
    const std::string act = a.word("activation", "relu");
    if (act != "relu" && act != "gelu") a.fail("'activation' is '" + act + "', expected relu or gelu");
    if (a.real("layer_norm_eps", 1e-5, 0.0, 1.0) != 1e-5) a.fail("only layer_norm_eps=1e-05 is supported");
    check_size(a, {4 * d + 2 * ff + 8, d});  // in/out projections, linear1 and linear2, norms
    return std::make_unique<TransformerEncoderLayer<T>>(d, heads, ff, a.real("dropout", 0.1, 0.0, 1.0),
                                                        act == "gelu" ? FeedForwardActivation::gelu : FeedForwardActivation::relu, a.boolean("norm_first", false));
  }
  throw std::invalid_argument(fmt::format("layer '{}': unknown layer '{}' (known: Linear, Conv2d, MaxPool2d, AvgPool2d, Flatten, ReLU, Sigmoid, Tanh, Softmax, "
                                          "Embedding, Mean, LayerNorm, GELU, Dropout, PositionalEmbedding, Select, TransformerEncoderLayer)", text, name));
}

template <ad::Scalar T>
Sequential<T> parse_architecture(std::string_view text, ad::Shape input_shape, InputDtype input_dtype, uint64_t init_seed) {
  Sequential<T> model;
  model.input_shape = input_shape;
  model.input_dtype = input_dtype;
  // Each layer is checked as it is read — its parameters against the model's running total, its
  // output shape against the previous one — so parsing stays linear in the number of layers and
  // a hostile text is refused before the layers after the offending one are built.
  int64_t parameters = 0;
  ad::Shape s = input_shape;
  check_activation_size(s, "the input");
  double activations = 0;  // values per example, all layers' outputs (a double: no overflow)
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = text.find_first_of(";\n", start);
    const std::string_view item = trim(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (!item.empty()) {
      if (model.layers.size() >= kMaxLayers) throw std::invalid_argument(fmt::format("architecture has more than {} layers", kMaxLayers));
      const size_t i = model.layers.size();
      model.layers.push_back(parse_layer<T>(item));
      for (const Parameter<T>* p : model.layers.back()->parameters()) parameters += p->value.numel();
      if (parameters > kMaxLayerParameters) throw std::invalid_argument("architecture has more than 2^26 parameters");
      const ad::Shape in = s;
      try {
        s = model.layers.back()->output_shape(s);
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(fmt::format("layer {} does not fit: {}", i, e.what()));
      }
      check_activation_size(s, fmt::format("layer {} ({})", i, model.layers.back()->architecture()));
      activations += double(s.numel());
      if (model.layers.back()->type() == LayerKind::conv2d) {
        const auto* conv = &layer_as<Conv2d<T>>(*model.layers.back());
        // The convolution unfolds its input into [C·k·k, Ho·Wo] columns per example, and pads it
        // to [C, H + 2p, W + 2p] first.
        const int64_t patch = conv->in_ch * conv->kernel * conv->kernel, pixels = s[1] * s[2];
        if (patch > kMaxConvColumns / std::max<int64_t>(pixels, 1))
          throw std::invalid_argument(fmt::format("layer {} ({}) on input {} unfolds into {} x {} values per example, above the limit of 2^24",
                                                  i, conv->architecture(), in.str(), patch, pixels));
        const int64_t padded = conv->in_ch * (in[1] + 2 * conv->padding) * (in[2] + 2 * conv->padding);
        if (padded > kMaxConvColumns)
          throw std::invalid_argument(fmt::format("layer {} ({}) pads input {} to {} values per example, above the limit of 2^24", i,
                                                  conv->architecture(), in.str(), padded));
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

template std::unique_ptr<Layer<float>> parse_layer<float>(std::string_view);
template std::unique_ptr<Layer<double>> parse_layer<double>(std::string_view);
template Sequential<float> parse_architecture<float>(std::string_view, ad::Shape, InputDtype, uint64_t);
template Sequential<double> parse_architecture<double>(std::string_view, ad::Shape, InputDtype, uint64_t);

}  // namespace integrad::nn
