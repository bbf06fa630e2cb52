// Every op in ops.h, checked against central finite differences in double.
#include <doctest/doctest.h>

#include <cstring>
#include <limits>

#include "autodiff/add_relu.h"
#include "autodiff/gradcheck.h"

using namespace integrad::ad;
using V = Var<double>;
using Inputs = const std::vector<V>&;

namespace {
Tensor<double> random(Shape shape, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Rng rng(seed);
  return Tensor<double>::uniform(shape, rng, lo, hi);
}
void expect_gradcheck(const GradcheckFn& fn, std::vector<Tensor<double>> inputs) {
  GradcheckResult r = gradcheck(fn, std::move(inputs));
  INFO(r.message);
  CHECK(r.ok);
}
}  // namespace

TEST_CASE("gradcheck: broadcasting binary ops over each axis") {
  const std::vector<std::pair<Shape, Shape>> pairs = {
      {Shape{2, 3, 4}, Shape{2, 3, 4}}, {Shape{2, 3, 4}, Shape{3, 1}}, {Shape{2, 3, 4}, Shape{1, 4}},
      {Shape{2, 3, 4}, Shape{2, 1, 4}}, {Shape{2, 3, 4}, Shape{}},     {Shape{4}, Shape{2, 3, 4}},
      {Shape{3, 1}, Shape{1, 5}}};
  for (const auto& pair : pairs) {
    const Shape &sa = pair.first, &sb = pair.second;  // not a structured binding: clang 14 cannot capture one
    CAPTURE(sa.str());
    CAPTURE(sb.str());
    expect_gradcheck([](auto&, Inputs v) { return v[0] + v[1]; }, {random(sa, 1), random(sb, 2)});
    expect_gradcheck([](auto&, Inputs v) { return v[0] - v[1]; }, {random(sa, 3), random(sb, 4)});
    expect_gradcheck([](auto&, Inputs v) { return v[0] * v[1]; }, {random(sa, 5), random(sb, 6)});
    expect_gradcheck([](auto&, Inputs v) { return v[0] / v[1]; }, {random(sa, 7), random(sb, 8, 0.5, 2.0)});
  }
}

TEST_CASE("gradcheck: unary and scalar ops") {
  const Tensor<double> x = random(Shape{3, 5}, 11), positive = random(Shape{3, 5}, 12, 0.2, 3.0);
  expect_gradcheck([](auto&, Inputs v) { return -v[0]; }, {x});
  expect_gradcheck([](auto&, Inputs v) { return v[0] + 2.5; }, {x});
  expect_gradcheck([](auto&, Inputs v) { return 3.0 - v[0]; }, {x});
  expect_gradcheck([](auto&, Inputs v) { return v[0] * -1.5; }, {x});
  expect_gradcheck([](auto&, Inputs v) { return v[0] / 4.0; }, {x});
  expect_gradcheck([](auto&, Inputs v) { return pow(v[0], 2.7); }, {positive});
  expect_gradcheck([](auto&, Inputs v) { return exp(v[0]); }, {x});
  expect_gradcheck([](auto&, Inputs v) { return log(v[0]); }, {positive});
  expect_gradcheck([](auto&, Inputs v) { return sqrt(v[0]); }, {positive});
  expect_gradcheck([](auto&, Inputs v) { return erf(v[0] * 1.5); }, {x});  // ONNX Erf
  expect_gradcheck([](auto&, Inputs v) { return relu(v[0]); }, {x});  // uniform draws are never exactly 0
  expect_gradcheck([](auto&, Inputs v) { return sigmoid(v[0] * 4.0); }, {x});
  expect_gradcheck([](auto&, Inputs v) { return tanh(v[0] * 2.0); }, {x});
  expect_gradcheck([](auto&, Inputs v) { return softplus(v[0] * 10.0); }, {x});
}

TEST_CASE("gradcheck: shape ops") {
  const Tensor<double> x = random(Shape{2, 3, 4}, 21);
  expect_gradcheck([](auto&, Inputs v) { return reshape(v[0], Shape{4, 6}) * reshape(v[0], Shape{4, 6}); }, {x});
  expect_gradcheck([](auto&, Inputs v) { return transpose(v[0], 0, 2); }, {x});
  expect_gradcheck([](auto&, Inputs v) { return transpose(v[0], -1, 1); }, {x});
  expect_gradcheck([](auto&, Inputs v) {
    const int dims[] = {1, 2, 0};
    return permute(v[0], dims);
  }, {x});
  for (int dim : {0, 1, 2}) {
    CAPTURE(dim);
    expect_gradcheck([dim](auto&, Inputs v) { return slice(v[0], dim, 1, 2); }, {x});
    expect_gradcheck([dim](auto&, Inputs v) {
      const V parts[] = {v[0], v[0] * v[0], exp(v[0])};
      return concat<double>(parts, dim);
    }, {x});
  }
  expect_gradcheck([](auto&, Inputs v) {
    const V parts[] = {v[0], v[1]};  // different sizes along dim 1
    return concat<double>(parts, 1);
  }, {random(Shape{2, 3}, 22), random(Shape{2, 5}, 23)});
}

