#include "nn/optim.h"

#include <fmt/format.h>

#include <cmath>
#include <set>
#include <stdexcept>

#include "autodiff/parallel.h"

namespace integrad::nn {

namespace {

// An optimiser's update is about this many operations per parameter (Adam: two moving averages,
// a square root and a division), the unit ad::kParallelWork counts in.
constexpr int64_t kUpdateWork = 4;

// Reads back a saved state: saved(k, "exp_avg") is the k-th parameter's tensor of that kind (or
// nullptr), checked against the parameter's shape; finish() refuses tensors no one asked for.
template <ad::Scalar T>
class StateReader {
 public:
  StateReader(const OptimizerState<T>& state, const std::vector<Parameter<T>*>& params) : state_(state), params_(params) {}
  const ad::Tensor<T>* saved(size_t k, const std::string& kind) {
    const std::string name = fmt::format("{}.{}", k, kind);
    auto it = state_.tensors.find(name);
    if (it == state_.tensors.end()) return nullptr;
    if (it->second.shape() != params_[k]->value.shape())
      throw std::invalid_argument(fmt::format("optimizer state '{}' has shape {}, its parameter has shape {}", name, it->second.shape().str(),
                                              params_[k]->value.shape().str()));
    used_.insert(name);
    return &it->second;
  }
  void finish() const {
    for (const auto& [name, t] : state_.tensors)
      if (!used_.count(name)) throw std::invalid_argument(fmt::format("optimizer state '{}' is not used by this optimizer and model", name));
  }

 private:
  const OptimizerState<T>& state_;
  const std::vector<Parameter<T>*>& params_;
  std::set<std::string> used_;
};

// torch.optim.SGD: g ← grad + λ·p; with momentum μ: b ← g on the first step, else
// b ← μ·b + (1 − dampening)·g; g ← g + μ·b (Nesterov) or g ← b; p ← p − lr·g.
template <ad::Scalar T>
class Sgd : public Optimizer<T> {
 public:
  Sgd(OptimizerOptions o, std::vector<Parameter<T>*> params) : o_(o), params_(std::move(params)), buffers_(params_.size()) {
    if (o_.nesterov && (o_.momentum <= 0 || o_.dampening != 0)) throw std::invalid_argument("Nesterov momentum requires a momentum and zero dampening");
  }
  void step() override {
    const T lr = T(o_.lr), mu = T(o_.momentum), wd = T(o_.weight_decay), damp = T(1 - o_.dampening);
    for (size_t k = 0; k < params_.size(); ++k) {
      T* p = params_[k]->value.data();
      const T* grad = params_[k]->grad.data();
      const int64_t n = params_[k]->value.numel();
      if (mu != T(0) && buffers_[k].numel() != n) {
        buffers_[k] = ad::Tensor<T>(params_[k]->value.shape());
        first_[k] = true;
      }
      T* buffer = buffers_[k].data();
      const bool first = first_[k];
#pragma omp parallel for schedule(static) if (n * kUpdateWork >= ad::kParallelWork)
      for (int64_t i = 0; i < n; ++i) {
        T g = grad[i];
        if (wd != T(0)) g += wd * p[i];
        if (mu != T(0)) {
          T& b = buffer[i];
          b = first ? g : mu * b + damp * g;
          g = o_.nesterov ? g + mu * b : b;
        }
        p[i] -= lr * g;
      }
      first_[k] = false;
    }
    ++steps_;
  }
  OptimizerState<T> state() const override {
    OptimizerState<T> s{steps_, {}};
    for (size_t k = 0; k < params_.size(); ++k)
      if (!first_[k] && buffers_[k].numel() > 0) s.tensors.emplace(fmt::format("{}.momentum_buffer", k), buffers_[k]);
    return s;
  }
  void load_state(const OptimizerState<T>& s) override {
    StateReader<T> reader(s, params_);
    for (size_t k = 0; k < params_.size(); ++k) {
      const ad::Tensor<T>* b = reader.saved(k, "momentum_buffer");
      buffers_[k] = b ? *b : ad::Tensor<T>();
      first_[k] = b == nullptr;
    }
    reader.finish();
    steps_ = s.steps;
  }

