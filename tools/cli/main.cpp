// integrad: train, explain and check attribution axioms from the command line.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <exception>

#include "command.h"
#include "nn/atomic_file.h"
#include "nn/printable.h"

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

  // Every file a command writes is staged and committed when it has finished (train commits after
  // each epoch): a command that fails leaves no output at all.
  integrad::nn::OutputSet outputs;
  try {
    app.parse(argc, argv);
    outputs.commit();
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const integrad::cli::ExitStatus& e) {
    return e.code;
  } catch (const std::exception& e) {
    std::string sub = app.get_subcommands().empty() ? "" : " " + app.get_subcommands().front()->get_name();
    fmt::print(stderr, "integrad{}: error: {}\n", sub, printable_message(e.what()));
    return 1;
  }
  if (app.get_subcommands().empty()) fmt::print("{}", app.help());
  return 0;
}
