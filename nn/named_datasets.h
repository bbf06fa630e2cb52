// The data sets and architectures integrad knows by name (--data NAME, --arch NAME). Adding a data
// set is one entry in named_datasets.cpp: `--data`, `dataset`, `train`, `eval`, `report` and the
// ground-truth masks of `dataset --masks-out` all read this list.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "nn/dataset.h"
#include "nn/model.h"

namespace integrad::nn {

// Which examples a command asks for: a split, and at most `limit` of them (-1: the set's default
// number, all of Fashion-MNIST or a modest number of synthetic ones).
struct DataRequest {
  bool train = false;
  int64_t limit = -1;
  std::string data_dir;  // where a set read from disk lives (Fashion-MNIST's IDX files)
  bool all = false;      // every example in the file's order (`dataset --split all`; sets read from files only)
};

struct NamedDataset {
  std::string name, summary;
  ad::Shape input_shape;                  // one example's shape
  InputDtype input_dtype = InputDtype::float32;
  std::function<Dataset<float>(const DataRequest&)> load_float;
  std::function<Dataset<double>(const DataRequest&)> load_double;
  // Ground truth for localisation metrics: [N, ...input_shape], 1 where the evidence for the label
  // lies, 0 elsewhere. Empty (no function) when the set does not know it.
  std::function<ad::Tensor<float>(const Dataset<float>&)> masks;
  // Sets built around a shortcut (a watermark, a proxy feature): the same kind of mask for the
  // shortcut, which a model may use instead of the evidence. Empty elsewhere.
  std::function<ad::Tensor<float>(const Dataset<float>&)> shortcut_masks;
  std::vector<std::string> feature_names;  // tabular sets: one name per feature
  bool regression = false;  // real-valued targets (Dataset::targets), not class labels
  bool has_all_split = false;  // a fixed set of examples (read from a file) that --split all can list
};

const std::vector<NamedDataset>& named_datasets();
const NamedDataset& named_dataset(const std::string& name);  // throws, listing the known names
std::vector<std::string> named_dataset_names();

template <ad::Scalar T>
Dataset<T> load_named(const NamedDataset& set, const DataRequest& request);

// A synthetic set's size for a request: `limit` up to what the set holds (as many as Fashion-MNIST:
// 60,000 training, 10,000 test), or 10,000 / 2,000 by default.
int64_t synthetic_count(const DataRequest& request);

struct NamedArchitecture {
  std::string name, summary;
  std::string default_data;  // the named set it trains on when --data is not given ("" = none)
  ad::Shape designed_for;    // the input shape named_architecture(name) builds it for
  InputDtype input_dtype = InputDtype::float32;  // int64 for token models; float otherwise
  // The layers for one example's input shape (a Linear's width follows the number of features) and
  // a number of outputs (the classes, or 1 for a single logit or a regression; 0: the default).
  std::function<std::string(const ad::Shape& input_shape, int64_t outputs)> layers;
};

const std::vector<NamedArchitecture>& named_architectures();
const NamedArchitecture& named_architecture_entry(const std::string& name);  // throws, listing the known names
std::vector<std::string> named_architecture_names();
// The layers of a named architecture for the input it was designed for, e.g. "cnn" for 1x28x28.
std::string named_architecture(const std::string& name);

}  // namespace integrad::nn
