// Targets, baselines and results of attribution calls, shared by explain and axioms.
#pragma once

#include <pybind11/pybind11.h>

#include <map>
#include <string>
#include <vector>

#include "attribution/attribution.h"
#include "attribution/method.h"
#include "attribution/target.h"

namespace integrad::py_bind {
namespace py = pybind11;

// None: the predicted class; an int: that class for every example; an array: one class each.
template <ad::Scalar T>
attr::Target<T> target_from(py::handle target, int64_t n);
// None: zero; a number: that constant; an array: one example's shape (shared) or [N, ...].
template <ad::Scalar T>
attr::Baseline<T> baseline_from(py::handle baseline);
// attributions, delta, targets, f_input, f_baseline, steps, method.
template <ad::Scalar T>
py::dict result_dict(attr::Attribution<T>&& a, const std::string& method);

// Keyword arguments as a registry's option texts: batch_size=64 -> {"batch-size", "64"}.
std::map<std::string, std::string> option_texts(const py::kwargs& options);
// Declared options as dicts (keyword name, type, default, help, min/max or choices).
py::list option_list(const std::vector<attr::OptionSpec>& options);

}  // namespace integrad::py_bind
