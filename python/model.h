// The Python Model: a Model in float32 or float64 (its "dtype", the precision of all its
// arithmetic, as the CLI's --dtype), and the training history it has gathered.
#pragma once

#include <pybind11/pybind11.h>

#include <string>
#include <variant>
#include <vector>

#include "nn/model.h"
#include "nn/train.h"

namespace integrad::py_bind {
namespace py = pybind11;

// T of a Model<T>, for generic lambdas given the model.
template <class S>
struct ScalarOf;
template <ad::Scalar T>
struct ScalarOf<nn::Model<T>> {
  using type = T;
};
template <class S>
using scalar_of = typename ScalarOf<std::decay_t<S>>::type;

struct Model {
  std::variant<nn::Model<float>, nn::Model<double>> net;
  std::vector<nn::EpochStats> history;

  // fn(sequential) with the Model<float> or Model<double>.
  template <class Fn>
  decltype(auto) visit(Fn&& fn) {
    return std::visit(fn, net);
  }
  template <class Fn>
  decltype(auto) visit(Fn&& fn) const {
    return std::visit(fn, net);
  }
  std::string dtype() const { return net.index() == 0 ? "float32" : "float64"; }
};

// "float32" -> false, "float64" -> true; ValueError otherwise.
bool is_float64(const std::string& dtype);

// One epoch of training as a dict: epoch, loss, train_accuracy, val_accuracy (None without a
// validation set), seconds, skipped_batches.
py::dict epoch_dict(const nn::EpochStats& e);

// Bindings, one file each, called from module.cpp.
void bind_errors(py::module_& m);
void bind_model(py::module_& m);
void bind_train(py::module_& m);
void bind_explain(py::module_& m);
void bind_axioms(py::module_& m);
void bind_data(py::module_& m);
void bind_bench(py::module_& m);
void bind_evaluate(py::module_& m);

}  // namespace integrad::py_bind
