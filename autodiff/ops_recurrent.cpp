// One layer of torch.nn.LSTM / torch.nn.GRU over a whole sequence, as one tape node each.
//
// Why one node for the whole sequence rather than one per time step: the input projections of all
// steps are one GEMM ([N·L, I]·W_ihᵀ) instead of L small ones, and in the backward the weight
// gradients are one GEMM each over all steps (dW_ih = dGᵀ·X, dW_hh = dGᵀ·H_prev), so only the
// recurrence itself (h_{t−1}·W_hhᵀ forward, dG_t·W_hh backward) runs step by step. The composed
// twins (lstm_naive, gru_naive: matmul, slice, sigmoid, tanh, concat) are the reference the tests
// compare the fused ops with.
//
// Layouts: x is [N, L, I] (batch_first) or [L, N, I]. Row (n, t) of any per-step buffer sits where
// x's row sits, so one step's N rows are a strided matrix: first row t (batch_first) or t·N, row
// stride L or 1 rows. Every buffer below uses this row order.
//
// LSTM (gates i, f, g, o, PyTorch's order): G = x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh,
//   c' = σ(f)·c + σ(i)·tanh(g),  h' = σ(o)·tanh(c').
// GRU (gates r, z, n): r = σ(·), z = σ(·), n = tanh(x·W_inᵀ + b_in + r·(h·W_hnᵀ + b_hn)),
//   h' = (1 − z)·n + z·h.
#include <cmath>

#include "autodiff/activation_kernels.h"
#include "autodiff/gemm.h"
#include "autodiff/ops.h"

