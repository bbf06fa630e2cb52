#include "common.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include <fmt/ranges.h>

#include "nn/csv.h"
#include "nn/fashion_mnist.h"
#include "nn/named_datasets.h"
#include "nn/image_file.h"
#include "nn/npy.h"
#include "nn/npz.h"
#include "several_inputs.h"
#include "nn/output_guard.h"
#include "nn/printable.h"

namespace integrad::cli {

void DataOptions::add_to(CLI::App& cmd, bool with_npy) {
  cmd.add_option("--data", data, "Named data set")->check(CLI::IsMember(nn::named_dataset_names()));
  cmd.add_option("--data-dir", data_dir, "Directory of the Fashion-MNIST IDX files")->default_val(nn::kFashionMnistDir);
  if (with_npy) {
    cmd.add_option("--inputs", inputs, "Inputs .npy [N, ...]");
    cmd.add_option("--labels", labels, "Labels .npy [N]");
    cmd.add_option("--labels-column", labels_column, "The labels: this column of the --inputs .csv (the other columns are the features)");
  }
  add_int_option(cmd, "--limit", limit, 0, std::numeric_limits<int64_t>::max(), "Use at most the first N examples (all if the set holds fewer)");
}

namespace {

// The columns named `wanted` of a .csv, in that order (all but `except` if `wanted` is empty).
template <ad::Scalar T>
ad::Tensor<T> csv_columns(const nn::CsvTable& table, const std::string& path, const std::vector<std::string>& wanted, const std::string& except,
                          std::vector<std::string>* names) {
  if (wanted.empty()) return nn::csv_features<T>(table, except, names);
  std::vector<int64_t> index;
  for (const std::string& w : wanted) {
    const int64_t c = table.column_index(w);
    if (c < 0)
      throw std::invalid_argument(fmt::format("{} has no column '{}', a feature of the model (it was trained on {}); the file's columns: {}", nn::printable(path),
                                              nn::printable(w), fmt::join(wanted, ", "), fmt::join(table.columns, ", ")));
    index.push_back(c);
  }
  const int64_t f = int64_t(index.size()), cols = int64_t(table.columns.size());
  ad::Tensor<T> x(ad::Shape{table.rows, f});
  for (int64_t r = 0; r < table.rows; ++r)
    for (int64_t k = 0; k < f; ++k) x[r * f + k] = T(table.values[size_t(r * cols + index[size_t(k)])]);
  if (names) *names = wanted;
  return x;
}

// A regression's targets: a .npy [N] of any real dtype, or a .csv column; finite values only.
std::vector<double> npy_values(const std::string& path) {
  const ad::Tensor<double> t = nn::npy_read_tensor<double>(path);
  if (t.rank() != 1) throw std::invalid_argument(fmt::format("{} has shape {}: the targets of a regression are one value per example, [N]", path, t.shape().str()));
  std::vector<double> v(t.span().begin(), t.span().end());
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i])) throw std::invalid_argument(fmt::format("{}: target {} is {}", path, i, v[i]));
  return v;
}

std::vector<double> csv_values(const nn::CsvTable& table, const std::string& name, const std::string& path) {
  const int64_t c = table.column_index(name), cols = int64_t(table.columns.size());
  if (c < 0) throw std::invalid_argument(fmt::format("{} has no column '{}' (its columns: {})", nn::printable(path), nn::printable(name), fmt::join(table.columns, ", ")));
  std::vector<double> v;
  for (int64_t r = 0; r < table.rows; ++r) {
    v.push_back(table.values[size_t(r * cols + c)]);
    if (!std::isfinite(v.back())) throw std::invalid_argument(fmt::format("{}: column '{}' row {} is {}", nn::printable(path), nn::printable(name), r + 1, v.back()));
  }
  return v;
}

}  // namespace

