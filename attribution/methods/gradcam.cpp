// The registry entry of Grad-CAM (`--method gradcam`; Selvaraju et al. 2017, Captum's LayerGradCam
// with relu_attributions=True): at a layer A [C, h, w], the channel weights α_c are the spatial
// means of ∂F/∂A_c, the map is ReLU(Σ_c α_c A_c) [1, h, w] (--signed keeps the negative part),
// upsampled to the input's H, W as Captum's LayerAttribution.interpolate does (bilinear by default,
// align_corners=False). It is coarse by design (one value per h × w cell) and depends on the
// weights above the layer only through α, so it passes the model-randomisation check that guided
// backpropagation fails. No axiom holds by theory: not completeness (no baseline), not dummy (the
// bilinear upsampling spreads a cell into its neighbours).
#include "attribution/methods/gradcam.h"

#include "nn/for_each_example.h"
#include "nn/parts.h"
#include "autodiff/thread_tape.h"

#include <algorithm>
#include <cmath>
#include <vector>
#include <fmt/format.h>
#include <stdexcept>

namespace integrad::attr {

template <ad::Scalar T>
size_t gradcam_layer(const nn::Model<T>& model, const Options& options) {
  const std::vector<ad::Shape> shapes = model.output_shapes();
  if (options.has("layer")) {
    const size_t i = model.node_index(options.text("layer"));
    if (shapes[i].rank() != 3)
      throw std::invalid_argument(fmt::format("--layer {}: Grad-CAM needs a layer whose output is an image [C, h, w] per example; {} gives {}",
                                              options.text("layer"), model.node_name(i), shapes[i].str()));
    return i;
  }
  // Not a 1×1 "image": a ResNet's global average pool gives [C, 1, 1], whose map is one number per
  // example, upsampled to a constant; the default was that node on `--arch resnet`, and its sanity
  // curves measured nothing. Captum users pass the last convolutional block.
  for (size_t i = shapes.size(); i-- > 0;)
    if (shapes[i].rank() == 3 && shapes[i][1] * shapes[i][2] > 1) return i;
  throw std::invalid_argument("Grad-CAM needs a layer whose output is an image [C, h, w] per example, larger than 1x1; this model has none");
}

namespace {
// Examples per tape: at most this many, and about kPartValues recorded values a part (parts.h).
constexpr int64_t kRowsPerPart = 32, kPartValues = int64_t(1) << 20;

// Grad-CAM of rows [begin, end) on this thread's tape, written at those rows of `cam` and `f`.
template <ad::Scalar T>
void grad_cam_part(const nn::Model<T>& model, size_t layer, const ad::Tensor<T>& x, int64_t begin, int64_t end, const Target<T>& target,
                   std::span<const int64_t> targets, ad::Tensor<T>& cam, std::vector<double>& f_values) {
  ad::ThreadTape<T> thread_tape;  // a reused arena: a fresh tape per part page-faulted a fifth of the time
  ad::Tape<T>& tape = *thread_tape;
  const int64_t row = x.shape().stride(0);
  ad::Var<T> a;  // the layer's value, as a leaf whose gradient is ∂F/∂A
  // `only`: the hook acts on the layer alone, so the nodes below it still fuse (Conv2d with the
  // BatchNorm and ReLU after it).
  const ad::Var<T> out = model.forward(tape, tape.leaf(x.shape().with(0, end - begin), x.data() + begin * row), nn::Grads::none,
                                       {.after = [&](size_t i, ad::Var<T> value) {
                                          if (i != layer) return value;
                                          a = tape.leaf(value.tensor(), true);
                                          return a;
                                        },
                                        .only = layer});
  const auto part_targets = targets.empty() ? targets : targets.subspan(size_t(begin), size_t(end - begin));
  const ad::Var<T> f = select_target(out, target, part_targets);
  std::copy(f.value().begin(), f.value().end(), f_values.begin() + begin);
  tape.backward(ad::sum(f));
  const T* acts = a.value().data();
  const T* grads = tape.grad(a);
  const int64_t n = end - begin, channels = a.shape()[1], hw = a.shape()[2] * a.shape()[3];
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < channels; ++c) {
      const T* g = grads + (i * channels + c) * hw;
      const T* v = acts + (i * channels + c) * hw;
      T alpha = 0;
      for (int64_t p = 0; p < hw; ++p) alpha += g[p];
      alpha /= T(hw);
      T* m = cam.data() + (begin + i) * hw;
      for (int64_t p = 0; p < hw; ++p) m[p] += alpha * v[p];
    }
}
}  // namespace

