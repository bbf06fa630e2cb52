// integrad methods: what the method and metric registries hold — a table for the terminal, or the
// Markdown table docs/attribution.md carries (a test keeps the two equal).
#include <fmt/format.h>

#include "attribution/metric.h"
#include "command.h"

namespace integrad::cli {
namespace {

std::string yes(bool b) { return b ? "yes" : "—"; }

// A table cell: a | inside it would end the cell.
std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string methods_markdown() {
  std::string s = "| method | what it computes | signed | baseline | delta | guarantees | options |\n|---|---|---|---|---|---|---|\n";
  for (const auto& m : attr::registry<float>()) {
    std::vector<std::string> options;
    for (const auto& o : m.options) options.push_back("`--" + o.name + "`");
    s += fmt::format("| `{}` | {} | {} | {} | {} | {} | {} |\n", m.name, cell(m.summary), yes(m.is_signed), yes(m.uses_baseline), yes(m.has_delta),
                     m.guarantees.empty() ? "—" : fmt::format("{}", fmt::join(m.guarantees, ", ")), options.empty() ? "—" : fmt::format("{}", fmt::join(options, " ")));
  }
  s += "\n| metric | what it measures | better |\n|---|---|---|\n";
  for (const auto& m : attr::metric_registry<float>()) s += fmt::format("| `{}` | {} | {} |\n", m.name, cell(m.summary), m.higher_is_better ? "higher" : "lower");
  return s;
}

void setup(CLI::App& cmd) {
  auto markdown = std::make_shared<bool>(false);
  cmd.add_flag("--markdown", *markdown, "Print the Markdown table of docs/attribution.md");
  cmd.callback([markdown] {
    if (*markdown) return fmt::print("{}", methods_markdown());
    for (const auto& m : attr::registry<float>()) fmt::print("{:<16} {}\n", m.name, m.summary);
    fmt::print("\nmetrics:\n");
    for (const auto& m : attr::metric_registry<float>()) fmt::print("{:<16} {} ({} is better)\n", m.name, m.summary, m.higher_is_better ? "higher" : "lower");
  });
}

const bool registered = register_command({"methods", "List the attribution methods and metrics integrad knows, with their properties", setup});

}  // namespace
}  // namespace integrad::cli
