// The explorer's requests: parsing and checking each field, then the adapter (explorer_model.h)
// computes. Examples are indices, models are indices, options are the registry's: no request can
// name a file.
#include "explorer_api.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "attribution/method.h"
#include "common.h"
#include "nn/fashion_mnist.h"
#include "nn/named_datasets.h"
#include "nn/npz.h"
#include "nn/printable.h"
#include "nn/stop.h"

namespace integrad::cli::explorer {

using json = nlohmann::json;

namespace {

// Bounds that keep one request's memory and time modest on a small machine; the registry's own
// ranges are checked as well (attr::parse_options).
constexpr int64_t kMaxBatchSize = 512;  // the CLI's default: no request holds more rows at once
constexpr size_t kMaxMethods = 4, kMaxModels = 2;

const json& need(const json& r, const char* name) {
  if (!r.contains(name)) throw BadRequest(fmt::format("'{}' is missing", name));
  return r.at(name);
}

int64_t index_in(const json& v, const std::string& what, int64_t n) {
  if (!v.is_number_integer()) throw BadRequest(fmt::format("'{}' must be an integer", what));
  const int64_t i = v.get<int64_t>();
  if (i < 0 || i >= n) throw BadRequest(fmt::format("'{}' is {}: there are {} (0 to {})", what, i, n, n - 1));
  return i;
}

std::vector<int64_t> parse_models(const Session& s, const json& r) {
  if (!r.contains("models")) return {0};
  const json& m = r.at("models");
  if (!m.is_array() || m.empty() || m.size() > kMaxModels) throw BadRequest(fmt::format("'models' must be a list of 1 to {} model indices", kMaxModels));
  std::vector<int64_t> out;
  for (const json& v : m) out.push_back(index_in(v, "models[]", int64_t(s.models.size())));
  return out;
}

// One example [1, ...]: an index into the examples, or the values themselves (a what-if edit).
ad::Tensor<float> parse_input(const Session& s, const json& r) {
  const ad::Shape shape = nn::with_batch(1, s.models[0].model.input_shape);
  if (r.contains("input")) {
    const json& v = r.at("input");
    if (!v.is_array() || int64_t(v.size()) != shape.numel())
      throw BadRequest(fmt::format("'input' must be a list of {} numbers (one example of shape {})", shape.numel(), s.models[0].model.input_shape.str()));
    ad::Tensor<float> x(shape);
    const bool tokens = s.models[0].kind == InputKind::tokens;
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_number()) throw BadRequest(fmt::format("'input'[{}] is not a number", i));
      const double d = v[i].get<double>();
      if (!std::isfinite(d) || std::abs(d) > 1e30) throw BadRequest(fmt::format("'input'[{}] is not a finite number", i));
      if (tokens && d != std::floor(d)) throw BadRequest(fmt::format("'input'[{}] = {} is not a token id (an integer)", i, d));
      x[int64_t(i)] = static_cast<float>(d);
    }
    return x;
  }
  const int64_t i = index_in(need(r, "example"), "example", s.data.inputs.size(0));
  return s.data.inputs.rows(i, i + 1);
}

attr::Target<float> parse_target(const LoadedModel& m, const json& r) {
  if (!r.contains("target") || r.at("target") == "predicted") return attr::Target<float>::predicted();
  return attr::Target<float>::of(index_in(r.at("target"), "target", m.num_classes));
}

