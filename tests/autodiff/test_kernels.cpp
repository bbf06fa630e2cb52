// Fast kernels against their naive twins, and forward values against hand-computed numbers.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <functional>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <thread>
#include <cmath>
#include <limits>

#include "autodiff/activation_kernels.h"
#include "autodiff/conv_naive.h"
#include "autodiff/gemm.h"
#include "autodiff/parallel.h"
#include "autodiff/ops.h"
#include "autodiff/pool_kernels.h"
#include "autodiff/relu.h"

using namespace integrad::ad;

namespace {
template <Scalar T>
void check_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, T beta, double rel) {
  Rng rng(uint64_t(m * 131 + n * 17 + k));
  Tensor<T> a = Tensor<T>::uniform(ta ? Shape{k, m} : Shape{m, k}, rng, -1, 1);
  Tensor<T> b = Tensor<T>::uniform(tb ? Shape{n, k} : Shape{k, n}, rng, -1, 1);
  Tensor<T> c0 = Tensor<T>::uniform(Shape{m, n}, rng, -1, 1), c1 = c0;
  const int64_t lda = ta ? m : k, ldb = tb ? k : n;
  gemm(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c0.data(), n);
  gemm_naive(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c1.data(), n);
  double worst = 0;
  for (int64_t i = 0; i < m * n; ++i) worst = std::max(worst, std::abs(double(c0[i]) - double(c1[i])) / (1.0 + std::abs(double(c1[i]))));
  CHECK(worst <= rel);
}
}  // namespace

TEST_CASE("gemm equals the naive reference for every transpose flag and awkward sizes") {
  // Past every block edge: k beyond two kc blocks, m beyond mc, n beyond nc, ragged micro-tiles, and
  // small products over a long k (computed in chunks of k); micro-tiles 12 and 8 rows tall (m = 16,
  // 32, 64, 272 take the short ones: the convolutions' 16 and 32 output channels, two row blocks);
  // C narrower than a tile computed transposed (n = 9, 10: a classifier's outputs).
  const int64_t sizes[][3] = {{1, 1, 1},      {7, 5, 3},      {67, 33, 129}, {64, 256, 784}, {3, 300, 2},   {130, 45, 600}, {5, 4200, 3},
                              {13, 33, 0},    {16, 9, 7000},  {20, 150, 6200}, {32, 224, 144}, {16, 840, 9}, {272, 70, 50}, {64, 10, 1568},
                              {500, 10, 400}};
  for (auto& s : sizes)
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        CAPTURE(s[0]);
        CAPTURE(s[1]);
        CAPTURE(s[2]);
        // float32 sums of k random-signed products, blocked differently from the naive loop: their
        // rounding grows like √k (1.05e-4 at k = 6200 on a Sapphire Rapids machine, under 1e-4 on Zen 4).
        const double f32 = 1e-4 * std::max(1.0, std::sqrt(double(s[2]) / 1000.0));
        check_gemm<float>(ta, tb, s[0], s[1], s[2], 1.0f, 0.0f, f32);
        check_gemm<double>(ta, tb, s[0], s[1], s[2], 1.0, 0.0, 1e-12);
        check_gemm<double>(ta, tb, s[0], s[1], s[2], -0.5, 1.0, 1e-12);
        check_gemm<float>(ta, tb, s[0], s[1], s[2], 2.0f, 0.25f, f32);
      }
}

