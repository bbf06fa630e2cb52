// C++ errors as Python exceptions, their messages unchanged (what the CLI prints after "error:"):
// std::invalid_argument -> ValueError and std::runtime_error -> RuntimeError (pybind11's own
// translation), and a missing file -> FileNotFoundError.
#include <filesystem>

#include "errors.h"
#include "model.h"

namespace integrad::py_bind {

void require_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw FileMissing(path + ": no such file");
}

void bind_errors(py::module_&) {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const FileMissing& e) {
      PyErr_SetString(PyExc_FileNotFoundError, e.what());
    }
  });
}

}  // namespace integrad::py_bind
