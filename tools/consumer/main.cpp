// The smallest program built against an installed integrad: differentiate x² + x at 3.
#include <autodiff/ops.h>
#include <fmt/format.h>

int main() {
  using namespace integrad::ad;
  Tape<double> tape;
  Var<double> x = tape.leaf(Tensor<double>(Shape{}, 3.0), true);
  Var<double> y = x * x + x;
  tape.backward(y);
  fmt::print("f(3) = {}, f'(3) = {}\n", y.item(), x.grad()[0]);
  return x.grad()[0] == 7.0 ? 0 : 1;
}