TEST_CASE("gradcheck: reductions, softmax and log-softmax") {
  const Tensor<double> x = random(Shape{2, 3, 4}, 31);
  expect_gradcheck([](auto&, Inputs v) { return sum(v[0] * v[0]); }, {x});
  expect_gradcheck([](auto&, Inputs v) { return mean(v[0] * v[0]); }, {x});
  expect_gradcheck([](auto&, Inputs v) { return max(v[0]); }, {x});
  for (int dim : {0, 1, 2, -1})
    for (bool keepdim : {false, true}) {
      CAPTURE(dim);
      CAPTURE(keepdim);
      expect_gradcheck([=](auto&, Inputs v) { return sum(v[0], dim, keepdim); }, {x});
      expect_gradcheck([=](auto&, Inputs v) { return mean(v[0], dim, keepdim); }, {x});
      expect_gradcheck([=](auto&, Inputs v) { return max(v[0], dim, keepdim); }, {x});
    }
  for (int dim : {0, -1}) {
    expect_gradcheck([=](auto&, Inputs v) { return softmax(v[0], dim); }, {x});
    expect_gradcheck([=](auto&, Inputs v) { return log_softmax(v[0], dim); }, {x});
  }
}

TEST_CASE("gradcheck: matmul with every transpose flag, batched and shared operands") {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      CAPTURE(ta);
      CAPTURE(tb);
      Shape sa = ta ? Shape{4, 3} : Shape{3, 4}, sb = tb ? Shape{5, 4} : Shape{4, 5};
      expect_gradcheck([=](auto&, Inputs v) { return matmul(v[0], v[1], ta, tb); }, {random(sa, 41), random(sb, 42)});
      Shape ba = ta ? Shape{2, 4, 3} : Shape{2, 3, 4}, bb = tb ? Shape{2, 5, 4} : Shape{2, 4, 5};
      expect_gradcheck([=](auto&, Inputs v) { return matmul(v[0], v[1], ta, tb); }, {random(ba, 43), random(bb, 44)});
      expect_gradcheck([=](auto&, Inputs v) { return matmul(v[0], v[1], ta, tb); }, {random(ba, 45), random(sb, 46)});
      expect_gradcheck([=](auto&, Inputs v) { return matmul(v[0], v[1], ta, tb); }, {random(sa, 47), random(bb, 48)});
    }
}

TEST_CASE("gradcheck: index_select and embedding scatter-add repeated indices") {
  const std::vector<int64_t> idx = {2, 0, 2, 1};
  expect_gradcheck([&](auto&, Inputs v) { return index_select(v[0], 0, idx); }, {random(Shape{3, 4}, 51)});
  expect_gradcheck([&](auto&, Inputs v) { return index_select(v[0], 1, idx); }, {random(Shape{2, 3, 2}, 52)});
  const std::vector<int64_t> ids = {1, 4, 1, 0, 4, 4};
  expect_gradcheck([&](auto&, Inputs v) { return embedding(v[0], ids, Shape{2, 3}); }, {random(Shape{5, 3}, 53)});
}

TEST_CASE("gradcheck: conv2d over strides, paddings, with and without bias") {
  for (int stride : {1, 2})
    for (int padding : {0, 1, 2})
      for (bool bias : {false, true}) {
        CAPTURE(stride);
        CAPTURE(padding);
        CAPTURE(bias);
        expect_gradcheck([=](auto&, Inputs v) { return conv2d(v[0], v[1], bias ? v[2] : V(), stride, padding); },
                         {random(Shape{2, 2, 5, 6}, 61), random(Shape{3, 2, 3, 2}, 62), random(Shape{3}, 63)});
      }
}

TEST_CASE("gradcheck: conv2d with 8 input channels, whose dX is the adjoint convolution") {
  // C ≥ 8 takes the flipped-weight convolution of the padded dY for dX (conv_rows.cpp): square
  // kernels 2, 3 and 5 with every padding it allows (kh − 1 − padding ≥ 0), and 3 × 2, which it
  // leaves to col2im.
  const int shapes[][3] = {{2, 2, 0}, {2, 2, 1}, {3, 3, 0}, {3, 3, 1}, {3, 3, 2}, {5, 5, 2}, {5, 5, 4}, {3, 2, 1}};
  for (const auto& shape : shapes) {
    // Named copies, not a structured binding: clang 14 cannot capture one in a lambda.
    const int kh = shape[0], kw = shape[1], padding = shape[2];
    CAPTURE(kh);
    CAPTURE(padding);
    expect_gradcheck([=](auto&, Inputs v) { return conv2d(v[0], v[1], v[2], 1, padding); },
                     {random(Shape{2, 8, 5, 6}, 81), random(Shape{3, 8, kh, kw}, 82), random(Shape{3}, 83)});
  }
}