// A Gaussian blur of each channel (edges clamped): the "blurred" baseline of Sturmfels et al.
ad::Tensor<float> blurred(const ad::Tensor<float>& x, double sigma) {
  const int64_t c = x.size(1), h = x.size(2), w = x.size(3), radius = static_cast<int64_t>(std::ceil(3 * sigma));
  std::vector<double> k(size_t(2 * radius + 1));
  double sum = 0;
  for (int64_t i = -radius; i <= radius; ++i) sum += k[size_t(i + radius)] = std::exp(-0.5 * double(i * i) / (sigma * sigma));
  for (double& v : k) v /= sum;
  ad::Tensor<float> tmp(x.shape()), out(x.shape());
  const auto at = [](int64_t v, int64_t n) { return std::clamp<int64_t>(v, 0, n - 1); };
  for (int64_t ch = 0; ch < c; ++ch) {
    const float* src = x.data() + ch * h * w;
    float *t = tmp.data() + ch * h * w, *o = out.data() + ch * h * w;
    for (int64_t y = 0; y < h; ++y)
      for (int64_t xx = 0; xx < w; ++xx) {
        double a = 0;
        for (int64_t i = -radius; i <= radius; ++i) a += k[size_t(i + radius)] * src[y * w + at(xx + i, w)];
        t[y * w + xx] = static_cast<float>(a);
      }
    for (int64_t y = 0; y < h; ++y)
      for (int64_t xx = 0; xx < w; ++xx) {
        double a = 0;
        for (int64_t i = -radius; i <= radius; ++i) a += k[size_t(i + radius)] * t[at(y + i, h) * w + xx];
        o[y * w + xx] = static_cast<float>(a);
      }
  }
  return out;
}

// black (zero) | number | blurred | mean; the first model decides what makes sense.
attr::Baseline<float> parse_baseline(const Session& s, const json& r, const ad::Tensor<float>& x) {
  if (!r.contains("baseline")) return attr::Baseline<float>::zero();
  const json& b = r.at("baseline");
  if (!b.is_object()) throw BadRequest("'baseline' must be an object such as {\"kind\": \"zero\"}");
  const json& kind = need(b, "kind");
  const InputKind k = s.models[0].kind;
  if (kind == "zero" || kind == "black") return attr::Baseline<float>::zero();
  if (kind == "number") {
    const json& v = need(b, "value");
    if (!v.is_number() || !std::isfinite(v.get<double>()) || std::abs(v.get<double>()) > 1e30) throw BadRequest("'baseline.value' must be a finite number");
    if (k == InputKind::tokens && v.get<double>() != std::floor(v.get<double>())) throw BadRequest("'baseline.value' must be a token id (an integer) for a token model");
    return attr::Baseline<float>::constant(static_cast<float>(v.get<double>()));
  }
  if (kind == "blurred") {
    if (k != InputKind::image) throw BadRequest("'baseline.kind' blurred needs an image model");
    double sigma = 3;
    if (b.contains("sigma")) {
      if (!b.at("sigma").is_number()) throw BadRequest("'baseline.sigma' must be a number");
      sigma = b.at("sigma").get<double>();
    }
    if (!(sigma >= 0.5 && sigma <= 20)) throw BadRequest("'baseline.sigma' must be in [0.5, 20] pixels");
    return attr::Baseline<float>::of(blurred(x, sigma));
  }
  if (kind == "mean") {
    if (k == InputKind::tokens) throw BadRequest("'baseline.kind' mean has no meaning for token ids: use a number (a token id such as 0)");
    return attr::Baseline<float>::of(s.data.mean);
  }
  throw BadRequest("'baseline.kind' must be one of zero, black, number, blurred, mean");
}