TEST_CASE("gemm_rows: B's rows read where they are give gemm's bits on B gathered into a matrix") {
  // Rows taken from a pool in scrambled order; m past one row block (B packed from the rows), a
  // ragged last column panel, and a long k (split in chunks).
  const int64_t sizes[][3] = {{16, 840, 9}, {32, 224, 144}, {300, 70, 50}, {8, 33, 7000}};
  for (auto& s : sizes) {
    const int64_t m = s[0], n = s[1], k = s[2];
    CAPTURE(m);
    CAPTURE(k);
    Rng rng(12);
    const Tensor<float> a = Tensor<float>::uniform(Shape{m * k}, rng, -1, 1), pool = Tensor<float>::uniform(Shape{(k + 3) * n}, rng, -1, 1);
    std::vector<const float*> rows(static_cast<size_t>(k));
    Tensor<float> gathered(Shape{k * n});
    for (int64_t p = 0; p < k; ++p) {
      rows[size_t(p)] = pool.data() + ((p * 7 + 3) % (k + 3)) * n;
      std::copy_n(rows[size_t(p)], n, gathered.data() + p * n);
    }
    Tensor<float> c0(Shape{m * n}), c1(Shape{m * n});
    gemm(false, false, m, n, k, 1.0f, a.data(), k, gathered.data(), n, 0.0f, c0.data(), n);
    gemm_rows(m, n, k, 1.0f, a.data(), k, rows.data(), 0.0f, c1.data(), n);
    CHECK(std::vector<float>(c0.span().begin(), c0.span().end()) == std::vector<float>(c1.span().begin(), c1.span().end()));
  }
}

TEST_CASE("transpose: every element moved, in 16 x 16 register blocks and in the ragged edges") {
  // 16 rows (a convolution's channels), fewer than 16 and more (a ragged last block of rows),
  // columns past a multiple of 16; strides wider than the matrix on both sides.
  const int64_t sizes[][2] = {{16, 902}, {5, 40}, {37, 33}, {1, 17}, {32, 16}};
  for (auto& s : sizes) {
    const int64_t rows = s[0], cols = s[1], lds = cols + 3, ldd = rows + 2;
    CAPTURE(rows);
    CAPTURE(cols);
    Rng rng(17);
    const Tensor<float> src = Tensor<float>::uniform(Shape{rows * lds}, rng, -1, 1);
    const Tensor<double> src_d = Tensor<double>::uniform(Shape{rows * lds}, rng, -1, 1);
    std::vector<float> dst(size_t(cols * ldd), -7.0f);
    std::vector<double> dst_d(size_t(cols * ldd), -7.0);
    transpose(rows, cols, src.data(), lds, dst.data(), ldd);
    transpose(rows, cols, src_d.data(), lds, dst_d.data(), ldd);
    for (int64_t j = 0; j < cols; ++j)
      for (int64_t i = 0; i < ldd; ++i) {
        const size_t at = size_t(j * ldd + i);
        if (i < rows) {
          CHECK(dst[at] == src[i * lds + j]);
          CHECK(dst_d[at] == src_d[i * lds + j]);
        } else {  // the gap between rows of dst is left alone
          CHECK(dst[at] == -7.0f);
          CHECK(dst_d[at] == -7.0);
        }
      }
  }
}

TEST_CASE("gemm_rows through an epilogue: the bits of the product, then bias, ReLU and the kept columns, at every k path") {
  // One block of k, two blocks (k > 384), the split-k path (a long k over few tiles) and k = 0; rows
  // of 30 keeping 28, of 16 keeping 14, and every column; with and without a bias and a ReLU; NaN,
  // ±Inf and −0 among the products' inputs.
  const int64_t sizes[][3] = {{16, 840, 144}, {32, 224, 600}, {8, 90, 7000}, {12, 60, 0}, {3, 50, 9}};
  for (auto& s : sizes)
    for (int64_t period : {30, 16, 1})
      for (bool with_bias : {false, true})
        for (bool relu : {false, true}) {
          const int64_t m = s[0], n = s[1], k = s[2], keep = period == 1 ? 1 : period - 2;
          CAPTURE(m);
          CAPTURE(k);
          CAPTURE(period);
          CAPTURE(with_bias);
          CAPTURE(relu);
          Rng rng(13);
          Tensor<float> a = Tensor<float>::uniform(Shape{m * k + 1}, rng, -1, 1), b = Tensor<float>::uniform(Shape{k * n + 1}, rng, -1, 1);
          const Tensor<float> bias = Tensor<float>::uniform(Shape{m}, rng, -1, 1);
          if (k > 0) {
            a.data()[3] = std::numeric_limits<float>::quiet_NaN();
            b.data()[5] = std::numeric_limits<float>::infinity();
            b.data()[7] = -0.0f;
          }
          std::vector<const float*> rows(static_cast<size_t>(k));
          for (int64_t p = 0; p < k; ++p) rows[size_t(p)] = b.data() + p * n;
          Tensor<float> wide(Shape{m * n});
          gemm(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, wide.data(), n);
          const int64_t groups = (n + period - 1) / period, ldc = groups * keep;
          std::vector<float> expected(size_t(m * ldc), 7.0f), got(size_t(m * ldc), 7.0f);  // 7: never written
          for (int64_t i = 0; i < m; ++i)
            for (int64_t t = 0; t < n; ++t)
              if (t % period < keep) {
                const float v = wide.data()[i * n + t] + (with_bias ? bias.data()[i] : 0.0f);
                expected[size_t(i * ldc + t / period * keep + t % period)] = relu ? relu_value(v) : v;
              }
          gemm_rows(m, n, k, a.data(), k, rows.data(), got.data(), ldc, Epilogue<float>{with_bias ? bias.data() : nullptr, relu, period, keep});
          CHECK(std::memcmp(expected.data(), got.data(), expected.size() * sizeof(float)) == 0);
        }
  const float* none = nullptr;
  float c = 0;
  const float* const* no_rows = nullptr;
  CHECK_THROWS_WITH(gemm_rows(int64_t(1), int64_t(1), int64_t(0), none, int64_t(0), no_rows, &c, int64_t(1), Epilogue<float>{nullptr, false, 3, 4}),
                    doctest::Contains("keeps 1 to period columns"));
}

