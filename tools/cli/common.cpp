#include "common.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "nn/fashion_mnist.h"
#include "nn/named_datasets.h"
#include "nn/image_file.h"
#include "nn/npy.h"
#include "nn/output_guard.h"
#include "nn/printable.h"

namespace integrad::cli {

void DataOptions::add_to(CLI::App& cmd, bool with_npy) {
  cmd.add_option("--data", data, "Named data set")->check(CLI::IsMember(nn::named_dataset_names()));
  cmd.add_option("--data-dir", data_dir, "Directory of the Fashion-MNIST IDX files")->default_val(nn::kFashionMnistDir);
  if (with_npy) {
    cmd.add_option("--inputs", inputs, "Inputs .npy [N, ...]");
    cmd.add_option("--labels", labels, "Labels .npy [N]");
  }
  cmd.add_option("--limit", limit, "Use at most the first N examples (all if the set holds fewer)")->check(CLI::Range(int64_t(0), std::numeric_limits<int64_t>::max()));
}

template <ad::Scalar T>
nn::Dataset<T> load_data(const DataOptions& o, bool train) {
  nn::Dataset<T> ds;
  if (!o.inputs.empty()) {
    if (o.labels.empty()) throw std::invalid_argument("--inputs needs --labels");
    ds.inputs = nn::npy_read_tensor<T>(o.inputs);
    ds.labels = nn::npy_read_labels(o.labels);
    if (ds.inputs.rank() < 2 || ds.inputs.size(0) != static_cast<int64_t>(ds.labels.size()))
      throw std::invalid_argument(fmt::format("{} has shape {} but {} holds {} labels", o.inputs, ds.inputs.shape().str(), o.labels, ds.labels.size()));
    for (int64_t l : ds.labels) {
      if (l < 0) throw std::invalid_argument(fmt::format("{}: negative label {}", o.labels, l));
      ds.num_classes = std::max(ds.num_classes, l + 1);
    }
    if (o.limit >= 0 && o.limit < ds.size()) {
      ds.inputs = ad::Tensor<T>(ds.inputs.shape().with(0, o.limit), std::span<const T>(ds.inputs.data(), static_cast<size_t>(o.limit * ds.inputs.shape().stride(0))));
      ds.labels.resize(static_cast<size_t>(o.limit));
    }
    return ds;
  }
  if (o.data.empty()) throw std::invalid_argument("no data: give --data NAME or --inputs X.npy --labels Y.npy");
  return nn::load_named<T>(nn::named_dataset(o.data), {train, o.limit, o.data_dir});
}

template <ad::Scalar T>
ad::Tensor<T> load_inputs(const std::string& path, const nn::Sequential<T>& model) {
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

bool note_if_no_examples(const std::string& command, const std::string& input_path, int64_t n) {
  if (n == 0) fmt::print(stderr, "integrad {}: note: {} holds no examples; the output is empty\n", command, nn::printable(input_path));
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

void add_seed_option(CLI::App& cmd, uint64_t& seed, const std::string& description) {
  cmd.add_option_function<std::string>("--seed", [&seed](const std::string& text) { seed = parse_seed(text); }, description + " (0 to 2^63-1, default 0)")
      ->type_name("INT");
}

template nn::Dataset<float> load_data<float>(const DataOptions&, bool);
template nn::Dataset<double> load_data<double>(const DataOptions&, bool);
template ad::Tensor<float> load_inputs<float>(const std::string&, const nn::Sequential<float>&);
template ad::Tensor<double> load_inputs<double>(const std::string&, const nn::Sequential<double>&);
template void warn_nonfinite(const ad::Tensor<float>&, const std::string&, const std::string&);
template void warn_nonfinite(const ad::Tensor<double>&, const std::string&, const std::string&);

}  // namespace integrad::cli