namespace integrad::ad {

namespace {

struct SeqDims {
  int64_t n, l, in, h;
  bool batch_first;
  int64_t rows() const { return n * l; }
  int64_t first_row(int64_t t) const { return batch_first ? t : t * n; }  // row of (0, t)
  int64_t row_stride() const { return batch_first ? l : 1; }              // rows between (b, t) and (b + 1, t)
  int64_t row(int64_t t, int64_t b) const { return first_row(t) + b * row_stride(); }
};

template <Scalar T>
SeqDims check_recurrent(const char* op, int64_t gates, const Var<T>& x, const Var<T>& w_ih, const Var<T>& w_hh, const Var<T>& b_ih,
                        const Var<T>& b_hh, bool batch_first) {
  const int64_t h = w_hh.rank() == 2 ? w_hh.shape()[1] : 0;
  const int64_t in = x.rank() == 3 ? x.shape()[2] : -1;
  auto bias_ok = [&](const Var<T>& b) { return !b.valid() || (b.rank() == 1 && b.shape()[0] == gates * h); };
  if (x.rank() != 3 || w_ih.rank() != 2 || w_ih.shape()[0] != gates * h || w_ih.shape()[1] != in || w_hh.rank() != 2 || w_hh.shape()[0] != gates * h ||
      h < 1 || !bias_ok(b_ih) || !bias_ok(b_hh) || b_ih.valid() != b_hh.valid())
    throw std::invalid_argument(std::string(op) + ": input " + x.shape().str() + (batch_first ? " [N, L, I]" : " [L, N, I]") + " with weight_ih " +
                                w_ih.shape().str() + " and weight_hh " + w_hh.shape().str() + " (expected [" + std::to_string(gates) + "H, I] and [" +
                                std::to_string(gates) + "H, H], biases [" + std::to_string(gates) + "H] or none)");
  const int64_t n = batch_first ? x.shape()[0] : x.shape()[1], l = batch_first ? x.shape()[1] : x.shape()[0];
  return {n, l, in, h, batch_first};
}

// G = x·W_ihᵀ + b_ih (+ b_hh when given: the LSTM adds both biases here, the GRU keeps b_hh with
// the recurrence, inside r·(W_hn h + b_hn)): every step's input projection in one GEMM.
template <Scalar T>
void input_projection(const SeqDims& d, int64_t width, const T* x, const T* w_ih, const T* b_ih, const T* b_hh, T* g) {
  gemm(false, true, d.rows(), width, d.in, T(1), x, d.in, w_ih, d.in, T(0), g, width);
  if (!b_ih) return;
  for (int64_t r = 0; r < d.rows(); ++r)
    for (int64_t j = 0; j < width; ++j) g[r * width + j] += b_hh ? b_ih[j] + b_hh[j] : b_ih[j];
}

// The gradients common to both cells, from the pre-activation gradients of every step: dX = dG_i·W_ih,
// dW_ih = dG_iᵀ·X, dW_hh = dG_hᵀ·H_prev (H_prev: the output shifted one step, zero at t = 0), and
// the biases' column sums.
template <Scalar T>
void weight_and_input_grads(Tape<T>& t, const SeqDims& d, int64_t width, const T* dgi, const T* dgh, Var<T> x, Var<T> w_ih, Var<T> w_hh,
                            Var<T> b_ih, Var<T> b_hh, Var<T> out) {
  const int64_t rows = d.rows();
  if (const auto [gx, fresh] = t.grad_slot(x); gx)
    gemm(false, false, rows, d.in, width, T(1), dgi, width, w_ih.value().data(), d.in, fresh ? T(0) : T(1), gx, d.in);
  if (const auto [gw, fresh] = t.grad_slot(w_ih); gw)
    gemm(true, false, width, d.in, rows, T(1), dgi, width, x.value().data(), d.in, fresh ? T(0) : T(1), gw, d.in);
  if (const auto [gw, fresh] = t.grad_slot(w_hh); gw) {
    T* prev = t.template scratch<T>(static_cast<size_t>(rows * d.h));
    const T* h = out.value().data();
    for (int64_t s = 0; s < d.l; ++s)
      for (int64_t b = 0; b < d.n; ++b)
        for (int64_t j = 0; j < d.h; ++j) prev[d.row(s, b) * d.h + j] = s > 0 ? h[d.row(s - 1, b) * d.h + j] : T(0);
    gemm(true, false, width, d.h, rows, T(1), dgh, width, prev, d.h, fresh ? T(0) : T(1), gw, d.h);
  }
  auto column_sums = [&](Var<T> b, const T* dg) {
    if (!b.valid()) return;
    if (T* gb = t.grad_to(b))
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < width; ++j) gb[j] += dg[r * width + j];
  };
  column_sums(b_ih, dgi);
  column_sums(b_hh, dgh);
}

// One step of the backward for one sequence, every pointer to a row of its own (restrict: GCC
// then vectorises the loop; with eight pointers it gives up checking their overlap at run time).
// In: the step's saved activations, dout (from the layer's output) and dh (from step t + 1; for
// the LSTM also dc). Out: the step's pre-activation gradients, and dh (dc) for step t − 1. At
// t = 0 the previous state is a row of zeros.
template <Scalar T>
void lstm_backward_row(int64_t H, const T* __restrict g, const T* __restrict tanh_c, const T* __restrict c_prev, const T* __restrict dout,
                       T* __restrict dh, T* __restrict dc, T* __restrict dg) {
  for (int64_t j = 0; j < H; ++j) {
    const T i = g[j], f = g[H + j], gg = g[2 * H + j], o = g[3 * H + j], tc = tanh_c[j];
    const T dht = dout[j] + dh[j];
    const T dct = dc[j] + dht * o * (T(1) - tc * tc);
    dc[j] = dct * f;
    dg[j] = dct * gg * i * (T(1) - i);
    dg[H + j] = dct * c_prev[j] * f * (T(1) - f);
    dg[2 * H + j] = dct * i * (T(1) - gg * gg);
    dg[3 * H + j] = dht * tc * o * (T(1) - o);
  }
}

// gh_n: W_hn·h + b_hn. dh leaves holding only the direct path h_{t−1} → z·h_{t−1}; the caller adds
// the gates' path dG_h·W_hh.
template <Scalar T>
void gru_backward_row(int64_t H, const T* __restrict g, const T* __restrict gh_n, const T* __restrict h_prev, const T* __restrict dout,
                      T* __restrict dh, T* __restrict di, T* __restrict dhh) {
  for (int64_t j = 0; j < H; ++j) {
    const T rr = g[j], z = g[H + j], n = g[2 * H + j];
    const T dht = dout[j] + dh[j];
    const T dn = dht * (T(1) - z) * (T(1) - n * n);
    const T dz = dht * (h_prev[j] - n) * z * (T(1) - z);
    const T dr = dn * gh_n[j] * rr * (T(1) - rr);
    di[j] = dhh[j] = dr;
    di[H + j] = dhh[H + j] = dz;
    di[2 * H + j] = dn;
    dhh[2 * H + j] = dn * rr;
    dh[j] = dht * z;
  }
}

template <Scalar T>
bool any_requires_grad(std::initializer_list<Var<T>> vs) {
  for (const Var<T>& v : vs)
    if (v.valid() && v.requires_grad()) return true;
  return false;
}

template <Scalar T>
Shape output_shape(const SeqDims& d) {
  return d.batch_first ? Shape{d.n, d.l, d.h} : Shape{d.l, d.n, d.h};
}

}  // namespace

