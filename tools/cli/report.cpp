// integrad report: one self-contained HTML page about a model — summary and accuracy, training
// curve, test images explained by every method, the axiom matrix (the model's and the paper's),
// the convergence study, the sanity checks, and optionally a text model's tokens. PNGs are data
// URIs and plots inline SVG: no network, no JavaScript.
#include <fmt/format.h>

#include <tuple>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "attribution/drawing/axiom_table.h"
#include "attribution/drawing/convergence_plot.h"
#include "attribution/drawing/heatmap.h"
#include "attribution/drawing/html.h"
#include "attribution/drawing/sanity_plot.h"
#include "attribution/drawing/svg_plot.h"
#include "attribution/evaluation/axiom_matrix.h"
#include "attribution/evaluation/convergence.h"
#include "attribution/evaluation/homogeneous.h"
#include "attribution/evaluation/paper_models.h"
#include "attribution/evaluation/sanity.h"
#include "attribution/method.h"
#include "attribution/methods/layer_ig.h"
#include "command.h"
#include "report_tabular.h"
#include "common.h"
#include "several_inputs.h"
#include "nn/atomic_file.h"
#include "nn/named_datasets.h"
#include "nn/printable.h"
#include "nn/output_guard.h"
#include "nn/train.h"
#include "png.h"
#include "report_evaluation.h"
#include "report_shortcuts.h"
#include "report_transformer.h"
#include "nn/named_datasets.h"