// The methods with their options as text, each checked against the registry.
std::vector<ExplainRequest> parse_methods(const Session& s, const json& r, const attr::Target<float>& target, const attr::Baseline<float>& baseline) {
  const json& ms = need(r, "methods");
  if (!ms.is_array() || ms.empty() || ms.size() > kMaxMethods) throw BadRequest(fmt::format("'methods' must be a list of 1 to {} methods", kMaxMethods));
  std::vector<ExplainRequest> out;
  for (const json& m : ms) {
    if (!m.is_object() || !m.contains("name") || !m.at("name").is_string()) throw BadRequest("each of 'methods' must be an object with a 'name'");
    const std::string name = m.at("name").get<std::string>();
    if (!attr::registry<float>().contains(name)) throw BadRequest(fmt::format("unknown method '{}' (known: {})", nn::printable(name), fmt::join(attr::method_names(), ", ")));
    ExplainRequest e{name, {}, target, baseline};
    if (m.contains("options")) {
      if (!m.at("options").is_object()) throw BadRequest(fmt::format("'{}'.options must be an object", name));
      for (const auto& [key, v] : m.at("options").items()) {
        if (v.is_string()) e.options[key] = v.get<std::string>();
        else if (v.is_boolean()) {
          if (v.get<bool>()) e.options[key] = "true";
        } else if (v.is_number()) e.options[key] = v.dump();
        else if (!v.is_null()) throw BadRequest(fmt::format("'{}'.options.{} must be a string, a number or a boolean", name, nn::printable(key)));
      }
    }
    const attr::Method<float>& method = attr::find_method<float>(name);
    try {
      const attr::Options o = attr::parse_options(name, method.options, e.options);
      if (o.integer("batch-size") > kMaxBatchSize) throw BadRequest(fmt::format("'{}'.options.batch-size: at most {} here", name, kMaxBatchSize));
    } catch (const BadRequest&) {
      throw;
    } catch (const std::exception& ex) {
      throw BadRequest(ex.what());
    }
    if (s.models[0].kind == InputKind::tokens && name == "ig" && !e.options.count("layer"))
      throw BadRequest("token ids have no gradient: give ig the option layer = 0 (the embedding) and a token id as the baseline number");
    out.push_back(std::move(e));
  }
  return out;
}

// A layer option that names a layer (layer IG, Grad-CAM: the text kind; attention's is an index)
// must name one of those /api/info lists for every model of the request.
void check_layers(const Session& s, const std::vector<int64_t>& models, const std::vector<ExplainRequest>& methods) {
  for (const ExplainRequest& e : methods) {
    const auto it = e.options.find("layer");
    if (it == e.options.end()) continue;
    const auto& specs = attr::find_method<float>(e.method).options;
    if (!std::any_of(specs.begin(), specs.end(), [](const attr::OptionSpec& o) { return o.name == "layer" && o.kind == attr::OptionSpec::Kind::text; }))
      continue;
    for (int64_t mi : models) {
      const LoadedModel& m = s.models[size_t(mi)];
      const std::vector<std::string> names = layer_names(m);
      if (std::find(names.begin(), names.end(), it->second) == names.end()) {
        std::vector<std::string> shown(names.begin(), names.begin() + std::min<size_t>(names.size(), 40));
        if (names.size() > shown.size()) shown.push_back("...");
        throw BadRequest(fmt::format("'{}'.options.layer: {} has no layer '{}'; its layers are {}", e.method, nn::printable(m.label), nn::printable(it->second),
                                     nn::printable(fmt::format("{}", fmt::join(shown, ", ")))));
      }
    }
  }
}

std::vector<float> flat(const ad::Tensor<float>& t) { return {t.data(), t.data() + t.numel()}; }

json prediction(const LoadedModel& m, const ad::Tensor<float>& x) {
  const auto p = probabilities(m, x);
  return {{"probabilities", p}, {"predicted", std::max_element(p.begin(), p.end()) - p.begin()}};
}

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

json run_explain(const Session& s, const std::vector<int64_t>& models, const ad::Tensor<float>& x, const std::vector<ExplainRequest>& methods, Job& job) {
  json out = json::array();
  const double parts = double(models.size() * methods.size());
  double done = 0;
  for (int64_t mi : models) {
    const LoadedModel& m = s.models[size_t(mi)];
    json maps = json::array();
    for (const ExplainRequest& r : methods) {
      const auto report = job.reporter();
      const auto start = Clock::now();
      const attr::Attribution<float> a = explain(m, x, r, [&](double f) { report((done + f) / parts); });
      const double ms = ms_since(start);
      done += 1;
      const attr::Method<float>& method = attr::find_method<float>(r.method);
      const ad::Tensor<float>& v = a.token_values.numel() ? a.token_values : a.values;
      json map = {{"method", r.method}, {"display_name", method.display_name}, {"values", flat(v)}, {"shape", v.shape().vec()},
                  {"signed", a.is_signed}, {"ms", ms}};
      if (!a.targets.empty()) map["target"] = a.targets[0];
      if (!a.f_input.empty()) map["f_input"] = a.f_input[0];
      if (!a.f_baseline.empty()) map["f_baseline"] = a.f_baseline[0];
      if (!a.deltas.empty()) map["delta"] = a.deltas[0];
      if (v.shape() == x.shape() && !a.targets.empty()) {
        try {
          map["curves"] = curves(m, x, v, r.baseline, a.targets[0]);
        } catch (const nn::Stopped&) {
          throw;  // cancelled: not a note on the curves
        } catch (const std::exception& e) {
          map["curves_note"] = e.what();
        }
      }
      maps.push_back(std::move(map));
    }
    out.push_back({{"model", mi}, {"label", m.label}, {"prediction", prediction(m, x)}, {"maps", std::move(maps)}});
  }
  return out;
}

