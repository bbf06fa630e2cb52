// integrad.train: nn::train on NumPy arrays — a Model trained in place (as PyTorch does), or a
// new one built from a named architecture ("mlp", "cnn", "text") or an architecture text. The GIL
// is released while training and taken back for the progress callback after each epoch.
#include <fmt/format.h>
#include <pybind11/stl.h>

#include "arrays.h"
#include "model.h"
#include "nn/architecture.h"
#include "nn/named_datasets.h"

namespace integrad::py_bind {
namespace {

// Thrown from the epoch callback when the progress callback returns False.
struct StopTraining {};

template <ad::Scalar T>
nn::Dataset<T> dataset_of(const nn::Sequential<T>& net, py::handle x, py::handle y, const std::string& xname, const std::string& yname) {
  nn::Dataset<T> d;
  d.inputs = inputs_from<T>(x, net, xname);
  d.labels = labels_from(y, d.inputs.size(0), yname);
  const ad::Shape out = net.output_shape();
  if (out.rank() != 1) throw py::value_error(fmt::format("the model's output per example is {}; training needs one logit per class", out.str()));
  d.num_classes = out[0];
  for (size_t i = 0; i < d.labels.size(); ++i)
    if (d.labels[i] < 0 || d.labels[i] >= d.num_classes)
      throw py::value_error(fmt::format("{}[{}] is {}; the model has {} classes (0 to {})", yname, i, d.labels[i], d.num_classes, d.num_classes - 1));
  return d;
}

Model build(const std::string& arch, const py::array& x, const std::optional<std::string>& dtype, uint64_t seed) {
  if (x.ndim() < 2) throw py::value_error("x has shape " + shape_text(x) + "; expected [N, ...], a batch of examples");
  std::vector<int64_t> per(x.shape() + 1, x.shape() + x.ndim());
  const char kind = x.dtype().kind();
  const bool tokens = kind == 'i' || kind == 'u';
  const bool f64 = dtype ? is_float64(*dtype) : (kind == 'f' && x.itemsize() == 8);
  const std::string text = arch.find('(') == std::string::npos ? nn::named_architecture(arch) : arch;
  const nn::InputDtype input_dtype = tokens ? nn::InputDtype::int64 : f64 ? nn::InputDtype::float64 : nn::InputDtype::float32;
  Model m;
  if (f64) m.net = nn::parse_architecture<double>(text, ad::Shape(per), input_dtype, seed);
  else m.net = nn::parse_architecture<float>(text, ad::Shape(per), input_dtype, seed);
  return m;
}

py::object train(py::object model_or_arch, py::handle x, py::handle y, int64_t epochs, int64_t batch_size, double lr, const std::string& optimizer,
                 uint64_t seed, bool shuffle, double momentum, bool nesterov, double weight_decay, py::object validation, py::object progress,
                 const std::optional<std::string>& dtype) {
  if (epochs < 1) throw py::value_error("epochs must be at least 1");
  if (batch_size < 1) throw py::value_error("batch_size must be at least 1");
  if (optimizer != "sgd" && optimizer != "adam" && optimizer != "adamw")
    throw py::value_error("optimizer must be 'sgd', 'adam' or 'adamw', not '" + optimizer + "'");
  if (!progress.is_none() && !PyCallable_Check(progress.ptr())) throw py::value_error("progress must be a callable (called with a dict after each epoch) or None");
  py::object result;
  if (py::isinstance<py::str>(model_or_arch)) {
    result = py::cast(build(model_or_arch.cast<std::string>(), as_array(x, "x"), dtype, seed));
  } else if (py::isinstance<Model>(model_or_arch)) {
    result = model_or_arch;
    if (dtype && *dtype != result.cast<Model&>().dtype())
      throw py::value_error("dtype '" + *dtype + "' differs from the model's '" + result.cast<Model&>().dtype() + "'; convert it with model.to(dtype) first");
  } else {
    throw py::value_error("train takes a Model or an architecture ('mlp', 'cnn', 'text' or a layer list such as 'Linear(4, 3)')");
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
  model.visit([&](auto& net) {
    using T = scalar_of<decltype(net)>;
    const nn::Dataset<T> data = dataset_of(net, x, y, "x", "y");
    std::optional<nn::Dataset<T>> val;
    if (!validation.is_none()) {
      if (!py::isinstance<py::sequence>(validation) || py::isinstance<py::str>(validation) || py::len(validation) != 2)
        throw py::value_error("validation must be a pair (x_val, y_val)");
      auto pair = py::reinterpret_borrow<py::sequence>(validation);
      val = dataset_of(net, pair[0], pair[1], "validation x", "validation y");
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
  m.def("train", &train, py::arg("model_or_arch"), py::arg("x"), py::arg("y"), py::kw_only(), py::arg("epochs") = 1, py::arg("batch_size") = 64,
        py::arg("lr") = 1e-3, py::arg("optimizer") = "adam", py::arg("seed") = 0, py::arg("shuffle") = true, py::arg("momentum") = 0.0, py::arg("nesterov") = false,
        py::arg("weight_decay") = 0.0, py::arg("validation") = py::none(), py::arg("progress") = py::none(), py::arg("dtype") = py::none(),
        "Trains with mean cross-entropy, as integrad train does, and returns the model.\n"
        "model_or_arch: a Model (trained in place) or 'mlp' | 'cnn' | 'text' | an architecture text, built for x's per-example\n"
        "shape with PyTorch's initialisation from `seed` (float64 arithmetic when x is float64, unless dtype says otherwise).\n"
        "y: integer classes [N]. validation: (x_val, y_val), its accuracy reported after each epoch. progress: called after each\n"
        "epoch with a dict (epoch, epochs, loss, train_accuracy, val_accuracy, seconds, skipped_batches); returning False stops.");
}

}  // namespace integrad::py_bind