template <Scalar T>
Var<T> lstm(Var<T> x, Var<T> w_ih, Var<T> w_hh, Var<T> b_ih, Var<T> b_hh, bool batch_first) {
  const SeqDims d = check_recurrent("lstm", 4, x, w_ih, w_hh, b_ih, b_hh, batch_first);
  Tape<T>& tape = x.tape();
  const int64_t H = d.h, W = 4 * H, rows = d.rows(), rs = d.row_stride();
  Var<T> out = tape.make(output_shape<T>(d), any_requires_grad<T>({x, w_ih, w_hh, b_ih, b_hh}));
  // gates: pre-activations, then (in place) the activated i, f, g, o kept for the backward.
  T* gates = tape.template scratch<T>(static_cast<size_t>(rows * W));
  T* cells = tape.template scratch<T>(static_cast<size_t>(rows * H));
  T* tanh_cells = tape.template scratch<T>(static_cast<size_t>(rows * H));  // tanh(c), which the backward needs too
  T* h = tape.write(out);
  const T* whh = w_hh.value().data();
  input_projection(d, W, x.value().data(), w_ih.value().data(), b_ih.valid() ? b_ih.value().data() : nullptr,
                   b_hh.valid() ? b_hh.value().data() : nullptr, gates);
  for (int64_t s = 0; s < d.l; ++s) {
    if (s > 0)  // the recurrence: G_t += h_{t−1}·W_hhᵀ, N strided rows at once
      gemm(false, true, d.n, W, H, T(1), h + d.first_row(s - 1) * H, rs * H, whh, H, T(1), gates + d.first_row(s) * W, rs * W);
    for (int64_t b = 0; b < d.n; ++b) {
      const int64_t r = d.row(s, b);
      T* g = gates + r * W;  // i, f, g, o
      sigmoid_inplace(g, 2 * H);
      tanh_inplace(g + 2 * H, H);
      sigmoid_inplace(g + 3 * H, H);
      const T* c_prev = s > 0 ? cells + d.row(s - 1, b) * H : nullptr;
      T *c = cells + r * H, *tc = tanh_cells + r * H, *hr = h + r * H;
      for (int64_t j = 0; j < H; ++j) c[j] = g[j] * g[2 * H + j];
      if (c_prev)
        for (int64_t j = 0; j < H; ++j) c[j] += g[H + j] * c_prev[j];
      std::copy(c, c + H, tc);
      tanh_inplace(tc, H);
      for (int64_t j = 0; j < H; ++j) hr[j] = g[3 * H + j] * tc[j];
    }
  }
  if (out.requires_grad()) {
    tape.on_backward(out, [x, w_ih, w_hh, b_ih, b_hh, out, d, gates, cells, tanh_cells](Tape<T>& t) {
      const int64_t H = d.h, W = 4 * H, rs = d.row_stride();
      const T *dout = t.grad(out), *whh = w_hh.value().data();
      T* dg = t.template scratch<T>(static_cast<size_t>(d.rows() * W));  // pre-activation gradients, every step
      T* dh = t.template scratch<T>(static_cast<size_t>(d.n * H));       // reaching h_t from step t + 1
      T* dc = t.template scratch<T>(static_cast<size_t>(d.n * H));       // reaching c_t from step t + 1
      std::fill(dh, dh + d.n * H, T(0));
      std::fill(dc, dc + d.n * H, T(0));
      T* zeros = t.template scratch<T>(static_cast<size_t>(H));
      std::fill(zeros, zeros + H, T(0));
      for (int64_t s = d.l - 1; s >= 0; --s) {
        for (int64_t b = 0; b < d.n; ++b) {
          const int64_t r = d.row(s, b);
          lstm_backward_row(H, gates + r * W, tanh_cells + r * H, s > 0 ? cells + d.row(s - 1, b) * H : zeros, dout + r * H, dh + b * H, dc + b * H,
                            dg + r * W);
        }
        if (s > 0)  // dh_{t−1} = dG_t·W_hh
          gemm(false, false, d.n, H, W, T(1), dg + d.first_row(s) * W, rs * W, whh, H, T(0), dh, H);
      }
      weight_and_input_grads(t, d, W, dg, dg, x, w_ih, w_hh, b_ih, b_hh, out);
    });
  }
  return out;
}

