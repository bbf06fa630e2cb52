// integrad: train, explain and check attribution axioms from the command line.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <exception>

#include "command.h"
#include "nn/atomic_file.h"
#include "nn/messages.h"
#include "nn/printable.h"
#include "nn/stop.h"
#include "stop_signal.h"

namespace {
// An exception's text, with control characters escaped line by line (a message may quote a file
// name or a tensor name holding escape sequences); its own line breaks are kept.
std::string printable_message(std::string_view text) {
  std::string out;
  for (size_t start = 0;;) {
    const size_t end = text.find('\n', start);
    out += integrad::nn::printable(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return out;
    out += '\n';
    start = end + 1;
  }
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"integrad: reverse-mode autodiff, Integrated Gradients and the attribution axioms"};
  app.set_version_flag("--version", std::string("integrad ") + INTEGRAD_VERSION);
  app.require_subcommand(0, 1);

  auto& commands = integrad::cli::commands();
  // Registration order follows the link order; show subcommands alphabetically instead.
  std::sort(commands.begin(), commands.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  for (const auto& c : commands) c.setup(*app.add_subcommand(c.name, c.description));

  // Ctrl-C and SIGTERM, for every command: the work stops at the next pass or write, the
  // OutputSet removes what was staged, and the exit status is 128 + the signal.
  integrad::cli::catch_stop_signals();
  // An output on standard output (-o /dev/stdout, --json /dev/stdout, ...): the data alone goes
  // there, every line of text to stderr, whichever command and option it is.
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.starts_with("--") ? arg.find('=') : std::string::npos;
    if (integrad::nn::names_stdout(eq == std::string::npos ? arg : arg.substr(eq + 1))) integrad::nn::keep_stdout_for_data();
  }
  // Every file a command writes is staged and committed when it has finished (train commits after
  // each epoch): a command that fails leaves no output at all.
  integrad::nn::OutputSet outputs;
  integrad::cli::parsed_command_line = &app;
  const auto sub = [&app] { return app.get_subcommands().empty() ? std::string() : " " + app.get_subcommands().front()->get_name(); };
  try {
    app.parse(argc, argv);
    outputs.commit();
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);  // --help, --version
    // CLI11's own errors in the same form and status as ours (it printed them bare and exited
    // 104-114), escaped like every other message: they quote the user's values.
    fmt::print(stderr, "integrad{}: error: {} (see --help)\n", sub(), printable_message(integrad::nn::shortened(e.what())));
    return 1;
  } catch (const integrad::cli::ExitStatus& e) {
    return e.code;
  } catch (const integrad::nn::Stopped& e) {
    fmt::print(stderr, "\nintegrad{}: interrupted (signal {}); no output was written\n", sub(), e.signal);
    return 128 + e.signal;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "integrad{}: error: {}\n", sub(), integrad::nn::kOutOfMemory);
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "integrad{}: error: {}\n", sub(), printable_message(integrad::nn::shortened(integrad::nn::user_message(e))));
    return 1;
  }
  if (app.get_subcommands().empty()) fmt::print("{}", app.help());
  return 0;
}
