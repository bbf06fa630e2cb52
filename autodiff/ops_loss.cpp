// Losses. Cross-entropy and binary cross-entropy with logits are each one fused node: log-sum-exp with the row maximum subtracted (no
// overflow), and the textbook backward (softmax − one-hot) / N.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "autodiff/ops.h"

namespace integrad::ad {

template <Scalar T>
Var<T> cross_entropy(Var<T> logits, std::span<const int64_t> targets) {
  if (logits.rank() != 2) throw std::invalid_argument("cross_entropy: logits must be [N, C], got " + logits.shape().str());
  const int64_t n = logits.shape()[0], c = logits.shape()[1];
  if (static_cast<int64_t>(targets.size()) != n)
    throw std::invalid_argument("cross_entropy: " + std::to_string(targets.size()) + " targets for " + std::to_string(n) + " rows");
  for (int64_t t : targets)
    if (t < 0 || t >= c) throw std::invalid_argument("cross_entropy: target " + std::to_string(t) + " outside [0, " + std::to_string(c) + ")");
  Tape<T>& tape = logits.tape();
  Var<T> out = tape.make(Shape{}, logits.requires_grad());
  const T* z = logits.value().data();
  // Per-row log-sum-exp, kept for the backward.
  T* lse = tape.template scratch<T>(static_cast<size_t>(n));
  T loss = 0;
  for (int64_t i = 0; i < n; ++i) {
    const T* row = z + i * c;
    T m = -std::numeric_limits<T>::infinity();
    for (int64_t k = 0; k < c; ++k) m = std::max(m, row[k]);
    T s = 0;
    for (int64_t k = 0; k < c; ++k) s += std::exp(row[k] - m);
    lse[i] = m + std::log(s);
    loss += lse[i] - row[targets[static_cast<size_t>(i)]];
  }
  tape.write(out)[0] = loss / static_cast<T>(n);
  if (out.requires_grad()) {
    int64_t* saved = tape.template scratch<int64_t>(static_cast<size_t>(n));
    std::copy(targets.begin(), targets.end(), saved);
    tape.on_backward(out, [logits, out, lse, saved, n, c](Tape<T>& t) {
      const T scale = t.grad(out)[0] / static_cast<T>(n);
      const T* z = logits.value().data();
      T* dz = t.grad_to(logits);
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t k = 0; k < c; ++k) dz[i * c + k] += scale * std::exp(z[i * c + k] - lse[i]);
        dz[i * c + saved[i]] -= scale;
      }
    });
  }
  return out;
}

template <Scalar T>
Var<T> binary_cross_entropy_with_logits(Var<T> logits, std::span<const T> targets) {
  const int64_t n = logits.shape().numel();
  if (logits.rank() < 1 || logits.shape()[0] != n)
    throw std::invalid_argument("binary_cross_entropy_with_logits: logits must be one per example, [N] or [N, 1]; got " + logits.shape().str());
  if (static_cast<int64_t>(targets.size()) != n)
    throw std::invalid_argument("binary_cross_entropy_with_logits: " + std::to_string(targets.size()) + " targets for " + std::to_string(n) + " logits");
  Tape<T>& tape = logits.tape();
  Var<T> out = tape.make(Shape{}, logits.requires_grad());
  const T* z = logits.value().data();
  // max(z, 0) − z·y + log(1 + e^(−|z|)): PyTorch's form, finite for any z.
  T loss = 0;
  for (int64_t i = 0; i < n; ++i) loss += std::max(z[i], T(0)) - z[i] * targets[size_t(i)] + std::log1p(std::exp(-std::abs(z[i])));
  tape.write(out)[0] = loss / static_cast<T>(n);
  if (out.requires_grad()) {
    T* saved = tape.template scratch<T>(static_cast<size_t>(n));
    std::copy(targets.begin(), targets.end(), saved);
    tape.on_backward(out, [logits, out, saved, n](Tape<T>& t) {
      const T scale = t.grad(out)[0] / static_cast<T>(n);
      const T* z = logits.value().data();
      T* dz = t.grad_to(logits);
      for (int64_t i = 0; i < n; ++i) dz[i] += scale * (T(1) / (T(1) + std::exp(-z[i])) - saved[i]);
    });
  }
  return out;
}

template <Scalar T>
Var<T> mse(Var<T> a, Var<T> b) {
  if (a.shape() != b.shape()) throw std::invalid_argument("mse: shapes " + a.shape().str() + " and " + b.shape().str() + " differ");
  Var<T> d = a - b;
  return mean(d * d);
}

template Var<float> cross_entropy(Var<float>, std::span<const int64_t>);
template Var<double> cross_entropy(Var<double>, std::span<const int64_t>);
template Var<float> binary_cross_entropy_with_logits(Var<float>, std::span<const float>);
template Var<double> binary_cross_entropy_with_logits(Var<double>, std::span<const double>);
template Var<float> mse(Var<float>, Var<float>);
template Var<double> mse(Var<double>, Var<double>);

}  // namespace integrad::ad
