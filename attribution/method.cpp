#include "attribution/method.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace integrad::attr {

// The built-in methods, in the order tables show them (attribution/methods/builtin.cpp).
template <ad::Scalar T>
std::vector<Method<T>> builtin_methods();

namespace {

std::string check_value(const std::string& method, const OptionSpec& spec, const std::string& text) {
  const std::string where = fmt::format("--{} (an option of {})", spec.name, method);
  switch (spec.kind) {
    case OptionSpec::Kind::text:
      if (text.empty()) throw std::invalid_argument(fmt::format("{} needs a value", where));
      return text;
    case OptionSpec::Kind::flag:
      if (text != "true" && text != "false") throw std::invalid_argument(fmt::format("{} is a flag; got '{}'", where, text));
      return text;
    case OptionSpec::Kind::choice:
      if (std::find(spec.choices.begin(), spec.choices.end(), text) == spec.choices.end())
        throw std::invalid_argument(fmt::format("{} must be one of {}; got '{}'", where, fmt::join(spec.choices, ", "), text));
      return text;
    case OptionSpec::Kind::integer: {
      int64_t v = 0;
      const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (err != std::errc() || end != text.data() + text.size() || double(v) < spec.min || double(v) > spec.max)
        throw std::invalid_argument(fmt::format("{} must be a whole number in [{}, {}]; got '{}'", where, spec.min, spec.max, text));
      return text;
    }
    case OptionSpec::Kind::real: {
      size_t used = 0;
      double v = 0;
      try {
        v = std::stod(text, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (text.empty() || used != text.size() || !std::isfinite(v) || v < spec.min || v > spec.max)
        throw std::invalid_argument(fmt::format("{} must be a finite number in [{}, {}]; got '{}'", where, spec.min, spec.max, text));
      return text;
    }
  }
  return text;
}

}  // namespace

int64_t Options::integer(const std::string& name) const { return std::stoll(text(name)); }
double Options::real(const std::string& name) const { return std::stod(text(name)); }

const std::string& Options::text(const std::string& name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) throw std::logic_error("option '" + name + "' has no value");
  return it->second;
}

Options parse_options(const std::string& method, const std::vector<OptionSpec>& specs, const std::map<std::string, std::string>& given,
                      const std::map<std::string, std::string>& presets) {
  auto spec_of = [&](const std::string& name) -> const OptionSpec* {
    for (const auto& s : specs)
      if (s.name == name) return &s;
    return nullptr;
  };
  Options o;
  for (const auto& s : specs)
    if (!s.default_value.empty()) o.values_[s.name] = s.default_value;
  for (const auto& [name, text] : presets)
    if (const OptionSpec* s = spec_of(name)) o.values_[name] = check_value(method, *s, text);
  for (const auto& [name, text] : given) {
    const OptionSpec* s = spec_of(name);
    if (!s) {
      std::vector<std::string> known;
      for (const auto& k : specs) known.push_back("--" + k.name);
      throw std::invalid_argument(fmt::format("--{} is not an option of {} ({})", name, method,
                                              known.empty() ? "it takes none" : fmt::format("its options: {}", fmt::join(known, ", "))));
    }
    o.values_[name] = check_value(method, *s, text);
    o.given_.insert(name);
  }
  return o;
}

template <ad::Scalar T>
Registry<Method<T>>& registry() {
  static Registry<Method<T>> all("method", builtin_methods<T>());
  return all;
}

template <ad::Scalar T>
Attribution<T> explain(const Method<T>& method, const nn::Sequential<T>& model, const ad::Tensor<T>& inputs, const Baseline<T>& baseline,
                       const Target<T>& target, const Options& options) {
  if (model.input_dtype == nn::InputDtype::int64 && !method.takes_token_ids)
    throw std::invalid_argument(fmt::format("token-id inputs have no gradient and {} needs one: use --method ig --layer 0 (the embedding) with a token id as "
                                            "--baseline, e.g. 0", method.name));
  const Forward<T> f = forward_of(model);
  const std::vector<int64_t> targets = resolve_targets(f, inputs, target);
  const Target<T> fixed = targets.empty() ? target : Target<T>::each(targets);
  Attribution<T> a = method.run({model, inputs, baseline, fixed, options});
  a.is_signed = a.is_signed && method.is_signed;
  if (a.targets.empty()) a.targets = targets;
  if (a.f_input.empty()) a.f_input = target_values(f, inputs, fixed, targets);
  if (method.has_delta && a.deltas.empty()) {
    a.f_baseline = target_values(f, baseline.expand(inputs), fixed, targets);
    a.deltas = ad::row_sums(a.values);
    for (size_t i = 0; i < a.deltas.size(); ++i) a.deltas[i] -= a.f_input[i] - a.f_baseline[i];
  }
  return a;
}

template <ad::Scalar T>
std::vector<NamedMethod<T>> matrix_methods(const nn::Sequential<T>& model, const std::map<std::string, std::string>& overrides) {
  std::vector<NamedMethod<T>> rows;
  for (const Method<T>& m : registry<T>()) {
    if (m.in_tables && !m.in_tables(model)) continue;
    std::vector<MatrixRowSpec> specs = m.matrix_rows;
    if (specs.empty()) specs.push_back({m.name, {}, m.guarantees});
    for (const MatrixRowSpec& spec : specs) {
      std::map<std::string, std::string> presets = spec.presets;
      for (const auto& [name, value] : overrides) presets[name] = value;
      const Options options = parse_options(m.name, m.options, {}, presets);
      ExplainFn<T> fn = [run = m.run, options](const nn::Sequential<T>& mdl, const ad::Tensor<T>& x, const ad::Tensor<T>& b, const Target<T>& t) {
        return run({mdl, x, Baseline<T>::of(b), t, options}).values;
      };
      rows.push_back({spec.name, std::move(fn), spec.guarantees});
    }
  }
  return rows;
}

#define INTEGRAD_INSTANTIATE(T)                                                                                                             \
  template Registry<Method<T>>& registry<T>();                                                                                              \
  template Attribution<T> explain<T>(const Method<T>&, const nn::Sequential<T>&, const ad::Tensor<T>&, const Baseline<T>&, const Target<T>&, \
                                     const Options&);                                                                                       \
  template std::vector<NamedMethod<T>> matrix_methods<T>(const nn::Sequential<T>&, const std::map<std::string, std::string>&);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)
#undef INTEGRAD_INSTANTIATE

}  // namespace integrad::attr