TEST_CASE("gemm with beta 0 ignores whatever C held, NaN included") {
  Tensor<double> a = Tensor<double>::ones(Shape{2, 3}), b = Tensor<double>::ones(Shape{3, 2});
  Tensor<double> c = Tensor<double>::full(Shape{2, 2}, std::numeric_limits<double>::quiet_NaN());
  gemm(false, false, 2, 2, 3, 1.0, a.data(), 3, b.data(), 2, 0.0, c.data(), 2);
  for (double v : c.span()) CHECK(v == 3.0);
}

TEST_CASE("conv2d (padded rows, phase planes for stride 2) equals the direct loops") {
  Rng rng(5);
  for (int stride : {1, 2})
    for (int padding : {0, 1}) {
      Tensor<double> x = Tensor<double>::uniform(Shape{3, 2, 9, 8}, rng, -1, 1);
      Tensor<double> w = Tensor<double>::uniform(Shape{4, 2, 3, 3}, rng, -1, 1);
      Tensor<double> bias = Tensor<double>::uniform(Shape{4}, rng, -1, 1);
      Tape<double> tape;
      Var<double> y = conv2d(tape.leaf(x), tape.leaf(w), tape.leaf(bias), stride, padding);
      Tensor<double> expected = conv2d_naive(x, w, &bias, stride, padding);
      REQUIRE(y.shape() == expected.shape());
      for (int64_t i = 0; i < expected.numel(); ++i) CHECK(y.value()[size_t(i)] == doctest::Approx(expected[i]).epsilon(1e-12));
    }
}

namespace {

// A conv op's output values, then the gradients of x, weight and bias, all in one vector: the
// backward seeded with `seed` (its first numel values).
using ConvOp = std::function<Var<float>(Var<float>, Var<float>, Var<float>)>;
std::vector<float> values_and_gradients(const ConvOp& op, const Tensor<float>& x, const Tensor<float>& w, const Tensor<float>& b, const Tensor<float>& seed) {
  Tape<float> tape;
  Tensor<float> gw(w.shape()), gb(b.shape());
  Var<float> xv = tape.leaf(x, true), wv = tape.parameter(w, &gw), bv = tape.parameter(b, &gb);
  Var<float> y = op(xv, wv, bv);
  tape.backward(y, std::span<const float>(seed.data(), size_t(y.numel())));
  std::vector<float> all(y.value().begin(), y.value().end());
  for (std::span<const float> s : {xv.grad(), std::span<const float>(gw.span()), std::span<const float>(gb.span())}) all.insert(all.end(), s.begin(), s.end());
  return all;
}

}  // namespace

