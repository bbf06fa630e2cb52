#include <doctest/doctest.h>

#include "autodiff/ops.h"

using namespace integrad::ad;

TEST_CASE("backward is a reverse sweep: d/dx of x*x + x at x = 3 is 7") {
  Tape<double> tape;
  Var<double> x = tape.leaf(Tensor<double>(Shape{}, 3.0), true);
  Var<double> y = x * x + x;
  tape.backward(y);
  CHECK(y.item() == 12.0);
  CHECK(x.grad()[0] == 7.0);
}

TEST_CASE("a shared subexpression is visited once, its gradient summed") {
  Tape<double> tape;
  Var<double> x = tape.leaf(Tensor<double>(Shape{}, 2.0), true);
  Var<double> s = x * x;  // used twice below
  Var<double> y = s * s;  // x^4: dy/dx = 4x^3 = 32
  tape.backward(y);
  CHECK(x.grad()[0] == 32.0);
  CHECK(s.grad()[0] == 8.0);  // intermediate gradients are readable: dy/ds = 2s
}

TEST_CASE("ops record nothing when no input needs a gradient") {
  Tape<float> tape;
  Var<float> x = tape.leaf(Tensor<float>::ones(Shape{3}), false);
  Var<float> y = exp(x) * x;
  CHECK_FALSE(y.requires_grad());
  CHECK_THROWS_AS(tape.backward(sum(y)), std::logic_error);
}

TEST_CASE("gradients skip inputs nobody asked for") {
  Tape<double> tape;
  Tensor<double> w = Tensor<double>::full(Shape{2}, 3.0);
  Var<double> pw = tape.parameter(w, nullptr);  // a constant parameter, as in attribution
  Var<double> x = tape.leaf(Tensor<double>::full(Shape{2}, 2.0), true);
  tape.backward(sum(pw * x));
  CHECK(x.grad()[0] == 3.0);
  CHECK(pw.grad().empty());
}

TEST_CASE("parameter gradients accumulate into the parameter's own buffer across passes") {
  Tape<double> tape;
  Tensor<double> w = Tensor<double>::full(Shape{2}, 3.0), gw(Shape{2});
  for (int step = 0; step < 2; ++step) {
    Var<double> pw = tape.parameter(w, &gw);
    Var<double> x = tape.leaf(Tensor<double>::full(Shape{2}, 2.0));
    tape.backward(sum(pw * x));
    tape.rewind();
  }
  CHECK(gw[0] == 4.0);
  CHECK(gw[1] == 4.0);
}

TEST_CASE("backward with a seed works for a non-scalar root") {
  Tape<double> tape;
  Var<double> x = tape.leaf(Tensor<double>(Shape{2}, std::vector<double>{1, 2}), true);
  Var<double> y = x * x;
  std::vector<double> seed{1, 10};
  tape.backward(y, seed);
  CHECK(x.grad()[0] == 2.0);
  CHECK(x.grad()[1] == 40.0);
  CHECK_THROWS(tape.backward(y));  // a non-scalar root needs a seed
}

TEST_CASE("a second backward does not propagate the first one's intermediate gradients again") {
  Tape<double> tape;
  Var<double> x = tape.leaf(Tensor<double>(Shape{}, 2.0), true);
  Var<double> y = exp(x * 1.0);
  tape.backward(y);
  tape.backward(y);
  CHECK(x.grad()[0] == doctest::Approx(2 * std::exp(2.0)).epsilon(1e-15));
}

TEST_CASE("a Var used after rewind is an error, not garbage") {
  Tape<float> tape;
  Var<float> x = tape.leaf(Tensor<float>::ones(Shape{1}));
  tape.rewind();
  CHECK_THROWS_AS((void)x.value(), std::logic_error);
}

TEST_CASE("steady state: the arena stops growing after the first pass") {
  Tape<float> tape(1024);
  Tensor<float> w = Tensor<float>::ones(Shape{64, 64}), gw(Shape{64, 64});
  Tensor<float> input = Tensor<float>::ones(Shape{8, 64});
  size_t reserved_after_first = 0;
  for (int step = 0; step < 5; ++step) {
    Var<float> x = tape.leaf(input);
    Var<float> h = relu(matmul(x, tape.parameter(w, &gw), false, true));
    tape.backward(sum(h));
    tape.rewind();
    if (step == 0) reserved_after_first = tape.arena().bytes_reserved();
    CHECK(tape.arena().bytes_reserved() == reserved_after_first);
  }
}
