// C++ errors as Python exceptions: std::invalid_argument (and the other logic errors) -> ValueError,
// std::runtime_error -> RuntimeError, a missing file -> FileNotFoundError, an allocation failure
// -> MemoryError saying what to reduce, a Ctrl-C that stopped the work -> KeyboardInterrupt. The
// messages are the CLI's, escaped by the same function (nn::printable): they quote file names and
// values that may hold terminal escape sequences.
#include "errors.h"

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "model.h"
#include "nn/messages.h"
#include "nn/printable.h"
#include "nn/stop.h"

namespace integrad::py_bind {

namespace {
std::thread::id main_thread;  // the importing thread, Python's main thread in practice

// The running ReleaseAllowingStop scopes: our SIGINT handler is installed while there is one.
std::mutex scopes_mutex;
int running_calls = 0;                // guarded by scopes_mutex
bool handler_installed = false;       // guarded
struct sigaction python_handler {};  // guarded: what to put back when the last call ends
std::atomic<int> main_thread_calls{0};
std::atomic<bool> main_thread_owes_interrupt{false};  // a Ctrl-C the main thread's call must raise

extern "C" void request_stop(int signal) {
  nn::stop_signal.store(signal);
  // The main thread is running Python (not one of our calls): tell it as Python's own handler
  // would. PyErr_SetInterrupt is async-signal-safe (Python >= 3.10) and needs no GIL.
  if (main_thread_calls.load() == 0) PyErr_SetInterrupt();
  else main_thread_owes_interrupt.store(true);
}

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

ReleaseAllowingStop::ReleaseAllowingStop() : on_main_thread_(std::this_thread::get_id() == main_thread) {
  {
    const std::lock_guard lock(scopes_mutex);
    struct sigaction current {};
    // A SIGINT the program ignores stays ignored.
    if (running_calls++ == 0 && ::sigaction(SIGINT, nullptr, &current) == 0 && current.sa_handler != SIG_IGN) {
      struct sigaction action {};
      action.sa_handler = request_stop;
      sigemptyset(&action.sa_mask);
      handler_installed = ::sigaction(SIGINT, &action, &python_handler) == 0;
    }
  }
  if (on_main_thread_) main_thread_calls.fetch_add(1);
  release_.emplace();
}

ReleaseAllowingStop::~ReleaseAllowingStop() {
  release_.reset();  // the GIL back first
  if (on_main_thread_) main_thread_calls.fetch_sub(1);
  {
    const std::lock_guard lock(scopes_mutex);
    if (--running_calls == 0) {
      if (handler_installed) ::sigaction(SIGINT, &python_handler, nullptr);
      handler_installed = false;
      nn::stop_signal.store(0);  // every call that was running has seen it; the next ones start clean
    }
  }
  // A Ctrl-C that came after this call's last pass: Python raises it at its next instruction. (A
  // call that stopped raises KeyboardInterrupt itself.)
  if (on_main_thread_ && main_thread_owes_interrupt.exchange(false) && std::uncaught_exceptions() == 0) PyErr_SetInterrupt();
}

bool interrupt_running_calls() {
  const std::lock_guard lock(scopes_mutex);
  if (running_calls == 0) return false;
  nn::stop_signal.store(SIGINT);
  return true;
}

void bind_errors(py::module_& m) {
  m.def("interrupt", &interrupt_running_calls,
        "Stops every running integrad call (explain, evaluate, axioms, predict), in any thread, as Ctrl-C does: each raises "
        "KeyboardInterrupt in its own thread. Returns False when none was running; a later call is not affected.");
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
      // nn::stop_signal stays set until the last running call ends (~ReleaseAllowingStop), so
      // calls in other threads stop too.
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