TEST_CASE("gradcheck: conv2d with 8 output channels, whose dW reads the patch rows in the padded image") {
  // O a multiple of 8 over a patch of 32 or more takes dW = dY·patchesᵀ with the patches read in
  // place (conv_rows.cpp); with stride 1 and padding 1 dY is read there as a window of the
  // adjoint convolution's padded dY, its extra columns that window's borders.
  for (int stride : {1, 2})
    for (int padding : {0, 1}) {
      CAPTURE(stride);
      CAPTURE(padding);
      expect_gradcheck([=](auto&, Inputs v) { return conv2d(v[0], v[1], v[2], stride, padding); },
                       {random(Shape{2, 8, 5, 6}, 84), random(Shape{8, 8, 3, 3}, 85), random(Shape{8}, 86)});
    }
}

TEST_CASE("gradcheck: conv2d_relu (away from the kink, where finite differences hold)") {
  // Inputs in [0.1, 1] and a positive bias with mixed-sign weights: outputs of both signs, few near 0.
  expect_gradcheck([](auto&, Inputs v) { return conv2d_relu(v[0], v[1], v[2], 1, 1); },
                   {random(Shape{2, 2, 5, 4}, 71, 0.1, 1.0), random(Shape{3, 2, 3, 3}, 72), random(Shape{3}, 73, 0.1, 0.3)});
}

TEST_CASE("gradcheck: conv2d_relu_max_pool2d (away from kinks and ties)") {
  // Inputs in [0.1, 1], a positive bias: outputs mostly positive and distinct within their
  // windows, so a small step changes neither a ReLU's side nor a window's winner. 5 × 4 outputs pool
  // to 2 × 2 (the last row uncovered); stride 2 runs the ops one after the other.
  for (int stride : {1, 2}) {
    CAPTURE(stride);
    expect_gradcheck([=](auto&, Inputs v) { return conv2d_relu_max_pool2d(v[0], v[1], v[2], stride, 1); },
                     {random(Shape{2, 2, 5, 4}, 74, 0.1, 1.0), random(Shape{3, 2, 3, 3}, 75), random(Shape{3}, 76, 0.1, 0.3)});
  }
}

TEST_CASE("gradcheck: conv2d over a batch that splits into several image groups, ragged last") {
  // The stride-1 kernel sums dW and db over groups of 4 images (conv_rows.cpp): 9 images make 3.
  expect_gradcheck([](auto&, Inputs v) { return conv2d(v[0], v[1], v[2], 1, 1); },
                   {random(Shape{9, 2, 4, 3}, 64), random(Shape{3, 2, 3, 3}, 65), random(Shape{3}, 66)});
}

TEST_CASE("gradcheck: ops that write a fresh gradient also add to one that other uses already left") {
  // Backward runs in reverse order of creation, so the later use of x (made in its own
  // statement: the operands of + have no fixed order) writes x's gradient first, and the op under
  // test must add to it, not overwrite it.
  const Tensor<double> x = random(Shape{2, 2, 4, 4}, 67), w = random(Shape{2, 2, 3, 3}, 68);
  auto then_square = [](V first, V x) {
    V later = x * x;
    return sum(first) + sum(later);
  };
  expect_gradcheck([&](auto&, Inputs v) { return then_square(conv2d(v[0], v[1], V(), 1, 1), v[0]); }, {x, w});
  expect_gradcheck([&](auto&, Inputs v) { return then_square(max_pool2d(v[0], 2, 2), v[0]); }, {x});
  expect_gradcheck([&](auto&, Inputs v) { return then_square(relu(v[0]), v[0]); }, {x});
  expect_gradcheck([&](auto&, Inputs v) { return then_square(reshape(v[0], Shape{64}), v[0]); }, {x});
  expect_gradcheck([](auto&, Inputs v) { return matmul(v[0], v[0], false, true); }, {random(Shape{3, 4}, 69)});
}

