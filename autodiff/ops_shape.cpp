// Ops that move or regroup elements without arithmetic.
#include "autodiff/ops.h"

namespace integrad::ad {

template <Scalar T>
Var<T> reshape(Var<T> a, Shape shape) {
  if (shape.numel() != a.numel()) throw std::invalid_argument("reshape: cannot view " + a.shape().str() + " as " + shape.str());
  Tape<T>& tape = a.tape();
  Var<T> out = tape.alias(a, shape, a.requires_grad());
  if (out.requires_grad()) {
    tape.on_backward(out, [a, out](Tape<T>& t) {
      const T* g = t.grad(out);
      T* gx = t.grad_to(a);
      for (int64_t i = 0; i < a.numel(); ++i) gx[i] += g[i];
    });
  }
  return out;
}

template Var<float> reshape(Var<float>, Shape);
template Var<double> reshape(Var<double>, Shape);

}  // namespace integrad::ad