 private:
  OptimizerOptions o_;
  std::vector<Parameter<T>*> params_;
  std::vector<ad::Tensor<T>> buffers_;
  int64_t steps_ = 0;
  std::vector<char> first_ = std::vector<char>(params_.size(), 1);
};

// torch.optim.Adam / AdamW: m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g²,
// p ← p − (lr / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε). Adam adds λ·p to g (L2); AdamW instead
// first shrinks p ← p·(1 − lr·λ) (decoupled weight decay).
template <ad::Scalar T>
class Adam : public Optimizer<T> {
 public:
  Adam(OptimizerOptions o, std::vector<Parameter<T>*> params, bool decoupled) : o_(o), decoupled_(decoupled), params_(std::move(params)) {
    for (auto* p : params_) {
      m_.emplace_back(p->value.shape());
      v_.emplace_back(p->value.shape());
    }
  }
  void step() override {
    ++t_;
    const T lr = T(o_.lr), b1 = T(o_.beta1), b2 = T(o_.beta2), eps = T(o_.eps), wd = T(o_.weight_decay);
    const T bias1 = T(1) - std::pow(b1, T(t_)), bias2_sqrt = std::sqrt(T(1) - std::pow(b2, T(t_)));
    const T step_size = lr / bias1;
    for (size_t k = 0; k < params_.size(); ++k) {
      T* p = params_[k]->value.data();
      const T* grad = params_[k]->grad.data();
      T *m = m_[k].data(), *v = v_[k].data();
      const int64_t n = params_[k]->value.numel();
      // Elements are independent, so splitting them over threads changes no result.
#pragma omp parallel for schedule(static) if (n * kUpdateWork >= ad::kParallelWork)
      for (int64_t i = 0; i < n; ++i) {
        T g = grad[i];
        if (decoupled_) p[i] *= T(1) - lr * wd;
        else if (wd != T(0)) g += wd * p[i];
        m[i] = b1 * m[i] + (T(1) - b1) * g;
        v[i] = b2 * v[i] + (T(1) - b2) * g * g;
        p[i] -= step_size * m[i] / (std::sqrt(v[i]) / bias2_sqrt + eps);
      }
    }
  }
  OptimizerState<T> state() const override {
    OptimizerState<T> s{t_, {}};
    for (size_t k = 0; k < params_.size(); ++k) {
      s.tensors.emplace(fmt::format("{}.exp_avg", k), m_[k]);
      s.tensors.emplace(fmt::format("{}.exp_avg_sq", k), v_[k]);
    }
    return s;
  }
  void load_state(const OptimizerState<T>& s) override {
    StateReader<T> reader(s, params_);
    for (size_t k = 0; k < params_.size(); ++k) {
      const ad::Tensor<T>*m = reader.saved(k, "exp_avg"), *v = reader.saved(k, "exp_avg_sq");
      if (!m || !v) throw std::invalid_argument(fmt::format("optimizer state lacks {}.exp_avg or {}.exp_avg_sq (was it saved by another optimizer?)", k, k));
      m_[k] = *m;
      v_[k] = *v;
    }
    reader.finish();
    t_ = s.steps;
  }

 private:
  OptimizerOptions o_;
  bool decoupled_;
  std::vector<Parameter<T>*> params_;
  std::vector<ad::Tensor<T>> m_, v_;
  int64_t t_ = 0;
};

}  // namespace

template <ad::Scalar T>
std::unique_ptr<Optimizer<T>> make_optimizer(const OptimizerOptions& o, std::vector<Parameter<T>*> params) {
  // Each setting in its range (a NaN weight decay or a momentum of 2 trains to NaN weights), named
  // as the CLI and Python name it.
  if (!(o.lr > 0) || !std::isfinite(o.lr)) throw std::invalid_argument(fmt::format("the learning rate (--lr, lr=) must be a finite number above 0; got {}", o.lr));
  if (!(o.momentum >= 0 && o.momentum < 1)) throw std::invalid_argument(fmt::format("--momentum (momentum=) must be in [0, 1); got {}", o.momentum));
  if (!(o.weight_decay >= 0) || !std::isfinite(o.weight_decay))
    throw std::invalid_argument(fmt::format("--weight-decay (weight_decay=) must be a finite number, 0 or more; got {}", o.weight_decay));
  if (o.name != "sgd" && (o.momentum != 0 || o.nesterov))
    throw std::invalid_argument(fmt::format("--{} is an option of --optimizer sgd; {} has its own moments (betas)", o.momentum != 0 ? "momentum" : "nesterov", o.name));
  if (o.name == "sgd") return std::make_unique<Sgd<T>>(o, std::move(params));
  if (o.name == "adam") return std::make_unique<Adam<T>>(o, std::move(params), false);
  if (o.name == "adamw") return std::make_unique<Adam<T>>(o, std::move(params), true);
  throw std::invalid_argument("unknown optimizer '" + o.name + "' (sgd, adam, adamw)");
}

template std::unique_ptr<Optimizer<float>> make_optimizer<float>(const OptimizerOptions&, std::vector<Parameter<float>*>);
template std::unique_ptr<Optimizer<double>> make_optimizer<double>(const OptimizerOptions&, std::vector<Parameter<double>*>);

}  // namespace integrad::nn