TEST_CASE("gradcheck: add_relu, alone, with one operand twice, and after other uses") {
  // Uniform draws: a + b is never exactly 0, so finite differences hold at every element.
  const Tensor<double> a = random(Shape{2, 3, 4, 4}, 90), b = random(Shape{2, 3, 4, 4}, 91);
  expect_gradcheck([](auto&, Inputs v) { return add_relu(v[0], v[1]); }, {a, b});
  expect_gradcheck([](auto&, Inputs v) { return add_relu(v[0], v[0]); }, {a});
  expect_gradcheck([](auto&, Inputs v) {
    V later = v[0] * v[1];  // backward reaches it first, so add_relu adds to both gradients
    return sum(add_relu(v[0], v[1])) + sum(later);
  }, {a, b});
  // Shapes that broadcast take relu(add(a, b)).
  expect_gradcheck([](auto&, Inputs v) { return add_relu(v[0], v[1]); }, {a, random(Shape{3, 1, 1}, 92)});
}

TEST_CASE("gradcheck: max and average pooling") {
  const Tensor<double> x = random(Shape{2, 3, 6, 7}, 71);
  for (const auto& ks : {std::pair{2, 2}, std::pair{3, 2}, std::pair{2, 1}}) {
    const int k = ks.first, s = ks.second;  // not a structured binding: clang 14 cannot capture one
    CAPTURE(k);
    CAPTURE(s);
    expect_gradcheck([=](auto&, Inputs v) { return max_pool2d(v[0], k, s); }, {x});
    expect_gradcheck([=](auto&, Inputs v) { return avg_pool2d(v[0], k, s); }, {x});
  }
}

TEST_CASE("gradcheck: losses") {
  const std::vector<int64_t> targets = {3, 0, 2};
  expect_gradcheck([&](auto&, Inputs v) { return cross_entropy(v[0], targets); }, {random(Shape{3, 4}, 81, -3, 3)});
  expect_gradcheck([](auto&, Inputs v) { return mse(v[0], v[1]); }, {random(Shape{2, 5}, 82), random(Shape{2, 5}, 83)});
  const std::vector<double> soft = {1.0, 0.0, 0.25, 1.0};
  expect_gradcheck([&](auto&, Inputs v) { return binary_cross_entropy_with_logits(v[0], std::span<const double>(soft)); }, {random(Shape{4, 1}, 84, -30, 30)});
}

TEST_CASE("binary cross-entropy with logits: PyTorch's values, finite at large logits") {
  // torch.nn.BCEWithLogitsLoss()(torch.tensor([[2.0], [-1.0], [40.0], [-40.0]], dtype=torch.float64),
  //                              torch.tensor([[1.0], [0.0], [0.0], [0.0]], dtype=torch.float64))
  // = mean(log1p(e^-2), log1p(e^-1), 40 + log1p(e^-40), log1p(e^-40)) = 10.1100474246403 (torch 1.13, Debian)
  Tape<double> tape;
  const std::vector<double> y = {1, 0, 0, 0};
  V z = tape.leaf(Tensor<double>(Shape{4, 1}, std::vector<double>{2, -1, 40, -40}), true);
  V loss = binary_cross_entropy_with_logits(z, std::span<const double>(y));
  const double expected = (std::log1p(std::exp(-2.0)) + std::log1p(std::exp(-1.0)) + 40 + 2 * std::log1p(std::exp(-40.0))) / 4;
  CHECK(loss.item() == doctest::Approx(expected).epsilon(1e-15));
  CHECK(expected == doctest::Approx(10.1100474246403).epsilon(1e-13));
  tape.backward(loss);
  // dL/dz = (σ(z) − y) / N
  CHECK(z.grad()[0] == doctest::Approx((1 / (1 + std::exp(-2.0)) - 1) / 4).epsilon(1e-12));
  CHECK(z.grad()[2] == doctest::Approx(0.25).epsilon(1e-12));
}

namespace {
// An op whose backward is wrong by a factor of 2: gradcheck must catch it.
V wrong_square(V a) {
  Tape<double>& tape = a.tape();
  V out = tape.make(a.shape(), a.requires_grad());
  for (int64_t i = 0; i < a.numel(); ++i) tape.write(out)[i] = a.value()[static_cast<size_t>(i)] * a.value()[static_cast<size_t>(i)];
  if (out.requires_grad())
    tape.on_backward(out, [a, out](Tape<double>& t) {
      for (int64_t i = 0; i < a.numel(); ++i) t.grad_to(a)[i] += 4 * a.value()[static_cast<size_t>(i)] * t.grad(out)[i];
    });
  return out;
}
}  // namespace

TEST_CASE("gradcheck fails on a wrong backward") {
  GradcheckResult r = gradcheck([](auto&, Inputs v) { return wrong_square(v[0]); }, {random(Shape{3}, 91)});
  CHECK_FALSE(r.ok);
  CHECK(r.message.find("analytic") != std::string::npos);
}