ad::Shape inputs_example_shape(const DataOptions& o) {
  if (nn::is_csv_path(o.inputs)) {
    const nn::CsvTable t = nn::csv_read(o.inputs);
    if (!o.labels_column.empty()) nn::csv_labels(t, o.labels_column, o.inputs);  // the column exists
    return ad::Shape{int64_t(t.columns.size()) - (o.labels_column.empty() ? 0 : 1)};
  }
  const ad::Shape shape = nn::npy_read(o.inputs).shape;
  if (shape.rank() < 2) throw std::invalid_argument(fmt::format("{} has shape {}: expected [N, ...] examples", o.inputs, shape.str()));
  return shape.without(0);
}

template <ad::Scalar T>
nn::Dataset<T> load_data(const DataOptions& o, bool train, const std::vector<std::string>& model_features) {
  nn::Dataset<T> ds;
  if (!o.data.empty() && !o.inputs.empty())
    throw std::invalid_argument(fmt::format("give either --data {} or --inputs {}, not both: they are two sources of the same examples", o.data, nn::printable(o.inputs)));
  if (!o.labels_column.empty() && !nn::is_csv_path(o.inputs)) throw std::invalid_argument("--labels-column NAME needs --inputs X.csv (a column of it)");
  if (!o.inputs.empty()) {
    if (nn::is_csv_path(o.inputs)) {
      if (o.labels.empty() == o.labels_column.empty())
        throw std::invalid_argument(fmt::format("--inputs {} needs its labels from one of --labels-column NAME or --labels Y.npy", o.inputs));
      const nn::CsvTable table = nn::csv_read(o.inputs);
      if (o.values) ds.targets = o.labels_column.empty() ? npy_values(o.labels) : csv_values(table, o.labels_column, o.inputs);
      else ds.labels = o.labels_column.empty() ? nn::npy_read_labels(o.labels) : nn::csv_labels(table, o.labels_column, o.inputs);
      ds.inputs = csv_columns<T>(table, o.inputs, model_features, o.labels_column, &ds.feature_names);
    } else {
      if (o.labels.empty()) throw std::invalid_argument("--inputs needs --labels");
      ds.inputs = nn::npy_read_tensor<T>(o.inputs);
      if (o.values) ds.targets = npy_values(o.labels);
      else ds.labels = nn::npy_read_labels(o.labels);
    }
    if (ds.inputs.rank() < 2 || ds.inputs.size(0) != ds.size())
      throw std::invalid_argument(fmt::format("{} has shape {} but {} holds {} labels", o.inputs, ds.inputs.shape().str(), o.labels, ds.size()));
    for (int64_t l : ds.labels) {
      if (l < 0) throw std::invalid_argument(fmt::format("{}: negative label {}", o.labels, l));
      ds.num_classes = std::max(ds.num_classes, l + 1);
    }
    if (o.limit >= 0 && o.limit < ds.size()) {
      ds.inputs = ad::Tensor<T>(ds.inputs.shape().with(0, o.limit), std::span<const T>(ds.inputs.data(), static_cast<size_t>(o.limit * ds.inputs.shape().stride(0))));
      if (ds.is_regression()) ds.targets.resize(static_cast<size_t>(o.limit));
      else ds.labels.resize(static_cast<size_t>(o.limit));
    }
    return ds;
  }
  if (o.data.empty()) throw std::invalid_argument("no data: give --data NAME or --inputs X.npy --labels Y.npy");
  return nn::load_named<T>(nn::named_dataset(o.data), {train, o.limit, o.data_dir, o.all});
}

