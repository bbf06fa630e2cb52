// A request to stop (Ctrl-C, SIGTERM), as one process-wide flag: a signal handler sets it, and the
// places where work can stop with nothing half-written poll it — training after every step, the
// attribution methods after every pass and example, the forward between layers, every output write
// and commit — and throw Stopped. The command then unwinds: its OutputSet removes every staged
// file, and main exits with 128 + signal.
//
// The same places also poll a request to stop one piece of work (the explorer's Cancel): the thread
// running it points work_cancelled at its flag (CancelScope), and for_each_example passes the
// pointer on to its OpenMP threads, so a method that reports no progress stops between examples,
// passes and layers too.
#pragma once

#include <atomic>
#include <stdexcept>
#include <string>

namespace integrad::nn {

// The signal that asked to stop, 0 if none.
inline std::atomic<int> stop_signal{0};

// This thread's work's cancel flag, or null.
inline thread_local const std::atomic<bool>* work_cancelled = nullptr;

struct Stopped : std::runtime_error {
  // signal 0: the work was cancelled (work_cancelled), not the process interrupted.
  explicit Stopped(int signal)
      : std::runtime_error(signal == 0 ? std::string("cancelled") : std::string("interrupted by signal ").append(std::to_string(signal))), signal(signal) {}
  int signal;
};

inline void throw_if_stop_requested() {
  if (const int s = stop_signal.load(std::memory_order_relaxed)) throw Stopped(s);
  if (const std::atomic<bool>* c = work_cancelled; c && c->load(std::memory_order_relaxed)) throw Stopped(0);
}

// Points this thread's work_cancelled at `flag` for the scope's life.
class CancelScope {
 public:
  explicit CancelScope(const std::atomic<bool>* flag) : previous_(work_cancelled) { work_cancelled = flag; }
  ~CancelScope() { work_cancelled = previous_; }
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;

 private:
  const std::atomic<bool>* previous_;
};

}  // namespace integrad::nn
