#include "report_transformer.h"

#include <fmt/format.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "attention_views.h"
#include "attribution/drawing/html.h"
#include "attribution/method.h"
#include "attribution/methods/attention.h"
#include "attribution/metric.h"
#include "nn/model_file.h"
#include "nn/named_datasets.h"
#include "nn/npy.h"
#include "nn/output_guard.h"
#include "nn/synthetic_order.h"
#include "nn/train.h"
#include "scratch_npy.h"

namespace integrad::cli {

namespace {

using T = float;

struct Measured {
  std::string name;        // display name
  ad::Tensor<T> scores;    // [N, T] per token
  double mass = 0, pointing = 0, completeness_gap = 0;
};

// A registered method's per-token scores for fixed targets, with `given` options. Token occlusion
// and KernelSHAP are run past explain's token check on purpose: with the padding id 0 as the
// baseline, "set the token to the baseline" is replacing it by padding, which needs no gradient.
ad::Tensor<T> token_scores(const nn::Model<T>& model, const ad::Tensor<T>& x, const std::vector<int64_t>& targets, const std::string& name,
                           const std::map<std::string, std::string>& given) {
  const attr::Method<T>& m = attr::find_method<T>(name);
  const attr::Options o = attr::parse_options(m.name, m.options, given);
  const attr::Attribution<T> a = m.run({model, x, attr::Baseline<T>::zero(), attr::Target<T>::each(targets), o});
  return a.token_values.numel() ? a.token_values : a.values;
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / double(v.size());
}

// One section on a model of synthetic-order: a transformer (with its attention) or a recurrent net.
struct SequenceSection {
  const char* id;
  const char* title;
  const char* option;  // the report's option, for messages
  const char* arch;    // what `integrad train --arch` makes one
  bool attention;      // rows and maps of the attention weights
};

std::string sequence_section(const std::string& path, int steps, const SequenceSection& s) {
  fmt::print("report: {}\n", s.id);
  std::fflush(stdout);
  const nn::Model<T> model = nn::load_model<T>(path);
  if (s.attention) attr::attention_layers(model);  // refuses a model without attention
  const nn::NamedDataset& set = nn::named_dataset("synthetic-order");
  if (!(model.input_shape == set.input_shape) || model.input_dtype != nn::InputDtype::int64)
    throw std::invalid_argument(fmt::format("{} {}: expects inputs {}, but synthetic-order holds token sequences {} (train it with "
                                            "integrad train --arch {})", s.option, path, model.input_shape.str(), set.input_shape.str(), s.arch));
  const nn::Dataset<T> test = nn::load_named<T>(set, {.train = false, .limit = 2000});
  const double accuracy = nn::accuracy(model, test);

  // Measured on the first 32 test sequences, for the predicted class.
  const int64_t n = 32;
  const ad::Tensor<T> x = test.inputs.rows(0, n);
  const std::vector<int64_t> targets = ad::row_argmax(model.predict(x));
  const ad::Tensor<float> masks = nn::synthetic_order_masks(x);
  const ScratchNpy mask_file("report-token-masks", masks);
  const std::string& mask_path = mask_file.path();

  std::vector<Measured> rows;
  rows.push_back({"Layer IG (embedding)", token_scores(model, x, targets, "ig", {{"layer", "0"}, {"steps", std::to_string(steps)}})});
  if (s.attention) {
    rows.push_back({"Attention", token_scores(model, x, targets, "attention", {})});
    rows.push_back({"Attention rollout", token_scores(model, x, targets, "rollout", {})});
    rows.push_back({"Attention × gradient", token_scores(model, x, targets, "attention-x-gradient", {})});
  }
  rows.push_back({"Token occlusion", token_scores(model, x, targets, "ablation", {})});
  rows.push_back({"KernelSHAP (tokens)", token_scores(model, x, targets, "kernelshap", {{"samples", "256"}})});

  // F(x) − F(padding everywhere): what a complete method's scores add up to.
  const ad::Tensor<T> fx = model.predict(x), fb = model.predict(ad::Tensor<T>(x.shape()));
  const int64_t classes = fx.size(1), len = x.size(1);
  for (Measured& r : rows) {
    for (const char* metric : {"relevance-mass", "pointing-game"}) {
      const attr::Metric<T>& m = attr::find_metric<T>(metric);
      const attr::Options o = attr::parse_options(m.name, m.options, {{"mask", mask_path}});
      const attr::Baseline<T> zero = attr::Baseline<T>::zero();
      const attr::Target<T> target = attr::Target<T>::each(targets);
      const double v = mean_of(m.score(attr::MetricCall<T>{model, x, r.scores, zero, target, o}));
      (std::string(metric) == "relevance-mass" ? r.mass : r.pointing) = v;
    }
    std::vector<double> gaps;
    for (int64_t i = 0; i < n; ++i) {
      double s = 0;
      for (int64_t k = 0; k < len; ++k) s += double(r.scores[i * len + k]);
      const int64_t c = targets[size_t(i)];
      gaps.push_back(std::abs(s - (double(fx[i * classes + c]) - double(fb[i * classes + c]))));
    }
    r.completeness_gap = mean_of(gaps);
  }

  const double chance = 2.0 / double(len);
  std::string html = fmt::format(
      "<section id=\"{}\"><h2>{}</h2>"
      "<p>Task <code>synthetic-order</code>: a CLS token (id 1), then one A marker (id 2) and one B marker (id 3) among filler tokens; the class is "
      "whether A comes first. Both classes hold the same tokens, so a bag of embeddings is at chance; the two markers decide. Model: <code>{}</code>. "
      "Test accuracy <b>{:.4f}</b> on {} sequences.</p>",
      s.id, s.title, attr::html_escape(model.architecture()), accuracy, test.size());
  html += fmt::format("<h3>Measured on the decisive tokens</h3><p>On {} test sequences, for the predicted class; the mask marks the two markers "
                      "({} of {} tokens: chance is {:.3f} for both measures). Completeness gap: mean |Σ scores − (F(x) − F(padding))|.</p>"
                      "<table class=measured><tr><th>method</th><th>relevance mass ↑</th><th>pointing game ↑</th><th>completeness gap</th></tr>",
                      n, 2, len, chance);
  for (const Measured& r : rows)
    html += fmt::format("<tr><td>{}</td><td>{:.3f}</td><td>{:.3f}</td><td>{:.3g}</td></tr>", attr::html_escape(r.name), r.mass, r.pointing, r.completeness_gap);
  html += "</table><ul class=findings>";
  // A sentence per finding, from the numbers.
  auto best = [&](auto key) { return *std::max_element(rows.begin(), rows.end(), [&](const Measured& a, const Measured& b) { return key(a) < key(b); }); };
  auto worst = [&](auto key) { return *std::min_element(rows.begin(), rows.end(), [&](const Measured& a, const Measured& b) { return key(a) < key(b); }); };
  const Measured bm = best([](const Measured& r) { return r.mass; }), wm = worst([](const Measured& r) { return r.mass; });
  const Measured bp = best([](const Measured& r) { return r.pointing; }), wp = worst([](const Measured& r) { return r.pointing; });
  html += fmt::format("<li>{} puts the largest share of its positive score on the two markers ({:.2f}, {:.1f}× chance); {} the smallest ({:.2f}).</li>",
                      bm.name, bm.mass, bm.mass / chance, wm.name, wm.mass);
  if (bp.pointing == wp.pointing)
    html += fmt::format("<li>Every method points at a marker in {:.0f}% of sequences.</li>", 100 * bp.pointing);
  else
    html += fmt::format("<li>{} points at a marker most often ({:.0f}% of sequences); {} least often ({:.0f}%).</li>", bp.name, 100 * bp.pointing,
                        wp.name, 100 * wp.pointing);
  const Measured& ig = rows[0];
  if (s.attention) {
    const Measured& att = rows[1];
    html += fmt::format("<li>Attention {} layer IG at finding the markers (relevance mass {:.2f} against {:.2f}; pointing game {:.2f} against {:.2f}).</li>",
                        att.mass > ig.mass && att.pointing >= ig.pointing ? "beats" : att.mass < ig.mass && att.pointing <= ig.pointing ? "trails" : "is level with",
                        att.mass, ig.mass, att.pointing, ig.pointing);
    html += fmt::format("<li>Completeness: layer IG's token scores add up to F(x) − F(padding) within {:.2g} on average; attention's and rollout's rows "
                        "sum to 1 whatever the logit, missing by {:.2g} and {:.2g}, and attention × gradient by {:.2g}.</li>",
                        ig.completeness_gap, att.completeness_gap, rows[2].completeness_gap, rows[3].completeness_gap);
  } else {
    html += fmt::format("<li>Completeness: layer IG's token scores add up to F(x) − F(padding) within {:.2g} on average; ", ig.completeness_gap);
    for (size_t k = 1; k < rows.size(); ++k) html += fmt::format("{}'s miss by {:.2g}{}", rows[k].name, rows[k].completeness_gap, k + 1 < rows.size() ? "; " : ".</li>");
  }
  html += "</ul>";

  // Four examples side by side, decisive tokens underlined, with the attention maps.
  const int64_t shown = 4;
  const ad::Tensor<T> xs = x.rows(0, shown);
  const ad::Tensor<T> weights = s.attention ? attr::attention_weights(model, xs) : ad::Tensor<T>();
  std::vector<TokenScores<T>> views;
  for (const Measured& r : rows) views.push_back({r.name, r.scores.rows(0, shown)});
  html += fmt::format("<h3>Tokens coloured by each method</h3><p>Red supports the predicted class, blue opposes it; each row scaled to its largest "
                      "|score|; the decisive markers (2 and 3) underlined.{}</p>",
                      s.attention ? " Under each example, the attention weights of every layer and head." : "");
  for (int64_t i = 0; i < shown; ++i) {
    std::vector<bool> marked;
    for (int64_t k = 0; k < len; ++k) marked.push_back(masks[i * len + k] == 1.0f);
    html += fmt::format("<h4>sequence {}: true class {}, predicted {}</h4>", i, test.labels[size_t(i)], targets[size_t(i)]);
    html += example_html(model, xs, i, views, weights, marked);
  }
  return html + "</section>";
}

}  // namespace

std::string transformer_section(const std::string& path, int steps) {
  return sequence_section(path, steps, {"transformer", "A transformer: attention next to attribution", "--transformer-model", "transformer", true});
}

std::string recurrent_section(const std::string& path, int steps) {
  return sequence_section(path, steps, {"recurrent", "A recurrent net: which tokens its last step depends on", "--recurrent-model", "lstm", false});
}

}  // namespace integrad::cli
