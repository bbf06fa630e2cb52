#include "attribution/methods/contrast_methods.h"

#include <cmath>
#include <stdexcept>

#include "attribution/method.h"
#include "nn/layers_activation.h"

namespace integrad::attr {

namespace {

// The nodes each method replaces, resolved once per model: DeepLift's rescale rule takes the secant
// of every element-wise nonlinearity; guided backprop and deconvolution replace the ReLUs.
template <ad::Scalar T, class Pick>
std::vector<bool> nodes_where(const nn::Model<T>& model, Pick&& pick) {
  std::vector<bool> out;
  for (const auto& layer : model.layers) out.push_back(pick(*layer));
  return out;
}

template <ad::Scalar T>
bool elementwise_nonlinearity(const nn::Layer<T>& l) {
  return nn::layer_is<nn::ReLU<T>>(l) || nn::layer_is<nn::Sigmoid<T>>(l) || nn::layer_is<nn::Tanh<T>>(l);
}

// The gradient of the target with respect to x through `surrogate`, a forward with some layers
// replaced.
template <ad::Scalar T, class Surrogate>
ad::Tensor<T> surrogate_gradient(const ad::Tensor<T>& x, const Target<T>& target, const std::vector<int64_t>& targets, Surrogate&& surrogate) {
  ad::Tape<T> tape;
  ad::Var<T> input = tape.leaf(x, true);
  tape.backward(ad::sum(select_target(surrogate(tape, input), target, targets)));
  return input.grad_tensor();
}

}  // namespace

template <ad::Scalar T>
ad::Tensor<T> deeplift_rescale(const nn::Model<T>& model, const ad::Tensor<T>& x, const ad::Tensor<T>& baseline, const Target<T>& target) {
  const std::vector<int64_t> targets = resolve_targets(forward_of(model), x, target);
  // What every element-wise nonlinearity reads, at x and at the baseline.
  const size_t n = model.layers.size();
  const std::vector<bool> is_nonlinear = nodes_where(model, elementwise_nonlinearity<T>);
  auto nonlinear = [&](size_t i) { return bool(is_nonlinear[i]); };
  auto pre_activations = [&](const ad::Tensor<T>& input) {
    std::vector<ad::Tensor<T>> pre(n);
    ad::Tape<T> tape;
    model.forward(tape, tape.leaf(input), nn::Grads::none, {.instead = [&](size_t i, std::span<const ad::Var<T>> reads) {
                    if (nonlinear(i)) pre[i] = reads[0].tensor();
                    return ad::Var<T>();
                  }});
    return pre;
  };
  const std::vector<ad::Tensor<T>> pre_x = pre_activations(x), pre_b = pre_activations(baseline);
  std::vector<ad::Tensor<T>> slopes(n);
  for (size_t i = 0; i < n; ++i) {
    if (!nonlinear(i)) continue;
    const auto& layer = *model.layers[i];
    ad::Tape<T> values;
    const ad::Var<T> nx = layer.forward(values, values.leaf(pre_x[i]), nn::Grads::none), nb = layer.forward(values, values.leaf(pre_b[i]), nn::Grads::none);
    ad::Tensor<T> s(pre_x[i].shape());
    ad::Tape<T> local;
    for (int64_t j = 0; j < s.numel(); ++j) {
      const T z = pre_x[i][j], zb = pre_b[i][j], dz = z - zb;
      if (std::abs(dz) > T(1e-7) * (T(1) + std::abs(z))) {
        s[j] = (nx.value()[size_t(j)] - nb.value()[size_t(j)]) / dz;
      } else {  // the secant becomes the tangent
        ad::Var<T> v = local.leaf(ad::Tensor<T>(ad::Shape{1}, z), true);
        local.backward(ad::sum(layer.forward(local, v, nn::Grads::none)));
        s[j] = v.grad()[0];
        local.rewind();
      }
    }
    slopes[i] = std::move(s);
  }
  ad::Tensor<T> m = surrogate_gradient(x, target, targets, [&](ad::Tape<T>& tape, ad::Var<T> h) {
    return model.forward(tape, h, nn::Grads::none, {.instead = [&](size_t i, std::span<const ad::Var<T>> reads) {
                           return nonlinear(i) ? reads[0] * tape.leaf(slopes[i]) : ad::Var<T>();
                         }});
  });
  for (int64_t j = 0; j < m.numel(); ++j) m[j] *= x[j] - baseline[j];
  return m;
}

namespace {
// ReLU whose backward is replaced: guided backprop passes only positive gradients where its input
// was positive (Captum: relu of the ReLU's own input gradient); deconvolution passes the positive
// part of the gradient regardless of the input (Captum: relu of the output gradient).
template <ad::Scalar T>
ad::Var<T> modified_relu(ad::Var<T> a, ReluBackward rule) {
  ad::Tape<T>& tape = a.tape();
  ad::Var<T> out = tape.make(a.shape(), a.requires_grad());
  T* y = tape.write(out);
  for (int64_t i = 0; i < a.numel(); ++i) y[i] = std::max(a.value()[size_t(i)], T(0));
  if (out.requires_grad())
    tape.on_backward(out, [a, out, rule](ad::Tape<T>& t) {
      const T* g = t.grad(out);
      T* gx = t.grad_to(a);
      for (int64_t i = 0; i < a.numel(); ++i)
        gx[i] += (g[i] > 0 && (rule == ReluBackward::deconvolution || a.value()[size_t(i)] > 0)) ? g[i] : T(0);
    });
  return out;
}
}  // namespace

template <ad::Scalar T>
ad::Tensor<T> modified_relu_gradient(const nn::Model<T>& model, const ad::Tensor<T>& x, const Target<T>& target, ReluBackward rule) {
  const std::vector<int64_t> targets = resolve_targets(forward_of(model), x, target);
  const std::vector<bool> relu = nodes_where(model, nn::layer_is<nn::ReLU<T>, T>);
  return surrogate_gradient(x, target, targets, [&](ad::Tape<T>& tape, ad::Var<T> h) {
    return model.forward(tape, h, nn::Grads::none, {.instead = [&](size_t i, std::span<const ad::Var<T>> reads) {
                           return relu[i] ? modified_relu(reads[0], rule) : ad::Var<T>();
                         }});
  });
}

template <ad::Scalar T>
ad::Tensor<T> guided_backprop(const nn::Model<T>& model, const ad::Tensor<T>& x, const Target<T>& target) {
  return modified_relu_gradient(model, x, target, ReluBackward::guided);
}

template ad::Tensor<float> deeplift_rescale<float>(const nn::Model<float>&, const ad::Tensor<float>&, const ad::Tensor<float>&, const Target<float>&);
template ad::Tensor<double> deeplift_rescale<double>(const nn::Model<double>&, const ad::Tensor<double>&, const ad::Tensor<double>&,
                                                     const Target<double>&);
template ad::Tensor<float> modified_relu_gradient<float>(const nn::Model<float>&, const ad::Tensor<float>&, const Target<float>&, ReluBackward);
template ad::Tensor<double> modified_relu_gradient<double>(const nn::Model<double>&, const ad::Tensor<double>&, const Target<double>&, ReluBackward);
template ad::Tensor<float> guided_backprop<float>(const nn::Model<float>&, const ad::Tensor<float>&, const Target<float>&);
template ad::Tensor<double> guided_backprop<double>(const nn::Model<double>&, const ad::Tensor<double>&, const Target<double>&);

// The registry entries: contrasts for the axiom matrix (not in the report's pictures).
template <ad::Scalar T>
Method<T> deeplift_method() {
  Method<T> m{.name = "deeplift",
              .display_name = "DeepLift",
              .summary = "DeepLift, rescale rule: secant slopes instead of derivatives (complete, not implementation invariant)",
              .uses_baseline = true,
              .has_delta = true,
              .contrast = true,
              // From the zero reference of a bias-free ReLU network every reference activation is
              // 0, so each ReLU's secant slope is its derivative and max-pooling's winner takes the
              // whole difference: DeepLift is gradient × input there, Σ A = F(x) (Euler's theorem).
              .conserves_without_bias = true};
  m.run = [](const MethodCall<T>& c) { return Attribution<T>{.values = deeplift_rescale(c.model, c.inputs, c.baseline.expand(c.inputs), c.target)}; };
  return m;
}

template <ad::Scalar T>
Method<T> guided_backprop_method() {
  Method<T> m{.name = "guided_backprop",
              .display_name = "Guided Backprop",
              .summary = "the gradient with only positive signals passed back through ReLUs (fails sensitivity)",
              .contrast = true};
  m.run = [](const MethodCall<T>& c) { return Attribution<T>{.values = guided_backprop(c.model, c.inputs, c.target)}; };
  return m;
}

template Method<float> deeplift_method<float>();
template Method<double> deeplift_method<double>();
template Method<float> guided_backprop_method<float>();
template Method<double> guided_backprop_method<double>();

}  // namespace integrad::attr
