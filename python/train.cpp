// integrad.train: nn::train on NumPy arrays — a Model trained in place (as PyTorch does), or a
// new one built from a named architecture ("mlp", "cnn", "text") or an architecture text. The GIL
// is released while training and taken back for the progress callback after each epoch.
#include <fmt/format.h>
#include <pybind11/stl.h>

#include "arrays.h"
#include "model.h"
#include "nn/architecture.h"
#include "nn/named_datasets.h"
#include "nn/train.h"

#include <fmt/ranges.h>

#include <algorithm>

namespace integrad::py_bind {
namespace {

template <ad::Scalar T>
std::string input_names(const nn::Model<T>& net) {
  std::vector<std::string> names;
  for (const nn::ModelInput& in : net.named_inputs) names.push_back(in.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

// Thrown from the epoch callback when the progress callback returns False.
struct StopTraining {};

template <ad::Scalar T>
nn::Dataset<T> dataset_of(const nn::Model<T>& net, py::handle x, py::handle y, const std::string& xname, const std::string& yname, nn::Loss loss) {
  nn::Dataset<T> d;
  if (net.input_count() > 1 || py::isinstance<py::dict>(x)) {
    // A model of several inputs: a dict of arrays by input name, ordered as the model reads them.
    if (!py::isinstance<py::dict>(x))
      throw py::value_error(fmt::format("{}: the model reads several inputs ({}); pass a dict of arrays by those names", xname, input_names(net)));
    attr::NamedTensors<T> named = named_inputs_from<T>(x, net, xname);
    for (size_t k = 0; k < net.input_count(); ++k) {
      const std::string name = net.named_inputs.empty() ? std::string("input") : net.named_inputs[k].name;
      auto it = std::find_if(named.begin(), named.end(), [&](const auto& p) { return p.first == name; });
      if (k == 0) d.inputs = std::move(it->second);  // named_inputs_from checked that every input is there
      else d.other_inputs.push_back(std::move(it->second));
    }
    if (d.inputs.size(0) == 0) throw py::value_error(fmt::format("{} holds no examples", xname));
  } else {
    d.inputs = inputs_from<T>(x, net, xname);
  }
  if (loss == nn::Loss::mse) {
    // A regression: real targets, one per example.
    const ad::Tensor<double> t = tensor_from<double>(y, yname, true);
    if (t.rank() != 1 || t.size(0) != d.inputs.size(0))
      throw py::value_error(fmt::format("{} has shape {}; expected [{}], one target per example", yname, t.shape().str(), d.inputs.size(0)));
    d.targets.assign(t.span().begin(), t.span().end());
    return d;
  }
  d.labels = labels_from(y, d.inputs.size(0), yname);
  const ad::Shape out = net.output_shape();
  if (out.rank() != 1) throw py::value_error(fmt::format("the model's output per example is {}; training needs one logit per class", out.str()));
  d.num_classes = loss == nn::Loss::bce ? 2 : out[0];
  for (size_t i = 0; i < d.labels.size(); ++i)
    if (d.labels[i] < 0 || d.labels[i] >= d.num_classes)
      throw py::value_error(fmt::format("{}[{}] is {}; the model has {} classes (0 to {})", yname, i, d.labels[i], d.num_classes, d.num_classes - 1));
  return d;
}

// The outputs a named architecture gets: one for bce and mse, else one per class of y (at least 2).
int64_t outputs_of(nn::Loss loss, py::handle y) {
  if (loss != nn::Loss::cross_entropy) return 1;
  py::array a = as_array(y, "y");
  int64_t classes = 2;
  if (a.dtype().kind() == 'i' || a.dtype().kind() == 'u') {
    auto c = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(a);
    for (py::ssize_t i = 0; i < c.size(); ++i) classes = std::max(classes, c.data()[i] + 1);
  }
  return classes;
}

Model build(const std::string& arch, const py::array& x, const std::optional<std::string>& dtype, uint64_t seed, int64_t outputs) {
  if (x.ndim() < 2) throw py::value_error("x has shape " + shape_text(x) + "; expected [N, ...], a batch of examples");
  std::vector<int64_t> per(x.shape() + 1, x.shape() + x.ndim());
  const char kind = x.dtype().kind();
  const bool tokens = kind == 'i' || kind == 'u';
  const bool f64 = dtype ? is_float64(*dtype) : (kind == 'f' && x.itemsize() == 8);
  // A named architecture is sized for x (a tabular MLP's width) and y (its outputs).
  const std::string text = arch.find('(') == std::string::npos ? nn::named_architecture_entry(arch).layers(ad::Shape(per), outputs) : arch;
  const nn::InputDtype input_dtype = tokens ? nn::InputDtype::int64 : f64 ? nn::InputDtype::float64 : nn::InputDtype::float32;
  Model m;
  if (f64) m.net = nn::parse_architecture<double>(text, ad::Shape(per), input_dtype, seed);
  else m.net = nn::parse_architecture<float>(text, ad::Shape(per), input_dtype, seed);
  return m;
}

py::object train(py::object model_or_arch, py::handle x, py::handle y, int64_t epochs, int64_t batch_size, double lr, const std::string& optimizer,
                 uint64_t seed, bool shuffle, double momentum, bool nesterov, double weight_decay, py::object validation, py::object progress,
                 const std::optional<std::string>& dtype, const std::string& loss_name) {
  if (epochs < 1) throw py::value_error("epochs must be at least 1");
  if (loss_name != "cross-entropy" && loss_name != "bce" && loss_name != "mse")
    throw py::value_error("loss= must be 'cross-entropy', 'bce' or 'mse', not '" + loss_name + "'");
  const nn::Loss loss = nn::parse_loss(loss_name);
  if (batch_size < 1) throw py::value_error("batch_size must be at least 1");
  if (optimizer != "sgd" && optimizer != "adam" && optimizer != "adamw")
    throw py::value_error("optimizer must be 'sgd', 'adam' or 'adamw', not '" + optimizer + "'");
  if (!progress.is_none() && !PyCallable_Check(progress.ptr())) throw py::value_error("progress must be a callable (called with a dict after each epoch) or None");
  py::object result;
  if (py::isinstance<py::str>(model_or_arch)) {
    if (py::isinstance<py::dict>(x))
      throw py::value_error("an architecture builds a model of one input; to train on a dict of named inputs pass a Model of several inputs "
                            "(integrad.load, or Model.from_torch with inputs=...)");
    result = py::cast(build(model_or_arch.cast<std::string>(), as_array(x, "x"), dtype, seed, outputs_of(loss, y)));
  } else if (py::isinstance<Model>(model_or_arch)) {
    result = model_or_arch;
    if (dtype && *dtype != result.cast<Model&>().dtype())
      throw py::value_error("dtype '" + *dtype + "' differs from the model's '" + result.cast<Model&>().dtype() + "'; convert it with model.to(dtype) first");
  } else {
    throw py::value_error(fmt::format("train takes a Model or an architecture ({} or a layer list such as 'Linear(4, 3)')",
                                      fmt::join(nn::named_architecture_names(), ", ")));
  }
  Model& model = result.cast<Model&>();
  nn::TrainOptions options;
  options.epochs = epochs;
  options.batch_size = batch_size;
  options.shuffle = shuffle;
  options.seed = seed;
  options.progress = false;
  options.optimizer.name = optimizer;
  options.optimizer.lr = lr;
  options.optimizer.momentum = momentum;
  options.optimizer.nesterov = nesterov;
  options.optimizer.weight_decay = weight_decay;
  options.loss = loss;
  model.visit([&](auto& net) {
    using T = scalar_of<decltype(net)>;
    const nn::Dataset<T> data = dataset_of(net, x, y, "x", "y", loss);
    net.output_kind = nn::output_kind_of(loss);
    std::optional<nn::Dataset<T>> val;
    if (!validation.is_none()) {
      if (!py::isinstance<py::sequence>(validation) || py::isinstance<py::str>(validation) || py::len(validation) != 2)
        throw py::value_error("validation must be a pair (x_val, y_val)");
      auto pair = py::reinterpret_borrow<py::sequence>(validation);
      val = dataset_of(net, pair[0], pair[1], "validation x", "validation y", loss);
    }
    const int64_t done_before = static_cast<int64_t>(model.history.size());
    auto on_epoch = [&](const nn::EpochStats& e, const nn::Optimizer<T>&) {
      py::gil_scoped_acquire gil;
      nn::EpochStats stats = e;
      stats.epoch += done_before;  // numbered on from earlier calls
      model.history.push_back(stats);
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();  // Ctrl-C stops after the epoch
      if (progress.is_none()) return;
      py::dict d = epoch_dict(stats);
      d["epochs"] = done_before + epochs;  // the total this call ends on
      py::object answer = progress(d);
      if (!answer.is_none() && !PyObject_IsTrue(answer.ptr())) throw StopTraining{};  // any falsy answer, as Python's `if`
    };
    try {
      py::gil_scoped_release release;
      nn::train<T>(net, data, val ? &*val : nullptr, options, on_epoch);
    } catch (const StopTraining&) {
    }
  });
  return result;
}

}  // namespace

void bind_train(py::module_& m) {
  m.def(
      "architectures",
      [] {
        py::list out;
        for (const auto& a : nn::named_architectures()) {
          py::dict d;
          d["name"] = a.name;
          d["summary"] = a.summary;
          d["default_data"] = a.default_data;
          out.append(d);
        }
        return out;
      },
      "The named architectures of integrad.train and the CLI's --arch: name, summary, default_data.");
  m.def("train", &train, py::arg("model_or_arch"), py::arg("x"), py::arg("y"), py::kw_only(), py::arg("epochs") = 1, py::arg("batch_size") = 64,
        py::arg("lr") = 1e-3, py::arg("optimizer") = "adam", py::arg("seed") = 0, py::arg("shuffle") = true, py::arg("momentum") = 0.0, py::arg("nesterov") = false,
        py::arg("weight_decay") = 0.0, py::arg("validation") = py::none(), py::arg("progress") = py::none(), py::arg("dtype") = py::none(),
        py::arg("loss") = "cross-entropy",
        "Trains with the mean loss (cross-entropy, bce or mse, as PyTorch defines them), as integrad train does, and returns the model.\n"
        "model_or_arch: a Model (trained in place), a name of integrad.architectures() or an architecture text, built for x's per-example\n"
        "shape with PyTorch's initialisation from `seed` (float64 arithmetic when x is float64, unless dtype says otherwise).\n"
        "x: an array [N, ...], or for a model of several inputs a dict of arrays by input name (the same N; int64 token ids).\n"
        "y: integer classes [N] (0/1 for bce, values for mse). validation: (x_val, y_val), x_val as x; its accuracy reported after each epoch. progress: called after each\n"
        "epoch with a dict (epoch, epochs, loss, train_accuracy, val_accuracy, seconds, skipped_batches); returning False stops.");
}

}  // namespace integrad::py_bind
