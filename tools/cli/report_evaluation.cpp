#include "report_evaluation.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "attribution/drawing/curve_plot.h"
#include "attribution/drawing/html.h"
#include "attribution/evaluation/method_table.h"
#include "attribution/evaluation/sanity.h"
#include "nn/model_file.h"
#include "nn/named_datasets.h"
#include "nn/npy.h"
#include "scratch_npy.h"

namespace integrad::cli {
namespace {

using attr::html_escape;

// Few images and cheap settings: the whole section adds a few seconds to the report.
const std::vector<std::string> kMethods = {"ig", "gradient", "gradxinput", "saliency", "smoothgrad"};
const std::vector<std::string> kMetrics = {"deletion", "insertion", "faithfulness-correlation", "infidelity", "sparseness", "randomisation"};
const std::vector<std::string> kLocalisation = {"relevance-mass", "pointing-game"};

template <ad::Scalar T>
int column(const attr::MethodTable<T>& t, const std::string& metric) {
  for (size_t j = 0; j < t.metrics.size(); ++j)
    if (t.metrics[j]->name == metric) return int(j);
  return -1;
}

template <ad::Scalar T>
double mean_of(const attr::MethodTable<T>& t, size_t row, int col) {
  return attr::summarise(t.rows[row].scores[size_t(col)]).mean;
}

// The row with the best (or worst) finite mean of a column, by the metric's direction; -1 if none.
template <ad::Scalar T>
int ranked(const attr::MethodTable<T>& t, int col, bool best) {
  int pick = -1;
  const bool higher = t.metrics[size_t(col)]->higher_is_better == best;
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const double m = mean_of(t, i, col);
    if (std::isfinite(m) && (pick < 0 || (higher ? m > mean_of(t, size_t(pick), col) : m < mean_of(t, size_t(pick), col)))) pick = int(i);
  }
  return pick;
}

// ", as are X and Y" for the rows whose mean is within a standard error (the larger of the two) of
// the best row's: a lead that small is not a finding.
template <ad::Scalar T>
std::string close_to(const attr::MethodTable<T>& t, int best, int col) {
  const attr::ScoreSummary b = attr::summarise(t.rows[size_t(best)].scores[size_t(col)]);
  std::vector<std::string> close;
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const attr::ScoreSummary s = attr::summarise(t.rows[i].scores[size_t(col)]);
    if (int(i) != best && std::abs(s.mean - b.mean) <= std::max(s.standard_error, b.standard_error)) close.push_back(html_escape(t.rows[i].method));
  }
  if (close.empty()) return "";
  std::string names = close.back();
  if (close.size() > 1) names = fmt::format("{} and {}", fmt::join(close.begin(), close.end() - 1, ", "), close.back());
  return fmt::format(", though {} {} within a standard error of it", names, close.size() > 1 ? "are" : "is");
}

template <ad::Scalar T>
std::string table_html(const attr::MethodTable<T>& t) {
  std::string html = "<table><tr><th>method</th>";
  for (const auto* m : t.metrics) html += fmt::format("<th>{} {}</th>", html_escape(m->name), m->higher_is_better ? "↑" : "↓");
  html += "</tr>";
  for (size_t i = 0; i < t.rows.size(); ++i) {
    html += fmt::format("<tr><td>{}</td>", html_escape(t.rows[i].method));
    for (size_t j = 0; j < t.metrics.size(); ++j) {
      const attr::ScoreSummary s = attr::summarise(t.rows[i].scores[j]);
      const std::string cell = fmt::format("{:.3g} ± {:.2g}", s.mean, s.standard_error);
      html += t.is_best(i, j) ? fmt::format("<td><b>{}</b></td>", cell) : fmt::format("<td>{}</td>", cell);
    }
    html += "</tr>";
  }
  return html + "</table>";
}