template <Scalar T>
Var<T> gru(Var<T> x, Var<T> w_ih, Var<T> w_hh, Var<T> b_ih, Var<T> b_hh, bool batch_first) {
  const SeqDims d = check_recurrent("gru", 3, x, w_ih, w_hh, b_ih, b_hh, batch_first);
  Tape<T>& tape = x.tape();
  const int64_t H = d.h, W = 3 * H, rows = d.rows(), rs = d.row_stride();
  Var<T> out = tape.make(output_shape<T>(d), any_requires_grad<T>({x, w_ih, w_hh, b_ih, b_hh}));
  // gi: x·W_ihᵀ + b_ih, then (in place) the activated r, z, n. gh: h·W_hhᵀ + b_hh, whose n part
  // (W_hn h + b_hn, which r multiplies) the backward needs.
  T* gi = tape.template scratch<T>(static_cast<size_t>(rows * W));
  T* gh = tape.template scratch<T>(static_cast<size_t>(rows * W));
  T* h = tape.write(out);
  const T* whh = w_hh.value().data();
  const T* bhh = b_hh.valid() ? b_hh.value().data() : nullptr;
  input_projection(d, W, x.value().data(), w_ih.value().data(), b_ih.valid() ? b_ih.value().data() : nullptr, static_cast<const T*>(nullptr), gi);
  for (int64_t s = 0; s < d.l; ++s) {
    T* ghs = gh + d.first_row(s) * W;
    for (int64_t b = 0; b < d.n; ++b)
      for (int64_t j = 0; j < W; ++j) ghs[b * rs * W + j] = bhh ? bhh[j] : T(0);
    if (s > 0) gemm(false, true, d.n, W, H, T(1), h + d.first_row(s - 1) * H, rs * H, whh, H, T(1), ghs, rs * W);
    for (int64_t b = 0; b < d.n; ++b) {
      const int64_t r = d.row(s, b);
      T* g = gi + r * W;  // r, z, n
      const T* a = gh + r * W;
      const T* h_prev = s > 0 ? h + d.row(s - 1, b) * H : nullptr;
      T* hr = h + r * H;
      for (int64_t j = 0; j < 2 * H; ++j) g[j] += a[j];
      sigmoid_inplace(g, 2 * H);
      for (int64_t j = 0; j < H; ++j) g[2 * H + j] += g[j] * a[2 * H + j];
      tanh_inplace(g + 2 * H, H);
      for (int64_t j = 0; j < H; ++j) hr[j] = (T(1) - g[H + j]) * g[2 * H + j];
      if (h_prev)
        for (int64_t j = 0; j < H; ++j) hr[j] += g[H + j] * h_prev[j];
    }
  }
  if (out.requires_grad()) {
    tape.on_backward(out, [x, w_ih, w_hh, b_ih, b_hh, out, d, gi, gh](Tape<T>& t) {
      const int64_t H = d.h, W = 3 * H, rs = d.row_stride();
      const T *dout = t.grad(out), *whh = w_hh.value().data(), *h = out.value().data();
      T* dgi = t.template scratch<T>(static_cast<size_t>(d.rows() * W));
      T* dgh = t.template scratch<T>(static_cast<size_t>(d.rows() * W));
      T* dh = t.template scratch<T>(static_cast<size_t>(d.n * H));  // reaching h_t from step t + 1
      std::fill(dh, dh + d.n * H, T(0));
      T* zeros = t.template scratch<T>(static_cast<size_t>(H));
      std::fill(zeros, zeros + H, T(0));
      for (int64_t s = d.l - 1; s >= 0; --s) {
        for (int64_t b = 0; b < d.n; ++b) {
          const int64_t r = d.row(s, b);
          gru_backward_row(H, gi + r * W, gh + r * W + 2 * H, s > 0 ? h + d.row(s - 1, b) * H : zeros, dout + r * H, dh + b * H, dgi + r * W, dgh + r * W);
        }
        if (s > 0) gemm(false, false, d.n, H, W, T(1), dgh + d.first_row(s) * W, rs * W, whh, H, T(1), dh, H);
      }
      weight_and_input_grads(t, d, W, dgi, dgh, x, w_ih, w_hh, b_ih, b_hh, out);
    });
  }
  return out;
}

