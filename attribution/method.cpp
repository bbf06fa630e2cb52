#include "attribution/method.h"
#include "nn/stop.h"

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

OptionSpec batch_size_option() {
  return {.name = "batch-size", .kind = OptionSpec::Kind::integer, .default_value = "512",
          .help = "rows through the model at once: examples per chunk, and at most this many path points, noisy or perturbed copies per pass "
                  "(Captum's internal_batch_size); peak memory grows with it, results do not change",
          .min = 1, .max = 1 << 20};
}

Options parse_options(const std::string& method, const std::vector<OptionSpec>& declared, const std::map<std::string, std::string>& given,
                      const std::map<std::string, std::string>& presets) {
  std::vector<OptionSpec> specs = declared;
  if (std::none_of(specs.begin(), specs.end(), [](const OptionSpec& s) { return s.name == "batch-size"; })) specs.push_back(batch_size_option());
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
      for (const auto& k : declared) known.push_back("--" + k.name);
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

namespace {

// Appends a chunk's per-example list to the whole run's.
template <typename V>
void append(std::vector<V>& all, const std::vector<V>& part) {
  all.insert(all.end(), part.begin(), part.end());
}

}  // namespace

template <ad::Scalar T>
Attribution<T> explain(const Method<T>& method, const nn::Model<T>& model, const ad::Tensor<T>& inputs, const Baseline<T>& baseline,
                       const Target<T>& target, const Options& options, int64_t first, int64_t total, const std::function<void(double)>& progress) {
  if (model.input_dtype == nn::InputDtype::int64 && !method.takes_token_ids)
    throw std::invalid_argument(fmt::format("{} works on real-valued inputs, and this model reads token ids (an Embedding first), which have no gradient "
                                            "and no values between them to perturb towards: attribute to the embeddings with --method ig --layer 0 and a "
                                            "token id as --baseline, e.g. 0",
                                            method.name));
  const int64_t n = inputs.size(0), all = total > 0 ? total : n;
  const int64_t chunk = options.has("batch-size") ? std::max<int64_t>(1, options.integer("batch-size")) : n;
  // Per-example baselines and targets may cover the whole set or just these inputs.
  const bool whole_baseline = baseline.kind == Baseline<T>::Kind::tensor && baseline.tensor.rank() == inputs.rank() && baseline.tensor.size(0) == all &&
                              baseline.tensor.shape().without(0) == inputs.shape().without(0);
  const bool own_baseline = whole_baseline || (baseline.kind == Baseline<T>::Kind::tensor && baseline.tensor.shape() == inputs.shape());
  const int64_t baseline_offset = whole_baseline ? first : 0;
  const bool whole_targets = target.kind == Target<T>::Kind::per_example && int64_t(target.indices.size()) == all;
  if (target.kind == Target<T>::Kind::per_example && !whole_targets && int64_t(target.indices.size()) != n)
    throw std::invalid_argument(fmt::format("{} targets for {} examples", target.indices.size(), all));
  const int64_t target_offset = whole_targets ? first : 0;
  const Forward<T> f = forward_of(model);
  Attribution<T> out;
  for (int64_t start = 0; start < std::max<int64_t>(n, 1); start += chunk) {
    nn::throw_if_stop_requested();
    const int64_t end = std::min(n, start + chunk), rows = end - start;
    const bool whole = start == 0 && end == n;
    const ad::Tensor<T> x = whole ? ad::Tensor<T>() : inputs.rows(start, end);
    const ad::Tensor<T>& xs = whole ? inputs : x;
    const Baseline<T> b = own_baseline && !(whole && baseline_offset == 0 && baseline.tensor.size(0) == n)
                              ? Baseline<T>::of(baseline.tensor.rows(baseline_offset + start, baseline_offset + end))
                              : baseline;
    Target<T> t = target;
    if (target.kind == Target<T>::Kind::per_example)
      t.indices.assign(target.indices.begin() + target_offset + start, target.indices.begin() + target_offset + end);
    const std::vector<int64_t> targets = resolve_targets(f, xs, t);
    const Target<T> fixed = targets.empty() ? t : Target<T>::each(targets);
    MethodCall<T> call{model, xs, b, fixed, options, first + start, all, own_baseline};
    if (progress) call.progress = [&](double f) { progress(double(start) + f * double(rows)); };
    Attribution<T> a = method.run(call);
    if (a.targets.empty()) a.targets = targets;
    if (a.f_input.empty()) a.f_input = target_values(f, xs, fixed, targets);
    if (method.has_delta && a.deltas.empty()) {
      a.f_baseline = target_values(f, b.expand(xs), fixed, targets);
      a.deltas = ad::row_sums(a.values);
      for (size_t i = 0; i < a.deltas.size(); ++i) a.deltas[i] -= a.f_input[i] - a.f_baseline[i];
    }
    if (whole) {
      out = std::move(a);
    } else {
      // Outputs of the whole set, laid out as the first chunk's (a layer's output may differ in shape from the inputs).
      if (start == 0) {
        out.values = ad::Tensor<T>(a.values.shape().with(0, n));
        if (a.token_values.numel()) out.token_values = ad::Tensor<T>(a.token_values.shape().with(0, n));
        out.deltas_per_baseline.resize(a.deltas_per_baseline.size());
        out.is_signed = a.is_signed;
      }
      std::copy(a.values.data(), a.values.data() + a.values.numel(), out.values.data() + start * a.values.shape().stride(0));
      if (a.token_values.numel())
        std::copy(a.token_values.data(), a.token_values.data() + a.token_values.numel(), out.token_values.data() + start * a.token_values.shape().stride(0));
      append(out.targets, a.targets);
      append(out.f_input, a.f_input);
      append(out.f_baseline, a.f_baseline);
      append(out.deltas, a.deltas);
      append(out.steps, a.steps);
      for (size_t k = 0; k < a.deltas_per_baseline.size() && k < out.deltas_per_baseline.size(); ++k) append(out.deltas_per_baseline[k], a.deltas_per_baseline[k]);
      out.is_signed = out.is_signed && a.is_signed;
      for (auto& w : a.warnings)
        if (std::find(out.warnings.begin(), out.warnings.end(), w) == out.warnings.end()) out.warnings.push_back(std::move(w));
    }
    if (progress) progress(double(end));
    if (n == 0) break;
  }
  out.is_signed = out.is_signed && method.is_signed;
  return out;
}

template <ad::Scalar T>
std::vector<NamedMethod<T>> matrix_methods(const nn::Model<T>& model, const std::map<std::string, std::string>& overrides) {
  std::vector<NamedMethod<T>> rows;
  for (const Method<T>& m : registry<T>()) {
    if (m.in_tables && !m.in_tables(model)) {
      // A perturbation method takes every scalar as a feature in the tables: too many on an image.
      const auto declares = [&m](const char* name) {
        return std::any_of(m.options.begin(), m.options.end(), [name](const OptionSpec& s) { return s.name == name; });
      };
      if (declares("feature-mask") || declares("window"))
        rows.push_back({m.name, {}, {},
                        fmt::format("left out: each of the {} input scalars would be a feature of its own, too many for its row; explain it on "
                                    "groups with {}",
                                    model.input_shape.numel(), declares("window") ? "a larger --window" : "--patch K or --feature-mask")});
      continue;
    }
    std::vector<MatrixRowSpec> specs = m.matrix_rows;
    if (specs.empty()) specs.push_back({m.name, {}, m.guarantees, m.conserves_without_bias});
    for (const MatrixRowSpec& spec : specs) {
      std::map<std::string, std::string> presets = spec.presets;
      for (const auto& [name, value] : overrides) presets[name] = value;
      const Options options = parse_options(m.name, m.options, {}, presets);
      // In chunks of --batch-size examples, as explain runs: the tables' memory is bounded by the batch.
      ExplainFn<T> fn = [run = m.run, applies = m.in_tables, name = m.name, options](const nn::Model<T>& mdl, const ad::Tensor<T>& x,
                                                                                       const ad::Tensor<T>& b, const Target<T>& t) {
        if (applies && !applies(mdl))
          throw MethodNotApplicable(fmt::format("{} does not apply to this check's model (inputs {})", name, mdl.input_shape.str()));
        const int64_t n = x.size(0), chunk = std::max<int64_t>(1, options.integer("batch-size"));
        if (n <= chunk || b.rank() < 1 || b.size(0) != n || (t.kind == Target<T>::Kind::per_example && int64_t(t.indices.size()) != n))
          return run({mdl, x, Baseline<T>::of(b), t, options}).values;
        ad::Tensor<T> out;
        for (int64_t start = 0; start < n; start += chunk) {
          const int64_t end = std::min(n, start + chunk);
          Target<T> ts = t;
          if (t.kind == Target<T>::Kind::per_example) ts.indices.assign(t.indices.begin() + start, t.indices.begin() + end);
          const ad::Tensor<T> xs = x.rows(start, end);
          const Baseline<T> bs = Baseline<T>::of(b.rows(start, end));
          const ad::Tensor<T> v = run({mdl, xs, bs, ts, options, start, n, true}).values;
          if (start == 0) out = ad::Tensor<T>(v.shape().with(0, n));
          std::copy(v.data(), v.data() + v.numel(), out.data() + start * v.shape().stride(0));
        }
        return out;
      };
      rows.push_back({spec.name, std::move(fn), spec.guarantees, {}, m.unit_seed, spec.conserves_without_bias});
    }
  }
  return rows;
}

#define INTEGRAD_INSTANTIATE(T)                                                                                                             \
  template Registry<Method<T>>& registry<T>();                                                                                              \
  template Attribution<T> explain<T>(const Method<T>&, const nn::Model<T>&, const ad::Tensor<T>&, const Baseline<T>&, const Target<T>&, \
                                     const Options&, int64_t, int64_t, const std::function<void(double)>&);                                 \
  template std::vector<NamedMethod<T>> matrix_methods<T>(const nn::Model<T>&, const std::map<std::string, std::string>&);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)
#undef INTEGRAD_INSTANTIATE

}  // namespace integrad::attr