// One sentence per finding, from the numbers.
template <ad::Scalar T>
std::string findings(const attr::MethodTable<T>& t) {
  std::vector<std::string> out;
  const auto name = [&](int row) { return "<b>" + html_escape(t.rows[size_t(row)].method) + "</b>"; };
  const int del = column(t, "deletion"), ins = column(t, "insertion"), fc = column(t, "faithfulness-correlation"), rnd = column(t, "randomisation"),
            sp = column(t, "sparseness"), rm = column(t, "relevance-mass"), pg = column(t, "pointing-game");
  if (del >= 0 && ins >= 0) {
    const int d = ranked(t, del, true), i = ranked(t, ins, true);
    if (d >= 0 && i >= 0)
      out.push_back(fmt::format("Removing the top-ranked pixels first lowers the class probability fastest with {} (deletion area {:.3f}{}); putting "
                                "them back first raises it fastest with {} (insertion area {:.3f}{}){}.",
                                name(d), mean_of(t, size_t(d), del), close_to(t, d, del), name(i), mean_of(t, size_t(i), ins), close_to(t, i, ins),
                                d == i ? ": the two faithfulness curves agree" : ": the two curves do not crown the same method"));
  }
  if (fc >= 0) {
    const int b = ranked(t, fc, true), w = ranked(t, fc, false);
    if (b >= 0 && w >= 0)
      out.push_back(fmt::format("Over random pixel subsets, the attribution sum tracks the output drop best for {} (Pearson r = {:.2f}{}) and worst for {} "
                                "(r = {:.2f}).",
                                name(b), mean_of(t, size_t(b), fc), close_to(t, b, fc), name(w), mean_of(t, size_t(w), fc)));
  }
  if (rnd >= 0) {
    const int b = ranked(t, rnd, true), w = ranked(t, rnd, false);
    if (b >= 0 && w >= 0) {
      const double worst = mean_of(t, size_t(w), rnd);
      out.push_back(fmt::format("Re-initialising every layer changes {}'s map the most (rank correlation {:.2f} with the trained model's) and {}'s the least "
                                "({:.2f}){}.",
                                name(b), mean_of(t, size_t(b), rnd), name(w), worst,
                                worst > 0.5 ? ", so much of that map comes from the input rather than from what the model learned" : ""));
    }
  }
  if (sp >= 0) {
    const int b = ranked(t, sp, true);
    if (b >= 0) out.push_back(fmt::format("The sparsest maps (Gini index {:.2f}) come from {}.", mean_of(t, size_t(b), sp), name(b)));
  }
  if (rm >= 0) {
    const int b = ranked(t, rm, true);
    if (b >= 0) {
      std::string s = fmt::format("On the patch images, {} puts the largest share of its positive attribution on the patch that decides the label "
                                  "(relevance mass {:.2f}{})",
                                  name(b), mean_of(t, size_t(b), rm), close_to(t, b, rm));
      if (pg >= 0) {  // the hit rate of the best, and how many methods share it
        const int p = ranked(t, pg, true);
        const double hits = mean_of(t, size_t(p), pg);
        size_t sharing = 0;
        for (size_t i = 0; i < t.rows.size(); ++i) sharing += mean_of(t, i, pg) == hits;
        s += sharing == t.rows.size() ? fmt::format("; every method's largest attribution falls on the patch in {:.0f}% of the images", 100 * hits)
                                      : fmt::format("; {}'s largest attribution falls on the patch in {:.0f}% of the images{}", name(p), 100 * hits,
                                                    sharing > 1 ? fmt::format(" ({} methods do as well)", sharing) : "");
      }
      out.push_back(s + ".");
    }
    if (del >= 0 && t.rows.size() >= 3) {  // does localisation rank the methods as faithfulness does?
      std::vector<double> by_mass, by_deletion;
      for (size_t i = 0; i < t.rows.size(); ++i) by_mass.push_back(mean_of(t, i, rm)), by_deletion.push_back(-mean_of(t, i, del));
      const double rho = attr::spearman(by_mass, by_deletion);
      out.push_back(fmt::format("Ranked by relevance mass and by deletion, the {} methods {} (Spearman ρ = {:.2f}){}.", t.rows.size(),
                                rho > 0.7 ? "come out in much the same order" : rho > 0.2 ? "agree only in part" : "come out in a different order", rho,
                                rho > 0.7 ? "" : ": a map can sit on the object without being the one the model's output follows, or the reverse"));
    }
  }
  std::string html = "<ul>";
  for (const std::string& s : out) html += "<li>" + s + "</li>";
  return html + "</ul>";
}

template <ad::Scalar T>
std::string curves_html(const attr::MethodTable<T>& t) {
  return attr::perturbation_curve_svg(t.rows, attr::CurveKind::deletion) + attr::perturbation_curve_svg(t.rows, attr::CurveKind::insertion);
}


}  // namespace

template <ad::Scalar T>
std::string evaluation_section(const nn::Model<T>& model, const ad::Tensor<T>& x, const std::string& data_name, const std::string& patches_model) {
  const attr::Baseline<T> zero = attr::Baseline<T>::zero();
  const attr::Target<T> predicted = attr::Target<T>::predicted();
  fmt::print("report: methods × metrics on {} test images\n", x.size(0));
  std::fflush(stdout);
  const attr::MethodTable<T> table = attr::method_table(model, x, zero, predicted, kMethods, kMetrics, {});
  std::string html = fmt::format(
      "<section id=\"evaluation\"><h2>Is the map faithful? Methods × metrics</h2><p>Each method with its default options on {} {} test images, "
      "the predicted class, baseline 0; mean ± standard error over the images, the best of each column in bold (↑ higher, ↓ lower is better). "
      "<code>integrad evaluate --methods … --metrics …</code> makes the same table; docs/evaluation.md says what each metric measures and what it "
      "cannot tell.</p>",
      x.size(0), html_escape(data_name));
  html += table_html(table) + findings(table) + curves_html(table);
  if (!patches_model.empty()) {
    fmt::print("report: methods × metrics on synthetic-patches, with ground truth\n");
    std::fflush(stdout);
    const nn::Model<T> patches = nn::load_model<T>(patches_model);
    const nn::NamedDataset& set = nn::named_dataset("synthetic-patches");
    const nn::Dataset<T> data = nn::load_named<T>(set, {.train = false, .limit = 6});
    const nn::Dataset<float> data_float = nn::load_named<float>(set, {.train = false, .limit = 6});
    const ScratchNpy mask("report-masks", set.masks(data_float));
    std::vector<std::string> metrics = kMetrics;
    metrics.insert(metrics.end(), kLocalisation.begin(), kLocalisation.end());
    const attr::MethodTable<T> t = attr::method_table(patches, data.inputs, zero, predicted, kMethods, metrics, {{"mask", mask.path()}});
    const ad::Tensor<T> logits = patches.predict(data.inputs);
    int64_t correct = 0;
    for (int64_t i = 0; i < data.size(); ++i) {
      const T* row = logits.data() + i * logits.size(1);
      correct += int64_t(std::max_element(row, row + logits.size(1)) - row) == data.labels[size_t(i)];
    }
    html += fmt::format("<h3>With ground truth: synthetic-patches</h3><p>A CNN trained on synthetic-patches (<code>{}</code>, {} of these {} test images "
                        "right), where the label is decided by one bright patch: its mask is the ground truth for relevance mass and the pointing game.</p>",
                        html_escape(patches_model), correct, data.size());
    html += table_html(t) + findings(t) + curves_html(t);
  }
  return html + "</section>";
}

template std::string evaluation_section<float>(const nn::Model<float>&, const ad::Tensor<float>&, const std::string&, const std::string&);

}  // namespace integrad::cli
