// _integrad._predict_seconds: the C++ side of tools/bench/bench_python.py — seconds per
// Model::predict, timed in C++ on a Tensor already converted, so that the Python call's own
// overhead (argument checks, the NumPy copy in, the array out, the GIL) is the difference.
#include <chrono>

#include "arrays.h"
#include "model.h"

namespace integrad::py_bind {

void bind_bench(py::module_& m) {
  m.def(
      "_predict_seconds",
      [](const Model& model, py::handle x, int repeats) {
        if (repeats < 1) throw py::value_error("repeats must be at least 1");
        return model.visit([&](const auto& net) {
          using T = scalar_of<decltype(net)>;
          const ad::Tensor<T> in = inputs_from<T>(x, net);
          py::gil_scoped_release release;
          volatile T sink = 0;
          const auto start = std::chrono::steady_clock::now();
          for (int i = 0; i < repeats; ++i) sink = sink + net.predict(in)[0];
          return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / repeats;
        });
      },
      py::arg("model"), py::arg("x"), py::arg("repeats"));
}

}  // namespace integrad::py_bind
