// Every differentiable op, as free functions at tensor granularity. Each op computes its output,
// and records a backward closure only when some input requires a gradient; in the backward it
// skips the inputs that need none. Gradients accumulate (+=). Kinks follow PyTorch: relu'(0) = 0;
// max(a, dim) sends the whole gradient to the first of tied elements, max(a) shares it among them.
// NaN and ±Inf go where PyTorch sends them (docs/engine.md, tests/autodiff/test_nonfinite.cpp).
//
// Implementations are grouped by kind in ops_*.cpp, explicitly instantiated for float and double.
#pragma once

#include <cstdint>
#include <span>

#include "autodiff/tape.h"

namespace integrad::ad {

// --- element-wise, with NumPy broadcasting (ops_elementwise.cpp) ------------------------------
template <Scalar T> Var<T> add(Var<T> a, Var<T> b);
template <Scalar T> Var<T> sub(Var<T> a, Var<T> b);
template <Scalar T> Var<T> mul(Var<T> a, Var<T> b);
template <Scalar T> Var<T> div(Var<T> a, Var<T> b);

template <Scalar T> Var<T> neg(Var<T> a);
template <Scalar T> Var<T> add_scalar(Var<T> a, T s);
template <Scalar T> Var<T> mul_scalar(Var<T> a, T s);
template <Scalar T> Var<T> pow(Var<T> a, T exponent);
template <Scalar T> Var<T> exp(Var<T> a);
template <Scalar T> Var<T> log(Var<T> a);
template <Scalar T> Var<T> sqrt(Var<T> a);
template <Scalar T> Var<T> erf(Var<T> a);
template <Scalar T> Var<T> relu(Var<T> a);
template <Scalar T> Var<T> sigmoid(Var<T> a);
template <Scalar T> Var<T> tanh(Var<T> a);
template <Scalar T> Var<T> softplus(Var<T> a);
template <Scalar T> Var<T> gelu(Var<T> a);  // exact: x·Φ(x), as torch.nn.GELU()

template <Scalar T> Var<T> operator+(Var<T> a, Var<T> b) { return add(a, b); }
template <Scalar T> Var<T> operator-(Var<T> a, Var<T> b) { return sub(a, b); }
template <Scalar T> Var<T> operator*(Var<T> a, Var<T> b) { return mul(a, b); }
template <Scalar T> Var<T> operator/(Var<T> a, Var<T> b) { return div(a, b); }
template <Scalar T> Var<T> operator-(Var<T> a) { return neg(a); }
template <Scalar T> Var<T> operator+(Var<T> a, std::type_identity_t<T> s) { return add_scalar(a, s); }
template <Scalar T> Var<T> operator+(std::type_identity_t<T> s, Var<T> a) { return add_scalar(a, s); }
template <Scalar T> Var<T> operator-(Var<T> a, std::type_identity_t<T> s) { return add_scalar(a, -s); }
template <Scalar T> Var<T> operator-(std::type_identity_t<T> s, Var<T> a) { return add_scalar(neg(a), s); }
template <Scalar T> Var<T> operator*(Var<T> a, std::type_identity_t<T> s) { return mul_scalar(a, s); }
template <Scalar T> Var<T> operator*(std::type_identity_t<T> s, Var<T> a) { return mul_scalar(a, s); }
template <Scalar T> Var<T> operator/(Var<T> a, std::type_identity_t<T> s) { return mul_scalar(a, T(1) / s); }

// --- shape (ops_shape.cpp) -------------------------------------------------------------------
template <Scalar T> Var<T> reshape(Var<T> a, Shape shape);
template <Scalar T> Var<T> transpose(Var<T> a, int dim0, int dim1);
template <Scalar T> Var<T> permute(Var<T> a, std::span<const int> dims);
template <Scalar T> Var<T> concat(std::span<const Var<T>> parts, int dim);
// Elements [start, end) along dim.
template <Scalar T> Var<T> slice(Var<T> a, int dim, int64_t start, int64_t end);

// --- reductions (ops_reduce.cpp) -------------------------------------------------------------
template <Scalar T> Var<T> sum(Var<T> a);  // over all elements; a 0-d result
template <Scalar T> Var<T> sum(Var<T> a, int dim, bool keepdim = false);
template <Scalar T> Var<T> mean(Var<T> a);
template <Scalar T> Var<T> mean(Var<T> a, int dim, bool keepdim = false);
template <Scalar T> Var<T> max(Var<T> a);
template <Scalar T> Var<T> max(Var<T> a, int dim, bool keepdim = false);
template <Scalar T> Var<T> softmax(Var<T> a, int dim);
template <Scalar T> Var<T> log_softmax(Var<T> a, int dim);

// --- normalisation (ops_norm.cpp) -------------------------------------------------------------
// torch.nn.functional.layer_norm over the last dimension: (x − mean)/sqrt(var + eps)·weight + bias
// with the biased variance; weight and bias [D]. One pass per row forward and backward.
template <Scalar T> Var<T> layer_norm(Var<T> x, Var<T> weight, Var<T> bias, T eps);
// The same with element-wise ops (mean, sub, mul, sqrt, div): the reference layer_norm is tested
// against.
template <Scalar T> Var<T> layer_norm_naive(Var<T> x, Var<T> weight, Var<T> bias, T eps);
// x·scale[c] + shift[c] for x [N, C, ...]: BatchNorm in evaluation, one pass where a broadcast
// mul and add take two (its naive twin).
template <Scalar T> Var<T> channel_affine(Var<T> x, Var<T> scale, Var<T> shift);
// BatchNorm in training, as torch.nn.functional.batch_norm(training=True) for x [N, C, ...]: per
// channel c the batch mean μ_c and biased variance σ²_c over every dimension but 1,
// y = (x − μ_c)/sqrt(σ²_c + eps)·weight[c] + bias[c]. Writes μ and σ² (biased) to `batch_mean` and
// `batch_var` ([C] each, for the running statistics). One op with a closed-form backward
// (dx = w·rstd·(g − mean(g) − x̂·mean(g·x̂))) where the composed version took a dozen passes.
// With `then_relu`, relu(y) and its gradient in the same passes: the bits of ad::relu after it.
// With a `residual` of x's shape, y + residual before the ReLU (a residual block's second
// normalisation, sum and activation): the bits of ad::add_relu(y, residual) after it.
template <Scalar T>
Var<T> batch_norm_train(Var<T> x, Var<T> weight, Var<T> bias, T eps, Tensor<T>& batch_mean, Tensor<T>& batch_var, bool then_relu = false,
                        Var<T> residual = {});
// batch_norm_train(conv2d(x, conv_weight, conv_bias, stride, padding), weight, bias, ...) as one
// op, the same values and gradients bit for bit: the convolution's backward takes BatchNorm's dx
// one image at a time as BatchNorm works it out, where the two ops wrote it for the whole batch
// and read it back (ops_conv_batch_norm.cpp). Model trains a Conv2d followed by BatchNorm2d
// this way (with the ReLU, or the residual sum and ReLU, after it).
template <Scalar T>
Var<T> conv2d_batch_norm_train(Var<T> x, Var<T> conv_weight, Var<T> conv_bias, int stride, int padding, Var<T> weight, Var<T> bias, T eps,
                               Tensor<T>& batch_mean, Tensor<T>& batch_var, bool then_relu = false, Var<T> residual = {});

// --- linear algebra (ops_matmul.cpp) ---------------------------------------------------------
// op(a)·op(b). 2-D: [m,k]·[k,n]. Batched: [B,m,k]·[B,k,n], or one side 2-D and shared by the
// batch. Transposes apply to the last two dimensions and cost no copy.
template <Scalar T> Var<T> matmul(Var<T> a, Var<T> b, bool trans_a = false, bool trans_b = false);

// --- indexing (ops_index.cpp) ----------------------------------------------------------------
// Rows `indices` of `a` along `dim` (backward: scatter-add).
template <Scalar T> Var<T> index_select(Var<T> a, int dim, std::span<const int64_t> indices);
// weight [V, D] looked up at `ids` of shape `ids_shape`: result [ids_shape..., D].
template <Scalar T> Var<T> embedding(Var<T> weight, std::span<const int64_t> ids, Shape ids_shape);

// --- convolution and pooling (ops_conv.cpp, ops_pool.cpp) -------------------------------------
// x [N, C, H, W], weight [O, C, kh, kw], bias [O] or an empty Var for none.
template <Scalar T> Var<T> conv2d(Var<T> x, Var<T> weight, Var<T> bias, int stride = 1, int padding = 0);
// relu(conv2d(...)) as one op, the same values and gradients: the activation is applied as the
// output is written and its mask as the gradient is read, one pass fewer over the largest tensors
// of a CNN. Model runs a Conv2d followed by a ReLU this way.
template <Scalar T> Var<T> conv2d_relu(Var<T> x, Var<T> weight, Var<T> bias, int stride = 1, int padding = 0);
// max_pool2d(relu(conv2d(...)), 2, 2) as one op, the same values and gradients: the convolution's
// output is activated and pooled while it is still in cache, only the pooled values (and each
// window's winner, for the backward) are written, and the backward puts dY straight at the
// winners. Model runs Conv2d, ReLU, MaxPool2d(2) this way.
template <Scalar T> Var<T> conv2d_relu_max_pool2d(Var<T> x, Var<T> weight, Var<T> bias, int stride = 1, int padding = 0);
template <Scalar T> Var<T> max_pool2d(Var<T> x, int kernel, int stride);
template <Scalar T> Var<T> avg_pool2d(Var<T> x, int kernel, int stride);

// --- recurrent (ops_recurrent.cpp) -----------------------------------------------------------
// One layer of torch.nn.LSTM over a whole sequence from a zero state: x [N, L, I] (batch_first) or
// [L, N, I]; w_ih [4H, I], w_hh [4H, H], b_ih and b_hh [4H] or both empty Vars (bias=False); gates
// in PyTorch's order i, f, g, o. The result is h at every step, [N, L, H] or [L, N, H].
template <Scalar T> Var<T> lstm(Var<T> x, Var<T> w_ih, Var<T> w_hh, Var<T> b_ih, Var<T> b_hh, bool batch_first);
// The same for torch.nn.GRU: gates r, z, n, weights [3H, ·], n = tanh(W_in x + b_in + r·(W_hn h + b_hn)).
template <Scalar T> Var<T> gru(Var<T> x, Var<T> w_ih, Var<T> w_hh, Var<T> b_ih, Var<T> b_hh, bool batch_first);
// The same functions composed from matmul, slice, sigmoid, tanh and concat, step by step: the
// references the fused ops are tested against.
template <Scalar T> Var<T> lstm_naive(Var<T> x, Var<T> w_ih, Var<T> w_hh, Var<T> b_ih, Var<T> b_hh, bool batch_first);
template <Scalar T> Var<T> gru_naive(Var<T> x, Var<T> w_ih, Var<T> w_hh, Var<T> b_ih, Var<T> b_hh, bool batch_first);

// --- losses (ops_loss.cpp) --------------------------------------------------------------------
// Mean over the batch of −log softmax(logits)[target]; logits [N, C], targets in [0, C).
template <Scalar T> Var<T> cross_entropy(Var<T> logits, std::span<const int64_t> targets);
// PyTorch's BCEWithLogitsLoss (mean): logits one per example ([N] or [N, 1]), targets in [0, 1].
template <Scalar T> Var<T> binary_cross_entropy_with_logits(Var<T> logits, std::span<const T> targets);
// Mean of (a − b)² over all elements.
template <Scalar T> Var<T> mse(Var<T> a, Var<T> b);

}  // namespace integrad::ad
