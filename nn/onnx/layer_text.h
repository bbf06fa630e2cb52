// The small text forms the ONNX layer kinds write into their architecture (nn/onnx/layers_*.h),
// chosen so that LayerArgs' comma split leaves them whole: integer lists with spaces ("0 2 1 3"),
// shapes with 'x' ("8x1x1"; "s" for a scalar) and dimensions that may hold the batch N ("8N",
// "N", "4", "-1").
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "autodiff/shape.h"
#include "nn/layer_args.h"

namespace integrad::nn::onnx_text {

// A dimension n·N + c, N being the batch: how the ONNX reader folds shape arithmetic with a
// symbolic batch.
struct Sym {
  int64_t n = 0, c = 0;
  bool fixed() const { return n == 0; }
  int64_t at(int64_t batch) const { return n * batch + c; }
  bool operator==(const Sym&) const = default;
};

inline std::string sym_text(Sym s) {
  if (s.n == 0) return std::to_string(s.c);
  std::string t = s.n == 1 ? "N" : fmt::format("{}N", s.n);
  if (s.c != 0) t += fmt::format("{:+}", s.c);
  return t;
}

inline std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

inline int64_t parse_int(const LayerArgs& a, const std::string& w) {
  try {
    size_t used = 0;
    const int64_t v = std::stoll(w, &used);
    if (used == w.size()) return v;
  } catch (const std::exception&) {
  }
  a.fail("'" + w + "' is not an integer");
}

inline Sym parse_sym(const LayerArgs& a, const std::string& w) {
  const size_t at = w.find('N');
  if (at == std::string::npos) return {0, parse_int(a, w)};
  Sym s;
  const std::string coef = w.substr(0, at), rest = w.substr(at + 1);
  s.n = coef.empty() ? 1 : coef == "-" ? -1 : parse_int(a, coef);
  s.c = rest.empty() ? 0 : parse_int(a, rest[0] == '+' ? rest.substr(1) : rest);
  return s;
}

inline std::string ints_text(const std::vector<int64_t>& v) { return v.empty() ? "-" : fmt::format("{}", fmt::join(v, " ")); }
inline std::vector<int64_t> parse_ints(const LayerArgs& a, const std::string& text) {
  std::vector<int64_t> out;
  if (text == "-") return out;
  for (const std::string& w : words(text)) out.push_back(parse_int(a, w));
  return out;
}

inline std::string syms_text(const std::vector<Sym>& v) {
  std::vector<std::string> w;
  for (Sym s : v) w.push_back(sym_text(s));
  return w.empty() ? "-" : fmt::format("{}", fmt::join(w, " "));
}
inline std::vector<Sym> parse_syms(const LayerArgs& a, const std::string& text) {
  std::vector<Sym> out;
  if (text == "-") return out;
  for (const std::string& w : words(text)) out.push_back(parse_sym(a, w));
  return out;
}

// A shape as "8x1x1", a scalar as "s".
inline std::string shape_text(const ad::Shape& s) {
  if (s.rank() == 0) return "s";
  return fmt::format("{}", fmt::join(s.dims(), "x"));
}
inline ad::Shape parse_shape(const LayerArgs& a, const std::string& text) {
  if (text == "s") return ad::Shape{};
  std::vector<int64_t> dims;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t x = text.find('x', start);
    const int64_t d = parse_int(a, text.substr(start, x == std::string::npos ? std::string::npos : x - start));
    if (d < 0 || d > kMaxLayerParameters) a.fail("a dimension of '" + text + "' is out of range");
    dims.push_back(d);
    if (x == std::string::npos) break;
    start = x + 1;
  }
  if (dims.size() > 6) a.fail("shape '" + text + "' has more than 6 dimensions");
  return ad::Shape(dims);
}

}  // namespace integrad::nn::onnx_text
