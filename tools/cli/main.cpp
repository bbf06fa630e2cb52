// integrad: train, explain and check attribution axioms from the command line.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <exception>

int main(int argc, char** argv) {
  CLI::App app{"integrad: reverse-mode autodiff, Integrated Gradients and the attribution axioms"};
  app.set_version_flag("--version", std::string("integrad ") + INTEGRAD_VERSION);
  app.require_subcommand(0, 1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (argc == 1) fmt::print("{}", app.help());
  return 0;
}