template <ad::Scalar T>
ad::Tensor<T> grad_cam(const nn::Model<T>& model, size_t layer, const ad::Tensor<T>& x, const Target<T>& target, bool keep_sign,
                       std::vector<double>* f_input) {
  const Forward<T> forward = forward_of(model);
  const std::vector<int64_t> targets = resolve_targets(forward, x, target);
  const int64_t rows = nn::rows_per_part(forward.values_per_example, kPartValues, kRowsPerPart);
  const ad::Shape s = model.output_shapes()[layer];
  const int64_t n = x.size(0);
  ad::Tensor<T> cam(ad::Shape{n, 1, s[1], s[2]});
  std::vector<double> f_values(static_cast<size_t>(n));
  // Fixed parts shared among the threads, each on its own tape: no barrier per layer, and an
  // example's bits depend on neither the thread count nor the chunk (examples never mix in evaluation).
  const int64_t parts = (n + rows - 1) / rows;
  nn::for_each_example(parts, [&](int64_t p) {
    grad_cam_part(model, layer, x, p * rows, std::min(n, (p + 1) * rows), target, targets, cam, f_values);
  });
  if (f_input) *f_input = std::move(f_values);
  if (!keep_sign)
    for (int64_t k = 0; k < cam.numel(); ++k) cam[k] = std::max(cam[k], T(0));
  return cam;
}

Interpolation parse_interpolation(const std::string& name) {
  if (name == "nearest") return Interpolation::nearest;
  if (name == "bilinear") return Interpolation::bilinear;
  throw std::invalid_argument("--interpolate must be nearest or bilinear, not " + name);
}

namespace {
// PyTorch's nearest source index (UpSample.h, nearest_idx): exact for equal sizes and doubling,
// otherwise floor(i · scale) with the scale in float, as PyTorch computes it for any dtype.
int64_t nearest_source(int64_t i, int64_t in, int64_t out) {
  if (in == out) return i;
  if (out == 2 * in) return i >> 1;
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  return std::min(static_cast<int64_t>(std::floor(static_cast<float>(i) * scale)), in - 1);
}

// Bilinear, align_corners=False (UpSample.h, area_pixel_compute_source_index): the source
// coordinate (i + 0.5)·in/out − 0.5, clamped at 0; its two neighbours and weights.
struct Taps {
  int64_t i0, i1;
  double w0, w1;
};
Taps bilinear_taps(int64_t i, int64_t in, int64_t out) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double src = std::max((static_cast<double>(i) + 0.5) * scale - 0.5, 0.0);
  const auto i0 = static_cast<int64_t>(src);
  const int64_t i1 = i0 + (i0 < in - 1 ? 1 : 0);
  const double w1 = src - static_cast<double>(i0);
  return {i0, i1, 1.0 - w1, w1};
}
}  // namespace

