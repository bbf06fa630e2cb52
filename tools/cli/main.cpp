// integrad: train, explain and check attribution axioms from the command line.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <exception>

#include "command.h"

int main(int argc, char** argv) {
  CLI::App app{"integrad: reverse-mode autodiff, Integrated Gradients and the attribution axioms"};
  app.set_version_flag("--version", std::string("integrad ") + INTEGRAD_VERSION);
  app.require_subcommand(0, 1);

  auto& commands = integrad::cli::commands();
  // Registration order follows the link order; show subcommands alphabetically instead.
  std::sort(commands.begin(), commands.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  for (const auto& c : commands) c.setup(*app.add_subcommand(c.name, c.description));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const integrad::cli::ExitStatus& e) {
    return e.code;
  } catch (const std::exception& e) {
    std::string sub = app.get_subcommands().empty() ? "" : " " + app.get_subcommands().front()->get_name();
    fmt::print(stderr, "integrad{}: error: {}\n", sub, e.what());
    return 1;
  }
  if (app.get_subcommands().empty()) fmt::print("{}", app.help());
  return 0;
}