TEST_CASE("gradcheck: gelu (exact erf form) and layer_norm, fused and naive") {
  const Tensor<double> x = random(Shape{3, 5}, 81, -3.0, 3.0);
  expect_gradcheck([](auto&, Inputs v) { return gelu(v[0]); }, {x});
  const Tensor<double> h = random(Shape{2, 3, 5}, 82, -2.0, 2.0), w = random(Shape{5}, 83, 0.5, 1.5), b = random(Shape{5}, 84);
  expect_gradcheck([](auto&, Inputs v) { return layer_norm(v[0], v[1], v[2], 1e-5); }, {h, w, b});
  expect_gradcheck([](auto&, Inputs v) { return layer_norm_naive(v[0], v[1], v[2], 1e-5); }, {h, w, b});
  // Known values: GELU(1) = Φ(1) = 0.841344746068543, GELU(−1) = −0.158655253931457.
  Tape<double> tape;
  V g = gelu(tape.leaf(Tensor<double>(Shape{2}, std::vector<double>{1.0, -1.0})));
  CHECK(g.value()[0] == doctest::Approx(0.8413447460685429).epsilon(1e-15));
  CHECK(g.value()[1] == doctest::Approx(-0.15865525393145707).epsilon(1e-14));
}

TEST_CASE("layer_norm: the fused op equals its element-wise twin, values and gradients") {
  for (int64_t d : {1, 4, 33}) {
    CAPTURE(d);
    Tape<double> tape;
    const Tensor<double> h = random(Shape{3, 2, d}, 91, -4.0, 4.0), w = random(Shape{d}, 92), b = random(Shape{d}, 93);
    V x1 = tape.leaf(h, true), w1 = tape.leaf(w, true), b1 = tape.leaf(b, true);
    V x2 = tape.leaf(h, true), w2 = tape.leaf(w, true), b2 = tape.leaf(b, true);
    V y1 = layer_norm(x1, w1, b1, 1e-5), y2 = layer_norm_naive(x2, w2, b2, 1e-5);
    const Tensor<double> seed = random(y1.shape(), 94);
    tape.backward(y1, seed.span());
    tape.backward(y2, seed.span());
    for (int64_t i = 0; i < y1.numel(); ++i) CHECK(y1.value()[size_t(i)] == doctest::Approx(y2.value()[size_t(i)]).epsilon(1e-12));
    for (auto [a, c] : {std::pair{x1, x2}, {w1, w2}, {b1, b2}})
      for (int64_t i = 0; i < a.numel(); ++i) CHECK(a.grad()[size_t(i)] == doctest::Approx(c.grad()[size_t(i)]).epsilon(1e-10).scale(1.0));
  }
  Tape<double> tape;
  CHECK_THROWS_WITH(layer_norm(tape.leaf(Tensor<double>(Shape{2, 3})), tape.leaf(Tensor<double>(Shape{4})), tape.leaf(Tensor<double>(Shape{4})), 1e-5),
                    doctest::Contains("last dimension"));
}

TEST_CASE("gradcheck: channel_affine, and it equals its broadcast mul and add to rounding") {
  for (const Shape& shape : {Shape{2, 3}, Shape{2, 3, 4}, Shape{2, 3, 2, 3}}) {
    CAPTURE(shape.str());
    const Tensor<double> x = random(shape, 1), a = random(Shape{3}, 2), b = random(Shape{3}, 3);
    expect_gradcheck([](auto&, Inputs v) { return channel_affine(v[0], v[1], v[2]); }, {x, a, b});
    Tape<double> tape;
    std::vector<int64_t> per_channel(size_t(shape.rank()), 1);
    per_channel[1] = 3;
    const Tensor<double> fused = channel_affine(tape.leaf(x), tape.leaf(a), tape.leaf(b)).tensor();
    const Tensor<double> naive = (tape.leaf(x) * tape.leaf(a.reshaped(Shape(per_channel))) + tape.leaf(b.reshaped(Shape(per_channel)))).tensor();
    // Equal to rounding: the fused loop may contract x·a + b into one FMA.
    for (int64_t i = 0; i < x.numel(); ++i) CHECK(std::abs(fused[i] - naive[i]) <= 1e-15 * (1 + std::abs(naive[i])));
  }
}

namespace {
// BatchNorm in training composed of element-wise ops, as nn::BatchNorm computed it before the fused
// op: the mean over every dimension but 1, the biased variance, (x − μ)/sqrt(σ² + eps)·w + b.
V batch_norm_train_composed(V x, V w, V b, double eps) {
  auto reduce = [](V v) {
    for (int d = v.shape().rank() - 1; d >= 0; --d)
      if (d != 1) v = mean(v, d, true);
    return v;
  };
  std::vector<int64_t> per_channel(size_t(x.rank()), 1);
  per_channel[1] = x.shape()[1];
  V mu = reduce(x), centred = x - mu, var = reduce(centred * centred);
  return centred / sqrt(var + eps) * reshape(w, Shape(per_channel)) + reshape(b, Shape(per_channel));
}
}  // namespace