// --inputs X.npz: the examples are the array named x (or inputs), else the first; the labels, if any,
// the array named y (or labels), else a second array of one integer per example.
void read_npz(const std::string& path, const nn::Model<float>& model, Examples& d) {
  const auto arrays = nn::npz_read(path);
  const auto named = [&](std::initializer_list<const char*> names) -> std::ptrdiff_t {
    for (const char* n : names)
      for (size_t i = 0; i < arrays.size(); ++i)
        if (arrays[i].first == n) return std::ptrdiff_t(i);
    return -1;
  };
  const size_t xi = static_cast<size_t>(std::max<std::ptrdiff_t>(0, named({"x", "inputs", "X"})));
  const std::string name = fmt::format("{} ({})", nn::printable(path), nn::printable(arrays[xi].first));
  d.inputs = nn::npy_to_tensor<float>(arrays[xi].second, name);
  if (d.inputs.rank() < 1 || d.inputs.shape().without(0) != model.input_shape)
    throw std::invalid_argument(fmt::format("{} has shape {}, the model expects [N, {}]", name, d.inputs.shape().str(), model.input_shape.str()));
  std::ptrdiff_t yi = named({"y", "labels", "Y"});
  const bool named_labels = yi >= 0;
  if (yi < 0 && arrays.size() == 2) yi = xi == 0 ? 1 : 0;
  if (yi < 0) return;
  const ad::Tensor<double> labels = nn::npy_to_tensor<double>(arrays[size_t(yi)].second, path + " (labels)");
  if (labels.numel() != d.inputs.size(0)) {
    if (named_labels) throw std::invalid_argument(fmt::format("{}: {} labels for {} examples", nn::printable(path), labels.numel(), d.inputs.size(0)));
    return;  // a second array that is not one label per example: no labels
  }
  for (int64_t i = 0; i < labels.numel(); ++i) {
    if (!(labels[i] >= 0 && labels[i] == std::floor(labels[i]) && labels[i] <= 1e9))
      throw std::invalid_argument(fmt::format("{}: label {} of example {} is not a class index", nn::printable(path), labels[i], i));
    d.labels.push_back(static_cast<int64_t>(labels[i]));
  }
}

}  // namespace

