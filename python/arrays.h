// NumPy arrays in and out. In: float32 or float64 arrays of any layout (a strided or non-native
// array is made contiguous by NumPy first), copied once into the Tensor that integrad computes on.
// Out: the result Tensor itself becomes the array's buffer (no copy); the array owns it.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "autodiff/tensor.h"
#include "attribution/several_inputs.h"
#include "nn/model.h"

namespace integrad::py_bind {
namespace py = pybind11;

// "float32", "int64", ... as NumPy names it.
std::string dtype_name(const py::array& a);
// obj as a NumPy array (a list is converted); ValueError naming `what` otherwise.
py::array as_array(py::handle obj, const std::string& what);
// "[2, 1, 28, 28]"
std::string shape_text(const py::array& a);

// A float32/float64 array as a Tensor<T> (converted to T); integer arrays only when allow_int
// (token ids); anything else is a ValueError naming `what` and its dtype.
template <ad::Scalar T>
ad::Tensor<T> tensor_from(py::handle obj, const std::string& what, bool allow_int = false);

// A batch for `model`: [N, ...input_shape], N >= 1, with a ValueError in the CLI's words otherwise.
template <ad::Scalar T>
ad::Tensor<T> inputs_from(py::handle obj, const nn::Model<T>& model, const std::string& what = "x");

// x = {"num": a, "cat": b}: the arrays by input name, each checked against its input (name, shape,
// one N; int64 token ids kept whole), in the dict's order; `what` ("x") names them in errors.
template <ad::Scalar T>
attr::NamedTensors<T> named_inputs_from(py::handle x, const nn::Model<T>& net, const std::string& what = "x");

// Integer class labels [n] (any integer dtype).
std::vector<int64_t> labels_from(py::handle obj, int64_t n, const std::string& what);

template <ad::Scalar T>
py::array to_numpy(ad::Tensor<T>&& t);
py::array to_numpy(const std::vector<int64_t>& v);
py::array to_numpy(const std::vector<double>& v);

}  // namespace integrad::py_bind
