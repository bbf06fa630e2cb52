// The fused recurrent ops (lstm, gru): finite-difference gradchecks in double for every input, in
// both layouts, with and without biases; and the fused ops against their composed twins, values
// and gradients. PyTorch parity is in tests/nn/test_recurrent.cpp.
#include <doctest/doctest.h>

#include <cmath>

#include "autodiff/gradcheck.h"

using namespace integrad::ad;
using V = Var<double>;
using Inputs = const std::vector<V>&;

namespace {
Tensor<double> random(Shape shape, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Rng rng(seed);
  return Tensor<double>::uniform(shape, rng, lo, hi);
}

using RecurrentOp = V (*)(V, V, V, V, V, bool);
struct Case {
  const char* name;
  RecurrentOp fused, naive;
  int64_t gates;
};
const Case kCases[] = {{"lstm", &lstm<double>, &lstm_naive<double>, 4}, {"gru", &gru<double>, &gru_naive<double>, 3}};

// N = 2 sequences of L = 4 steps, I = 3 inputs, H = 2 hidden units: small enough for finite
// differences, long enough that gradients cross several steps of the recurrence.
constexpr int64_t kN = 2, kL = 4, kI = 3, kH = 2;
std::vector<Tensor<double>> case_inputs(int64_t gates, bool batch_first, bool bias, uint64_t seed) {
  std::vector<Tensor<double>> in = {random(batch_first ? Shape{kN, kL, kI} : Shape{kL, kN, kI}, seed, -2, 2),
                                    random(Shape{gates * kH, kI}, seed + 1), random(Shape{gates * kH, kH}, seed + 2)};
  if (bias) {
    in.push_back(random(Shape{gates * kH}, seed + 3));
    in.push_back(random(Shape{gates * kH}, seed + 4));
  }
  return in;
}
V call(RecurrentOp op, Inputs v, bool batch_first) { return op(v[0], v[1], v[2], v.size() > 3 ? v[3] : V(), v.size() > 3 ? v[4] : V(), batch_first); }
}  // namespace

TEST_CASE("gradcheck: lstm and gru, every input, both layouts, with and without biases") {
  for (const Case& c : kCases)
    for (bool batch_first : {true, false})
      for (bool bias : {true, false}) {
        CAPTURE(c.name);
        CAPTURE(batch_first);
        CAPTURE(bias);
        const RecurrentOp op = c.fused;
        GradcheckResult r = gradcheck([op, batch_first](auto&, Inputs v) { return call(op, v, batch_first); }, case_inputs(c.gates, batch_first, bias, 7));
        INFO(r.message);
        CHECK(r.ok);
    }
}

TEST_CASE("gradcheck: two stacked layers, the second reading the first's output (num_layers=2)") {
  for (const Case& c : kCases)
    for (bool batch_first : {true, false}) {
      CAPTURE(c.name);
      CAPTURE(batch_first);
      const RecurrentOp op = c.fused;
      std::vector<Tensor<double>> in = case_inputs(c.gates, batch_first, true, 11);
      in.push_back(random(Shape{c.gates * kH, kH}, 21));
      in.push_back(random(Shape{c.gates * kH, kH}, 22));
      GradcheckResult r = gradcheck([op, batch_first](auto&, Inputs v) {
        return op(call(op, v, batch_first), v[5], v[6], V(), V(), batch_first);
      }, in);
      INFO(r.message);
      CHECK(r.ok);
    }
}

