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

// Replaces py::gil_scoped_release around a long C++ call (explain, evaluate, axioms), on any
// thread: the GIL is released and, while any such call runs, a SIGINT handler of ours stands in
// for Python's (signal handlers are process-wide). Ctrl-C then sets nn::stop_signal, which the
// methods poll between passes and the forward between layers: every running call, in every
// thread, throws nn::Stopped, raised in its thread as KeyboardInterrupt. The main thread is told
// too, as Python's handler would tell it: at once (PyErr_SetInterrupt) when it is running Python
// (e.g. waiting in Thread.join), or by its own call's KeyboardInterrupt. Python's handler is put
// back when the last call ends. (Python runs its handlers only on the main thread, between
// bytecodes: without this a call in a worker thread ran to its end.)
class ReleaseAllowingStop {
 public:
  ReleaseAllowingStop();
  ~ReleaseAllowingStop();
  ReleaseAllowingStop(const ReleaseAllowingStop&) = delete;
  ReleaseAllowingStop& operator=(const ReleaseAllowingStop&) = delete;

 private:
  bool on_main_thread_ = false;
  std::optional<py::gil_scoped_release> release_;
};

// integrad.interrupt(): stops every running long call (in any thread) as Ctrl-C does, without a
// KeyboardInterrupt in the main thread. False when no call was running (nothing to stop; the next
// call is not affected).
bool interrupt_running_calls();

}  // namespace integrad::py_bind
