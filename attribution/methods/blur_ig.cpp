#include "attribution/methods/blur_ig.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "nn/for_each_example.h"
#include "attribution/method.h"
#include "attribution/methods/gradients.h"

namespace integrad::attr {

namespace {

// scipy.ndimage's _gaussian_kernel1d: exp(−x² / 2σ²) over x = −r..r, divided by its sum.
std::vector<double> gaussian_kernel(double sigma, int64_t radius) {
  std::vector<double> w(size_t(2 * radius + 1));
  const double scale = -0.5 / (sigma * sigma);
  double sum = 0;
  for (int64_t k = -radius; k <= radius; ++k) sum += w[size_t(k + radius)] = std::exp(scale * double(k * k));
  for (double& v : w) v /= sum;
  return w;
}

// One pass of scipy's correlate1d with a symmetric kernel and zeros outside: along a line of
// `length` values `step` apart, out[i] = w₀·in[i] + Σ_k w_k·(in[i − k] + in[i + k]), summed as
// scipy sums (the centre, then the pairs outward). Pairs with both taps outside add exactly 0,
// so they are skipped: a kernel far wider than the image (σ 50 on 28 pixels) costs the image's width.
void blur_line(const double* in, double* out, int64_t length, int64_t step, const std::vector<double>& w, int64_t radius) {
  const double* centre = w.data() + radius;
  for (int64_t i = 0; i < length; ++i) {
    double s = in[i * step] * centre[0];
    const int64_t reach = std::min(radius, std::max(i, length - 1 - i));
    for (int64_t k = 1; k <= reach; ++k) {
      const double left = i - k >= 0 ? in[(i - k) * step] : 0.0, right = i + k < length ? in[(i + k) * step] : 0.0;
      s += (left + right) * centre[k];
    }
    out[i * step] = s;
  }
}

}  // namespace

template <ad::Scalar T>
ad::Tensor<double> gaussian_blur(const ad::Tensor<T>& images, double sigma) {
  if (images.rank() != 4) throw std::invalid_argument("gaussian blur needs images [N, C, H, W], got " + images.shape().str());
  if (!(sigma >= 0) || !std::isfinite(sigma)) throw std::invalid_argument(fmt::format("gaussian blur: sigma must be finite and >= 0, got {}", sigma));
  ad::Tensor<double> out(images.shape());
  for (int64_t i = 0; i < images.numel(); ++i) out[i] = double(images[i]);
  if (sigma == 0) return out;
  const int64_t radius = static_cast<int64_t>(4.0 * sigma + 0.5);
  const std::vector<double> w = gaussian_kernel(sigma, radius);
  const int64_t h = images.size(2), wd = images.size(3), planes = images.size(0) * images.size(1);
  std::vector<double> tmp(size_t(h * wd));
  for (int64_t p = 0; p < planes; ++p) {
    double* plane = out.data() + p * h * wd;
    for (int64_t c = 0; c < wd; ++c) blur_line(plane + c, tmp.data() + c, h, wd, w, radius);    // scipy's axis 0
    for (int64_t r = 0; r < h; ++r) blur_line(tmp.data() + r * wd, plane + r * wd, wd, 1, w, radius);  // axis 1
  }
  return out;
}

template <ad::Scalar T>
ad::Tensor<T> blur_integrated_gradients(const Forward<T>& f, const ad::Tensor<T>& x, const Target<T>& target, std::span<const int64_t> targets,
                                        const BlurIgOptions& o) {
  if (x.rank() != 4) throw std::invalid_argument("blur-ig blurs images: the inputs must be [N, C, H, W], got " + x.shape().str());
  if (o.steps < 1) throw std::invalid_argument("blur-ig: --steps must be at least 1");
  if (!(o.max_sigma > 0) || !(o.grad_step > 0)) throw std::invalid_argument("blur-ig: --max-sigma and --grad-step must be > 0");
  const int64_t n = x.size(0), row = x.shape().stride(0), steps = o.steps;
  std::vector<double> sigma(size_t(steps + 1));
  for (int64_t k = 0; k <= steps; ++k) sigma[size_t(k)] = double(k) * o.max_sigma / double(steps);  // PAIR's float(i)*max_sigma/float(steps)
  ad::Tensor<double> total(x.shape());
  // Path points example-major (point p: example p / steps, step p % steps), a pass at a time.
  const int64_t points = n * steps, pass = std::max<int64_t>(1, o.batch_size);
  for (int64_t begin = 0; begin < points; begin += pass) {
    const int64_t end = std::min(points, begin + pass), rows = end - begin;
    ad::Tensor<T> at(x.shape().with(0, rows));
    ad::Tensor<double> direction(x.shape().with(0, rows));  // ∂x/∂σ, PAIR's gaussian_gradient
    std::vector<int64_t> row_targets;
    for (int64_t p = begin; p < end; ++p)
      if (!targets.empty()) row_targets.push_back(targets[size_t(p / steps)]);
    nn::for_each_example(rows, [&](int64_t r) {
      const int64_t p = begin + r, i = p / steps, k = p % steps;
      const ad::Tensor<T> image = x.rows(i, i + 1);
      const ad::Tensor<double> blurred = gaussian_blur(image, sigma[size_t(k)]), further = gaussian_blur(image, sigma[size_t(k)] + o.grad_step);
      for (int64_t j = 0; j < row; ++j) {
        at[r * row + j] = static_cast<T>(blurred[j]);
        direction[r * row + j] = (further[j] - blurred[j]) / o.grad_step;
      }
    });
    const GradientsAndValues<T> g = gradients_and_values(f, at, target, row_targets);
    // In path order per example, as PAIR adds its steps (passes never reorder an example's steps).
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t p = begin + r, i = p / steps, k = p % steps;
      const double dsigma = sigma[size_t(k + 1)] - sigma[size_t(k)];
      for (int64_t j = 0; j < row; ++j) total[i * row + j] += dsigma * (direction[r * row + j] * double(g.gradients[r * row + j]));
    }
  }
  ad::Tensor<T> out(x.shape());
  for (int64_t j = 0; j < out.numel(); ++j) out[j] = static_cast<T>(-total[j]);
  return out;
}