TEST_CASE("lstm and gru: the fused ops equal their composed twins, values and every gradient") {
  for (const Case& c : kCases)
    for (bool batch_first : {true, false})
      for (bool bias : {true, false}) {
        CAPTURE(c.name);
        CAPTURE(batch_first);
        CAPTURE(bias);
        const std::vector<Tensor<double>> in = case_inputs(c.gates, batch_first, bias, 31);
        auto run = [&](RecurrentOp op) {
          Tape<double> tape;
          std::vector<V> v;
          for (const auto& t : in) v.push_back(tape.leaf(t, true));
          V y = call(op, v, batch_first);
          const Tensor<double> seed = random(y.shape(), 41);
          tape.backward(y, seed.span());
          std::vector<Tensor<double>> out = {y.tensor()};
          for (const V& x : v) out.push_back(x.grad_tensor());
          return out;
        };
        const auto fused = run(c.fused), naive = run(c.naive);
        REQUIRE(fused.size() == naive.size());
        for (size_t k = 0; k < fused.size(); ++k) {
          CAPTURE(k);
          REQUIRE(fused[k].shape() == naive[k].shape());
          for (int64_t j = 0; j < fused[k].numel(); ++j) CHECK(std::abs(fused[k][j] - naive[k][j]) <= 1e-13);
        }
      }
}

TEST_CASE("lstm and gru: shapes that do not fit are refused with the shapes named") {
  Tape<double> tape;
  V x = tape.leaf(Tensor<double>(Shape{2, 4, 3})), w_ih = tape.leaf(Tensor<double>(Shape{8, 3})), w_hh = tape.leaf(Tensor<double>(Shape{8, 2}));
  CHECK_NOTHROW(lstm(x, w_ih, w_hh, V(), V(), true));
  CHECK_THROWS_WITH(gru(x, w_ih, w_hh, V(), V(), true), doctest::Contains("gru: input [2, 4, 3]"));
  CHECK_THROWS_AS(lstm(tape.leaf(Tensor<double>(Shape{2, 4, 5})), w_ih, w_hh, V(), V(), true), std::invalid_argument);
  CHECK_THROWS_AS(lstm(x, w_ih, w_hh, tape.leaf(Tensor<double>(Shape{8})), V(), true), std::invalid_argument);
}

TEST_CASE("lstm and gru in float (polynomial sigmoid and tanh) against their composed twins (libm's), within 2e-6") {
  using F = Var<float>;
  for (bool lstm_cell : {true, false}) {
    CAPTURE(lstm_cell);
    const int64_t gates = lstm_cell ? 4 : 3, n = 3, l = 7, in = 5, h = 6;
    Rng rng(51);
    const std::vector<Tensor<float>> inputs = {Tensor<float>::uniform(Shape{n, l, in}, rng, -3, 3), Tensor<float>::uniform(Shape{gates * h, in}, rng, -1, 1),
                                               Tensor<float>::uniform(Shape{gates * h, h}, rng, -1, 1), Tensor<float>::uniform(Shape{gates * h}, rng, -1, 1),
                                               Tensor<float>::uniform(Shape{gates * h}, rng, -1, 1)};
    auto run = [&](bool fused) {
      Tape<float> tape;
      std::vector<F> v;
      for (const auto& t : inputs) v.push_back(tape.leaf(t, true));
      auto op = lstm_cell ? (fused ? &lstm<float> : &lstm_naive<float>) : (fused ? &gru<float> : &gru_naive<float>);
      F y = op(v[0], v[1], v[2], v[3], v[4], true);
      Rng seed_rng(52);
      const Tensor<float> seed = Tensor<float>::uniform(y.shape(), seed_rng, -1, 1);
      tape.backward(y, seed.span());
      std::vector<Tensor<float>> out = {y.tensor()};
      for (const F& x : v) out.push_back(x.grad_tensor());
      return out;
    };
    const auto fused = run(true), naive = run(false);
    for (size_t k = 0; k < fused.size(); ++k) {
      CAPTURE(k);
      double worst = 0;
      for (int64_t j = 0; j < fused[k].numel(); ++j) worst = std::max(worst, std::abs(double(fused[k][j]) - double(naive[k][j])) / std::max(1.0, std::abs(double(naive[k][j]))));
      CHECK(worst <= 2e-6);
    }
  }
}
