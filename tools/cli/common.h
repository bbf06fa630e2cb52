// What the subcommands share: the --dtype switch into templated code, and loading data sets.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>

#include "nn/dataset.h"
#include "nn/model_file.h"
#include "nn/model.h"

namespace integrad::cli {

inline void add_dtype_option(CLI::App& cmd, std::string& dtype) {
  cmd.add_option("--dtype", dtype, "Precision of all arithmetic (the model's weights are converted)")
      ->check(CLI::IsMember({"float32", "float64"}))
      ->default_val("float32");
}

// Calls fn(float{}) or fn(double{}) by --dtype, so the body is written once as a template.
template <class Fn>
void with_dtype(const std::string& dtype, Fn&& fn) {
  if (dtype == "float64") fn(double{});
  else fn(float{});
}

// Where training or evaluation data comes from: a named set or a pair of .npy files.
struct DataOptions {
  std::string data;      // a named data set (nn/named_datasets.h)
  std::string data_dir;  // for fashion-mnist
  std::string inputs, labels;
  std::string labels_column;  // the labels as a column of a .csv --inputs
  int64_t limit = -1;
  bool values = false;        // the labels are real values (a regression, --loss mse), not class indices
  bool all = false;           // a named set's every example (dataset --split all)

  void add_to(CLI::App& cmd, bool with_npy = true);
  bool given() const { return !data.empty() || !inputs.empty(); }
};

// The training (train = true) or test split. Synthetic sets draw their test split from another seed.
// --inputs X.csv: the features are its columns but --labels-column (or all, with --labels Y.npy);
// given `model_features` (a tabular model's names), those columns in that order.
template <ad::Scalar T>
nn::Dataset<T> load_data(const DataOptions& options, bool train, const std::vector<std::string>& model_features = {});

// train's --inputs X.npz --labels Y.npy for a MODEL of several inputs (or of one, from an .npz):
// the arrays by the model's input names, in its order, each checked against its input's shape;
// every array and the labels of one N. Errors name the file and the array (docs/inputs.md).
template <ad::Scalar T>
nn::Dataset<T> load_named_data(const DataOptions& options, const nn::Model<T>& model);

// One example's shape in an --inputs file (.npy or .csv, the label column excluded).
ad::Shape inputs_example_shape(const DataOptions& options);

// A model's inputs from .npy, an image or .csv, checked against the model's input shape: both
// shapes in the error. Zero examples ([0, ...input_shape]) are valid input; see
// note_if_no_examples. A .csv's columns: those the model names (model.feature_names, in its order;
// other columns ignored), or all of them in order; `feature_names`, if given, receives the names
// of the features (the model's, else a .csv's header; empty otherwise).
template <ad::Scalar T>
ad::Tensor<T> load_inputs(const std::string& path, const nn::Model<T>& model, std::vector<std::string>* feature_names = nullptr);

// Prints "integrad COMMAND: warning: example i has non-finite WHAT" on stderr once for each example
// (first dimension) holding a NaN or ±Inf: they propagate (relu(NaN) = NaN, a NaN wins max pooling,
// as in PyTorch), so the user learns where they came from rather than only that the result is NaN.
// The first 10 such examples are named, then one line says how many more there are.
template <ad::Scalar T>
void warn_nonfinite(const ad::Tensor<T>& x, const std::string& command, const std::string& what);

// The rule for zero examples, the same in every subcommand: an empty input gives an empty output
// (logits [0, C], attributions [0, ...], deltas [0]) and exit 0, with this note on stderr:
// "integrad predict: note: x.npy holds no examples; the output is empty". Returns n == 0.
// With `total` (a --shard of a file of `total` examples, more shards than examples): "this shard
// holds none of x.npy's 3 examples", since the file itself is not empty.
bool note_if_no_examples(const std::string& command, const std::string& input_path, int64_t n, int64_t total = 0);

// Where "wrote ..." lines go: stderr when the output itself is standard output (-o /dev/stdout),
// so they do not end up inside the data.
std::FILE* status_stream(const std::string& output);

// An integer option in [min, max], parsed strictly: CLI11 alone wraps 2^63 or 2^64-1 into int64
// (dataset --limit 2^63 took the whole set). "--limit: '9223372036854775808' is not a whole number
// in [0, 9223372036854775807]".
CLI::Option* add_int_option(CLI::App& cmd, const std::string& name, int64_t& value, int64_t min, int64_t max, const std::string& description);

// --seed N: 0 .. 2^63-1, refused otherwise (CLI11 alone turns -1, 2^64 or 1e23 into 2^64-1).
void add_seed_option(CLI::App& cmd, uint64_t& seed, const std::string& description);
uint64_t parse_seed(const std::string& text, const std::string& option = "--seed");

}  // namespace integrad::cli