TEST_CASE("conv2d_relu gives relu(conv2d) bit for bit: values and the gradients of x, weight and bias") {
  // 4 input and 8 output channels read dW pixel-major: fused, over the wide layout's span (the
  // ReLU's mask applied to dY on the way); apart, over the real outputs only. The same bits.
  Rng rng(8);
  for (int stride : {1, 2})
    for (const auto& channels : {std::pair<int64_t, int64_t>{3, 4}, {4, 8}}) {
      const int64_t in = channels.first, out = channels.second;  // not a structured binding: clang 14 cannot capture one
      CAPTURE(stride);
      CAPTURE(out);
      const Tensor<float> x = Tensor<float>::uniform(Shape{5, in, 9, 8}, rng, -1, 1), w = Tensor<float>::uniform(Shape{out, in, 3, 3}, rng, -1, 1);
      const Tensor<float> b = Tensor<float>::uniform(Shape{out}, rng, -0.5, 0.5);
      Tensor<float> seed = Tensor<float>::uniform(Shape{5 * out * 9 * 8}, rng, -1, 1);
      auto run = [&](bool fused) {
        return values_and_gradients([&](auto xv, auto wv, auto bv) { return fused ? conv2d_relu(xv, wv, bv, stride, 1) : relu(conv2d(xv, wv, bv, stride, 1)); },
                                    x, w, b, seed);
      };
      const std::vector<float> values = run(true), apart = run(false);
      REQUIRE(values.size() == apart.size());
      CHECK(std::memcmp(values.data(), apart.data(), values.size() * sizeof(float)) == 0);
      // A NaN in dY where the ReLU output is 0: PyTorch's relu backward is the select
      // y <= 0 ? 0 : dY (threshold_backward), so it is stopped there, fused or not: same bits.
      const auto zero = std::find(values.begin(), values.end(), 0.0f);
      REQUIRE(zero != values.end());
      seed[zero - values.begin()] = std::nanf("");
      const std::vector<float> fused = run(true), separate = run(false);
      CHECK(std::count_if(fused.begin(), fused.end(), [](float v) { return std::isnan(v); }) == 0);
      CHECK(fused == values);
      CHECK(fused == separate);
    }
}

TEST_CASE("conv2d and conv2d_relu: dX alone (constant weights, as attribution asks) has the bits of dX with dW") {
  // 8 input channels take the adjoint convolution for dX; wanted alone, dY goes straight into its
  // padded input (conv_rows.cpp, pad_dy_direct) instead of through the wide layout. Stride 2
  // (phase planes, col2im onto them) too. A NaN in dY where the ReLU output is 0 is stopped.
  Rng rng(19);
  for (int stride : {1, 2})
    for (bool relu : {false, true}) {
      CAPTURE(stride);
      CAPTURE(relu);
      const Tensor<float> x = Tensor<float>::uniform(Shape{3, 8, 7, 6}, rng, -1, 1), w = Tensor<float>::uniform(Shape{5, 8, 3, 3}, rng, -1, 1);
      const Tensor<float> b = Tensor<float>::uniform(Shape{5}, rng, -0.5, 0.5);
      auto op = [&](Var<float> xv, Var<float> wv, Var<float> bv) { return relu ? conv2d_relu(xv, wv, bv, stride, 1) : conv2d(xv, wv, bv, stride, 1); };
      const int64_t outputs = 3 * 5 * ((7 + 2 - 3) / stride + 1) * ((6 + 2 - 3) / stride + 1);
      Tensor<float> seed = Tensor<float>::uniform(Shape{outputs}, rng, -1, 1);
      const std::vector<float> with_dw = values_and_gradients(op, x, w, b, seed);
      if (relu) {
        const auto zero = std::find(with_dw.begin(), with_dw.begin() + outputs, 0.0f);
        REQUIRE(zero != with_dw.begin() + outputs);
        seed[zero - with_dw.begin()] = std::nanf("");
      }
      const std::vector<float> reference = values_and_gradients(op, x, w, b, seed);
      Tape<float> tape;
      Var<float> xv = tape.leaf(x, true);
      Var<float> y = op(xv, tape.leaf(w), tape.leaf(b));
      tape.backward(y, std::span<const float>(seed.data(), size_t(outputs)));
      REQUIRE(int64_t(xv.grad().size()) == x.numel());
      CHECK(std::equal(xv.grad().begin(), xv.grad().end(), reference.begin() + outputs));
      CHECK(std::none_of(xv.grad().begin(), xv.grad().end(), [](float v) { return std::isnan(v); }));
    }
}

