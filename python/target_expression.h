// A callable target (alibi's target_fn, e.g. `lambda out: out[:, 1] + out[:, 2]` or
// `lambda out: out.softmax()[:, 3]`): integrad/__init__.py calls it once on a symbolic outputs
// object, which records the operations as a list of tuples; this turns that list into a target
// function on the tape, so the methods differentiate it as they do a class logit.
#pragma once

#include <pybind11/pybind11.h>

#include "attribution/target.h"

namespace integrad::py_bind {
namespace py = pybind11;

// Whether `target` is such a list: [("op", operand, operand), ...], value 0 being the outputs.
bool is_target_expression(py::handle target);

template <ad::Scalar T>
attr::Target<T> target_expression(py::handle ops);

}  // namespace integrad::py_bind
