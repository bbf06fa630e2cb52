// A request to stop (Ctrl-C, SIGTERM), as one process-wide flag: a signal handler sets it, and the
// places where work can stop with nothing half-written poll it — training after every step, the
// attribution methods after every pass, every output write and commit — and throw Stopped. The
// command then unwinds: its OutputSet removes every staged file, and main exits with 128 + signal.
#pragma once

#include <atomic>
#include <stdexcept>
#include <string>

namespace integrad::nn {

// The signal that asked to stop, 0 if none.
inline std::atomic<int> stop_signal{0};

struct Stopped : std::runtime_error {
  explicit Stopped(int signal) : std::runtime_error(std::string("interrupted by signal ").append(std::to_string(signal))), signal(signal) {}
  int signal;
};

inline void throw_if_stop_requested() {
  if (const int s = stop_signal.load(std::memory_order_relaxed)) throw Stopped(s);
}

}  // namespace integrad::nn
