// The extension module integrad._integrad; python/integrad/__init__.py is its public face.
#include "model.h"

PYBIND11_MODULE(_integrad, m) {
  m.doc() = "integrad: reverse-mode autodiff, Integrated Gradients and the attribution axioms (C++ core)";
  using namespace integrad::py_bind;
  bind_errors(m);
  bind_model(m);
  bind_train(m);
  bind_explain(m);
  bind_axioms(m);
  bind_data(m);
  bind_bench(m);
  bind_evaluate(m);
}
