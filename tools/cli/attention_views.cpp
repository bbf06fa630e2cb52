#include "attention_views.h"

#include <fmt/format.h>

#include "attribution/drawing/attention_map.h"
#include "attribution/drawing/html.h"
#include "attribution/methods/attention.h"
#include "nn/atomic_file.h"

namespace integrad::cli {

template <ad::Scalar T>
std::vector<TokenScores<T>> side_by_side(const nn::Model<T>& model, const ad::Tensor<T>& inputs, const std::vector<int64_t>& targets,
                                         const std::string& first_name, const ad::Tensor<T>& first_scores) {
  std::vector<TokenScores<T>> rows{{attr::find_method<T>(first_name).display_name, first_scores}};
  const attr::Target<T> target = attr::Target<T>::each(targets);
  for (const char* name : {"ig", "attention", "rollout", "attention-x-gradient"}) {
    if (name == first_name) continue;
    const attr::Method<T>& m = attr::find_method<T>(name);
    std::map<std::string, std::string> given;
    if (m.name == "ig") given["layer"] = "0";
    const attr::Attribution<T> a = attr::explain(m, model, inputs, attr::Baseline<T>::zero(), target, attr::parse_options(m.name, m.options, given));
    rows.push_back({m.name == "ig" ? "Layer IG (embedding)" : m.display_name, a.token_values.numel() ? a.token_values : a.values});
  }
  return rows;
}

namespace {
template <ad::Scalar T>
std::vector<int64_t> tokens_of(const ad::Tensor<T>& inputs, int64_t i) {
  const int64_t len = inputs.shape().stride(0);
  std::vector<int64_t> t;
  for (int64_t k = 0; k < len; ++k) t.push_back(int64_t(inputs[i * len + k]));
  return t;
}
template <ad::Scalar T>
std::vector<attr::TokenRow> rows_of(const std::vector<TokenScores<T>>& rows, int64_t i) {
  std::vector<attr::TokenRow> out;
  for (const auto& r : rows) {
    const int64_t len = r.scores.size(1);
    std::vector<double> s;
    for (int64_t k = 0; k < len; ++k) s.push_back(double(r.scores[i * len + k]));
    out.push_back({r.method, std::move(s)});
  }
  return out;
}
}  // namespace

template <ad::Scalar T>
void print_side_by_side(const ad::Tensor<T>& inputs, const std::vector<TokenScores<T>>& rows) {
  for (int64_t i = 0; i < inputs.size(0); ++i) fmt::print("example {}:\n{}", i, attr::token_rows_ansi(tokens_of(inputs, i), rows_of(rows, i)));
}

template <ad::Scalar T>
std::string example_html(const nn::Model<T>& model, const ad::Tensor<T>& inputs, int64_t i, const std::vector<TokenScores<T>>& rows,
                         const ad::Tensor<T>& weights, const std::vector<bool>& marked) {
  (void)model;
  if (weights.numel() == 0) return attr::token_rows_html(tokens_of(inputs, i), rows_of(rows, i), marked);
  const int64_t layers = weights.size(1), heads = weights.size(2), t = weights.size(3), map = layers * heads * t * t;
  std::vector<double> w(static_cast<size_t>(map), 0.0);
  for (int64_t k = 0; k < map; ++k) w[size_t(k)] = double(weights[i * map + k]);
  return attr::token_rows_html(tokens_of(inputs, i), rows_of(rows, i), marked) + attr::attention_heatmaps_svg(w, layers, heads, tokens_of(inputs, i));
}

template <ad::Scalar T>
void write_side_by_side_html(const std::string& path, const nn::Model<T>& model, const ad::Tensor<T>& inputs, const std::vector<int64_t>& targets,
                             const std::vector<TokenScores<T>>& rows) {
  const ad::Tensor<T> weights = attr::attention_weights(model, inputs);
  std::string html = fmt::format(
      "<!doctype html><meta charset=utf-8><title>integrad token attributions</title><style>body{{font-family:sans-serif}}{}</style>"
      "<h1>Token attributions, method by method</h1><p>Red: pushes towards the target; blue: against it; each row scaled to its largest |score|. "
      "Under each example, the attention weights of every layer and head (rows: queries, columns: keys; white 0, dark red 1).</p>",
      attr::kTokenStyle);
  for (int64_t i = 0; i < inputs.size(0); ++i) {
    html += fmt::format("<h2>example {} (target {})</h2>", i, targets.empty() ? std::string("fn") : std::to_string(targets[size_t(i)]));
    html += example_html(model, inputs, i, rows, weights);
  }
  nn::write_file_atomically(path, html);
}

#define INTEGRAD_INSTANTIATE(T)                                                                                                                     \
  template std::vector<TokenScores<T>> side_by_side(const nn::Model<T>&, const ad::Tensor<T>&, const std::vector<int64_t>&, const std::string&, \
                                                    const ad::Tensor<T>&);                                                                          \
  template void print_side_by_side(const ad::Tensor<T>&, const std::vector<TokenScores<T>>&);                                                       \
  template std::string example_html(const nn::Model<T>&, const ad::Tensor<T>&, int64_t, const std::vector<TokenScores<T>>&, const ad::Tensor<T>&, \
                                    const std::vector<bool>&);                                                                                      \
  template void write_side_by_side_html(const std::string&, const nn::Model<T>&, const ad::Tensor<T>&, const std::vector<int64_t>&,           \
                                        const std::vector<TokenScores<T>>&);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)
#undef INTEGRAD_INSTANTIATE

}  // namespace integrad::cli
