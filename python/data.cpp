// integrad.synthetic_patches: the synthetic image set whose ground truth is known (nn/synthetic.h)
// — class k puts a bright 4x4 patch at a place of its own — for examples and exercises.
#include <pybind11/stl.h>

#include "arrays.h"
#include "model.h"
#include "nn/synthetic.h"

namespace integrad::py_bind {

void bind_data(py::module_& m) {
  m.def(
      "synthetic_patches",
      [](int64_t n, uint64_t seed, const std::string& dtype) {
        if (n < 1) throw py::value_error("n must be at least 1");
        auto make = [&](auto tag) {
          using T = decltype(tag);
          nn::Dataset<T> d;
          {
            py::gil_scoped_release release;
            d = nn::synthetic_patches<T>(n, seed);
          }
          return py::make_tuple(to_numpy(std::move(d.inputs)), to_numpy(d.labels));
        };
        return is_float64(dtype) ? make(double{}) : make(float{});
      },
      py::arg("n"), py::arg("seed") = 0, py::arg("dtype") = "float32",
      "(x [n, 1, 28, 28], y [n]): noise in [0, 0.3] with a bright 4x4 patch whose place is the class (0..9).");
  m.def(
      "synthetic_patch_mask",
      [](int64_t label) {
        if (label < 0 || label > 9) throw py::value_error("label must be a class of the synthetic patches, 0 to 9");
        return to_numpy(nn::synthetic_patches_mask(label));
      }, py::arg("label"),
      "[1, 28, 28]: 1 on the patch of class `label`, 0 elsewhere — where a good attribution lights up.");
}

}  // namespace integrad::py_bind
