// Subcommands register themselves, so each lives in its own file (train.cpp, explain.cpp, ...)
// and main.cpp never changes when one is added:
//
//   static const bool registered = integrad::cli::register_command(
//       {"predict", "Run a model on inputs and write the logits", add_predict});
//
// `setup` adds the subcommand's options to `cmd` and sets its callback. The callback throws
// std::exception on failure; main prints "integrad <sub>: error: <what>" and exits non-zero. A
// command that has already said what happened and wants a particular status throws ExitStatus.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace integrad::cli {

struct Command {
  std::string name;
  std::string description;
  void (*setup)(CLI::App& cmd);
};

struct ExitStatus {
  int code;
};

// The whole command line as parsed (set by main): what a shard's sidecar records of its options.
inline const CLI::App* parsed_command_line = nullptr;

inline std::vector<Command>& commands() {
  static std::vector<Command> all;
  return all;
}

inline bool register_command(Command c) {
  commands().push_back(std::move(c));
  return true;
}

}  // namespace integrad::cli