template <ad::Scalar T>
nn::Dataset<T> load_named_data(const DataOptions& o, const nn::Model<T>& model) {
  const std::string names = input_list(model);
  if (!o.data.empty())
    throw std::invalid_argument(fmt::format("the model reads {} ({}); --data {} holds examples of one input: give --inputs X.npz (arrays named {}) and --labels Y.npy",
                                            model.input_count() == 1 ? "one input" : "several inputs", names, o.data, names));
  if (!o.labels_column.empty()) throw std::invalid_argument("--labels-column NAME needs --inputs X.csv (a column of it); with an .npz give --labels Y.npy");
  if (o.labels.empty()) throw std::invalid_argument(fmt::format("--inputs {} needs --labels Y.npy", nn::printable(o.inputs)));
  attr::NamedTensors<T> named = load_named_inputs<T>(o.inputs, model);  // names, shapes and one N across the arrays checked
  nn::Dataset<T> ds;
  if (o.values) ds.targets = npy_values(o.labels);
  else ds.labels = nn::npy_read_labels(o.labels);
  for (size_t k = 0; k < model.input_count(); ++k) {
    const std::string name = model.named_inputs.empty() ? std::string("input") : model.named_inputs[k].name;
    auto it = std::find_if(named.begin(), named.end(), [&](const auto& p) { return p.first == name; });
    if (it == named.end()) throw std::logic_error("load_named_inputs let a missing input through: " + name);
    if (k == 0) ds.inputs = std::move(it->second);
    else ds.other_inputs.push_back(std::move(it->second));
  }
  const int64_t n = ds.inputs.size(0);
  if (n != ds.size())
    throw std::invalid_argument(fmt::format("{} holds {} {}, but {} holds {} examples (array '{}' has shape {})", nn::printable(o.labels), ds.size(),
                                            o.values ? "targets" : "labels", nn::printable(o.inputs), n,
                                            model.named_inputs.empty() ? named.front().first : model.named_inputs[0].name, ds.inputs.shape().str()));
  for (int64_t l : ds.labels) {
    if (l < 0) throw std::invalid_argument(fmt::format("{}: negative label {}", nn::printable(o.labels), l));
    ds.num_classes = std::max(ds.num_classes, l + 1);
  }
  if (o.limit >= 0 && o.limit < n) {  // the first --limit examples of every input
    auto first = [&](ad::Tensor<T>& x) {
      x = ad::Tensor<T>(x.shape().with(0, o.limit), std::span<const T>(x.data(), static_cast<size_t>(o.limit * x.shape().stride(0))));
    };
    first(ds.inputs);
    for (ad::Tensor<T>& x : ds.other_inputs) first(x);
    if (ds.is_regression()) ds.targets.resize(static_cast<size_t>(o.limit));
    else ds.labels.resize(static_cast<size_t>(o.limit));
  }
  return ds;
}

template <ad::Scalar T>
ad::Tensor<T> load_inputs(const std::string& path, const nn::Model<T>& model, std::vector<std::string>* feature_names) {
  if (feature_names) *feature_names = model.feature_names;
  if (model.input_count() > 1)
    throw std::invalid_argument(fmt::format("the model reads several inputs ({}); this command takes one array (explain and predict read an .npz of them)",
                                            input_list(model)));
  if (nn::is_npz_path(path)) return load_named_inputs(path, model)[0].second;  // one input: its one array
  if (nn::is_csv_path(path)) {
    if (model.input_shape.rank() != 1)
      throw std::invalid_argument(fmt::format("{} holds tabular examples (one a row), the model expects examples of shape {}", nn::printable(path), model.input_shape.str()));
    const nn::CsvTable table = nn::csv_read(path);
    ad::Tensor<T> x = csv_columns<T>(table, path, model.feature_names, "", feature_names);
    if (x.size(1) != model.input_shape[0])
      throw std::invalid_argument(fmt::format("{} has {} columns, the model expects {} features", nn::printable(path), x.size(1), model.input_shape[0]));
    return x;
  }
  if (nn::is_image_path(path) && model.input_shape.rank() != 3)
    throw std::invalid_argument(fmt::format("{}: an image is one example [C, H, W], the model expects {}", path, model.input_shape.str()));
  ad::Tensor<T> x = nn::is_image_path(path) ? nn::read_image<T>(path, model.input_shape[0]) : nn::npy_read_tensor<T>(path);
  const ad::Shape expected = nn::with_batch(x.rank() ? x.size(0) : 0, model.input_shape);
  if (x.shape() != expected)
    throw std::invalid_argument(fmt::format("{} has shape {}, the model expects [N, {}] (per example {})", path, x.shape().str(),
                                            model.input_shape.str().substr(1, model.input_shape.str().size() - 2), model.input_shape.str()));
  return x;
}

