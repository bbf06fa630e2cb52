#include "model.h"
namespace integrad::py_bind { void bind_axioms(py::module_&) {} }