Session open_session(const std::vector<std::string>& model_paths, const std::string& data_name, const std::string& inputs_path, int64_t limit) {
  Session s;
  for (const std::string& p : model_paths) s.models.push_back(load_model(p));
  const LoadedModel& first = s.models[0];
  for (const LoadedModel& m : s.models)
    if (m.model.input_shape != first.model.input_shape || m.model.input_dtype != first.model.input_dtype)
      throw std::invalid_argument(fmt::format("{} reads examples of shape {}, {} of shape {}: the models must read the same inputs", first.label,
                                              first.model.input_shape.str(), m.label, m.model.input_shape.str()));
  Examples& d = s.data;
  if (!data_name.empty()) {
    const nn::NamedDataset& set = nn::named_dataset(data_name);
    nn::Dataset<float> test = nn::load_named<float>(set, {false, limit, nn::kFashionMnistDir});
    d.source = data_name + " (test split)";
    d.inputs = std::move(test.inputs);
    d.labels = std::move(test.labels);
    d.class_names = std::move(test.class_names);
    d.feature_names = test.feature_names.empty() ? first.model.feature_names : test.feature_names;
    if (set.input_dtype != nn::InputDtype::int64) {
      const nn::Dataset<float> train = nn::load_named<float>(set, {true, 1000, nn::kFashionMnistDir});
      d.mean = train.inputs.rows(0, 1);
      const int64_t row = train.inputs.shape().stride(0);
      std::vector<double> sum(size_t(row), 0.0);
      for (int64_t i = 0; i < train.inputs.size(0); ++i)
        for (int64_t j = 0; j < row; ++j) sum[size_t(j)] += train.inputs[i * row + j];
      for (int64_t j = 0; j < row; ++j) d.mean[j] = static_cast<float>(sum[size_t(j)] / double(train.inputs.size(0)));
    }
  } else {
    d.source = std::filesystem::path(inputs_path).filename().string();
    if (nn::is_npz_path(inputs_path)) read_npz(inputs_path, first.model, d);
    else d.inputs = load_inputs(inputs_path, first.model, &d.feature_names);
    if (limit >= 0 && d.inputs.size(0) > limit) d.inputs = d.inputs.rows(0, limit);
    if (d.inputs.size(0) > 0) {
      const int64_t row = d.inputs.shape().stride(0);
      d.mean = d.inputs.rows(0, 1);
      for (int64_t j = 0; j < row; ++j) {
        double sum = 0;
        for (int64_t i = 0; i < d.inputs.size(0); ++i) sum += d.inputs[i * row + j];
        d.mean[j] = static_cast<float>(sum / double(d.inputs.size(0)));
      }
    }
  }
  if (d.inputs.size(0) == 0) throw std::invalid_argument("there are no examples to explore");
  if (d.inputs.shape().without(0) != first.model.input_shape)
    throw std::invalid_argument(fmt::format("the examples have shape {}, {} reads {}", d.inputs.shape().without(0).str(), first.label, first.model.input_shape.str()));
  for (const LoadedModel& m : s.models) {
    const ad::Tensor<float> logits = m.model.predict(d.inputs);
    std::vector<int64_t> pred(size_t(logits.size(0)));
    for (int64_t i = 0; i < logits.size(0); ++i) {
      const float* row = logits.data() + i * logits.size(1);
      pred[size_t(i)] = std::max_element(row, row + logits.size(1)) - row;
    }
    s.predicted.push_back(std::move(pred));
  }
  return s;
}

json info(const Session& s) {
  json models = json::array();
  for (const LoadedModel& m : s.models) models.push_back(describe(m));
  const ad::Tensor<float>& x = s.data.inputs;
  const int64_t row = x.shape().stride(0);
  // Each feature's range over the examples: the bounds of a tabular slider.
  std::vector<float> lo(size_t(row), INFINITY), hi(size_t(row), -INFINITY);
  for (int64_t i = 0; i < x.size(0); ++i)
    for (int64_t j = 0; j < row; ++j) {
      lo[size_t(j)] = std::min(lo[size_t(j)], x[i * row + j]);
      hi[size_t(j)] = std::max(hi[size_t(j)], x[i * row + j]);
    }
  json j = {{"models", models},          {"methods", methods_json()},           {"source", s.data.source},
            {"count", x.size(0)},        {"class_names", s.data.class_names},   {"feature_names", s.data.feature_names},
            {"has_labels", !s.data.labels.empty()}, {"has_mean", s.data.mean.numel() > 0}};
  if (s.models[0].kind == InputKind::tabular) j["feature_ranges"] = {{"min", lo}, {"max", hi}};
  return j;
}

namespace {
std::string base64(const std::vector<uint8_t>& bytes) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const uint32_t v = uint32_t(bytes[i]) << 16 | (i + 1 < bytes.size() ? uint32_t(bytes[i + 1]) << 8 : 0) | (i + 2 < bytes.size() ? bytes[i + 2] : 0);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? table[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? table[v & 63] : '=';
  }
  return out;
}
}  // namespace