TEST_CASE("gradcheck: batch_norm_train (BatchNorm1d and 2d shapes)") {
  for (const Shape& shape : {Shape{4, 3}, Shape{3, 2, 5}, Shape{2, 3, 3, 2}}) {
    CAPTURE(shape.str());
    const Tensor<double> x = random(shape, 101, -2.0, 2.0), w = random(Shape{shape[1]}, 102, 0.5, 1.5), b = random(Shape{shape[1]}, 103);
    expect_gradcheck([](auto&, Inputs v) {
      Tensor<double> m, s;
      return batch_norm_train(v[0], v[1], v[2], 1e-5, m, s);
    }, {x, w, b});
    // x's gradient already started by a later use (backward reaches it first): dx adds to it.
    expect_gradcheck([](auto&, Inputs v) {
      Tensor<double> m, s;
      V y = batch_norm_train(v[0], v[1], v[2], 1e-5, m, s);
      V later = v[0] * v[0];
      return sum(y * y) + sum(later);
    }, {x, w, b});
    // With a residual (a residual block's end), whose gradient is also started by a later use.
    expect_gradcheck([](auto&, Inputs v) {
      Tensor<double> m, s;
      V y = batch_norm_train(v[0], v[1], v[2], 1e-5, m, s, false, v[3]);
      return sum(y * y) + sum(v[3] * v[3]);
    }, {x, w, b, random(shape, 104)});
  }
}

TEST_CASE("gradcheck: conv2d_batch_norm_train, strides 1 and 2, with a convolution bias and a residual") {
  // 8 input channels take dx by the adjoint convolution, 2 by col2im; x's gradient also started
  // by a later use, so the convolution's dx adds to it.
  for (int stride : {1, 2})
    for (int64_t in : {2, 8}) {
      CAPTURE(stride);
      CAPTURE(in);
      const Tensor<double> x = random(Shape{3, in, 5, 5}, 111, -2.0, 2.0), k = random(Shape{8, in, 3, 3}, 112), kb = random(Shape{8}, 113);
      const Tensor<double> w = random(Shape{8}, 114, 0.5, 1.5), b = random(Shape{8}, 115);
      const int64_t side = (5 + 2 - 3) / stride + 1;
      expect_gradcheck([stride](auto&, Inputs v) {
        Tensor<double> m, s;
        V y = conv2d_batch_norm_train(v[0], v[1], v[2], stride, 1, v[3], v[4], 1e-5, m, s, false, v[5]);
        return sum(y * y) + sum(v[0] * v[0]) + sum(v[5] * v[5]);
      }, {x, k, kb, w, b, random(Shape{3, 8, side, side}, 116)});
    }
}

TEST_CASE("batch_norm_train equals the composed BatchNorm, values, batch statistics and gradients") {
  for (const Shape& shape : {Shape{5, 3}, Shape{4, 3, 7}, Shape{3, 4, 5, 6}}) {
    CAPTURE(shape.str());
    Tape<double> tape;
    const Tensor<double> h = random(shape, 111, -3.0, 5.0), w = random(Shape{shape[1]}, 112), b = random(Shape{shape[1]}, 113);
    V x1 = tape.leaf(h, true), w1 = tape.leaf(w, true), b1 = tape.leaf(b, true);
    V x2 = tape.leaf(h, true), w2 = tape.leaf(w, true), b2 = tape.leaf(b, true);
    Tensor<double> mu, var;
    V y1 = batch_norm_train(x1, w1, b1, 1e-5, mu, var), y2 = batch_norm_train_composed(x2, w2, b2, 1e-5);
    const Tensor<double> seed = random(y1.shape(), 114);
    tape.backward(y1, seed.span());
    tape.backward(y2, seed.span());
    for (int64_t i = 0; i < y1.numel(); ++i) CHECK(y1.value()[size_t(i)] == doctest::Approx(y2.value()[size_t(i)]).epsilon(1e-12));
    for (auto [a, c] : {std::pair{x1, x2}, {w1, w2}, {b1, b2}})
      for (int64_t i = 0; i < a.numel(); ++i) CHECK(a.grad()[size_t(i)] == doctest::Approx(c.grad()[size_t(i)]).epsilon(1e-10).scale(1.0));
    // The batch statistics handed back: per channel, the mean and the biased variance.
    const int64_t n = shape[0], c = shape[1], plane = h.numel() / (n * c);
    for (int64_t ch = 0; ch < c; ++ch) {
      double s = 0, ss = 0;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < plane; ++k) s += h[(i * c + ch) * plane + k];
      const double m = s / double(n * plane);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < plane; ++k) ss += (h[(i * c + ch) * plane + k] - m) * (h[(i * c + ch) * plane + k] - m);
      CHECK(mu[ch] == doctest::Approx(m).epsilon(1e-14));
      CHECK(var[ch] == doctest::Approx(ss / double(n * plane)).epsilon(1e-13));
    }
  }
  Tape<double> tape;
  Tensor<double> m, s;
  CHECK_THROWS_WITH(batch_norm_train(tape.leaf(Tensor<double>(Shape{2, 3})), tape.leaf(Tensor<double>(Shape{4})), tape.leaf(Tensor<double>(Shape{4})), 1e-5, m, s),
                    doctest::Contains("channels"));
}

