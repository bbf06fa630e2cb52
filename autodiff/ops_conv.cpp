// conv2d: checks shapes, computes the output and records the backward by the padded-row
// unfolding of conv_rows.cpp (conv_kernels.h), any stride: the forward is one GEMM per image
// reading its patches where they lie in the padded image (in phase planes for stride > 1), the
// backward another per image for dX (or the adjoint convolution) and one per group of images for
// dW. The classic whole-batch im2col, which served stride > 1 before, is gone.
// conv_naive.h holds the direct-loop reference the tests compare with.
#include "autodiff/conv_kernels.h"
#include "autodiff/ops.h"

namespace integrad::ad {

ConvGeometry conv_geometry(const Shape& x, const Shape& w, int stride, int padding) {
  if (x.rank() != 4 || w.rank() != 4 || x[1] != w[1])
    throw std::invalid_argument("conv2d: input " + x.str() + " and weight " + w.str() + " do not fit ([N, C, H, W] and [O, C, kh, kw])");
  if (stride < 1 || padding < 0) throw std::invalid_argument("conv2d: stride must be >= 1 and padding >= 0");
  ConvGeometry g{x[0], x[1], x[2], x[3], w[0], w[2], w[3], 0, 0, stride, padding};
  if (g.h + 2 * padding < g.kh || g.w + 2 * padding < g.kw)
    throw std::invalid_argument("conv2d: kernel " + w.str() + " larger than padded input " + x.str());
  g.ho = (g.h + 2 * padding - g.kh) / stride + 1;
  g.wo = (g.w + 2 * padding - g.kw) / stride + 1;
  // Unfolded, the patches take patch·N·Ho·Wo values (a group of images' at a time, conv_rows.cpp):
  // refuse what no memory holds rather than die.
  if (double(g.patch()) * double(g.n * g.ho * g.wo) > double(int64_t(1) << 31))
    throw std::invalid_argument("conv2d: input " + x.str() + " with weight " + w.str() + " would unfold to more than 2^31 values");
  return g;
}

namespace {

// Both directions in conv_rows.cpp, optionally with a ReLU (and, stride 1, a 2×2 max pooling after
// it) fused in. A pooled forward keeps each window's winner for the backward.
template <Scalar T>
void conv2d_rows(const ConvGeometry& g, Var<T> x, Var<T> weight, Var<T> bias, ConvOutput how, Var<T> out) {
  Tape<T>& tape = x.tape();
  if (how.pool && out.requires_grad()) how.winners = tape.template scratch<int32_t>(static_cast<size_t>(out.numel()));
  conv_rows_forward(g, x.value().data(), weight.value().data(), bias.valid() ? bias.value().data() : nullptr, how, tape.write(out));
  if (out.requires_grad())
    tape.on_backward(out, [x, weight, bias, how, out, g](Tape<T>& t) {
      const auto [dx, fresh] = t.grad_slot(x);
      conv_rows_backward(g, x.value().data(), weight.value().data(), t.grad(out), how.relu ? out.value().data() : nullptr, how.winners, dx, fresh,
                         t.grad_to(weight), bias.valid() ? t.grad_to(bias) : nullptr);
    });
}

// conv2d, conv2d_relu or conv2d_relu_max_pool2d: checks the shapes, then runs the rows kernel with
// the ReLU fused, and with stride 1 the pooling too (stride > 1 pools as an op after it).
template <Scalar T>
Var<T> convolve(Var<T> x, Var<T> weight, Var<T> bias, int stride, int padding, bool relu, bool pool) {
  const ConvGeometry g = conv_geometry(x.shape(), weight.shape(), stride, padding);
  if (bias.valid() && (bias.rank() != 1 || bias.shape()[0] != g.o))
    throw std::invalid_argument("conv2d: bias " + bias.shape().str() + " does not match " + std::to_string(g.o) + " output channels");
  const bool needs_grad = x.requires_grad() || weight.requires_grad() || (bias.valid() && bias.requires_grad());
  if (stride != 1 && pool) {  // the fused pooling reads rows of stride 1's layout: pool after
    Var<T> out = x.tape().make(Shape{g.n, g.o, g.ho, g.wo}, needs_grad);
    conv2d_rows(g, x, weight, bias, ConvOutput{.relu = relu}, out);
    return max_pool2d(out, 2, 2);
  }
  if (pool && (g.ho < 2 || g.wo < 2))
    throw std::invalid_argument("max_pool2d: kernel 2 larger than input " + Shape{g.n, g.o, g.ho, g.wo}.str());
  Var<T> out = x.tape().make(pool ? Shape{g.n, g.o, g.ho / 2, g.wo / 2} : Shape{g.n, g.o, g.ho, g.wo}, needs_grad);
  conv2d_rows(g, x, weight, bias, ConvOutput{.relu = relu, .pool = pool}, out);
  return out;
}

}  // namespace

template <Scalar T>
Var<T> conv2d(Var<T> x, Var<T> weight, Var<T> bias, int stride, int padding) {
  return convolve(x, weight, bias, stride, padding, false, false);
}

template <Scalar T>
Var<T> conv2d_relu(Var<T> x, Var<T> weight, Var<T> bias, int stride, int padding) {
  return convolve(x, weight, bias, stride, padding, true, false);
}

template <Scalar T>
Var<T> conv2d_relu_max_pool2d(Var<T> x, Var<T> weight, Var<T> bias, int stride, int padding) {
  return convolve(x, weight, bias, stride, padding, true, true);
}

template Var<float> conv2d(Var<float>, Var<float>, Var<float>, int, int);
template Var<double> conv2d(Var<double>, Var<double>, Var<double>, int, int);
template Var<float> conv2d_relu(Var<float>, Var<float>, Var<float>, int, int);
template Var<double> conv2d_relu(Var<double>, Var<double>, Var<double>, int, int);
template Var<float> conv2d_relu_max_pool2d(Var<float>, Var<float>, Var<float>, int, int);
template Var<double> conv2d_relu_max_pool2d(Var<double>, Var<double>, Var<double>, int, int);

}  // namespace integrad::ad