// --- the composed references ------------------------------------------------------------------

namespace {
template <Scalar T>
Var<T> step_input(Var<T> x, const SeqDims& d, int64_t s) {
  const int axis = d.batch_first ? 1 : 0;
  return reshape(slice(x, axis, s, s + 1), Shape{d.n, d.in});
}
template <Scalar T>
Var<T> affine(Var<T> v, Var<T> w, Var<T> b) {
  Var<T> y = matmul(v, w, false, true);
  return b.valid() ? y + b : y;
}
template <Scalar T>
Var<T> gate(Var<T> g, int64_t k, int64_t h) {
  return slice(g, 1, k * h, (k + 1) * h);
}
template <Scalar T>
Var<T> stack_steps(std::vector<Var<T>>& hs, const SeqDims& d) {
  for (Var<T>& v : hs) v = reshape(v, d.batch_first ? Shape{d.n, 1, d.h} : Shape{1, d.n, d.h});
  return concat<T>(hs, d.batch_first ? 1 : 0);
}
}  // namespace

template <Scalar T>
Var<T> lstm_naive(Var<T> x, Var<T> w_ih, Var<T> w_hh, Var<T> b_ih, Var<T> b_hh, bool batch_first) {
  const SeqDims d = check_recurrent("lstm", 4, x, w_ih, w_hh, b_ih, b_hh, batch_first);
  Tape<T>& tape = x.tape();
  Var<T> h = tape.leaf(Tensor<T>(Shape{d.n, d.h})), c = h;
  std::vector<Var<T>> hs;
  for (int64_t s = 0; s < d.l; ++s) {
    Var<T> g = affine(step_input(x, d, s), w_ih, b_ih) + affine(h, w_hh, b_hh);
    c = sigmoid(gate(g, 1, d.h)) * c + sigmoid(gate(g, 0, d.h)) * tanh(gate(g, 2, d.h));
    h = sigmoid(gate(g, 3, d.h)) * tanh(c);
    hs.push_back(h);
  }
  return stack_steps(hs, d);
}

template <Scalar T>
Var<T> gru_naive(Var<T> x, Var<T> w_ih, Var<T> w_hh, Var<T> b_ih, Var<T> b_hh, bool batch_first) {
  const SeqDims d = check_recurrent("gru", 3, x, w_ih, w_hh, b_ih, b_hh, batch_first);
  Tape<T>& tape = x.tape();
  Var<T> h = tape.leaf(Tensor<T>(Shape{d.n, d.h}));
  std::vector<Var<T>> hs;
  for (int64_t s = 0; s < d.l; ++s) {
    Var<T> gi = affine(step_input(x, d, s), w_ih, b_ih), gh = affine(h, w_hh, b_hh);
    Var<T> r = sigmoid(gate(gi, 0, d.h) + gate(gh, 0, d.h)), z = sigmoid(gate(gi, 1, d.h) + gate(gh, 1, d.h));
    Var<T> n = tanh(gate(gi, 2, d.h) + r * gate(gh, 2, d.h));
    h = (T(1) - z) * n + z * h;
    hs.push_back(h);
  }
  return stack_steps(hs, d);
}

#define INTEGRAD_RECURRENT(T)                                                  \
  template Var<T> lstm(Var<T>, Var<T>, Var<T>, Var<T>, Var<T>, bool);       \
  template Var<T> gru(Var<T>, Var<T>, Var<T>, Var<T>, Var<T>, bool);        \
  template Var<T> lstm_naive(Var<T>, Var<T>, Var<T>, Var<T>, Var<T>, bool); \
  template Var<T> gru_naive(Var<T>, Var<T>, Var<T>, Var<T>, Var<T>, bool);
INTEGRAD_RECURRENT(float)
INTEGRAD_RECURRENT(double)
#undef INTEGRAD_RECURRENT

}  // namespace integrad::ad
