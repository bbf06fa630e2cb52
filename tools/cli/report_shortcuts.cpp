#include "report_shortcuts.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <algorithm>
#include <stdexcept>

#include "attribution/drawing/html.h"
#include "attribution/method.h"
#include "nn/model_file.h"
#include "nn/named_datasets.h"
#include "nn/synthetic_loan.h"
#include "nn/train.h"

namespace integrad::cli {
namespace {

using T = double;

nn::Dataset<T> split_of(const std::string& set, bool train, int64_t limit) { return nn::load_named<T>(nn::named_dataset(set), {.train = train, .limit = limit}); }

template <class Model>
void require_input(const Model& model, const std::string& path, const std::string& set) {
  if (model.input_shape != nn::named_dataset(set).input_shape)
    throw std::invalid_argument(fmt::format("{}: a model for {} takes {}; this one takes {}", path, set, nn::named_dataset(set).input_shape.str(),
                                            model.input_shape.str()));
}

// The relevance-mass metric (attribution/evaluation/relevance_mass.cpp: Σ max(a, 0) on the mask /
// Σ max(a, 0)), averaged over the examples; computed here because the metric reads its mask from
// a file, and files a command writes become visible only when it ends.
double mean_relevance_mass(const ad::Tensor<T>& a, const ad::Tensor<float>& mask) {
  const int64_t n = a.size(0), row = a.numel() / std::max<int64_t>(1, n);
  double mean = 0;
  for (int64_t i = 0; i < n; ++i) {
    double inside = 0, all = 0;
    for (int64_t k = i * row; k < (i + 1) * row; ++k) {
      const double positive = std::max(0.0, double(a[k]));
      all += positive;
      inside += positive * double(mask[k]);
    }
    mean += (all > 0 ? inside / all : 0.0) / double(n);
  }
  return mean;
}

}  // namespace

std::string watermark_section(const std::string& model_path, int steps) {
  fmt::print("report: watermark model\n");
  std::fflush(stdout);
  const nn::Model<T> model = nn::load_model<T>(model_path);
  require_input(model, model_path, "synthetic-watermark");
  const nn::Dataset<T> train = split_of("synthetic-watermark", true, 2000), test = split_of("synthetic-watermark", false, 2000);
  const double train_accuracy = nn::accuracy(model, train), test_accuracy = nn::accuracy(model, test);
  const ad::Tensor<T> x = test.inputs.rows(0, 100);
  const nn::NamedDataset& set = nn::named_dataset("synthetic-watermark");
  const nn::Dataset<float> shown = nn::load_named<float>(set, {.train = false, .limit = 100});
  const ad::Tensor<float> object = set.masks(shown), mark = set.shortcut_masks(shown);
  const attr::Method<T>& ig = attr::find_method<T>("ig");
  const ad::Tensor<T> a = attr::explain(ig, model, x, attr::Baseline<T>::zero(), attr::Target<T>::predicted(),
                                        attr::parse_options(ig.name, ig.options, {{"steps", std::to_string(steps)}})).values;
  double share = 0;
  for (float v : mark.span()) share += double(v) / double(mark.numel());
  return fmt::format(
      "<section id=\"watermark\"><h2>A shortcut: synthetic-watermark</h2><p>Model <code>{}</code>. The object (a square or a plus) decides the "
      "class; a corner watermark agrees with the label in the training split and is random in the test split (docs/datasets.md).</p>"
      "<table class=measured><tr><th>accuracy, training split</th><th>accuracy, test split</th><th>IG relevance mass on the watermark</th>"
      "<th>on the object</th><th>watermark's share of the pixels</th></tr><tr><td>{:.3f}</td><td>{:.3f}</td><td>{:.2f}</td><td>{:.2f}</td><td>{:.1f}%</td></tr>"
      "</table><p>On 2,000 examples of each split; relevance mass (the share of positive IG, {} steps, zero baseline, predicted class) on 100 "
      "test images. A model that learned the watermark scores near 50% on the test split and puts its mass on a few corner pixels.</p></section>",
      attr::html_escape(model_path), train_accuracy, test_accuracy, mean_relevance_mass(a, mark), mean_relevance_mass(a, object), 100 * share, steps);
}

std::string loan_section(const std::string& model_path) {
  fmt::print("report: loan model\n");
  std::fflush(stdout);
  const nn::Model<T> model = nn::load_model<T>(model_path);
  require_input(model, model_path, "synthetic-loan");
  const nn::Dataset<T> train = split_of("synthetic-loan", true, 3000), test = split_of("synthetic-loan", false, 300);
  const std::vector<std::string> names = nn::synthetic_loan_names();
  const int64_t f = int64_t(names.size()), n = test.size();
  // The baseline is the average applicant of the training split.
  ad::Tensor<T> mean(ad::Shape{f});
  for (int64_t i = 0; i < train.size(); ++i)
    for (int64_t j = 0; j < f; ++j) mean[j] += train.inputs[i * f + j] / double(train.size());
  const attr::Method<T>& shapley = attr::find_method<T>("shapley");
  const ad::Tensor<T> a = attr::explain(shapley, model, test.inputs, attr::Baseline<T>::of(mean), attr::Target<T>::of(1),
                                        attr::parse_options(shapley.name, shapley.options, {})).values;
  std::vector<double> mean_abs(size_t(f), 0.0);
  double total = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < f; ++j) {
      mean_abs[size_t(j)] += std::abs(a[i * f + j]) / double(n);
      total += std::abs(a[i * f + j]) / double(n);
    }
  // Every applicant moved to region 7 (mostly g = 0), then to region 2 (mostly g = 1).
  const int64_t zip = 3;
  auto approvals = [&](double region) {
    ad::Tensor<T> moved = test.inputs;
    for (int64_t i = 0; i < n; ++i) moved[i * f + zip] = region;
    const ad::Tensor<T> logits = model.predict(moved);
    std::vector<int64_t> out;
    const int64_t c = logits.numel() / n;
    for (int64_t i = 0; i < n; ++i) out.push_back(c == 1 ? (logits[i] > 0) : (logits[i * c + 1] > logits[i * c]));
    return out;
  };
  const auto north = approvals(7), south = approvals(2);
  double rate7 = 0, rate2 = 0, flips = 0;
  for (int64_t i = 0; i < n; ++i) {
    rate7 += double(north[size_t(i)]) / double(n);
    rate2 += double(south[size_t(i)]) / double(n);
    flips += double(north[size_t(i)] != south[size_t(i)]) / double(n);
  }
  std::string rows;
  for (int64_t j = 0; j < f; ++j)
    rows += fmt::format("<tr><td>{}</td><td>{:.1f}%</td></tr>", names[size_t(j)] == "zip_code" ? "<b>zip_code</b> (the proxy)" : names[size_t(j)],
                        total > 0 ? 100 * mean_abs[size_t(j)] / total : 0.0);
  return fmt::format(
      "<section id=\"loan\"><h2>A proxy: synthetic-loan</h2><p>Model <code>{}</code>, test accuracy {:.3f} on {} applicants. The history it learned "
      "from was biased against a protected attribute that is not a feature; zip_code agrees with it 90% of the time (docs/datasets.md). Exact "
      "Shapley values for the approval logit from the training mean:</p><table class=measured><tr><th>feature</th><th>share of the mean "
      "|Shapley value|</th></tr>{}</table><p>Every test applicant moved to region 7: <b>{:.1f}%</b> approved; to region 2: <b>{:.1f}%</b>; the "
      "zip code alone flips <b>{:.1f}%</b> of the decisions.</p></section>",
      attr::html_escape(model_path), nn::accuracy(model, test), n, rows, 100 * rate7, 100 * rate2, 100 * flips);
}

}  // namespace integrad::cli
