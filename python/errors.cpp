// C++ errors as Python exceptions: std::invalid_argument (and the other logic errors) -> ValueError,
// std::runtime_error -> RuntimeError, a missing file -> FileNotFoundError, an allocation failure
// -> MemoryError saying what to reduce, a Ctrl-C that stopped the work -> KeyboardInterrupt. The
// messages are the CLI's, escaped by the same function (nn::printable): they quote file names and
// values that may hold terminal escape sequences.
#include "errors.h"

#include <filesystem>
#include <thread>

#include "model.h"
#include "nn/messages.h"
#include "nn/printable.h"
#include "nn/stop.h"

namespace integrad::py_bind {

namespace {
std::thread::id main_thread;  // the importing thread, Python's main thread in practice

extern "C" void request_stop(int signal) { nn::stop_signal.store(signal); }

std::string escaped(const std::exception& e) {
  const std::string text = nn::shortened(nn::user_message(e));
  std::string out;
  for (size_t start = 0;;) {  // line by line, keeping the message's own line breaks
    const size_t end = text.find('\n', start);
    out += nn::printable(std::string_view(text).substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    out += '\n';
    start = end + 1;
  }
}
}  // namespace

void require_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw FileMissing(path + ": no such file");
}

std::string path_argument(py::handle path, const char* name) {
  py::object text = py::reinterpret_borrow<py::object>(path);
  if (!py::isinstance<py::str>(text)) {
    if (!PyObject_HasAttrString(path.ptr(), "__fspath__"))
      throw py::type_error(std::string(name) + " must be a str or a path (os.PathLike), got " + py::str(py::type::of(path).attr("__name__")).cast<std::string>());
    text = py::module_::import("os").attr("fspath")(path);
    if (!py::isinstance<py::str>(text)) throw py::type_error(std::string(name) + " must name the file as text, not bytes");
  }
  return text.cast<std::string>();
}

ReleaseAllowingStop::ReleaseAllowingStop() {
  struct sigaction current {};
  if (std::this_thread::get_id() == main_thread && ::sigaction(SIGINT, nullptr, &current) == 0 && current.sa_handler != SIG_IGN) {
    struct sigaction action {};
    action.sa_handler = request_stop;
    sigemptyset(&action.sa_mask);
    installed_ = ::sigaction(SIGINT, &action, &previous_) == 0;
  }
  release_.emplace();
}

ReleaseAllowingStop::~ReleaseAllowingStop() {
  release_.reset();  // the GIL back first
  if (!installed_) return;
  ::sigaction(SIGINT, &previous_, nullptr);
  // A Ctrl-C that came after the last pass: Python raises it at its next instruction.
  if (nn::stop_signal.exchange(0) != 0 && std::uncaught_exceptions() == 0) PyErr_SetInterrupt();
}

void bind_errors(py::module_&) {
  main_thread = std::this_thread::get_id();
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const py::error_already_set&) {
      throw;
    } catch (const py::builtin_exception&) {
      throw;  // pybind's own value_error etc.: its translator sets them
    } catch (const FileMissing& e) {
      PyErr_SetString(PyExc_FileNotFoundError, escaped(e).c_str());
    } catch (const nn::Stopped&) {
      nn::stop_signal.store(0);
      PyErr_SetNone(PyExc_KeyboardInterrupt);
    } catch (const std::bad_alloc& e) {
      PyErr_SetString(PyExc_MemoryError, escaped(e).c_str());
    } catch (const std::length_error& e) {
      PyErr_SetString(nn::user_message(e) == nn::kOutOfMemory ? PyExc_MemoryError : PyExc_ValueError, escaped(e).c_str());
    } catch (const std::logic_error& e) {  // invalid_argument, domain_error, out_of_range
      PyErr_SetString(PyExc_ValueError, escaped(e).c_str());
    } catch (const std::exception& e) {
      PyErr_SetString(PyExc_RuntimeError, escaped(e).c_str());
    }
  });
}

}  // namespace integrad::py_bind
