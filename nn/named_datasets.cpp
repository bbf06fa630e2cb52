#include "nn/named_datasets.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <stdexcept>

#include "nn/fashion_mnist.h"
#include "nn/sklearn_data.h"
#include "nn/synthetic.h"
#include "nn/synthetic_loan.h"
#include "nn/synthetic_watermark.h"
#include "nn/synthetic_tabular.h"
#include "nn/synthetic_order.h"

namespace integrad::nn {
namespace {

constexpr int64_t kTokenLength = 16, kTokenVocab = 64;
constexpr int64_t kOrderLength = 16, kOrderVocab = 32;
// What a synthetic set holds (as many as Fashion-MNIST): --limit is "at most", so a larger one
// takes them all instead of generating (and allocating) whatever number was asked for.
constexpr int64_t kSyntheticTrain = 60000, kSyntheticTest = 10000;
// Synthetic sets draw their test split from another seed than their training split.
uint64_t split_seed(const DataRequest& r) { return r.train ? 1 : 2; }

// Both precisions' loaders from one generic function.
template <class Load>
NamedDataset with_loaders(NamedDataset set, Load load) {
  set.load_float = [load](const DataRequest& r) { return load(float{}, r); };
  set.load_double = [load](const DataRequest& r) { return load(double{}, r); };
  return set;
}

std::vector<NamedDataset> make_datasets() {
  std::vector<NamedDataset> sets;
  sets.push_back(with_loaders({"fashion-mnist", "Fashion-MNIST (Debian's dataset-fashion-mnist): 28x28 clothing images, 10 classes", {1, 28, 28}},
                              [](auto t, const DataRequest& r) { return load_fashion_mnist<decltype(t)>(r.data_dir, r.train, r.limit); }));

  NamedDataset patches = with_loaders({"synthetic-patches", "noise images; class k is a bright 4x4 patch at a place of its own", {1, 28, 28}},
                                      [](auto t, const DataRequest& r) { return synthetic_patches<decltype(t)>(synthetic_count(r), split_seed(r)); });
  patches.masks = [](const Dataset<float>& d) {
    ad::Tensor<float> m(with_batch(d.size(), {1, 28, 28}));
    for (int64_t i = 0; i < d.size(); ++i) {
      const ad::Tensor<float> one = synthetic_patches_mask(d.labels[size_t(i)]);
      std::copy(one.data(), one.data() + one.numel(), m.data() + i * one.numel());
    }
    return m;
  };
  sets.push_back(std::move(patches));

  NamedDataset tokens = with_loaders({"synthetic-tokens", "token sequences; the label is whether positive markers outnumber negative ones", {kTokenLength}, InputDtype::int64},
                                     [](auto t, const DataRequest& r) { return synthetic_tokens<decltype(t)>(synthetic_count(r), kTokenLength, kTokenVocab, split_seed(r)); });
  // Every marker counts towards the decision: the mask marks the positions holding one.
  tokens.masks = [](const Dataset<float>& d) {
    ad::Tensor<float> m(d.inputs.shape());
    auto markers = synthetic_tokens_positive();
    for (int64_t id : synthetic_tokens_negative()) markers.push_back(id);
    for (int64_t k = 0; k < d.inputs.numel(); ++k)
      m[k] = std::find(markers.begin(), markers.end(), int64_t(d.inputs[k])) != markers.end() ? 1.0f : 0.0f;
    return m;
  };
  sets.push_back(std::move(tokens));

  NamedDataset tabular = with_loaders({"synthetic-tabular", "7 tabular features of known roles: 3 linear, an interaction pair, a dummy, a duplicate (nn/synthetic_tabular.h)", {7}},
                                      [](auto t, const DataRequest& r) { return synthetic_tabular<decltype(t)>(synthetic_count(r), split_seed(r)); });
  tabular.feature_names = synthetic_tabular_names();
  // Every feature the label reads (the duplicate carries linear_a's information), all but the dummy.
  tabular.masks = [](const Dataset<float>& d) {
    ad::Tensor<float> m(d.inputs.shape());
    const auto& features = synthetic_tabular_features();
    for (int64_t k = 0; k < m.numel(); ++k) m[k] = features[size_t(k % 7)].role == "dummy" ? 0.0f : 1.0f;
    return m;
  };
  sets.push_back(std::move(tabular));
  NamedDataset order = with_loaders({"synthetic-order", "CLS, then one A and one B marker among filler tokens; the label is whether A comes first (needs attention)", {kOrderLength}, InputDtype::int64},
                                    [](auto t, const DataRequest& r) { return synthetic_order<decltype(t)>(synthetic_count(r), kOrderLength, kOrderVocab, split_seed(r)); });
  order.masks = [](const Dataset<float>& d) { return synthetic_order_masks(d.inputs); };  // the two markers decide
  sets.push_back(std::move(order));
  NamedDataset watermark = with_loaders({"synthetic-watermark", "Clever Hans: a square or a plus decides the class; a corner watermark agrees with the label in train, random in test", {1, 28, 28}},
                                        [](auto t, const DataRequest& r) { return synthetic_watermark<decltype(t)>(synthetic_count(r), split_seed(r), r.train); });
  watermark.masks = [](const Dataset<float>& d) { return synthetic_watermark_object_masks(d.inputs); };
  watermark.shortcut_masks = [](const Dataset<float>& d) { return synthetic_watermark_masks(d.inputs); };
  sets.push_back(std::move(watermark));

  NamedDataset loan = with_loaders({"synthetic-loan", "a biased loan history: approval follows income and debt, and a protected attribute that zip_code stands in for", {6}},
                                   [](auto t, const DataRequest& r) { return synthetic_loan<decltype(t)>(synthetic_count(r), split_seed(r)); });
  loan.feature_names = synthetic_loan_names();
  const auto feature_mask = [](std::vector<std::string> marked) {
    return [marked](const Dataset<float>& d) {
      const auto names = synthetic_loan_names();
      ad::Tensor<float> m(d.inputs.shape());
      for (int64_t k = 0; k < m.numel(); ++k)
        m[k] = std::find(marked.begin(), marked.end(), names[size_t(k % int64_t(names.size()))]) != marked.end() ? 1.0f : 0.0f;
      return m;
    };
  };
  loan.masks = feature_mask({"income", "debt"});        // what a fair decision reads
  loan.shortcut_masks = feature_mask({"zip_code"});     // the proxy for the protected attribute
  sets.push_back(std::move(loan));

  // scikit-learn's bundled sets, from Debian's python3-sklearn (nn/sklearn_data.h, docs/datasets.md).
  for (const SklearnSet& sk : sklearn_sets()) {
    const std::string summary = sk.regression ? fmt::format("scikit-learn's {} (Debian's python3-sklearn): {} raw features, a regression", sk.name,
                                                            sk.input_shape.numel())
                                              : fmt::format("scikit-learn's {} (Debian's python3-sklearn): {} features, {} classes", sk.name,
                                                            sk.input_shape.str(), sk.class_names.size());
    NamedDataset set = with_loaders({sk.name, summary, sk.input_shape}, [&sk](auto t, const DataRequest& r) {
      return load_sklearn<decltype(t)>(sk, r.all ? "all" : r.train ? "train" : "test", r.limit);
    });
    set.feature_names = sk.feature_names;
    set.regression = sk.regression;
    set.has_all_split = true;
    sets.push_back(std::move(set));
  }
  return sets;
}

// The number of outputs asked for, or the architecture's own default.
int64_t outputs_or(int64_t outputs, int64_t fallback) { return outputs > 0 ? outputs : fallback; }

// torchvision's BasicBlock, named by its module paths: conv, BatchNorm, ReLU, conv, BatchNorm, the
// residual sum (through a 1x1 convolution and BatchNorm where the shape changes), ReLU.
std::string basic_block(const std::string& at, const std::string& in, int64_t in_ch, int64_t out_ch, int stride) {
  std::string s = fmt::format("{0}.conv1 = Conv2d({1}, {2}, 3, stride={3}, padding=1, bias=False)({4})\n{0}.bn1 = BatchNorm2d({2})\n{0}.relu = ReLU()\n"
                              "{0}.conv2 = Conv2d({2}, {2}, 3, padding=1, bias=False)\n{0}.bn2 = BatchNorm2d({2})\n",
                              at, in_ch, out_ch, stride, in);
  std::string shortcut = in;
  if (stride != 1 || in_ch != out_ch) {
    s += fmt::format("{0}.downsample.0 = Conv2d({1}, {2}, 1, stride={3}, bias=False)({4})\n{0}.downsample.1 = BatchNorm2d({2})\n", at, in_ch, out_ch, stride, in);
    shortcut = at + ".downsample.1";
  }
  return s + fmt::format("{0}.add = Add()({0}.bn2, {1})\n{0}.relu2 = ReLU()\n", at, shortcut);
}

std::string resnet_layers(const ad::Shape& in, int64_t out) {
  if (in.rank() != 3) throw std::invalid_argument(fmt::format("--arch resnet needs image inputs [C, H, W], not {}", in.str()));
  return fmt::format("conv1 = Conv2d({}, 16, 3, padding=1, bias=False)\nbn1 = BatchNorm2d(16)\nrelu = ReLU()\n", in[0]) +
         basic_block("layer1.0", "relu", 16, 16, 1) + basic_block("layer2.0", "layer1.0.relu2", 16, 32, 2) +
         fmt::format("avgpool = AdaptiveAvgPool2d(1)\nflatten = Flatten()\nfc = Linear(32, {})", outputs_or(out, 10));
}

std::vector<NamedArchitecture> make_architectures() {
  return {
      {"mlp", "two hidden layers (256, 128) of ReLU", "", {1, 28, 28}, InputDtype::float32,
       [](const ad::Shape& in, int64_t out) {
         return fmt::format("Flatten(); Linear({}, 256); ReLU(); Linear(256, 128); ReLU(); Linear(128, {})", in.numel(), outputs_or(out, 10));
       }},
      {"cnn", "two 3x3 convolutions (16, 32 channels) with ReLU and 2x2 max pooling, then a Linear", "", {1, 28, 28}, InputDtype::float32,
       [](const ad::Shape& in, int64_t out) {
         if (in.rank() != 3) throw std::invalid_argument(fmt::format("--arch cnn needs image inputs [C, H, W], not {}", in.str()));
         return fmt::format("Conv2d({}, 16, 3, padding=1); ReLU(); MaxPool2d(2); Conv2d(16, 32, 3, padding=1); ReLU(); MaxPool2d(2); Flatten(); Linear({}, {})",
                            in[0], 32 * (in[1] / 4) * (in[2] / 4), outputs_or(out, 10));
       }},
      {"resnet", "a small residual net: a 3x3 stem (16 channels), two BasicBlocks with BatchNorm (16, then 32 channels at stride 2), global average pooling, Linear",
       "", {1, 28, 28}, InputDtype::float32, resnet_layers},
      {"tabular", "an MLP for tabular features: two hidden layers (32, 32) of ReLU; its width and outputs follow the data", "synthetic-tabular", {7},
       InputDtype::float32,
       [](const ad::Shape& in, int64_t out) {
         if (in.rank() != 1) throw std::invalid_argument(fmt::format("--arch tabular needs flat inputs [F], not {}", in.str()));
         return fmt::format("Linear({}, 32); ReLU(); Linear(32, 32); ReLU(); Linear(32, {})", in[0], outputs_or(out, 2));
       }},
      {"text", "a bag of embeddings: Embedding, Mean over the tokens, Linear", "synthetic-tokens", {kTokenLength}, InputDtype::int64,
       [](const ad::Shape&, int64_t out) { return fmt::format("Embedding({}, 16); Mean(1); Linear(16, {})", kTokenVocab, outputs_or(out, 2)); }},
      {"transformer", "Embedding, learned positions, two post-norm TransformerEncoderLayers (2 heads), the CLS token, Linear", "synthetic-order", {kOrderLength}, InputDtype::int64,
       [](const ad::Shape& in, int64_t out) {
         if (in.rank() != 1) throw std::invalid_argument(fmt::format("--arch transformer needs token sequences [T], not {}", in.str()));
         return fmt::format("Embedding({}, 32); PositionalEmbedding({}, 32); TransformerEncoderLayer(32, 2, dim_feedforward=64, dropout=0.0); "
                            "TransformerEncoderLayer(32, 2, dim_feedforward=64, dropout=0.0); Select(1, 0); Linear(32, {})", kOrderVocab, in[0], outputs_or(out, 2));
       }},
      {"lstm", "Embedding, an LSTM (32 -> 64, batch_first), its last step, Linear", "synthetic-order", {kOrderLength}, InputDtype::int64,
       [](const ad::Shape& in, int64_t out) {
         if (in.rank() != 1) throw std::invalid_argument(fmt::format("--arch lstm needs token sequences [T], not {}", in.str()));
         return fmt::format("Embedding({}, 32); LSTM(32, 64, batch_first=True); Select(1, -1); Linear(64, {})", kOrderVocab, outputs_or(out, 2));
       }},
      {"gru", "Embedding, a GRU (32 -> 64, batch_first), its last step, Linear", "synthetic-order", {kOrderLength}, InputDtype::int64,
       [](const ad::Shape& in, int64_t out) {
         if (in.rank() != 1) throw std::invalid_argument(fmt::format("--arch gru needs token sequences [T], not {}", in.str()));
         return fmt::format("Embedding({}, 32); GRU(32, 64, batch_first=True); Select(1, -1); Linear(64, {})", kOrderVocab, outputs_or(out, 2));
       }},
  };
}

template <class Entry>
const Entry& find_named(const std::vector<Entry>& entries, const std::string& name, const char* what) {
  for (const Entry& e : entries)
    if (e.name == name) return e;
  std::vector<std::string> names;
  for (const Entry& e : entries) names.push_back(e.name);
  throw std::invalid_argument(fmt::format("unknown {} '{}' (known: {})", what, name, fmt::join(names, ", ")));
}

}  // namespace

int64_t synthetic_count(const DataRequest& r) {
  if (r.limit >= 0) return std::min(r.limit, r.train ? kSyntheticTrain : kSyntheticTest);
  return r.train ? 10000 : 2000;
}

const std::vector<NamedDataset>& named_datasets() {
  static const std::vector<NamedDataset> sets = make_datasets();
  return sets;
}

const NamedDataset& named_dataset(const std::string& name) { return find_named(named_datasets(), name, "data set"); }

std::vector<std::string> named_dataset_names() {
  std::vector<std::string> names;
  for (const auto& s : named_datasets()) names.push_back(s.name);
  return names;
}

namespace {
void check_request(const NamedDataset& set, const DataRequest& r) {
  if (r.all && !set.has_all_split)
    throw std::invalid_argument(fmt::format("--split all: {} is generated, not a fixed list of examples; ask for train or test", set.name));
}
}  // namespace

template <>
Dataset<float> load_named<float>(const NamedDataset& set, const DataRequest& r) {
  check_request(set, r);
  Dataset<float> d = set.load_float(r);
  if (d.feature_names.empty()) d.feature_names = set.feature_names;
  return d;
}
template <>
Dataset<double> load_named<double>(const NamedDataset& set, const DataRequest& r) {
  check_request(set, r);
  Dataset<double> d = set.load_double(r);
  if (d.feature_names.empty()) d.feature_names = set.feature_names;
  return d;
}

const std::vector<NamedArchitecture>& named_architectures() {
  static const std::vector<NamedArchitecture> archs = make_architectures();
  return archs;
}

const NamedArchitecture& named_architecture_entry(const std::string& name) { return find_named(named_architectures(), name, "architecture"); }

std::vector<std::string> named_architecture_names() {
  std::vector<std::string> names;
  for (const auto& a : named_architectures()) names.push_back(a.name);
  return names;
}

std::string named_architecture(const std::string& name) {
  const NamedArchitecture& a = named_architecture_entry(name);
  return a.layers(a.designed_for, 0);
}

}  // namespace integrad::nn