TEST_CASE("conv2d_relu_max_pool2d gives max_pool2d(relu(conv2d), 2, 2) bit for bit: values and the gradients of x, weight and bias") {
  // Odd and even output sizes (9 × 8 pools to 4 × 4, the last row uncovered), stride 2 (the ops run
  // one after the other), and the ReLU's zeros, which tie in many windows: the first one wins.
  Rng rng(18);
  for (int stride : {1, 2})
    for (int64_t h : {9, 6}) {
      CAPTURE(stride);
      CAPTURE(h);
      const Tensor<float> x = Tensor<float>::uniform(Shape{5, 3, h, 8}, rng, -1, 1), w = Tensor<float>::uniform(Shape{4, 3, 3, 3}, rng, -1, 1);
      const Tensor<float> b = Tensor<float>::uniform(Shape{4}, rng, -0.5, 0.5);
      Tensor<float> seed = Tensor<float>::uniform(Shape{5 * 4 * 4 * 4}, rng, -1, 1);
      auto run = [&](bool fused) {
        return values_and_gradients(
            [&](auto xv, auto wv, auto bv) { return fused ? conv2d_relu_max_pool2d(xv, wv, bv, stride, 1) : max_pool2d(relu(conv2d(xv, wv, bv, stride, 1)), 2, 2); },
            x, w, b, seed);
      };
      const std::vector<float> values = run(true);
      CHECK(values == run(false));
      // A NaN in dY where the pooled ReLU output is 0 is stopped there, fused or not.
      const auto zero = std::find(values.begin(), values.end(), 0.0f);
      REQUIRE(zero != values.end());
      REQUIRE(zero - values.begin() < int64_t(seed.numel()));
      seed[zero - values.begin()] = std::nanf("");
      const std::vector<float> fused = run(true), separate = run(false);
      CHECK(std::count_if(fused.begin(), fused.end(), [](float v) { return std::isnan(v); }) == 0);
      CHECK(fused == separate);
      // Forward only (no gradient wanted: no winners kept) gives the same values.
      Tape<float> tape;
      Var<float> y = conv2d_relu_max_pool2d(tape.leaf(x), tape.leaf(w), tape.leaf(b), stride, 1);
      CHECK(std::vector<float>(y.value().begin(), y.value().end()) == std::vector<float>(values.begin(), values.begin() + y.numel()));
    }
  // 8 input channels and only dX wanted (attribution): dY is unpooled straight into the adjoint
  // convolution's padded input. The same bits as the three ops.
  for (int64_t h : {9, 6}) {
    CAPTURE(h);
    const Tensor<float> x = Tensor<float>::uniform(Shape{3, 8, h, 8}, rng, -1, 1), w = Tensor<float>::uniform(Shape{4, 8, 3, 3}, rng, -1, 1);
    const Tensor<float> b = Tensor<float>::uniform(Shape{4}, rng, -0.5, 0.5);
    const Tensor<float> seed = Tensor<float>::uniform(Shape{3 * 4 * 4 * 4}, rng, -1, 1);
    auto input_gradient = [&](bool fused) {
      Tape<float> t;
      Var<float> xv = t.leaf(x, true), wv = t.leaf(w), bv = t.leaf(b);
      Var<float> y = fused ? conv2d_relu_max_pool2d(xv, wv, bv, 1, 1) : max_pool2d(relu(conv2d(xv, wv, bv, 1, 1)), 2, 2);
      t.backward(y, std::span<const float>(seed.data(), size_t(y.numel())));
      return std::vector<float>(xv.grad().begin(), xv.grad().end());
    };
    CHECK(input_gradient(true) == input_gradient(false));
  }
  Tape<float> tape;
  CHECK_THROWS_WITH_AS(conv2d_relu_max_pool2d(tape.leaf(Tensor<float>(Shape{1, 1, 1, 4})), tape.leaf(Tensor<float>(Shape{2, 1, 1, 1})), Var<float>()),
                       doctest::Contains("larger than input"), std::invalid_argument);
}