template <ad::Scalar T>
void warn_nonfinite(const ad::Tensor<T>& x, const std::string& command, const std::string& what) {
  if (x.rank() == 0 || x.size(0) == 0) return;
  const int64_t row = x.numel() / x.size(0);
  constexpr int64_t kShown = 10;  // big inputs: the first few by name, then how many more
  int64_t count = 0;
  for (int64_t i = 0; i < x.size(0); ++i)
    for (int64_t j = 0; j < row; ++j)
      if (!std::isfinite(x[i * row + j])) {
        if (++count <= kShown) fmt::print(stderr, "integrad {}: warning: example {} has non-finite {}\n", command, i, what);
        break;
      }
  if (count > kShown) fmt::print(stderr, "integrad {}: warning: and {} more examples have non-finite {}\n", command, count - kShown, what);
}

bool note_if_no_examples(const std::string& command, const std::string& input_path, int64_t n, int64_t total) {
  if (n == 0 && total > 0)
    fmt::print(stderr, "integrad {}: note: this shard holds none of the {} examples of {} (more shards than examples); the output is empty\n", command,
               total, nn::printable(input_path));
  else if (n == 0)
    fmt::print(stderr, "integrad {}: note: {} holds no examples; the output is empty\n", command, nn::printable(input_path));
  return n == 0;
}

std::FILE* status_stream(const std::string& output) {
  return output == "/dev/stdout" || output == "/proc/self/fd/1" || nn::same_file(output, "/dev/stdout") ? stderr : stdout;
}

uint64_t parse_seed(const std::string& text, const std::string& option) {
  constexpr uint64_t kMax = uint64_t(std::numeric_limits<int64_t>::max());
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v > kMax)
    throw CLI::ValidationError(option, fmt::format("'{}' is not a seed: expected an integer from 0 to 2^63-1 ({})", nn::printable(text), kMax));
  return v;
}

CLI::Option* add_int_option(CLI::App& cmd, const std::string& name, int64_t& value, int64_t min, int64_t max, const std::string& description) {
  const std::string option = name.substr(name.rfind(',') == std::string::npos ? 0 : name.rfind(',') + 1);
  return cmd
      .add_option_function<std::string>(
          name,
          [&value, option, min, max](const std::string& text) {
            int64_t v = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
            if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < min || v > max)
              throw CLI::ValidationError(option, fmt::format("'{}' is not a whole number in [{}, {}]", nn::printable(text), min, max));
            value = v;
          },
          description)
      ->type_name("INT");
}

void add_seed_option(CLI::App& cmd, uint64_t& seed, const std::string& description) {
  cmd.add_option_function<std::string>("--seed", [&seed](const std::string& text) { seed = parse_seed(text); }, description + " (0 to 2^63-1, default 0)")
      ->type_name("INT");
}

template nn::Dataset<float> load_data<float>(const DataOptions&, bool, const std::vector<std::string>&);
template nn::Dataset<double> load_data<double>(const DataOptions&, bool, const std::vector<std::string>&);
template nn::Dataset<float> load_named_data<float>(const DataOptions&, const nn::Model<float>&);
template nn::Dataset<double> load_named_data<double>(const DataOptions&, const nn::Model<double>&);
template ad::Tensor<float> load_inputs<float>(const std::string&, const nn::Model<float>&, std::vector<std::string>*);
template ad::Tensor<double> load_inputs<double>(const std::string&, const nn::Model<double>&, std::vector<std::string>*);
template void warn_nonfinite(const ad::Tensor<float>&, const std::string&, const std::string&);
template void warn_nonfinite(const ad::Tensor<double>&, const std::string&, const std::string&);

}  // namespace integrad::cli