namespace {

Tensor<float> to_float(const Tensor<double>& t) {
  Tensor<float> f(t.shape());
  for (int64_t i = 0; i < t.numel(); ++i) f[i] = float(t[i]);
  return f;
}

// A backward seed with NaN, +Inf, −Inf and −0 among random values (elements 1 to 4).
Tensor<float> hostile_seed(const Shape& shape, uint64_t seed) {
  Tensor<float> s = to_float(random(shape, seed));
  s[1] = std::numeric_limits<float>::quiet_NaN();
  s[2] = std::numeric_limits<float>::infinity();
  s[3] = -std::numeric_limits<float>::infinity();
  s[4] = -0.0f;
  return s;
}

std::vector<uint32_t> bits(std::span<const float> v) {
  std::vector<uint32_t> out(v.size());
  std::memcpy(out.data(), v.data(), v.size() * sizeof(float));
  return out;
}

}  // namespace

TEST_CASE("batch_norm_train with a residual gives add_relu(batch_norm_train, r) bit for bit: values, statistics and gradients") {
  // float32; a seed with NaN, ±Inf and −0; the residual also read by a second op (its gradient
  // then added to, not written outright), or not; with and without the ReLU.
  for (const Shape& shape : {Shape{6, 3, 4, 4}, Shape{5, 4, 7, 3}})
    for (bool shared : {false, true})
      for (bool then_relu : {true, false}) {
        CAPTURE(shape.str());
        CAPTURE(shared);
        CAPTURE(then_relu);
        const Tensor<float> h = to_float(random(shape, 131, -2.0, 3.0)), r = to_float(random(shape, 132)), w = to_float(random(Shape{shape[1]}, 133, 0.5, 1.5)),
                            b = to_float(random(Shape{shape[1]}, 134));
        const Tensor<float> seed = hostile_seed(shape, 135);
        Tape<float> fused_tape, apart_tape;
        Var<float> x1 = fused_tape.leaf(h, true), r1 = fused_tape.leaf(r, true), w1 = fused_tape.leaf(w, true), b1 = fused_tape.leaf(b, true);
        Var<float> x2 = apart_tape.leaf(h, true), r2 = apart_tape.leaf(r, true), w2 = apart_tape.leaf(w, true), b2 = apart_tape.leaf(b, true);
        Tensor<float> mu1, var1, mu2, var2;
        Var<float> y1 = batch_norm_train(x1, w1, b1, 1e-5f, mu1, var1, then_relu, r1);
        Var<float> z2 = batch_norm_train(x2, w2, b2, 1e-5f, mu2, var2);
        Var<float> y2 = then_relu ? add_relu(z2, r2) : add(z2, r2);
        if (shared) {  // r's gradient first from another reader, as a block's input feeds its first convolution
          y1 = y1 * r1;
          y2 = y2 * r2;
        }
        fused_tape.backward(y1, seed.span());
        apart_tape.backward(y2, seed.span());
        CHECK(bits(y1.value()) == bits(y2.value()));
        CHECK(bits(mu1.span()) == bits(mu2.span()));
        CHECK(bits(var1.span()) == bits(var2.span()));
        for (auto [a, c] : {std::pair{x1, x2}, {r1, r2}, {w1, w2}, {b1, b2}})
          CHECK(bits(a.grad()) == bits(c.grad()));
      }
}