TEST_CASE("conv2d forward and backward are bitwise identical with 1 and 2 threads") {
  Rng rng(9);
  Tensor<float> x = Tensor<float>::uniform(Shape{16, 3, 32, 32}, rng, -1, 1);
  Tensor<float> w = Tensor<float>::uniform(Shape{48, 3, 3, 3}, rng, -1, 1);
  // Large enough that both kernels really split over threads (smaller work runs serially).
  REQUIRE(16 * 48 * 27 * 16 * 16 >= kParallelWork);  // stride 2: the smaller
  for (int stride : {1, 2}) {
    CAPTURE(stride);
    auto run = [&](int threads) {
      omp_set_num_threads(threads);
      Tape<float> tape;
      Tensor<float> gw(w.shape());
      Var<float> xv = tape.leaf(x, true);
      Var<float> y = conv2d(xv, tape.parameter(w, &gw), Var<float>(), stride, 1);
      tape.backward(sum(relu(y) * y));
      std::vector<float> all(y.value().begin(), y.value().end());
      all.insert(all.end(), gw.span().begin(), gw.span().end());
      all.insert(all.end(), xv.grad().begin(), xv.grad().end());
      return all;
    };
    const int saved = omp_get_max_threads();
    CHECK(run(1) == run(2));
    omp_set_num_threads(saved);
  }
}

TEST_CASE("gemm is bitwise identical with 1 and 2 threads, in the blocked and the split-k paths") {
  const int64_t sizes[][3] = {{300, 260, 400}, {64, 12, 7000}, {20, 150, 6200}};
  const int saved = omp_get_max_threads();
  for (auto& s : sizes)
    for (bool ta : {false, true}) {
      CAPTURE(s[0]);
      REQUIRE(s[0] * s[1] * s[2] >= kParallelWork);  // else it runs serially with 2 threads too
      Rng rng(3);
      Tensor<float> a = Tensor<float>::uniform(Shape{s[0] * s[2]}, rng, -1, 1), b = Tensor<float>::uniform(Shape{s[2] * s[1]}, rng, -1, 1);
      auto run = [&](int threads) {
        omp_set_num_threads(threads);
        Tensor<float> c(Shape{s[0] * s[1]});
        gemm(ta, true, s[0], s[1], s[2], 1.0f, a.data(), ta ? s[0] : s[2], b.data(), s[2], 0.0f, c.data(), s[1]);
        return std::vector<float>(c.span().begin(), c.span().end());
      };
      CHECK(run(1) == run(2));
    }
  omp_set_num_threads(saved);
}