json examples(const Session& s) {
  const ad::Tensor<float>& x = s.data.inputs;
  json j = {{"labels", s.data.labels}, {"predicted", s.predicted}};
  if (s.models[0].kind == InputKind::image) {
    // Thumbnails of at most 48 pixels a side (nearest pixel), one byte a value: 500 ImageNet-sized
    // examples stay a few megabytes. The page fetches the selected example whole (/api/example).
    const int64_t c = x.size(1), h = x.size(2), w = x.size(3), th = std::min<int64_t>(h, 48), tw = std::min<int64_t>(w, 48);
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < x.numel(); ++i) lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
    std::vector<uint8_t> bytes;
    bytes.reserve(size_t(x.size(0) * c * th * tw));
    for (int64_t n = 0; n < x.size(0); ++n)
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t y = 0; y < th; ++y)
          for (int64_t xx = 0; xx < tw; ++xx) {
            const float v = x[((n * c + ch) * h + y * h / th) * w + xx * w / tw];
            bytes.push_back(static_cast<uint8_t>(std::lround(255.0 * (v - lo) / std::max(1e-12f, hi - lo))));
          }
    j["pixels"] = base64(bytes);
    j["thumb_shape"] = {c, th, tw};
    j["range"] = {lo, hi};
  } else {
    // Tabular rows and token sequences are small: the values themselves.
    j["values"] = flat(x);
  }
  return j;
}

json example(const Session& s, int64_t i) {
  if (i < 0 || i >= s.data.inputs.size(0)) throw BadRequest(fmt::format("'i' is {}: there are {} examples", i, s.data.inputs.size(0)));
  return {{"values", flat(s.data.inputs.rows(i, i + 1))}};
}

void check(const Session& s, const json& r) {
  if (!r.is_object()) throw BadRequest("the request must be a JSON object");
  const json& op = need(r, "op");
  if (op != "predict" && op != "explain" && op != "convergence" && op != "axioms") throw BadRequest("'op' must be one of predict, explain, convergence, axioms");
  const auto models = parse_models(s, r);
  const ad::Tensor<float> x = parse_input(s, r);
  if (op == "predict") return;
  const attr::Target<float> target = parse_target(s.models[size_t(models[0])], r);
  const attr::Baseline<float> baseline = parse_baseline(s, r, x);
  if (op == "convergence") {
    if (s.models[0].kind == InputKind::tokens) throw BadRequest("IG's convergence is studied on continuous inputs; token ids have none");
    if (r.contains("max_steps") && (!r.at("max_steps").is_number_integer() || r.at("max_steps").get<int64_t>() < 2 || r.at("max_steps").get<int64_t>() > 1024))
      throw BadRequest("'max_steps' must be an integer in [2, 1024]");
    return;
  }
  check_layers(s, models, parse_methods(s, r, target, baseline));
}

json run(const Session& s, const json& r, Job& job) {
  check(s, r);
  const auto models = parse_models(s, r);
  const ad::Tensor<float> x = parse_input(s, r);
  const auto start = Clock::now();
  json out;
  if (r.at("op") == "predict") {
    json preds = json::array();
    for (int64_t mi : models) preds.push_back(prediction(s.models[size_t(mi)], x));
    out = {{"predictions", preds}};
  } else {
    const LoadedModel& m = s.models[size_t(models[0])];
    const attr::Target<float> target = parse_target(m, r);
    const attr::Baseline<float> baseline = parse_baseline(s, r, x);
    if (r.at("op") == "convergence") {
      ExplainRequest ig{"ig", {}, target, baseline};
      const int max_steps = r.contains("max_steps") ? r.at("max_steps").get<int>() : 128;
      out = {{"convergence", ig_convergence(m, x, ig, max_steps, job.reporter())}};
    } else {
      const auto methods = parse_methods(s, r, target, baseline);
      if (r.at("op") == "axioms") out = {{"axioms", axioms(m, x, methods)}};
      else out = {{"models", run_explain(s, models, x, methods, job)}};
      out["baseline"] = flat(baseline.expand(x));
    }
  }
  out["server_ms"] = ms_since(start);
  return out;
}

}  // namespace integrad::cli::explorer
