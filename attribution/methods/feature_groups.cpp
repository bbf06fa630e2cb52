#include "attribution/methods/feature_groups.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include "nn/npy.h"

namespace integrad::attr {

namespace {

// Perturbed copies evaluated together in one forward pass.
constexpr int64_t kPerturbationsPerEval = 32;

}  // namespace

bool solve_linear(std::vector<double>& a, std::vector<double>& r, size_t k) {
  double scale = 0;
  for (size_t i = 0; i < k; ++i) scale = std::max(scale, std::abs(a[i * k + i]));
  for (size_t col = 0; col < k; ++col) {
    size_t p = col;
    for (size_t i = col + 1; i < k; ++i)
      if (std::abs(a[i * k + col]) > std::abs(a[p * k + col])) p = i;
    if (!(std::abs(a[p * k + col]) > 1e-12 * scale)) return false;
    if (p != col) {
      for (size_t j = 0; j < k; ++j) std::swap(a[p * k + j], a[col * k + j]);
      std::swap(r[p], r[col]);
    }
    for (size_t i = col + 1; i < k; ++i) {
      const double f = a[i * k + col] / a[col * k + col];
      for (size_t j = col; j < k; ++j) a[i * k + j] -= f * a[col * k + j];
      r[i] -= f * r[col];
    }
  }
  for (size_t i = k; i-- > 0;) {
    double s = r[i];
    for (size_t j = i + 1; j < k; ++j) s -= a[i * k + j] * r[j];
    r[i] = s / a[i * k + i];
  }
  return true;
}

std::vector<OptionSpec> mask_options() {
  return {{.name = "feature-mask", .kind = OptionSpec::Kind::text,
           .help = "int64 .npy of group ids, one example's shape or [N, ...]: features with the same id are removed together (default: each scalar alone)"},
          {.name = "patch", .kind = OptionSpec::Kind::integer,
           .help = "K: K×K superpixels of an image [..., H, W] as the groups, smaller at the edges (instead of --feature-mask)", .min = 1, .max = 1e6}};
}

std::vector<OptionSpec> sampling_options(const std::string& default_samples, const std::string& samples_help, double max_samples,
                                         const std::string& sampler) {
  return {{.name = "samples", .kind = OptionSpec::Kind::integer, .default_value = default_samples, .help = samples_help, .min = 1, .max = max_samples},
          {.name = "seed", .kind = OptionSpec::Kind::integer, .default_value = "0", .help = "seed of the " + sampler, .min = 0, .max = 1e15}};
}

std::vector<OptionSpec> join(std::initializer_list<std::vector<OptionSpec>> lists) {
  std::vector<OptionSpec> out;
  for (const auto& l : lists) out.insert(out.end(), l.begin(), l.end());
  return out;
}

namespace {

// --patch K: K×K squares over the last two dims, the same for every leading dim.
std::vector<Groups> patch_groups(int64_t k, const ad::Shape& inputs_shape) {
  if (inputs_shape.rank() < 3)
    throw std::invalid_argument(fmt::format("--patch needs image inputs [N, C, H, W] or [N, H, W]; these are {} (use --feature-mask)", inputs_shape.str()));
  const int64_t h = inputs_shape[inputs_shape.rank() - 2], w = inputs_shape[inputs_shape.rank() - 1];
  const int64_t row = inputs_shape.stride(0), across = (w + k - 1) / k;
  std::map<int64_t, std::vector<int64_t>> by_id;
  for (int64_t j = 0; j < row; ++j) {
    const int64_t y = (j / w) % h, x = j % w;
    by_id[(y / k) * across + x / k].push_back(j);
  }
  Groups g;
  for (auto& [id, members] : by_id) g.push_back(std::move(members));
  return std::vector<Groups>(size_t(inputs_shape[0]), g);
}

}  // namespace

std::vector<Groups> feature_groups(const Options& options, const ad::Shape& inputs_shape, int64_t first, int64_t total) {
  const int64_t n = inputs_shape[0], row = inputs_shape.stride(0);
  if (options.has("patch")) {
    if (options.has("feature-mask")) throw std::invalid_argument("--patch and --feature-mask both give the feature groups: give one");
    return patch_groups(options.integer("patch"), inputs_shape);
  }
  std::vector<Groups> out(static_cast<size_t>(n));
  if (!options.has("feature-mask")) {
    for (auto& g : out)
      for (int64_t j = 0; j < row; ++j) g.push_back({j});
    return out;
  }
  const std::string& path = options.text("feature-mask");
  ad::Shape shape;
  std::vector<int64_t> ids;
  try {
    ids = nn::npy_read_labels(path, &shape);
  } catch (const std::exception& e) {
    throw std::invalid_argument(fmt::format("--feature-mask {}: {}", path, e.what()));
  }
  std::vector<int64_t> one(inputs_shape.rank() - 1);
  for (int d = 1; d < inputs_shape.rank(); ++d) one[static_cast<size_t>(d - 1)] = inputs_shape[d];
  const bool shared = shape == ad::Shape(one);
  const ad::Shape whole = inputs_shape.with(0, total > 0 ? total : n);
  if (!shared && !(shape == whole))
    throw std::invalid_argument(fmt::format("--feature-mask {}: shape {} matches neither one example {} nor the inputs {}", path, shape.str(),
                                            ad::Shape(one).str(), whole.str()));
  for (int64_t i = 0; i < n; ++i) {
    std::map<int64_t, std::vector<int64_t>> by_id;
    const int64_t base = shared ? 0 : (first + i) * row;
    for (int64_t j = 0; j < row; ++j) by_id[ids[static_cast<size_t>(base + j)]].push_back(j);
    for (auto& [id, members] : by_id) out[static_cast<size_t>(i)].push_back(std::move(members));
  }
  return out;
}

template <ad::Scalar T>
std::vector<int64_t> perturbation_targets(const MethodCall<T>& call) {
  return resolve_targets(forward_of(call.model), call.inputs, call.target);
}

template <ad::Scalar T>
Perturbation<T> perturbation_setup(const MethodCall<T>& call) {
  return {.groups = feature_groups(call.options, call.inputs.shape(), call.first, call.total),
          .base = call.baseline.expand(call.inputs),
          .targets = perturbation_targets(call),
          .row = call.inputs.shape().stride(0)};
}

template <ad::Scalar T>
void set_group_deltas(Attribution<T>& a, const MethodCall<T>& call, const Perturbation<T>& p) {
  bool grouped = false;
  for (const Groups& g : p.groups)
    for (const auto& members : g) grouped = grouped || members.size() > 1;
  if (!grouped) return;
  const Forward<T> f = forward_of(call.model);
  a.f_input = target_values(f, call.inputs, call.target, p.targets);
  a.f_baseline = target_values(f, p.base, call.target, p.targets);
  a.deltas.assign(p.groups.size(), 0.0);
  for (size_t i = 0; i < p.groups.size(); ++i) {
    double sum = 0;
    for (const auto& members : p.groups[i]) sum += double(a.values[int64_t(i) * p.row + members[0]]);
    a.deltas[i] = sum - (a.f_input[i] - a.f_baseline[i]);
  }
}

template <ad::Scalar T>
std::vector<double> evaluate_perturbations(const MethodCall<T>& call, std::span<const int64_t> targets, int64_t example, int64_t count,
                                           const std::function<void(int64_t k, std::span<T> row)>& fill) {
  const ad::Shape& shape = call.inputs.shape();
  const int64_t row = shape.stride(0);
  const T* x = call.inputs.data() + example * row;
  const bool function_target = call.target.kind == Target<T>::Kind::function;
  std::vector<double> values;
  values.reserve(static_cast<size_t>(count));
  for (int64_t start = 0; start < count; start += kPerturbationsPerEval) {
    const int64_t rows = std::min(kPerturbationsPerEval, count - start);
    ad::Shape batch_shape = shape;
    batch_shape[0] = rows;
    ad::Tensor<T> batch(batch_shape);
    for (int64_t k = 0; k < rows; ++k) {
      std::span<T> r(batch.data() + k * row, static_cast<size_t>(row));
      std::copy(x, x + row, r.begin());
      fill(start + k, r);
    }
    if (function_target) {
      const std::vector<double> v = target_values(forward_of(call.model), batch, call.target, {});
      values.insert(values.end(), v.begin(), v.end());
    } else {
      const ad::Tensor<T> out = call.model.predict(batch, rows);
      const int64_t c = out.size(1);
      const int64_t k = targets[static_cast<size_t>(example)];
      if (k < 0 || k >= c) throw std::invalid_argument(fmt::format("target class {} outside the model's {} outputs", k, c));
      for (int64_t r = 0; r < rows; ++r) values.push_back(double(out[r * c + k]));
    }
  }
  return values;
}

#define INTEGRAD_INSTANTIATE(T)                                                                                                     \
  template std::vector<int64_t> perturbation_targets<T>(const MethodCall<T>&);                                                      \
  template Perturbation<T> perturbation_setup<T>(const MethodCall<T>&);                                                              \
  template void set_group_deltas<T>(Attribution<T>&, const MethodCall<T>&, const Perturbation<T>&);                                 \
  template std::vector<double> evaluate_perturbations<T>(const MethodCall<T>&, std::span<const int64_t>, int64_t, int64_t,          \
                                                         const std::function<void(int64_t, std::span<T>)>&);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)
#undef INTEGRAD_INSTANTIATE

}  // namespace integrad::attr
