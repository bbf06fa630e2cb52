#pragma once

#include <pybind11/pybind11.h>

#include <csignal>
#include <optional>
#include <stdexcept>
#include <string>

namespace integrad::py_bind {
namespace py = pybind11;

// Raised in Python as FileNotFoundError.
struct FileMissing : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws FileMissing("PATH: no such file") — the CLI's words — unless path is a regular file.
void require_file(const std::string& path);

// A path argument: a str or any os.PathLike (pathlib.Path), as open() takes it.
std::string path_argument(py::handle path, const char* name = "path");

// Replaces py::gil_scoped_release around a long C++ call (explain, evaluate, axioms): the GIL is
// released and, on the main thread, Ctrl-C sets nn::stop_signal, which the attribution methods
// poll between passes; the call then throws nn::Stopped, raised in Python as KeyboardInterrupt.
// (Python's own handler only runs when the interpreter gets control back, after the call.)
class ReleaseAllowingStop {
 public:
  ReleaseAllowingStop();
  ~ReleaseAllowingStop();
  ReleaseAllowingStop(const ReleaseAllowingStop&) = delete;
  ReleaseAllowingStop& operator=(const ReleaseAllowingStop&) = delete;

 private:
  bool installed_ = false;
  struct sigaction previous_ {};
  std::optional<py::gil_scoped_release> release_;
};

}  // namespace integrad::py_bind