template <ad::Scalar T>
ad::Tensor<T> interpolate(const ad::Tensor<T>& a, int64_t height, int64_t width, Interpolation mode) {
  const int64_t planes = a.size(0) * a.size(1), h = a.size(2), w = a.size(3);
  ad::Tensor<T> out(ad::Shape{a.size(0), a.size(1), height, width});
  // The taps of each output row and column once, not per pixel: worked out at every one of 10,000
  // maps' 784 pixels they were a fifth of Grad-CAM's time on the ResNet beyond its forward.
  std::vector<Taps> rows(static_cast<size_t>(height)), columns(static_cast<size_t>(width));
  for (int64_t y = 0; y < height; ++y)
    rows[size_t(y)] = mode == Interpolation::nearest ? Taps{nearest_source(y, h, height), 0, 1, 0} : bilinear_taps(y, h, height);
  for (int64_t x = 0; x < width; ++x)
    columns[size_t(x)] = mode == Interpolation::nearest ? Taps{nearest_source(x, w, width), 0, 1, 0} : bilinear_taps(x, w, width);
  // Maps in groups shared among threads; each output is computed alone, so the bits do not depend
  // on the thread count.
  constexpr int64_t kPlanesPerTask = 64;
  nn::for_each_example((planes + kPlanesPerTask - 1) / kPlanesPerTask, [&](int64_t task) {
    for (int64_t p = task * kPlanesPerTask; p < std::min(planes, (task + 1) * kPlanesPerTask); ++p) {
      const T* src = a.data() + p * h * w;
      T* dst = out.data() + p * height * width;
      for (int64_t y = 0; y < height; ++y)
        for (int64_t x = 0; x < width; ++x) {
          const Taps& ty = rows[size_t(y)];
          const Taps& tx = columns[size_t(x)];
          if (mode == Interpolation::nearest) {
            dst[y * width + x] = src[ty.i0 * w + tx.i0];
            continue;
          }
          // PyTorch's order: h0lambda·(w0lambda·v00 + w1lambda·v01) + h1lambda·(w0lambda·v10 + w1lambda·v11)
          dst[y * width + x] = T(ty.w0) * (T(tx.w0) * src[ty.i0 * w + tx.i0] + T(tx.w1) * src[ty.i0 * w + tx.i1]) +
                               T(ty.w1) * (T(tx.w0) * src[ty.i1 * w + tx.i0] + T(tx.w1) * src[ty.i1 * w + tx.i1]);
        }
    }
  });
  return out;
}

template <ad::Scalar T>
Method<T> gradcam_method() {
  using K = OptionSpec::Kind;
  Method<T> m{.name = "gradcam",
              .display_name = "Grad-CAM",
              .summary = "ReLU(Σ_c mean(∂F/∂A_c)·A_c) at layer --layer, upsampled to the input (Captum's LayerGradCam + interpolate)",
              .is_signed = false,
              .options = {{.name = "layer", .kind = K::text,
                           .help = "the layer A: its name (module path), or in a chain its 0-based index (default: the last layer whose output is an image larger than 1x1)"},
                          {.name = "signed", .kind = K::flag, .default_value = "false", .help = "keep the negative part (Captum's relu_attributions=False)"},
                          {.name = "interpolate", .kind = K::choice, .default_value = "bilinear",
                           .help = "upsampling to the input's height and width (torch's interpolate, align_corners=False)", .choices = {"bilinear", "nearest"}}}};
  // Tables compare maps with the inputs' shape: one image channel, as Grad-CAM's map has.
  m.in_tables = [](const nn::Model<T>& model) {
    if (model.input_shape.rank() != 3 || model.input_shape[0] != 1 || model.input_dtype == nn::InputDtype::int64) return false;
    for (const ad::Shape& s : model.output_shapes())
      if (s.rank() == 3) return true;
    return false;
  };
  m.run = [](const MethodCall<T>& c) {
    if (c.model.input_shape.rank() != 3 || c.model.input_dtype == nn::InputDtype::int64)
      throw std::invalid_argument(fmt::format("Grad-CAM needs image inputs [C, H, W], not {}", c.model.input_shape.str()));
    const bool keep_sign = c.options.flag("signed");
    Attribution<T> a{.is_signed = keep_sign};
    const ad::Tensor<T> cam = grad_cam(c.model, gradcam_layer(c.model, c.options), c.inputs, c.target, keep_sign, &a.f_input);
    a.values = interpolate(cam, c.inputs.size(2), c.inputs.size(3), parse_interpolation(c.options.text("interpolate")));
    return a;
  };
  return m;
}

template size_t gradcam_layer<float>(const nn::Model<float>&, const Options&);
template size_t gradcam_layer<double>(const nn::Model<double>&, const Options&);
template ad::Tensor<float> grad_cam<float>(const nn::Model<float>&, size_t, const ad::Tensor<float>&, const Target<float>&, bool, std::vector<double>*);
template ad::Tensor<double> grad_cam<double>(const nn::Model<double>&, size_t, const ad::Tensor<double>&, const Target<double>&, bool,
                                                  std::vector<double>*);
template ad::Tensor<float> interpolate<float>(const ad::Tensor<float>&, int64_t, int64_t, Interpolation);
template ad::Tensor<double> interpolate<double>(const ad::Tensor<double>&, int64_t, int64_t, Interpolation);
template Method<float> gradcam_method<float>();
template Method<double> gradcam_method<double>();

}  // namespace integrad::attr