TEST_CASE("batch_norm_train with then_relu gives relu(batch_norm_train) bit for bit: values, statistics and gradients") {
  // float32, where the bits show; planes that are and are not multiples of the sums' 8 lanes, and
  // a seed with NaN, ±Inf and −0 (relu's select stops them where its output is 0, as ad::relu does).
  for (const Shape& shape : {Shape{6, 3, 4, 4}, Shape{5, 4, 7, 3}, Shape{9, 2}}) {
    CAPTURE(shape.str());
    const Tensor<float> h = to_float(random(shape, 121, -2.0, 3.0)), w = to_float(random(Shape{shape[1]}, 122, 0.5, 1.5)),
                        b = to_float(random(Shape{shape[1]}, 123));
    const Tensor<float> seed = hostile_seed(shape, 124);
    Tape<float> fused_tape, apart_tape;
    Var<float> x1 = fused_tape.leaf(h, true), w1 = fused_tape.leaf(w, true), b1 = fused_tape.leaf(b, true);
    Var<float> x2 = apart_tape.leaf(h, true), w2 = apart_tape.leaf(w, true), b2 = apart_tape.leaf(b, true);
    Tensor<float> mu1, var1, mu2, var2;
    Var<float> y1 = batch_norm_train(x1, w1, b1, 1e-5f, mu1, var1, true);
    Var<float> y2 = relu(batch_norm_train(x2, w2, b2, 1e-5f, mu2, var2));
    fused_tape.backward(y1, seed.span());
    apart_tape.backward(y2, seed.span());
    CHECK(bits(y1.value()) == bits(y2.value()));
    CHECK(bits(mu1.span()) == bits(mu2.span()));
    CHECK(bits(var1.span()) == bits(var2.span()));
    for (auto [a, c] : {std::pair{x1, x2}, {w1, w2}, {b1, b2}})
      CHECK(bits(a.grad()) == bits(c.grad()));
  }
}

TEST_CASE("conv2d_batch_norm_train gives batch_norm_train(conv2d) bit for bit: values, statistics and gradients") {
  // float32; a seed with NaN, ±Inf and −0; strides 1 and 2; 3 input channels (dx by col2im) and 8
  // (by the adjoint convolution); a convolution bias or none; with and without the ReLU and the
  // residual (its gradient written outright or added to); an input that needs no gradient (a
  // first layer's image).
  struct Case {
    int64_t in;
    int stride;
    bool conv_bias, then_relu, with_residual, shared, input_grad;
  };
  for (const Case k : {Case{3, 1, false, true, false, false, true}, Case{8, 1, false, true, true, false, true}, Case{8, 1, true, false, true, true, true},
                       Case{8, 2, false, true, false, false, true}, Case{3, 2, true, false, false, false, false}, Case{8, 1, false, false, false, false, false}}) {
    CAPTURE(k.in);
    CAPTURE(k.stride);
    CAPTURE(k.conv_bias);
    CAPTURE(k.then_relu);
    CAPTURE(k.with_residual);
    CAPTURE(k.shared);
    const int64_t n = 5, out = 8, side = 9, out_side = (side + 2 - 3) / k.stride + 1;
    const Shape y_shape{n, out, out_side, out_side};
    const Tensor<float> image = to_float(random(Shape{n, k.in, side, side}, 141, -2.0, 2.0)), kernel = to_float(random(Shape{out, k.in, 3, 3}, 142));
    const Tensor<float> kernel_bias = to_float(random(Shape{out}, 143)), w = to_float(random(Shape{out}, 144, 0.5, 1.5)), b = to_float(random(Shape{out}, 145));
    const Tensor<float> r = to_float(random(y_shape, 146)), seed = hostile_seed(y_shape, 147);
    Tape<float> fused_tape, apart_tape;
    const auto leaves = [&](Tape<float>& t) {
      return std::array<Var<float>, 6>{t.leaf(image, k.input_grad), t.leaf(kernel, true), k.conv_bias ? t.leaf(kernel_bias, true) : Var<float>{},
                                       t.leaf(w, true), t.leaf(b, true), k.with_residual ? t.leaf(r, true) : Var<float>{}};
    };
    const auto v1 = leaves(fused_tape), v2 = leaves(apart_tape);
    Tensor<float> mu1, var1, mu2, var2;
    Var<float> y1 = conv2d_batch_norm_train(v1[0], v1[1], v1[2], k.stride, 1, v1[3], v1[4], 1e-5f, mu1, var1, k.then_relu, v1[5]);
    Var<float> y2 = batch_norm_train(conv2d(v2[0], v2[1], v2[2], k.stride, 1), v2[3], v2[4], 1e-5f, mu2, var2, k.then_relu, v2[5]);
    if (k.shared) {  // the residual's gradient first from another reader
      y1 = y1 * v1[5];
      y2 = y2 * v2[5];
    }
    fused_tape.backward(y1, seed.span());
    apart_tape.backward(y2, seed.span());
    CHECK(bits(y1.value()) == bits(y2.value()));
    CHECK(bits(mu1.span()) == bits(mu2.span()));
    CHECK(bits(var1.span()) == bits(var2.span()));
    for (size_t i = 0; i < v1.size(); ++i) {
      CAPTURE(i);
      if (v1[i].valid() && v1[i].requires_grad()) CHECK(bits(v1[i].grad()) == bits(v2[i].grad()));
    }
    CHECK(std::any_of(v1[1].grad().begin(), v1[1].grad().end(), [](float g) { return std::isfinite(g) && g != 0; }));
  }
}
