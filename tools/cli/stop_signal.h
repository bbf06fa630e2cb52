// Ctrl-C and SIGTERM as a request to stop: the first one sets a flag that long loops poll (training
// checks it after every step), so the program stops between steps with its files whole; a second
// one ends the program at once, as usual.
#pragma once

#include <atomic>
#include <csignal>

namespace integrad::cli {

inline std::atomic<bool> stop_requested{false};
inline std::atomic<int> stop_signal{0};

extern "C" inline void request_stop(int signal) {
  stop_signal.store(signal);
  stop_requested.store(true);
}

inline void catch_stop_signals() {
  struct sigaction action {};
  action.sa_handler = request_stop;
  action.sa_flags = SA_RESETHAND;  // the second signal takes the default action
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

}  // namespace integrad::cli
