// conv2d then batch_norm_train as one op. Its values and gradients are those of the two ops in
// turn, bit for bit; what changes is when BatchNorm's dx exists. Composed, BatchNorm's backward
// writes dx for the whole batch (3.2 MB for a ResNet's first block at batch 64, more than a
// core's L2) and the convolution's backward reads it back as its dY. Fused, the convolution's
// backward asks for each image's dx as it reaches that image, and BatchNorm works it out then,
// into the thread's cache: one write and one read of the batch fewer per normalisation.
#include <functional>
#include <new>
#include <type_traits>
#include <vector>

#include "autodiff/batch_norm_kernels.h"
#include "autodiff/conv_kernels.h"
#include "autodiff/ops.h"

namespace integrad::ad {

namespace {
// The convolution's part of the backward, as BatchNorm's sink calls it.
template <Scalar T>
struct Convolution {
  ConvGeometry g;
  Var<T> x, weight, bias;
  static void backward(Tape<T>& t, const void* context, const std::function<const T*(int64_t)>& dy_of) {
    const auto& c = *static_cast<const Convolution*>(context);
    const auto [dx, fresh] = t.grad_slot(c.x);
    conv_rows_backward<T>(c.g, c.x.value().data(), c.weight.value().data(), nullptr, nullptr, nullptr, dx, fresh, t.grad_to(c.weight),
                          c.bias.valid() ? t.grad_to(c.bias) : nullptr, &dy_of);
  }
};
}  // namespace

template <Scalar T>
Var<T> conv2d_batch_norm_train(Var<T> x, Var<T> conv_weight, Var<T> conv_bias, int stride, int padding, Var<T> weight, Var<T> bias, T eps,
                               Tensor<T>& batch_mean, Tensor<T>& batch_var, bool then_relu, Var<T> residual) {
  const ConvGeometry g = conv_geometry(x.shape(), conv_weight.shape(), stride, padding);
  if (conv_bias.valid() && (conv_bias.rank() != 1 || conv_bias.shape()[0] != g.o))
    throw std::invalid_argument("conv2d: bias " + conv_bias.shape().str() + " does not match " + std::to_string(g.o) + " output channels");
  Tape<T>& tape = x.tape();
  // The convolution's output: a tape value with no gradient of its own (BatchNorm's sink takes it).
  // BatchNorm's statistics per (image, channel) as each image comes out of the GEMM, in cache.
  Var<T> convolved = tape.make(Shape{g.n, g.o, g.ho, g.wo}, false);
  std::vector<PlaneMoments> moments(size_t(g.n * g.o));
  const std::function<void(int64_t, const T*)> measure = [&moments, &g](int64_t image, const T* y) {
    for (int64_t oc = 0; oc < g.o; ++oc) moments[size_t(image * g.o + oc)] = plane_moments(y + oc * g.pixels(), g.pixels());
  };
  conv_rows_forward(g, x.value().data(), conv_weight.value().data(), conv_bias.valid() ? conv_bias.value().data() : nullptr, ConvOutput{},
                    tape.write(convolved), &measure);
  InputGradientSink<T> sink;
  if (x.requires_grad() || conv_weight.requires_grad() || (conv_bias.valid() && conv_bias.requires_grad())) {
    static_assert(std::is_trivially_destructible_v<Convolution<T>>, "kept in the tape's arena");
    auto* context = new (tape.template scratch<Convolution<T>>(1)) Convolution<T>{g, x, conv_weight, conv_bias};
    sink = {&Convolution<T>::backward, context};
  }
  return batch_norm_train_with(convolved, weight, bias, eps, batch_mean, batch_var, then_relu, residual, moments.data(), sink);
}

#define INTEGRAD_INSTANTIATE(T)                                                                                                                  \
  template Var<T> conv2d_batch_norm_train(Var<T>, Var<T>, Var<T>, int, int, Var<T>, Var<T>, T, Tensor<T>&, Tensor<T>&, bool, Var<T>);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)
#undef INTEGRAD_INSTANTIATE

}  // namespace integrad::ad
