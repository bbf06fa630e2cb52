// integrad report: one self-contained HTML page about a model — summary and accuracy, training
// curve, test images explained by every method, the axiom matrix (the model's and the paper's),
// the convergence study, the sanity checks, and optionally a text model's tokens. PNGs are data
// URIs and plots inline SVG: no network, no JavaScript.
#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "attribution/evaluation/axiom_matrix.h"
#include "attribution/evaluation/convergence.h"
#include "attribution/methods/exact_ig.h"
#include "attribution/methods/gradients.h"
#include "attribution/drawing/heatmap.h"
#include "attribution/methods/integrated_gradients.h"
#include "attribution/methods/layer_ig.h"
#include "attribution/evaluation/paper_models.h"
#include "attribution/evaluation/sanity.h"
#include "attribution/methods/smoothgrad.h"
#include "attribution/drawing/svg_plot.h"
#include "command.h"
#include "common.h"
#include "nn/atomic_file.h"
#include "nn/train.h"
#include "png.h"

namespace integrad::cli {
namespace {

struct ReportArgs {
  std::string model, output = "report.html", text_model;
  DataOptions data;
  int images = 6, steps = 50;
};

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c);
  return out;
}

std::string base64(const std::string& bytes) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8 | uint8_t(bytes[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += table[(v >> k) & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    if (i + 1 < bytes.size()) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? table[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string img(const attr::Image& image, const std::string& alt) {
  return fmt::format("<img alt=\"{}\" src=\"data:image/png;base64,{}\">", escape(alt), base64(png_bytes(image)));
}

void progress(const std::string& what) {
  fmt::print("report: {}\n", what);
  std::fflush(stdout);
}

// The overlay of one image's attribution (summed over channels) on the image.
attr::Image overlay_of(const ad::Tensor<float>& x, const ad::Tensor<float>& a, int64_t i, bool is_signed) {
  const int64_t c = x.size(1), h = x.size(2), w = x.size(3), hw = h * w;
  std::vector<double> heat(static_cast<size_t>(hw)), gray(static_cast<size_t>(hw));
  for (int64_t k = 0; k < c; ++k)
    for (int64_t p = 0; p < hw; ++p) {
      heat[size_t(p)] += a[(i * c + k) * hw + p];
      gray[size_t(p)] += x[(i * c + k) * hw + p] / double(c);
    }
  const double vmax = attr::cumulative_sum_threshold(heat);
  return attr::with_colour_bar(attr::overlay(gray, heat, int(h), int(w), is_signed, vmax, 4), is_signed, vmax);
}

std::string training_curve(const std::map<std::string, std::string>& meta) {
  if (!meta.count("training_curve")) return "<p>The model file carries no training curve.</p>";
  const auto curve = nlohmann::json::parse(meta.at("training_curve"));
  attr::Series loss{"training loss", {}}, train{"training accuracy", {}}, val{"test accuracy", {}};
  for (const auto& e : curve) {
    const double epoch = e["epoch"].get<double>();
    loss.points.emplace_back(epoch, e["loss"].get<double>());
    train.points.emplace_back(epoch, e["train_accuracy"].get<double>());
    if (e["val_accuracy"].get<double>() >= 0) val.points.emplace_back(epoch, e["val_accuracy"].get<double>());
  }
  return attr::line_plot({loss, train, val}, "training curve", "epoch", "loss / accuracy", false, false);
}

void run(const ReportArgs& a) {
  using T = float;
  const auto start = std::chrono::steady_clock::now();
  const nn::Sequential<T> model = nn::load_model<T>(a.model);
  DataOptions data = a.data;
  if (data.data.empty() && data.inputs.empty()) data.data = "fashion-mnist";
  data.limit = 2000;
  progress("evaluating on test data");
  const nn::Dataset<T> test = load_data<T>(data, false);
  const double acc = nn::accuracy(model, test);
  std::string html = R"(<!doctype html><html lang="en"><head><meta charset="utf-8"><title>integrad report</title><style>
body{font-family:system-ui,sans-serif;max-width:1100px;margin:1em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px;text-align:left}
th{background:#f3f3f3}.fail{background:#fde0dc}.pass{background:#e3f4e1}.na{color:#999}
.grid img{width:150px;display:block}.grid td{text-align:center;font-size:11px}
section{page-break-inside:avoid;margin-bottom:2em}code{background:#f5f5f5;padding:1px 3px}
@media print{body{max-width:none}}</style></head><body>)";
  html += fmt::format("<h1>integrad report</h1><p>Model <code>{}</code>.</p>", escape(a.model));

  html += "<section id=\"model\"><h2>Model</h2><table><tr><th>#</th><th>layer</th><th>output</th><th>parameters</th></tr>";
  for (size_t i = 0; i < model.layers.size(); ++i) {
    int64_t count = 0;
    for (auto* p : model.layers[i]->parameters()) count += p->value.numel();
    html += fmt::format("<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>", i, escape(model.layers[i]->architecture()), model.output_shape(i + 1).str(), count);
  }
  html += fmt::format("</table><p>{} parameters. Test accuracy <b>{:.2f}%</b> on {} test examples.</p>", model.parameter_count(), 100 * acc, test.size());
  html += "<h3>Training curve</h3>" + training_curve(nn::model_metadata(a.model)) + "</section>";

  // Test images × methods.
  const int64_t n = std::min<int64_t>(a.images, test.size());
  const ad::Tensor<T> x(test.inputs.shape().with(0, n), std::span<const T>(test.inputs.data(), size_t(n * test.inputs.shape().stride(0))));
  if (x.rank() == 4) {
    progress(fmt::format("explaining {} test images with every method", n));
    const attr::Forward<T> f = attr::forward_of(model);
    const std::vector<int64_t> targets = attr::resolve_targets(f, x, attr::Target<T>::predicted());
    const auto target = attr::Target<T>::each(targets);
    attr::IgOptions<T> o;
    o.steps = a.steps;
    const attr::Attribution<T> ig = attr::integrated_gradients(f, x, target, o);
    attr::SmoothGradOptions so;
    so.samples = 25;
    so.stdev = 0.1;
    struct Column {
      std::string name;
      ad::Tensor<T> values;
      bool is_signed;
    };
    std::vector<Column> columns = {
        {"gradient", attr::gradient(f, x, target), true},
        {"saliency", attr::saliency(f, x, target), false},
        {"gradient × input", attr::gradient_x_input(f, x, target), true},
        {"SmoothGrad", attr::smoothgrad<T>([&](const ad::Tensor<T>& in) { return attr::gradient(f, in, target); }, x, so), true},
        {fmt::format("IG ({} GL steps)", a.steps), ig.values, true}};
    if (attr::exact_ig_affordable(model)) columns.push_back({"exact IG", attr::exact_integrated_gradients(model, x, target).values, true});
    html += "<section id=\"attributions\"><h2>Test images explained</h2><p>Overlays: red raises the target's logit, blue lowers it "
            "(saliency: darker is larger |gradient|); colours saturate at Captum's 2% outlier threshold. Baseline: the black image.</p>"
            "<table class=\"grid\"><tr><th>input</th>";
    for (const auto& c : columns) html += "<th>" + escape(c.name) + "</th>";
    html += "<th>target, F(x), F(x′), delta</th></tr>";
    for (int64_t i = 0; i < n; ++i) {
      const std::string label = size_t(targets[size_t(i)]) < test.class_names.size() ? test.class_names[size_t(targets[size_t(i)])] : std::to_string(targets[size_t(i)]);
      html += "<tr><td>" + img(overlay_of(x, ad::Tensor<T>(x.shape()), i, true), "input") + "</td>";
      for (const auto& c : columns) html += "<td>" + img(overlay_of(x, c.values, i, c.is_signed), c.name) + "</td>";
      html += fmt::format("<td>{} ({})<br>F(x) = {:.3f}<br>F(x′) = {:.3f}<br>delta = {:.2e}<br>true: {}</td></tr>", escape(label), targets[size_t(i)],
                          ig.f_input[size_t(i)], ig.f_baseline[size_t(i)], ig.deltas[size_t(i)], test.labels[size_t(i)]);
    }
    html += "</table></section>";
  }

  progress("axiom matrix of the model");
  const int64_t m = std::min<int64_t>(2, n);
  const ad::Tensor<T> xm(x.shape().with(0, m), std::span<const T>(x.data(), size_t(m * x.shape().stride(0))));
  const ad::Tensor<T> zero(xm.shape());
  const auto rows = attr::axiom_matrix(model, attr::standard_methods(model, a.steps), xm, zero, {});
  auto matrix_html = [](const std::vector<attr::MatrixRow>& rows) {
    std::string s = "<table><tr><th>method</th>";
    for (const auto& h : attr::kAxiomNames) s += "<th>" + h + "</th>";
    s += "</tr>";
    for (const auto& r : rows) {
      s += "<tr><td>" + r.method + "</td>";
      for (const auto& c : r.checks)
        s += !c.applicable ? fmt::format("<td class=\"na\" title=\"{}\">n/a</td>", escape(c.detail))
                           : fmt::format("<td class=\"{}\" title=\"{}\">{} {:.2g}</td>", c.passed ? "pass" : "fail", escape(c.detail), c.passed ? "pass" : "FAIL", c.figure);
      s += "</tr>";
    }
    return s + "</table>";
  };
  html += fmt::format("<section id=\"axioms\"><h2>Axiom matrix</h2><p>On {} test images, baseline 0. Each cell: pass/fail and the measured figure "
                      "(hover for what it measures). Completeness is held to 5% of |F(x) − F(x′)|, equalities to 1e-6 relative; n/a: the check needs "
                      "structure this model lacks (e.g. a first Linear layer).</p>{}",
                      m, matrix_html(rows));
  progress("axiom matrix of the paper's examples");
  const auto f = attr::paper_appendix_b_f();
  attr::Twins<double> twin_g;
  twin_g.emplace_back("g", attr::paper_appendix_b_g());
  const ad::Tensor<double> px(ad::Shape{1, 2}, std::vector<double>{3, 1});
  html += "<h3>The paper's Appendix-B pair</h3><p>f(x) = ReLU(ReLU(x₁) − 1 − ReLU(x₂)) with its twin g(x) = ReLU(ReLU(x₁ − 1) − ReLU(x₂)) at x = (3, 1), "
          "baseline 0: IG gives (1.5, −0.5) on both; DeepLift tells the equal functions apart (implementation invariance fails).</p>" +
          matrix_html(attr::axiom_matrix(f, attr::standard_methods(f, a.steps), px, ad::Tensor<double>(px.shape()), twin_g)) + "</section>";

  progress("convergence study");
  const ad::Tensor<T> x1(x.shape().with(0, 1), std::span<const T>(x.data(), size_t(x.shape().stride(0))));
  const auto study = attr::convergence_study(model, x1, ad::Tensor<T>(x1.shape()), 256);
  html += "<section id=\"convergence\"><h2>Convergence of the quadrature rules</h2>" + attr::convergence_svg(study) + "<pre>" +
          escape(attr::convergence_table(study)) + "</pre></section>";

  progress("sanity checks");
  std::vector<attr::NamedMethod<T>> sanity_methods;
  for (auto& meth : attr::standard_methods(model, 16))
    if (meth.name == "gradient" || meth.name == "gradxinput" || meth.name == "ig_gausslegendre" || meth.name == "guided_backprop") sanity_methods.push_back(meth);
  const auto sanity = attr::sanity_checks(model, sanity_methods, xm, zero);
  html += "<section id=\"sanity\"><h2>Sanity checks (Adebayo et al. 2018)</h2><p>Layers re-initialised from the top down; a method that "
          "explains the model loses its rank correlation with the trained model's attributions.</p>" +
          attr::sanity_svg(sanity, "cascading") + attr::sanity_svg(sanity, "independent") + "</section>";

  if (!a.text_model.empty()) {
    progress("text model");
    const nn::Sequential<T> text = nn::load_model<T>(a.text_model);
    DataOptions td;
    td.data = "synthetic-tokens";
    td.limit = 6;
    const nn::Dataset<T> seqs = load_data<T>(td, false);
    attr::IgOptions<T> o;
    o.steps = a.steps;
    const auto lig = attr::layer_integrated_gradients(text, 0, seqs.inputs, attr::Target<T>::predicted(), o);
    const ad::Tensor<T> per_token = attr::sum_last_dim(lig.values);
    html += "<section id=\"text\"><h2>A text model: layer IG on the embedding</h2><p>Synthetic token sequences: tokens 1 and 2 mark the "
            "positive class, 3 and 4 the negative; the rest is noise. Per-token totals (sum over the embedding, so they add up to "
            "F(x) − F(padding)); red supports the predicted class.</p>";
    const int64_t len = seqs.inputs.size(1);
    for (int64_t i = 0; i < seqs.size(); ++i) {
      double mx = 1e-12;
      for (int64_t t = 0; t < len; ++t) mx = std::max(mx, std::abs(double(per_token[i * len + t])));
      html += fmt::format("<p>predicted {} (true {}), delta {:.1e}: ", lig.targets[size_t(i)], seqs.labels[size_t(i)], lig.deltas[size_t(i)]);
      for (int64_t t = 0; t < len; ++t) {
        const double v = per_token[i * len + t] / mx;
        html += fmt::format("<span style=\"padding:2px 5px;margin:1px;font-family:monospace;background:rgba({},{:.2f})\" title=\"{:.3g}\">{}</span>",
                            v >= 0 ? "178,24,43" : "33,102,172", std::abs(v), double(per_token[i * len + t]), int64_t(seqs.inputs[i * len + t]));
      }
      html += "</p>";
    }
    html += "</section>";
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  html += fmt::format("<footer><p>Made by integrad {} in {:.0f} s.</p></footer></body></html>\n", INTEGRAD_VERSION, secs);
  nn::write_file_atomically(a.output, html);
  fmt::print("wrote {} ({} KiB)\n", a.output, html.size() / 1024);
}

void setup(CLI::App& cmd) {
  auto a = std::make_shared<ReportArgs>();
  cmd.add_option("MODEL", a->model, "Model file (.safetensors) for 28x28 images")->required();
  a->data.add_to(cmd);
  cmd.add_option("--images", a->images, "Test images to explain")->default_val(6)->check(CLI::Range(1, 64));
  cmd.add_option("--steps", a->steps, "IG steps")->default_val(50)->check(CLI::Range(2, 10000));
  cmd.add_option("--text-model", a->text_model, "Also show a text model (trained on synthetic-tokens) with coloured tokens");
  cmd.add_option("-o,--output", a->output, "Output HTML file")->default_val("report.html");
  cmd.callback([a] { run(*a); });
}

const bool registered = register_command({"report", "Write a self-contained HTML report: accuracy, attributions, axioms, convergence, sanity checks", setup});

}  // namespace
}  // namespace integrad::cli