TEST_CASE("forward values by hand") {
  Tape<double> tape;
  SUBCASE("softmax of [1, 2, 3]") {
    Var<double> s = softmax(tape.leaf(Tensor<double>(Shape{3}, std::vector<double>{1, 2, 3})), 0);
    const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
    CHECK(s.value()[2] == doctest::Approx(std::exp(3.0) / z).epsilon(1e-15));
  }
  SUBCASE("cross-entropy of known logits, and no overflow for huge ones") {
    Var<double> logits = tape.leaf(Tensor<double>(Shape{2, 2}, std::vector<double>{0, 0, 1000, 0}));
    const int64_t targets[] = {0, 1};
    // Row 1: log 2. Row 2: 1000 + log(1 + e^-1000) − 0 ≈ 1000.
    CHECK(cross_entropy(logits, targets).item() == doctest::Approx((std::log(2.0) + 1000.0) / 2).epsilon(1e-14));
  }
  SUBCASE("a 2x2 convolution of a 3x3 image") {
    Var<double> x = tape.leaf(Tensor<double>(Shape{1, 1, 3, 3}, std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
    Var<double> w = tape.leaf(Tensor<double>(Shape{1, 1, 2, 2}, std::vector<double>{1, 0, 0, -1}));
    Var<double> y = conv2d(x, w, Var<double>(), 1, 0);
    CHECK(y.tensor().vector() == std::vector<double>{-4, -4, -4, -4});
  }
  SUBCASE("max pooling sends the gradient to the first tied element") {
    Var<double> x = tape.leaf(Tensor<double>(Shape{1, 1, 2, 2}, std::vector<double>{5, 5, 1, 5}), true);
    tape.backward(sum(max_pool2d(x, 2, 2)));
    CHECK(x.grad_tensor().vector() == std::vector<double>{1, 0, 0, 0});
  }
  SUBCASE("relu'(0) = 0, as in PyTorch") {
    Var<double> x = tape.leaf(Tensor<double>(Shape{1}, 0.0), true);
    tape.backward(sum(relu(x)));
    CHECK(x.grad()[0] == 0.0);
  }
}

// Allocation failure inside an OpenMP region. This binary's operator new refuses blocks of at least
// `refuse_from` bytes, while it is set, on threads other than the one that set it (OpenMP's
// workers), so a worker's scratch buffer fails inside the convolution's parallel loop while the
// tape's allocations before the loop succeed. Before FirstException, the bad_alloc left the region and the
// runtime terminated the program (SIGABRT); now it reaches the caller, after the region.
namespace {
std::atomic<size_t> refuse_from{0};
std::thread::id refusing_thread_exempt;
std::atomic<int> refused{0};
void* checked_allocate(size_t size, size_t alignment) {
  const size_t limit = refuse_from.load();
  if (limit && size >= limit && std::this_thread::get_id() != refusing_thread_exempt) {
    ++refused;
    throw std::bad_alloc();
  }
  void* p = alignment ? std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment) : std::malloc(size ? size : 1);
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace
void* operator new(size_t size) { return checked_allocate(size, 0); }
void* operator new[](size_t size) { return checked_allocate(size, 0); }
void* operator new(size_t size, std::align_val_t a) { return checked_allocate(size, size_t(a)); }
void* operator new[](size_t size, std::align_val_t a) { return checked_allocate(size, size_t(a)); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }

TEST_CASE("an allocation failing inside a parallel loop is thrown to the caller, not std::terminate") {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(2);
  SUBCASE("FirstException keeps the first exception and rethrows it after the region") {
    FirstException error;
    std::atomic<int> ran{0};
#pragma omp parallel for schedule(static)
    for (int i = 0; i < 64; ++i) error.run([&] {
      ++ran;
      if (i == 5) throw std::runtime_error("iteration 5");
    });
    CHECK_THROWS_WITH_AS(error.rethrow(), "iteration 5", std::runtime_error);
    CHECK(ran.load() >= 1);
  }
  SUBCASE("a convolution whose per-thread buffer cannot be allocated") {
    // [2, 16, 300, 300] ⊛ [4, 16, 3, 3]: each thread's padded image (16·300·300 floats, 5.8 MB) is
    // allocated inside the loop (larger than any other test's, so not grown yet).
    Rng rng(3);
    Tensor<float> x = Tensor<float>::uniform(Shape{2, 16, 300, 300}, rng, -1, 1);
    Tensor<float> w = Tensor<float>::uniform(Shape{4, 16, 3, 3}, rng, -1, 1);
    Tape<float> tape;
    Var<float> xv = tape.leaf(x), wv = tape.leaf(w), bv;
    refusing_thread_exempt = std::this_thread::get_id();
    refuse_from = size_t(4) << 20;
    bool threw = false;
    try {
      (void)conv2d(xv, wv, bv, 1, 0);
    } catch (const std::bad_alloc&) {
      threw = true;
    }
    refuse_from = 0;
    CHECK(threw);
    CHECK(refused.load() >= 1);  // a worker's allocation, inside the parallel loop, is what failed
    // The library still works afterwards.
    Tape<float> again;
    Var<float> y = conv2d(again.leaf(x), again.leaf(w), Var<float>(), 1, 0);
    CHECK(y.shape() == Shape{2, 4, 298, 298});
  }
  omp_set_num_threads(saved);
}

TEST_CASE("2x2 max pooling in float32 vectors gives the scalar loop's values and winners, ties and -0 included") {
  // Planes of every output width from 7 (a row is one vector, ragged) to 20, odd and even heights
  // and widths, a wide layout with extra columns (w > 2·wo + 1), and values with many ties.
  Rng rng(13);
  for (int64_t h : {14, 15, 28})
    for (int64_t w = 14; w <= 44; ++w) {
      CAPTURE(h);
      CAPTURE(w);
      const PoolGeometry g{1, h, w, h / 2, std::min<int64_t>(w / 2, 20), 2, 2};
      Tensor<float> plane = Tensor<float>::uniform(Shape{h * w}, rng, -1, 1);
      for (int64_t i = 0; i < plane.numel(); ++i) plane[i] = i % 5 == 0 ? (i % 2 ? 0.0f : -0.0f) : std::round(plane[i] * 4) / 4;
      std::vector<float> y0(size_t(g.ho * g.wo)), y1(y0.size()), y2(y0.size());
      std::vector<int32_t> w0(y0.size()), w1(y0.size());
      max_pool_plane<2, false>(g, plane.data(), y0.data(), w0.data());
      max_pool_plane_2x2_f32(g, plane.data(), y1.data(), w1.data());
      max_pool_plane_2x2_f32(g, plane.data(), y2.data(), nullptr);
      CHECK(w1 == w0);
      for (size_t i = 0; i < y0.size(); ++i) {
        CHECK(std::signbit(y1[i]) == std::signbit(y0[i]));
        CHECK(y1[i] == y0[i]);
        CHECK(std::signbit(y2[i]) == std::signbit(y0[i]));
      }
    }
}

TEST_CASE("max_pool2d without a gradient (the 2x2 values-only path) gives the same bits as with one, ties and -0 included") {
  Rng rng(11);
  Tensor<float> x = Tensor<float>::uniform(Shape{3, 4, 10, 12}, rng, -1, 1);
  for (int64_t i = 0; i < x.numel(); i += 7) x[i] = (i / 7) % 2 ? 0.0f : -0.0f;  // ties between -0 and +0
  for (int64_t i = 3; i < x.numel(); i += 11) x[i] = x[i - 1];                     // equal neighbours
  Tape<float> with, without;
  const auto a = max_pool2d(with.leaf(x, true), 2, 2).value();
  const auto b = max_pool2d(without.leaf(x, false), 2, 2).value();
  REQUIRE(a.size() == b.size());
  REQUIRE(a.size() == size_t(3 * 4 * 5 * 6));
  for (size_t i = 0; i < a.size(); ++i) {
    CAPTURE(i);
    CHECK(std::signbit(a[i]) == std::signbit(b[i]));
    CHECK(a[i] == b[i]);
  }
}

TEST_CASE("exp_poly and tanh_poly (the recurrent ops' float sigmoid and tanh) against libm in double") {
  double worst_exp = 0, worst_tanh = 0;
  for (int k = -200000; k <= 200000; ++k) {
    const float x = float(k) * 4e-4f;  // [−80, 80]
    worst_exp = std::max(worst_exp, std::abs(double(integrad::ad::exp_poly(x)) - std::exp(double(x))) / std::exp(double(x)));
    const double t = std::tanh(double(x));
    worst_tanh = std::max(worst_tanh, std::abs(double(integrad::ad::tanh_poly(x)) - t) / std::max(std::abs(t), 1e-30));
  }
  CHECK(worst_exp <= 4e-7);   // a few float ulp (1 ulp = 6e-8 relative)
  CHECK(worst_tanh <= 4e-7);
  CHECK(integrad::ad::tanh_poly(0.0f) == 0.0f);
  CHECK(integrad::ad::tanh_poly(1e-20f) == 1e-20f);
  CHECK(integrad::ad::tanh_poly(-30.0f) == -1.0f);
  CHECK(integrad::ad::exp_poly(-1000.0f) > 0.0f);  // clamped: tiny, not a denormal nor 0
  float v[3] = {-200.0f, 0.0f, 200.0f};
  integrad::ad::sigmoid_inplace(v, 3);
  CHECK(v[0] >= 0.0f);
  CHECK(v[0] < 1e-37f);
  CHECK(v[1] == 0.5f);
  CHECK(v[2] == 1.0f);
}
