// Ctrl-C and SIGTERM as a request to stop: the first one sets a flag that long loops poll (training
// checks it after every step, the attribution methods after every pass, every write and commit:
// nn/stop.h), so the program stops between steps with its files whole or not written at all; a
// second one ends the program at once, as usual. main catches them for every subcommand.
#pragma once

#include <atomic>
#include <csignal>

#include "nn/stop.h"

namespace integrad::cli {

inline std::atomic<bool> stop_requested{false};
inline std::atomic<int> stop_signal{0};

extern "C" inline void request_stop(int signal) {
  stop_signal.store(signal);
  stop_requested.store(true);
  nn::stop_signal.store(signal);
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
