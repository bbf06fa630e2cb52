// integrad eval: accuracy and a confusion matrix on a data set or an .npy pair.
#include <fmt/format.h>

#include <cmath>

#include "command.h"
#include "common.h"
#include "several_inputs.h"

namespace integrad::cli {
namespace {

struct EvalArgs {
  std::string model, dtype;
  DataOptions data;
};

template <ad::Scalar T>
void run(const EvalArgs& a) {
  const nn::Model<T> model = nn::load_model<T>(a.model);
  refuse_several_inputs(model, a.model, "eval");
  DataOptions data = a.data;
  data.values = model.output_kind == "regression";  // --labels then holds real targets
  const nn::Dataset<T> ds = load_data<T>(data, false, model.feature_names);
  if (ds.inputs.shape() != nn::with_batch(ds.size(), model.input_shape))
    throw std::invalid_argument(fmt::format("the data's examples have shape {}, the model expects {}", ds.inputs.shape().str(), model.input_shape.str()));
  if (note_if_no_examples("eval", a.data.inputs.empty() ? a.data.data : a.data.inputs, ds.size())) {
    fmt::print("no examples: accuracy and confusion matrix are undefined\n");
    return;
  }
  const ad::Tensor<T> logits = model.predict(ds.inputs);
  const int64_t outputs = logits.numel() / std::max<int64_t>(1, ds.size());
  if (ds.is_regression() || model.output_kind == "regression") {
    // A regression has no accuracy: the mean squared error and R² of the one output.
    if (outputs != 1) throw std::invalid_argument(fmt::format("a regression is scored on one output; the model has {}", outputs));
    double mean = 0, residual = 0, total = 0;
    const auto target = [&](int64_t i) { return ds.is_regression() ? ds.targets[size_t(i)] : double(ds.labels[size_t(i)]); };
    for (int64_t i = 0; i < ds.size(); ++i) mean += target(i) / double(ds.size());
    for (int64_t i = 0; i < ds.size(); ++i) {
      residual += std::pow(double(logits[i]) - target(i), 2);
      total += std::pow(target(i) - mean, 2);
    }
    fmt::print("regression on {} examples: mean squared error {:.6g}, R² {:.4f}\n", ds.size(), residual / double(ds.size()),
               total > 0 ? 1 - residual / total : 0.0);
    return;
  }
  // One binary logit: class 1 where it is positive.
  const int64_t c = outputs == 1 ? 2 : outputs;
  std::vector<int64_t> confusion(static_cast<size_t>(c * c), 0);
  int64_t correct = 0;
  std::vector<int64_t> predictions;
  if (outputs == 1)
    for (int64_t i = 0; i < ds.size(); ++i) predictions.push_back(logits[i] > T(0) ? 1 : 0);
  else
    predictions = ad::row_argmax(logits);
  for (int64_t i = 0; i < ds.size(); ++i) {
    const int64_t predicted = predictions[static_cast<size_t>(i)], label = ds.labels[static_cast<size_t>(i)];
    if (label >= c) throw std::invalid_argument(fmt::format("label {} of example {} is outside the model's {} classes", label, i, c));
    correct += predicted == label;
    ++confusion[static_cast<size_t>(label * c + predicted)];
  }
  fmt::print("accuracy {:.4f} ({} of {})\n\nconfusion matrix (rows: true class, columns: predicted)\n", double(correct) / double(std::max<int64_t>(1, ds.size())),
             correct, ds.size());
  fmt::print("{:>14}", "");
  for (int64_t k = 0; k < c; ++k) fmt::print("{:>6}", k);
  fmt::print("\n");
  for (int64_t r = 0; r < c; ++r) {
    const std::string name = static_cast<size_t>(r) < ds.class_names.size() ? ds.class_names[static_cast<size_t>(r)] : std::to_string(r);
    fmt::print("{:>2} {:>11}", r, name.substr(0, 11));
    for (int64_t k = 0; k < c; ++k) fmt::print("{:>6}", confusion[static_cast<size_t>(r * c + k)]);
    fmt::print("\n");
  }
}

void setup(CLI::App& cmd) {
  auto a = std::make_shared<EvalArgs>();
  cmd.add_option("MODEL", a->model, "Model file (.safetensors)")->required();
  a->data.add_to(cmd);
  add_dtype_option(cmd, a->dtype);
  cmd.callback([a] { with_dtype(a->dtype, [&](auto t) { run<decltype(t)>(*a); }); });
}

const bool registered = register_command({"eval", "Accuracy and confusion matrix of a model on test data", setup});

}  // namespace
}  // namespace integrad::cli
