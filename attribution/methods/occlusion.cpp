// Occlusion (`--method occlusion`), Captum's Occlusion: a window slides over each example (batch
// dim excluded), starting at index 0 in every dim with ceil((D − W) / S) + 1 positions per dim, the
// last clipped at the edge; each element gets the mean over the windows covering it of
// F(x) − F(x with the window set to the baseline), 0 where no window covers it.
#include <fmt/format.h>

#include <sstream>

#include "nn/for_each_example.h"
#include "attribution/method.h"
#include "attribution/methods/feature_groups.h"

namespace integrad::attr {

namespace {

std::vector<int64_t> parse_list(const std::string& option, const std::string& text, size_t dims) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    int64_t v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size() || v < 1)
      throw std::invalid_argument(fmt::format("--{} takes positive whole numbers separated by commas; got '{}'", option, text));
    out.push_back(v);
  }
  if (out.size() == 1 && dims > 1) out.assign(dims, out[0]);  // one number: the same for every dim
  if (out.size() != dims)
    throw std::invalid_argument(fmt::format("--{} needs one entry per input dim (batch excluded), or one for all: {} here; got '{}'", option, dims, text));
  return out;
}

template <ad::Scalar T>
Attribution<T> run_occlusion(const MethodCall<T>& c) {
  const ad::Shape& shape = c.inputs.shape();
  const int rank = shape.rank() - 1;
  const std::vector<int64_t> window = parse_list("window", c.options.text("window"), size_t(rank));
  const std::vector<int64_t> stride = c.options.has("stride") ? parse_list("stride", c.options.text("stride"), size_t(rank)) : std::vector<int64_t>(size_t(rank), 1);
  std::vector<int64_t> dims(static_cast<size_t>(rank)), positions(static_cast<size_t>(rank)), pitch(static_cast<size_t>(rank));
  int64_t windows = 1;
  for (int d = rank - 1, p = 1; d >= 0; --d) {
    const size_t u = size_t(d);
    dims[u] = shape[d + 1];
    if (window[u] > dims[u]) throw std::invalid_argument(fmt::format("--window {} is larger than the input's dim {} ({})", window[u], d, dims[u]));
    positions[u] = (dims[u] - window[u] + stride[u] - 1) / stride[u] + 1;  // ceil((D − W) / S) + 1
    pitch[u] = p;
    p *= int(dims[u]);
    windows *= positions[u];
  }
  // The flat offsets (within a row) a window covers, window w numbered in row-major order.
  auto covered = [&](int64_t w) {
    std::vector<int64_t> lo(static_cast<size_t>(rank)), hi(static_cast<size_t>(rank));
    for (int d = rank - 1; d >= 0; --d) {
      const size_t u = size_t(d);
      const int64_t pos = w % positions[u];
      w /= positions[u];
      lo[u] = pos * stride[u];
      hi[u] = std::min(lo[u] + window[u], dims[u]);
    }
    std::vector<int64_t> offsets{0};
    for (int d = 0; d < rank; ++d) {
      std::vector<int64_t> next;
      for (int64_t o : offsets)
        for (int64_t i = lo[size_t(d)]; i < hi[size_t(d)]; ++i) next.push_back(o + i * pitch[size_t(d)]);
      offsets = std::move(next);
    }
    return offsets;
  };
  const ad::Tensor<T> base = c.baseline.expand(c.inputs);
  const std::vector<int64_t> targets = perturbation_targets(c);
  const int64_t n = shape[0], row = shape.stride(0);
  Attribution<T> a{.values = ad::Tensor<T>(shape)};
  nn::for_each_example(n, [&](int64_t i) {
    const T* b = base.data() + i * row;
    const double fx = evaluate_perturbations<T>(c, targets, i, 1, [](int64_t, std::span<T>) {})[0];
    const std::vector<double> f = evaluate_perturbations<T>(c, targets, i, windows, [&](int64_t w, std::span<T> r) {
      for (int64_t o : covered(w)) r[size_t(o)] = b[o];
    });
    std::vector<double> sum(static_cast<size_t>(row)), count(static_cast<size_t>(row));
    for (int64_t w = 0; w < windows; ++w)
      for (int64_t o : covered(w)) {
        sum[size_t(o)] += fx - f[size_t(w)];
        count[size_t(o)] += 1;
      }
    for (int64_t j = 0; j < row; ++j) a.values[i * row + j] = count[size_t(j)] > 0 ? T(sum[size_t(j)] / count[size_t(j)]) : T(0);
  });
  return a;
}

}  // namespace

template <ad::Scalar T>
Method<T> occlusion_method() {
  using K = OptionSpec::Kind;
  return {.name = "occlusion",
          .display_name = "Occlusion",
          .summary = "mean of F(x) − F(x with a sliding window set to the baseline) over the windows covering each element (Captum's Occlusion)",
          .uses_baseline = true,
          .options = {{.name = "window", .kind = K::text, .help = "window size per input dim, batch excluded, e.g. 1,4,4, or one for all (Captum's sliding_window_shapes)"},
                      {.name = "stride", .kind = K::text, .help = "step per input dim, or one for all (Captum's strides; default 1)"}},
          // Beside the other methods: window 1 along every dim (each scalar alone, as ablation).
          .matrix_rows = {{"occlusion", {{"window", "1"}}, {"dummy", "linearity", "symmetry"}}},
          .in_tables = at_most_features<T>(256),
          .run = [](const MethodCall<T>& c) {
            if (!c.options.has("window")) throw std::invalid_argument("occlusion needs --window W1,W2,... (one entry per input dim, batch excluded, or one for all)");
            return run_occlusion(c);
          }};
}

template Method<float> occlusion_method<float>();
template Method<double> occlusion_method<double>();

}  // namespace integrad::attr