// The registry entry. The blurred image is the baseline (--baseline is refused), and --deltas
// measures Σ A − (F(x) − F(blur(x, max_sigma))).
template <ad::Scalar T>
Method<T> blur_ig_method() {
  using K = OptionSpec::Kind;
  Method<T> m{.name = "blur-ig",
              .display_name = "Blur IG",
              .summary = "integrated gradients along a path of ever stronger Gaussian blur, to x blurred by --max-sigma (PAIR saliency's BlurIG)",
              .has_delta = true,
              // ∂F/∂x alone decides it, along a path that F does not choose.
              .guarantees = {"dummy", "implementation_invariance", "linearity"}};
  m.options = {
      {.name = "max-sigma", .kind = K::real, .default_value = "50", .help = "the blur at the path's end, in pixels (PAIR's max_sigma)", .min = 1e-6, .max = 1e6},
      {.name = "steps", .kind = K::integer, .default_value = "100", .help = "Riemann steps along the blur path (PAIR's steps)", .min = 1, .max = 1e6},
      {.name = "grad-step", .kind = K::real, .default_value = "0.01", .help = "σ step of the forward difference ∂x/∂σ (PAIR's grad_step)", .min = 1e-9, .max = 1e3},
  };
  m.matrix_rows = {{"blur-ig", {{"steps", "20"}}, m.guarantees}};
  m.in_tables = [](const nn::Model<T>& model) { return model.input_shape.rank() == 3 && model.input_dtype != nn::InputDtype::int64; };
  m.run = [](const MethodCall<T>& c) {
    BlurIgOptions o{.max_sigma = c.options.real("max-sigma"), .steps = static_cast<int>(c.options.integer("steps")), .grad_step = c.options.real("grad-step"),
                    .batch_size = c.options.integer("batch-size")};
    const Forward<T> f = forward_of(c.model);
    Attribution<T> a;
    a.targets = resolve_targets(f, c.inputs, c.target);
    a.values = blur_integrated_gradients(f, c.inputs, c.target, a.targets, o);
    a.f_input = target_values(f, c.inputs, c.target, a.targets);
    const ad::Tensor<double> blurred = gaussian_blur(c.inputs, o.max_sigma);
    ad::Tensor<T> end(c.inputs.shape());
    for (int64_t j = 0; j < end.numel(); ++j) end[j] = static_cast<T>(blurred[j]);
    a.f_baseline = target_values(f, end, c.target, a.targets);
    a.deltas = ad::row_sums(a.values);
    for (size_t i = 0; i < a.deltas.size(); ++i) a.deltas[i] -= a.f_input[i] - a.f_baseline[i];
    return a;
  };
  return m;
}

#define INTEGRAD_INSTANTIATE(T)                                                                                                         \
  template ad::Tensor<double> gaussian_blur(const ad::Tensor<T>&, double);                                                              \
  template ad::Tensor<T> blur_integrated_gradients(const Forward<T>&, const ad::Tensor<T>&, const Target<T>&, std::span<const int64_t>, \
                                                   const BlurIgOptions&);                                                               \
  template Method<T> blur_ig_method<T>();
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)
#undef INTEGRAD_INSTANTIATE

}  // namespace integrad::attr