namespace integrad::cli {
namespace {

struct ReportArgs {
  std::string model, output = "report.html", text_model;
  std::string tabular_model, transformer_model, recurrent_model, graph_model, watermark_model, loan_model;
  DataOptions data;
  int images = 6, steps = 50;
  std::string patches_model;
};

using attr::html_escape;

std::string img(const attr::Image& image, const std::string& alt) {
  return fmt::format("<img alt=\"{}\" src=\"data:image/png;base64,{}\">", html_escape(alt), attr::base64(png_bytes(image)));
}

void progress(const std::string& what) {
  fmt::print("report: {}\n", what);
  std::fflush(stdout);
}

// The overlay of one image's attribution (summed over channels) on the image.
attr::Image overlay_of(const ad::Tensor<float>& x, const ad::Tensor<float>& a, int64_t i, bool is_signed) {
  // The map's own channels: Grad-CAM's one channel beside an RGB input's three.
  const int64_t c = x.size(1), ca = a.size(1), h = x.size(2), w = x.size(3), hw = h * w;
  std::vector<double> heat(static_cast<size_t>(hw)), gray(static_cast<size_t>(hw));
  for (int64_t k = 0; k < c; ++k)
    for (int64_t p = 0; p < hw; ++p) gray[size_t(p)] += x[(i * c + k) * hw + p] / double(c);
  for (int64_t k = 0; k < ca; ++k)
    for (int64_t p = 0; p < hw; ++p) heat[size_t(p)] += a[(i * ca + k) * hw + p];
  const double vmax = attr::cumulative_sum_threshold(heat);
  return attr::with_colour_bar(attr::overlay(gray, heat, int(h), int(w), is_signed, vmax, 4), is_signed, vmax);
}

// The curve train writes into the model's metadata: [{epoch, loss, train_accuracy, val_accuracy}].
std::string training_curve(const std::string& path, const std::map<std::string, std::string>& meta) {
  if (!meta.count("training_curve")) return "<p>The model file carries no training curve.</p>";
  const auto bad = [&](const std::string& why) { return std::invalid_argument(fmt::format("{}: metadata field training_curve {}", path, why)); };
  const auto curve = nlohmann::json::parse(meta.at("training_curve"), nullptr, false);
  if (!curve.is_array()) throw bad("is not a JSON array");
  attr::Series loss{"training loss", {}}, train{"training accuracy", {}}, val{"test accuracy", {}};
  for (const auto& e : curve) {
    const auto number = [&](const char* key) {
      if (!e.is_object() || !e.contains(key) || !e.at(key).is_number()) throw bad(fmt::format("has an entry without a number '{}'", key));
      return e.at(key).get<double>();
    };
    const double epoch = number("epoch");
    loss.points.emplace_back(epoch, number("loss"));
    train.points.emplace_back(epoch, number("train_accuracy"));
    if (number("val_accuracy") >= 0) val.points.emplace_back(epoch, number("val_accuracy"));
  }
  return attr::line_plot({loss, train, val}, "training curve", "epoch", "loss / accuracy", false, false);
}

std::string page_head(const std::string& model_path) {
  std::string html = R"(<!doctype html><html lang="en"><head><meta charset="utf-8"><title>integrad report</title><style>
body{font-family:system-ui,sans-serif;max-width:1100px;margin:1em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px;text-align:left}
th{background:#f3f3f3}.fail{background:#fde0dc}.pass{background:#e3f4e1}.na{color:#999}
.grid img{width:150px;display:block}.grid td{text-align:center;font-size:11px}
section{page-break-inside:avoid;margin-bottom:2em}code{background:#f5f5f5;padding:1px 3px}
)";
  html += attr::kTokenStyle;
  html += "\n@media print{body{max-width:none}}</style></head><body>";
  return html + fmt::format("<h1>integrad report</h1><p>Model <code>{}</code>.</p>", html_escape(model_path));
}

// The layers, with a graph's names (what --layer takes) and what each reads where it is not the
// layer before.
template <ad::Scalar T>
std::string layers_table(const nn::Model<T>& model) {
  const bool graph = !model.is_chain();
  std::string html = fmt::format("<table><tr><th>#</th>{}<th>layer</th><th>output</th><th>parameters</th>{}</tr>", graph ? "<th>name</th>" : "",
                                 graph ? "<th>reads</th>" : "");
  const std::vector<ad::Shape> shapes = model.output_shapes();
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const int64_t count = nn::trained_parameter_count(*model.layers[i]);
    std::string reads;
    const std::vector<int> from = model.node_inputs(i);
    if (graph && from != std::vector<int>{static_cast<int>(i) - 1})
      for (int r : from) reads += (reads.empty() ? "" : ", ") + (r < 0 ? std::string("input") : model.node_name(size_t(r)));
    html += fmt::format("<tr><td>{}</td>{}<td><code>{}</code></td><td>{}</td><td>{}</td>{}</tr>", i,
                        graph ? "<td><code>" + html_escape(model.node_name(i)) + "</code></td>" : "", html_escape(model.layers[i]->architecture()),
                        shapes[i].str(), count, graph ? "<td>" + html_escape(reads) + "</td>" : "");
  }
  return html + "</table>";
}

template <ad::Scalar T>
std::string model_section(const ReportArgs& a, const nn::Model<T>& model, const nn::Dataset<T>& test) {
  const double acc = nn::accuracy(model, test);
  std::string html = "<section id=\"model\"><h2>Model</h2>" + layers_table(model);
  html += fmt::format("<p>{} parameters. Test accuracy <b>{:.2f}%</b> on {} test examples.</p>", model.parameter_count(), 100 * acc, test.size());
  return html + "<h3>Training curve</h3>" + training_curve(a.model, nn::model_metadata(a.model)) + "</section>";
}

// Every registered method that draws a picture (not the axiom matrix's contrasts), with the
// report's settings: its IG steps, 25 samples of σ = 0.1 for the noisy ones, and occlusion's
// window of 1 (each scalar alone, as its row of the axiom matrix has it; it is in the tables only
// for inputs of at most 256 features, e.g. 8x8 digits, and has no default window, so a report of
// such a model stopped with "occlusion needs --window", an option the report does not take).
template <ad::Scalar T>
std::vector<std::pair<const attr::Method<T>*, attr::Attribution<T>>> explained_by_every_method(const ReportArgs& a, const nn::Model<T>& model,
                                                                                              const ad::Tensor<T>& x, const attr::Target<T>& target) {
  const std::map<std::string, std::string> settings = {{"steps", std::to_string(a.steps)}, {"samples", "25"}, {"stdev", "0.1"}, {"window", "1"}};
  std::vector<std::pair<const attr::Method<T>*, attr::Attribution<T>>> columns;
  for (const attr::Method<T>& m : attr::registry<T>()) {
    if (m.contrast || (m.in_tables && !m.in_tables(model))) continue;
    // 25 samples are the noisy methods' (those with a --stdev); the sampling methods (LIME,
    // KernelSHAP, shapley-sampling) keep their defaults, which fit their coalitions' coefficients.
    std::map<std::string, std::string> mine = settings;
    if (std::none_of(m.options.begin(), m.options.end(), [](const attr::OptionSpec& o) { return o.name == "stdev"; })) mine.erase("samples");
    const attr::Options options = attr::parse_options(m.name, m.options, {}, mine);
    columns.emplace_back(&m, attr::explain(m, model, x, attr::Baseline<T>::zero(), target, options));
  }
  return columns;
}

template <ad::Scalar T>
std::string attributions_section(const ReportArgs& a, const nn::Model<T>& model, const nn::Dataset<T>& test, const ad::Tensor<T>& x,
                                 const std::string& id = "attributions", const std::string& title = "Test images explained") {
  progress(fmt::format("explaining {} test images with every method", x.size(0)));
  const std::vector<int64_t> targets = attr::resolve_targets(attr::forward_of(model), x, attr::Target<T>::predicted());
  const auto columns = explained_by_every_method(a, model, x, attr::Target<T>::each(targets));
  const attr::Attribution<T>& ig = std::find_if(columns.begin(), columns.end(), [](const auto& c) { return c.first->name == "ig"; })->second;
  std::string html = fmt::format("<section id=\"{}\"><h2>{}</h2><p>Overlays: red raises the target's logit, blue lowers it "
                                 "(saliency: darker is larger |gradient|); colours saturate at Captum's 2% outlier threshold. Baseline: the black image; "
                                 "IG: {} Gauss-Legendre steps.</p><table class=\"grid\"><tr><th>input</th>",
                                 id, html_escape(title), a.steps);
  for (const auto& [method, values] : columns) html += "<th>" + html_escape(method->display_name) + "</th>";
  html += "<th>target, F(x), F(x′), delta</th></tr>";
  for (int64_t i = 0; i < x.size(0); ++i) {
    const size_t ui = size_t(i);
    const std::string label = size_t(targets[ui]) < test.class_names.size() ? test.class_names[size_t(targets[ui])] : std::to_string(targets[ui]);
    html += "<tr><td>" + img(overlay_of(x, ad::Tensor<T>(x.shape()), i, true), "input") + "</td>";
    for (const auto& [method, values] : columns) html += "<td>" + img(overlay_of(x, values.values, i, values.is_signed), method->display_name) + "</td>";
    html += fmt::format("<td>{} ({})<br>F(x) = {:.3f}<br>F(x′) = {:.3f}<br>delta = {:.2e}<br>true: {}</td></tr>", html_escape(label), targets[ui],
                        ig.f_input[ui], ig.f_baseline[ui], ig.deltas[ui], test.labels[ui]);
  }
  return html + "</table></section>";
}

// The gallery: the maps courses show beside IG, on the same few images — Grad-CAM and Guided
// Grad-CAM at the last convolution, LRP with each of Zennit's composites, Blur IG and Guided IG at
// modest steps (the report is run by CI on a time budget).
template <ad::Scalar T>
std::string gallery_section(const nn::Model<T>& model, const ad::Tensor<T>& x, const std::string& id, const std::string& title) {
  struct Entry {
    std::string method, label;
    std::map<std::string, std::string> options;
  };
  std::vector<Entry> entries = {{"gradcam", "Grad-CAM", {}}, {"guided-gradcam", "Guided Grad-CAM", {}}};
  for (const char* composite : {"epsilon", "epsilon-plus", "epsilon-plus-flat", "epsilon-gamma-box", "epsilon-alpha2-beta1"})
    entries.push_back({"lrp", fmt::format("LRP {}", composite), {{"composite", composite}}});
  entries.push_back({"blur-ig", "Blur IG", {{"steps", "32"}}});
  entries.push_back({"guided-ig", "Guided IG", {{"steps", "32"}}});
  progress(fmt::format("gallery: {} maps of {} images", entries.size(), x.size(0)));
  const std::vector<int64_t> targets = attr::resolve_targets(attr::forward_of(model), x, attr::Target<T>::predicted());
  std::string head = "<tr><th>input</th>", skipped;
  std::vector<std::pair<std::string, attr::Attribution<T>>> maps;
  for (const Entry& e : entries) {
    const attr::Method<T>& m = attr::find_method<T>(e.method);
    // A method that cannot run on this model (Grad-CAM without a convolution) is named, not drawn.
    if (m.in_tables && !m.in_tables(model)) {
      skipped += (skipped.empty() ? "" : ", ") + e.label;
      continue;
    }
    const attr::Options options = attr::parse_options(m.name, m.options, {}, e.options);
    maps.emplace_back(e.label, attr::explain(m, model, x, attr::Baseline<T>::zero(), attr::Target<T>::each(targets), options));
    head += "<th>" + html_escape(e.label) + "</th>";
  }
  std::string html = fmt::format("<section id=\"{}\"><h2>{}</h2><p>The maps courses teach beside IG, on the same {} test images for the predicted class: "
                                 "Grad-CAM and Guided Grad-CAM at the last convolution, LRP with each of Zennit's composites, Blur IG and Guided IG "
                                 "(32 steps each). Colours as above.{}</p><table class=\"grid\">{}</tr>",
                                 id, html_escape(title), x.size(0), skipped.empty() ? "" : " Not applicable to this model: " + html_escape(skipped) + ".", head);
  for (int64_t i = 0; i < x.size(0); ++i) {
    html += "<tr><td>" + img(overlay_of(x, ad::Tensor<T>(x.shape()), i, true), "input") + "</td>";
    for (const auto& [label, a] : maps) html += "<td>" + img(overlay_of(x, a.values, i, a.is_signed), label) + "</td>";
    html += "</tr>";
  }
  return html + "</table></section>";
}

template <ad::Scalar T>
std::string axioms_section(const ReportArgs& a, const nn::Model<T>& model, const ad::Tensor<T>& xm) {
  progress("axiom matrix of the model");
  const std::map<std::string, std::string> steps = {{"steps", std::to_string(a.steps)}};
  const auto rows = attr::axiom_matrix(model, attr::matrix_methods(model, steps), xm, ad::Tensor<T>(xm.shape()), {});
  std::string html = fmt::format("<section id=\"axioms\"><h2>Axiom matrix</h2><p>On {} test images, baseline 0. Each cell: pass/fail and the measured figure "
                                 "(hover for what it measures). Completeness is held to 5% of max(|F(x) − F(x′)|, "
                                 "0.1·max(|F(x)|, |F(x′)|)), equalities (dummy included) to 1e-6 of the largest |A|; n/a: the check needs structure this "
                                 "model lacks (e.g. a first Linear layer), or the method was left out (the row says why).</p>{}",
                                 xm.size(0), attr::matrix_html(rows));
  // Conservation holds by theory only where no bias absorbs relevance: the same weights without
  // their biases are a network where LRP-ε, IG, DeepLift and gradient × input must pass it.
  if (const auto bare = attr::without_biases(model)) {
    progress("axiom matrix of the model without its biases");
    html += "<h3>The same model without its biases</h3><p>Every Linear and Conv2d bias removed (another function, the same weights), "
            "baseline 0. A bias-free ReLU network is positively homogeneous, F(αx) = α·F(x): F(0) = 0 and F(x) = x·∇F(x), so "
            "gradient × input, DeepLift from the zero reference, LRP-ε and IG with rules that evaluate beyond α = 0 share out "
            "exactly F(x) (LRP: its relevance 1), and must pass conservation here — which the biased model above fails.</p>" +
            attr::matrix_html(attr::axiom_matrix(*bare, attr::matrix_methods(*bare, steps), xm, ad::Tensor<T>(xm.shape()), {}));
  }
  progress("axiom matrix of the paper's examples");
  const auto f = attr::paper_appendix_b_f();
  attr::Twins<double> twin_g;
  twin_g.emplace_back("g", attr::paper_appendix_b_g());
  const ad::Tensor<double> px(ad::Shape{1, 2}, std::vector<double>{3, 1});
  html += "<h3>The paper's Appendix-B pair</h3><p>f(x) = ReLU(ReLU(x₁) − 1 − ReLU(x₂)) with its twin g(x) = ReLU(ReLU(x₁ − 1) − ReLU(x₂)) at x = (3, 1), "
          "baseline 0: IG gives (1.5, −0.5) on both; DeepLift tells the equal functions apart (implementation invariance fails).</p>" +
          attr::matrix_html(attr::axiom_matrix(f, attr::matrix_methods(f, steps), px, ad::Tensor<double>(px.shape()), twin_g));
  return html + "</section>";
}

template <ad::Scalar T>
std::string convergence_section(const nn::Model<T>& model, const ad::Tensor<T>& x1) {
  progress("convergence study");
  const auto study = attr::convergence_study(model, x1, ad::Tensor<T>(x1.shape()), 256);
  return "<section id=\"convergence\"><h2>Convergence of the quadrature rules</h2>" + attr::convergence_svg(study) + "<pre>" +
         html_escape(attr::convergence_table(study)) + "</pre></section>";
}

// The sanity checks compare methods that should notice randomised weights (gradients, IG) with
// ones known not to (Guided Backprop, Guided Grad-CAM), at 16 IG steps: each method costs a run per layer.
template <ad::Scalar T>
std::string sanity_section(const nn::Model<T>& model, const ad::Tensor<T>& xm, const std::string& id = "sanity",
                           const std::string& title = "Sanity checks (Adebayo et al. 2018)") {
  progress(id == "sanity" ? "sanity checks" : "sanity checks of the graph model");
  // Grad-CAM beside Guided Grad-CAM (issue 26): the guided backprop factor hardly depends on the
  // weights, so Guided Grad-CAM keeps more of its rank correlation than Grad-CAM (on image models).
  const std::set<std::string> shown = {"gradient", "gradxinput", "ig_gausslegendre", "guided_backprop", "gradcam", "guided-gradcam"};
  std::vector<attr::NamedMethod<T>> methods;
  for (auto& m : attr::matrix_methods(model, {{"steps", "16"}}))
    if (shown.count(m.name)) methods.push_back(m);
  const auto sanity = attr::sanity_checks(model, methods, xm, ad::Tensor<T>(xm.shape()));
  return "<section id=\"" + id + "\"><h2>" + html_escape(title) + "</h2><p>Layers re-initialised from the top down; a method that "
         "explains the model loses its rank correlation with the trained model's attributions (Spearman of |A|, per image, averaged over "
         "the " + std::to_string(xm.size(0)) + " images; an image whose trained map is constant — Grad-CAM clipped to 0 — is left out, "
         "and a method with none left is not drawn). Guided Backprop is known to keep much of its correlation, Grad-CAM (at the last "
         "layer with an image larger than 1x1) not. Adebayo et al. report Guided Grad-CAM surviving with Guided Backprop; on integrad's "
         "small models it falls with Grad-CAM instead, because the clipped Grad-CAM factor, re-drawn at random, decides where the "
         "product is 0 (docs/axioms.md, Sanity checks).</p>" +
         attr::sanity_svg(sanity, "cascading") + attr::sanity_svg(sanity, "independent") + "</section>";
}

template <ad::Scalar T>
std::string text_section(const ReportArgs& a) {
  progress("text model");
  const nn::Model<T> text = nn::load_model<T>(a.text_model);
  DataOptions td;
  td.data = "synthetic-tokens";
  td.limit = 6;
  const nn::Dataset<T> seqs = load_data<T>(td, false);
  attr::IgOptions<T> o;
  o.steps = a.steps;
  const auto lig = attr::layer_integrated_gradients(text, 0, seqs.inputs, attr::Target<T>::predicted(), o);
  const ad::Tensor<T> per_token = attr::sum_last_dim(lig.values);
  std::string html = "<section id=\"text\"><h2>A text model: layer IG on the embedding</h2><p>Synthetic token sequences: tokens 1 and 2 mark the "
                     "positive class, 3 and 4 the negative; the rest is noise. Per-token totals (sum over the embedding, so they add up to "
                     "F(x) − F(padding)); red supports the predicted class.</p>";
  const int64_t len = seqs.inputs.size(1);
  for (int64_t i = 0; i < seqs.size(); ++i) {
    double mx = 1e-12;
    for (int64_t t = 0; t < len; ++t) mx = std::max(mx, std::abs(double(per_token[i * len + t])));
    html += fmt::format("<p>predicted {} (true {}), delta {:.1e}: ", lig.targets[size_t(i)], seqs.labels[size_t(i)], lig.deltas[size_t(i)]);
    for (int64_t t = 0; t < len; ++t) html += attr::token_span(int64_t(seqs.inputs[i * len + t]), double(per_token[i * len + t]), mx);
    html += "</p>";
  }
  return html + "</section>";
}

// A graph model (a ResNet with BatchNorm and residual sums): its named layers, every method on a
// few test images, and the axiom matrix, whose implementation-invariance twin is the same network
// with each BatchNorm folded into the convolution before it.
template <ad::Scalar T>
std::string graph_section(const ReportArgs& a, const nn::Dataset<T>& test) {
  progress("graph model " + a.graph_model);
  const nn::Model<T> model = nn::load_model<T>(a.graph_model);
  if (!(model.input_shape == test.inputs.shape().without(0)))
    throw std::invalid_argument(fmt::format("--graph-model {} takes inputs {}, the report's images are {}", nn::printable(a.graph_model), model.input_shape.str(),
                                            test.inputs.shape().without(0).str()));
  std::string html = fmt::format("<section id=\"graph\"><h2>A residual network: <code>{}</code></h2><p>A graph of named layers (their PyTorch module "
                                 "paths, which <code>--layer</code> takes). Test accuracy <b>{:.2f}%</b> on {} test examples.</p>",
                                 html_escape(a.graph_model), 100 * nn::accuracy(model, test), test.size()) +
                     layers_table(model) + "</section>";
  const ad::Tensor<T> x = test.inputs.rows(0, std::min<int64_t>(a.images, 4));
  if (x.rank() == 4) html += attributions_section(a, model, test, x, "graph-attributions", "The residual network's test images explained");
  if (x.rank() == 4) html += gallery_section(model, x, "graph-gallery", "The residual network's gallery");
  // Its head pools globally, so Grad-CAM there is the class activation map: the sanity contrast of
  // Grad-CAM and Guided Grad-CAM shows here, where the CNN's Flatten-Linear head clips it to 0.
  if (x.rank() == 4) html += sanity_section(model, x.rows(0, std::min<int64_t>(x.size(0), 2)), "graph-sanity", "The residual network's sanity checks");
  progress("axiom matrix of the graph model");
  const ad::Tensor<T> x1 = x.rows(0, 1);
  const auto rows = attr::axiom_matrix(model, attr::matrix_methods(model, {{"steps", std::to_string(a.steps)}}), x1, ad::Tensor<T>(x1.shape()), {});
  return html + "<section id=\"graph-axioms\"><h2>The residual network's axiom matrix</h2><p>On one test image, baseline 0. Implementation invariance "
                "compares each method with the same network whose BatchNorms are folded into the convolutions before them: equal functions, other "
                "weights.</p>" + attr::matrix_html(rows) + "</section>";
}

// Without --data or --inputs: the named set the model was trained on (its feature names say so for a
// tabular model), else the first whose examples have the model's input shape (Fashion-MNIST for
// 28x28 images). A tabular model used to be fed Fashion-MNIST and died in a matmul.
template <ad::Scalar T>
std::string default_report_data(const nn::Model<T>& model, const std::string& path) {
  for (const auto& set : nn::named_datasets())
    if (!model.feature_names.empty() && set.feature_names == model.feature_names) return set.name;
  for (const auto& set : nn::named_datasets())
    if (set.input_shape == model.input_shape && (set.input_dtype == nn::InputDtype::int64) == (model.input_dtype == nn::InputDtype::int64)) return set.name;
  throw std::invalid_argument(fmt::format("{} takes inputs of shape {}, which no named data set has: give --data NAME or --inputs X.npy", nn::printable(path),
                                          model.input_shape.str()));
}

void run(const ReportArgs& a) {
  using T = float;
  const auto start = std::chrono::steady_clock::now();
  nn::check_outputs({{"-o", a.output}}, {{"MODEL", a.model}, {"--text-model", a.text_model}, {"--inputs", a.data.inputs}, {"--labels", a.data.labels},
                                         {"--patches-model", a.patches_model}, {"--tabular-model", a.tabular_model}, {"--transformer-model", a.transformer_model},
                                         {"--recurrent-model", a.recurrent_model}, {"--graph-model", a.graph_model}, {"--watermark-model", a.watermark_model}, {"--loan-model", a.loan_model}});
  // Each companion model against the data set its section runs it on, before any work: a model of
  // another shape failed deep inside a kernel ("matmul: incompatible shapes").
  for (const auto& [option, path, set] : {std::tuple<const char*, std::string, const char*>{"--text-model", a.text_model, "synthetic-tokens"},
                                          {"--transformer-model", a.transformer_model, "synthetic-order"},
                                          {"--recurrent-model", a.recurrent_model, "synthetic-order"},
                                          {"--patches-model", a.patches_model, "synthetic-patches"}}) {
    if (path.empty()) continue;
    const nn::Model<T> m = nn::load_model<T>(path);
    const nn::NamedDataset& d = nn::named_dataset(set);
    if (m.input_shape != d.input_shape || (m.input_dtype == nn::InputDtype::int64) != (d.input_dtype == nn::InputDtype::int64))
      throw std::invalid_argument(fmt::format("{} {} takes inputs of shape {}; its section runs it on {} ({} inputs of shape {})", option, nn::printable(path),
                                              m.input_shape.str(), set, d.input_dtype == nn::InputDtype::int64 ? "token-id" : "real-valued", d.input_shape.str()));
  }
  const nn::Model<T> model = nn::load_model<T>(a.model);
  refuse_several_inputs(model, a.model, "report");
  DataOptions data = a.data;
  if (data.data.empty() && data.inputs.empty()) data.data = default_report_data(model, a.model);
  if (data.limit < 0) data.limit = 2000;  // --limit as given (0 is refused below: nothing to report), else 2000 test examples
  progress("evaluating on test data");
  const nn::Dataset<T> test = load_data<T>(data, false, model.feature_names);
  if (test.inputs.shape().without(0) != model.input_shape)
    throw std::invalid_argument(fmt::format("{}'s examples have shape {}; {} takes {}: give --data or --inputs that fit the model",
                                            nn::printable(data.inputs.empty() ? data.data : data.inputs), test.inputs.shape().without(0).str(),
                                            nn::printable(a.model), model.input_shape.str()));
  // A report summarises examples: with none there is nothing to show (the rule of axioms and convergence).
  if (test.size() == 0) throw std::invalid_argument(nn::printable(data.inputs.empty() ? data.data : data.inputs) + " holds no examples: there is nothing to report");
  if (test.inputs.shape().without(0) != model.input_shape)
    throw std::invalid_argument(fmt::format("MODEL {} takes inputs of shape {}; {} holds examples of shape {}", nn::printable(a.model), model.input_shape.str(),
                                            nn::printable(data.inputs.empty() ? data.data : data.inputs), test.inputs.shape().without(0).str()));
  std::string html = page_head(a.model) + model_section(a, model, test);
  const ad::Tensor<T> x = test.inputs.rows(0, a.images);
  if (x.rank() == 4) html += attributions_section(a, model, test, x);
  if (x.rank() == 4) html += gallery_section(model, x.rows(0, std::min<int64_t>(x.size(0), 4)), "gallery", "Gallery: Grad-CAM, Guided Grad-CAM, LRP, Blur IG, Guided IG");
  const ad::Tensor<T> xm = x.rows(0, 2);
  html += axioms_section(a, model, xm) + convergence_section(model, x.rows(0, 1)) + sanity_section(model, xm);
  html += evaluation_section(model, x.rows(0, 4), data.data.empty() ? a.data.inputs : data.data, a.patches_model);
  if (!a.graph_model.empty()) html += graph_section(a, test);
  if (!a.text_model.empty()) html += text_section<T>(a);
  if (!a.tabular_model.empty()) html += tabular_section(a.tabular_model);
  if (!a.transformer_model.empty()) html += transformer_section(a.transformer_model, a.steps);
  if (!a.recurrent_model.empty()) html += recurrent_section(a.recurrent_model, a.steps);
  if (!a.watermark_model.empty()) html += watermark_section(a.watermark_model, a.steps);
  if (!a.loan_model.empty()) html += loan_section(a.loan_model);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  html += fmt::format("<footer><p>Made by integrad {} in {:.0f} s.</p></footer></body></html>\n", INTEGRAD_VERSION, secs);
  nn::write_file_atomically(a.output, html);
  fmt::print("wrote {} ({} KiB)\n", nn::printable(a.output), html.size() / 1024);
}

void setup(CLI::App& cmd) {
  auto a = std::make_shared<ReportArgs>();
  cmd.add_option("MODEL", a->model, "Model file (.safetensors) for 28x28 images")->required();
  a->data.add_to(cmd);
  cmd.add_option("--images", a->images, "Test images to explain")->default_val(6)->check(CLI::Range(1, 64));
  cmd.add_option("--steps", a->steps, "IG steps")->default_val(50)->check(CLI::Range(2, 10000));
  cmd.add_option("--text-model", a->text_model, "Also show a text model (trained on synthetic-tokens) with coloured tokens");
  cmd.add_option("--tabular-model", a->tabular_model, "Also show a tabular model (trained on synthetic-tabular) with SHAP-style summaries per method");
  cmd.add_option("--transformer-model", a->transformer_model, "Also show a transformer (integrad train --arch transformer): attention beside attribution");
  cmd.add_option("--recurrent-model", a->recurrent_model, "Also show a recurrent net (integrad train --arch lstm|gru): the tokens its decision depends on");
  cmd.add_option("--graph-model", a->graph_model, "Also show a graph model for the same images (integrad train --arch resnet): every method, the axiom matrix");
  cmd.add_option("--watermark-model", a->watermark_model, "Also measure a model trained on synthetic-watermark: the shortcut's accuracy gap and where IG looks");
  cmd.add_option("--loan-model", a->loan_model, "Also measure a model trained on synthetic-loan: the zip-code proxy's Shapley share and the decisions it flips");
  cmd.add_option("-o,--output", a->output, "Output HTML file")->default_val("report.html");
  cmd.add_option("--patches-model", a->patches_model, "Also tabulate the metrics for a CNN trained on synthetic-patches, with its ground-truth masks");
  cmd.callback([a] { run(*a); });
}

const bool registered = register_command({"report", "Write a self-contained HTML report: accuracy, attributions, axioms, convergence, sanity checks", setup});

}  // namespace
}  // namespace integrad::cli
