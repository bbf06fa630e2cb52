// matmul on top of gemm. With C = op(A)·op(B) and upstream gradient G:
//   dA = G·op(B)ᵀ (or its transpose when A was used transposed), dB = op(A)ᵀ·G (likewise),
// all expressed with gemm's transpose flags, so no transpose is ever materialised.
#include "autodiff/gemm.h"
#include "autodiff/ops.h"

namespace integrad::ad {

namespace {
struct MatmulDims {
  int64_t batch, m, n, k;
  int64_t stride_a, stride_b;  // 0 when that operand is 2-D and shared by the batch
};

MatmulDims matmul_dims(const Shape& a, const Shape& b, bool ta, bool tb) {
  auto fail = [&] { return std::invalid_argument("matmul: incompatible shapes " + a.str() + (ta ? "ᵀ" : "") + " and " + b.str() + (tb ? "ᵀ" : "")); };
  if (a.rank() < 2 || a.rank() > 3 || b.rank() < 2 || b.rank() > 3) throw fail();
  const int ra = a.rank(), rb = b.rank();
  const int64_t m = ta ? a[ra - 1] : a[ra - 2], ka = ta ? a[ra - 2] : a[ra - 1];
  const int64_t kb = tb ? b[rb - 1] : b[rb - 2], n = tb ? b[rb - 2] : b[rb - 1];
  const int64_t batch_a = ra == 3 ? a[0] : 1, batch_b = rb == 3 ? b[0] : 1;
  if (ka != kb || (ra == 3 && rb == 3 && batch_a != batch_b)) throw fail();
  return {std::max(batch_a, batch_b), m, n, ka, ra == 3 ? a[1] * a[2] : 0, rb == 3 ? b[1] * b[2] : 0};
}
}  // namespace

template <Scalar T>
Var<T> matmul(Var<T> a, Var<T> b, bool ta, bool tb) {
  Tape<T>& tape = a.tape();
  const MatmulDims d = matmul_dims(a.shape(), b.shape(), ta, tb);
  const bool batched = a.rank() == 3 || b.rank() == 3;
  Var<T> out = tape.make(batched ? Shape{d.batch, d.m, d.n} : Shape{d.m, d.n}, a.requires_grad() || b.requires_grad());
  const int64_t lda = ta ? d.m : d.k, ldb = tb ? d.k : d.n;
  const T *x = a.value().data(), *y = b.value().data();
  T* z = tape.write(out);
  for (int64_t i = 0; i < d.batch; ++i)
    gemm(ta, tb, d.m, d.n, d.k, T(1), x + i * d.stride_a, lda, y + i * d.stride_b, ldb, T(0), z + i * d.m * d.n, d.n);
  if (out.requires_grad()) {
    tape.on_backward(out, [a, b, out, d, ta, tb, lda, ldb](Tape<T>& t) {
      const T *x = a.value().data(), *y = b.value().data(), *g = t.grad(out);
      const auto [gx, fresh_x] = t.grad_slot(a);
      const auto [gy, fresh_y] = t.grad_slot(b);
      for (int64_t i = 0; i < d.batch; ++i) {
        const T* gi = g + i * d.m * d.n;
        const T* xi = x + i * d.stride_a;
        const T* yi = y + i * d.stride_b;
        // beta = 1 adds to an earlier gradient; a shared (2-D) operand also sums over the batch.
        if (gx) {
          const T beta = fresh_x && (i == 0 || d.stride_a != 0) ? T(0) : T(1);
          if (ta)  // A stored k×m: dA = op(B)·Gᵀ
            gemm(tb, true, d.k, d.m, d.n, T(1), yi, ldb, gi, d.n, beta, gx + i * d.stride_a, lda);
          else  // A stored m×k: dA = G·op(B)ᵀ
            gemm(false, !tb, d.m, d.k, d.n, T(1), gi, d.n, yi, ldb, beta, gx + i * d.stride_a, lda);
        }
        if (gy) {
          const T beta = fresh_y && (i == 0 || d.stride_b != 0) ? T(0) : T(1);
          if (tb)  // B stored n×k: dB = Gᵀ·op(A)
            gemm(true, ta, d.n, d.k, d.m, T(1), gi, d.n, xi, lda, beta, gy + i * d.stride_b, ldb);
          else  // B stored k×n: dB = op(A)ᵀ·G
            gemm(!ta, false, d.k, d.n, d.m, T(1), xi, lda, gi, d.n, beta, gy + i * d.stride_b, ldb);
        }
      }
    });
  }
  return out;
}

template Var<float> matmul(Var<float>, Var<float>, bool, bool);
template Var<double> matmul(Var<double>, Var<double>, bool, bool);

}  // namespace integrad::ad
