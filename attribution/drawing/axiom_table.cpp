#include "attribution/drawing/axiom_table.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "attribution/drawing/html.h"

namespace integrad::attr {

namespace {
std::string cell(const CheckResult& c) {
  if (!c.applicable) return "n/a";
  return fmt::format("{} {:.2g}", c.passed ? "pass" : "FAIL", c.figure);
}
}  // namespace

std::string matrix_table(const std::vector<MatrixRow>& rows) {
  std::string s = fmt::format("{:<22}", "method");
  for (const auto& h : axiom_names()) s += fmt::format(" {:<13}", h.short_name);
  s += "\n";
  for (const auto& r : rows) {
    s += fmt::format("{:<22}", r.method);
    if (!r.left_out.empty()) s += " " + r.left_out;
    else
      for (const auto& c : r.checks) s += fmt::format(" {:<13}", cell(c));
    s += "\n";
  }
  return s;
}

std::string matrix_markdown(const std::vector<MatrixRow>& rows) {
  std::string s = "| method |";
  for (const auto& h : axiom_names()) s += fmt::format(" {} |", h.name);
  s += "\n|---|";
  for (size_t i = 0; i < axiom_names().size(); ++i) s += "---|";
  s += "\n";
  for (const auto& r : rows) {
    s += fmt::format("| {} |", r.method);
    if (!r.left_out.empty()) s += fmt::format(" {} |", r.left_out) + std::string(axiom_names().size() - 1, '|');
    else
      for (const auto& c : r.checks) s += fmt::format(" {} |", cell(c));
    s += "\n";
  }
  return s;
}

std::string matrix_json(const std::vector<MatrixRow>& rows) {
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  for (const auto& r : rows) {
    nlohmann::ordered_json checks = nlohmann::ordered_json::object();
    for (const auto& c : r.checks)
      checks[c.name] = {{"applicable", c.applicable}, {"passed", c.passed}, {"figure", c.figure}, {"tolerance", c.tolerance}, {"detail", c.detail}};
    nlohmann::ordered_json row = {{"method", r.method}, {"checks", checks}};
    if (!r.left_out.empty()) row["left_out"] = r.left_out;
    j.push_back(row);
  }
  return j.dump(2);
}

std::string matrix_html(const std::vector<MatrixRow>& rows) {
  std::string s = "<table><tr><th>method</th>";
  for (const auto& h : axiom_names()) s += "<th>" + h.name + "</th>";
  s += "</tr>";
  for (const auto& r : rows) {
    s += "<tr><td>" + r.method + "</td>";
    if (!r.left_out.empty()) {
      s += fmt::format("<td class=\"na\" colspan=\"{}\">{}</td></tr>", axiom_names().size(), html_escape(r.left_out));
      continue;
    }
    for (const auto& c : r.checks)
      s += !c.applicable ? fmt::format("<td class=\"na\" title=\"{}\">n/a</td>", html_escape(c.detail))
                         : fmt::format("<td class=\"{}\" title=\"{}\">{} {:.2g}</td>", c.passed ? "pass" : "fail", html_escape(c.detail),
                                       c.passed ? "pass" : "FAIL", c.figure);
    s += "</tr>";
  }
  return s + "</table>";
}

}  // namespace integrad::attr
