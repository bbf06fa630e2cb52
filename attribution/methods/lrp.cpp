// The registry entry of layer-wise relevance propagation (`--method lrp`; Bach et al. 2015,
// Montavon et al. 2019) with Zennit 0.5.1's rules and composites. The relevance starts as the
// one-hot of the target at the output and is passed down node by node; the result is the
// relevance at the input.
//
// As in Zennit, LRP is a modified gradient: each node's backward is replaced by its rule (a
// NodeHook `.instead` that computes the node's usual value and attaches the rule as its backward),
// and nodes without a rule pass relevance as gradients do (max pooling to the winner, Flatten,
// Concat). Zennit's canonizer is here too: a BatchNorm that is the only reader of a convolution or
// dense layer is merged into it (W·s, b·s + t with the eval-mode scale s and shift t), and the
// BatchNorm node then passes its input through.
//
// Which rule a node gets is the table `rule_of` below, from the composite and the node's kind:
//   first conv/dense layer   flat (epsilon-plus-flat), z-box (epsilon-gamma-box, convolutions only)
//   Conv2d                   ε (epsilon), z+ (epsilon-plus, -flat), γ (epsilon-gamma-box), α2β1
//   Linear                   ε
//   Add, AvgPool2d, AdaptiveAvgPool2d   Norm: each input gets its share x_j·R / Σ x
//   ReLU, Sigmoid, Tanh, GELU, BatchNorm   pass: relevance goes through unchanged
// A conv/dense rule is Zennit's BasicHook: a few branches, each the layer with modified inputs and
// parameters (x⁺ with W⁺, ...), the relevance divided by a stabilised sum of branch outputs and
// sent back through each branch's transposed Jacobian, then weighted by the branch's input.
// LRP conserves relevance only up to what the biases and ε absorb; it is not implementation
// invariant (the rules see the layers, not the function). It is linear in the relevance it starts
// with, and (but for the flat first layer) gives a feature with zero weights nothing.
#include <fmt/format.h>

#include <cmath>
#include <deque>
#include <set>
#include <stdexcept>
#include <string_view>

#include "nn/for_each_example.h"
#include "nn/parts.h"
#include "attribution/method.h"
#include "autodiff/thread_tape.h"
#include "nn/layers_activation.h"
#include "nn/layers_batch_norm.h"
#include "nn/layers_conv.h"
#include "nn/layers_linear.h"
#include "nn/layers_merge.h"

namespace integrad::attr {

namespace {

enum class Rule { gradient, pass, norm, epsilon, zplus, gamma, alpha2beta1, flat, zbox };

struct Composite {
  Rule conv, dense, first;
  bool first_dense;  // the first-layer rule applies to a Linear too (Zennit's flat: any linear layer; z-box: convolutions only)
};

Composite parse_composite(const std::string& name) {
  if (name == "epsilon") return {Rule::epsilon, Rule::epsilon, Rule::epsilon, true};
  if (name == "epsilon-plus") return {Rule::zplus, Rule::epsilon, Rule::zplus, false};
  if (name == "epsilon-plus-flat") return {Rule::zplus, Rule::epsilon, Rule::flat, true};
  if (name == "epsilon-gamma-box") return {Rule::gamma, Rule::epsilon, Rule::zbox, false};
  if (name == "epsilon-alpha2-beta1") return {Rule::alpha2beta1, Rule::epsilon, Rule::alpha2beta1, false};
  throw std::invalid_argument("--composite must be epsilon, epsilon-plus, epsilon-plus-flat, epsilon-gamma-box or epsilon-alpha2-beta1, not " + name);
}

// The table: node kind (the registry's name) -> rule, given the composite and whether the node is
// the first layer.
Rule rule_of(std::string_view kind, const Composite& c, bool first) {
  static const std::set<std::string, std::less<>> norm = {"Add", "AvgPool2d", "AdaptiveAvgPool2d"};
  static const std::set<std::string, std::less<>> pass = {"ReLU", "Sigmoid", "Tanh", "GELU", "BatchNorm1d", "BatchNorm2d"};
  if (kind == "Conv2d") return first ? c.first : c.conv;
  if (kind == "Linear") return first && c.first_dense ? c.first : c.dense;
  if (norm.contains(kind)) return Rule::norm;
  if (pass.contains(kind)) return Rule::pass;
  return Rule::gradient;
}

struct Settings {
  double epsilon, gamma, low, high;
  double stabilizer = 1e-6;  // Zennit's default for every rule but ε's own
};

// z + ε·sign(z), sign(0) = +1 (Zennit's stabilize).
template <ad::Scalar T>
T stabilize(T z, double eps) {
  return z + (z >= T(0) ? T(eps) : T(-eps));
}

// A conv or dense layer with any BatchNorm after it merged in: y = W ∗ x + b.
template <ad::Scalar T>
struct Affine {
  ad::Tensor<T> weight, bias;  // bias [out] (zeros when the layer has none)
  bool conv = false;
  int stride = 1, padding = 0;

  // The layer with weights w and bias b in their place.
  ad::Var<T> apply(ad::Var<T> x, ad::Var<T> w, ad::Var<T> b) const {
    if (conv) return ad::conv2d(x, w, b, stride, padding);
    return ad::matmul(x, w, false, true) + b;
  }
  // The layer itself, its weights read in place (they outlive the tape's use of them).
  ad::Var<T> apply(ad::Tape<T>& tape, ad::Var<T> x) const {
    return apply(x, tape.constant(weight.shape(), weight.data()), tape.constant(bias.shape(), bias.data()));
  }
};

template <ad::Scalar T>
Affine<T> affine_of(const nn::Layer<T>& layer, const nn::BatchNorm<T>* bn) {
  Affine<T> a;
  if (const auto* c = dynamic_cast<const nn::Conv2d<T>*>(&layer)) {
    a = {c->weight.value, c->has_bias ? c->bias.value : ad::Tensor<T>(ad::Shape{c->out_ch}), true, c->stride, c->padding};
  } else if (const auto* l = dynamic_cast<const nn::Linear<T>*>(&layer)) {
    a = {l->weight.value, l->has_bias ? l->bias.value : ad::Tensor<T>(ad::Shape{l->out}), false, 1, 0};
  } else {
    throw std::invalid_argument("lrp: no rule for " + layer.architecture() + " (Conv2d and Linear layers only)");
  }
  if (bn) {  // Zennit's MergeBatchNorm: W·s per output, (b − mean)·s + β = b·s + t
    const auto [scale, shift] = bn->affine();
    const int64_t outs = a.weight.size(0), per = a.weight.numel() / outs;
    for (int64_t o = 0; o < outs; ++o) {
      for (int64_t k = 0; k < per; ++k) a.weight[o * per + k] *= scale[o];
      a.bias[o] = a.bias[o] * scale[o] + shift[o];
    }
  }
  return a;
}

// One branch of a BasicHook rule: the layer on a modified input with modified parameters.
enum class InputMod { same, positive, negative, ones, low, high };
// w, w⁺, w⁻, w + γ·w⁺, w + γ·w⁻, 1: applied to weight and (if kept) bias.
enum class ParamMod { same, positive, negative, gamma_positive, gamma_negative, one };
template <ad::Scalar T>
struct Branch {
  InputMod input;
  ParamMod param;
  bool bias;
  int group;      // branches of a group share a denominator Σ den_sign·z
  T den_sign, coef;  // coef: the branch's weight in the reducer
};

template <ad::Scalar T>
std::vector<Branch<T>> branches_of(Rule rule) {
  using I = InputMod;
  using P = ParamMod;
  switch (rule) {
    case Rule::epsilon: return {{I::same, P::same, true, 0, 1, 1}};
    case Rule::zplus: return {{I::positive, P::positive, true, 0, 1, 1}, {I::negative, P::negative, false, 0, 1, 1}};
    case Rule::alpha2beta1:
      return {{I::positive, P::positive, true, 0, 1, 2}, {I::negative, P::negative, false, 0, 1, 2},
              {I::positive, P::negative, true, 1, 1, -1}, {I::negative, P::positive, false, 1, 1, -1}};
    case Rule::gamma:  // group 0 where the layer's output is positive, group 1 where it is negative
      return {{I::positive, P::gamma_positive, true, 0, 1, 1}, {I::negative, P::gamma_negative, false, 0, 1, 1},
              {I::positive, P::gamma_negative, true, 1, 1, 1}, {I::negative, P::gamma_positive, false, 1, 1, 1}};
    case Rule::zbox: return {{I::same, P::same, true, 0, 1, 1}, {I::low, P::positive, true, 0, -1, -1}, {I::high, P::negative, true, 0, -1, -1}};
    case Rule::flat: return {{I::ones, P::one, false, 0, 1, 1}};
    default: throw std::logic_error("not a conv/dense rule");
  }
}

// to[k] = mod(from[k]), a loop per modification (a call through std::function per weight was a
// thirtieth of an LRP on a ResNet, whose parts of two images each modify every layer's weights).
template <ad::Scalar T>
void modify(ParamMod mod, T gamma, std::span<const T> from, T* to) {
  const size_t n = from.size();
  switch (mod) {
    case ParamMod::same: std::copy(from.begin(), from.end(), to); break;
    case ParamMod::positive: for (size_t k = 0; k < n; ++k) to[k] = std::max(from[k], T(0)); break;
    case ParamMod::negative: for (size_t k = 0; k < n; ++k) to[k] = std::min(from[k], T(0)); break;
    case ParamMod::gamma_positive: for (size_t k = 0; k < n; ++k) to[k] = from[k] + gamma * std::max(from[k], T(0)); break;
    case ParamMod::gamma_negative: for (size_t k = 0; k < n; ++k) to[k] = from[k] + gamma * std::min(from[k], T(0)); break;
    case ParamMod::one: std::fill_n(to, n, T(1)); break;
  }
}

// The input of branch b of a rule: x modified, written to `to`.
template <ad::Scalar T>
void branch_input(InputMod mod, const Settings& s, std::span<const T> x, T* to) {
  const size_t n = x.size();
  switch (mod) {
    case InputMod::same: std::copy(x.begin(), x.end(), to); break;
    case InputMod::positive: for (size_t k = 0; k < n; ++k) to[k] = std::max(x[k], T(0)); break;
    case InputMod::negative: for (size_t k = 0; k < n; ++k) to[k] = std::min(x[k], T(0)); break;
    case InputMod::ones: std::fill_n(to, n, T(1)); break;
    case InputMod::low: std::fill_n(to, n, T(s.low)); break;
    case InputMod::high: std::fill_n(to, n, T(s.high)); break;
  }
}

// Relevance at the input of an affine layer for relevance R at its output (Zennit's BasicHook):
// z_k = branch k's output, v_k = R / stab(Σ_{k in group} den_sign·z_k) (γ: masked by the sign of
// the layer's own output), R_in = Σ_k coef_k · x_k ⊙ J_kᵀ v_k (flat: J_kᵀ v_k alone).
// The branches of a group run as one layer: their inputs side by side along the input channels
// (a dense layer's features), their weights likewise, each times its den_sign, and the biases
// summed, so that its output is the group's Σ den_sign·z_k and one backward sweep gives every
// den_sign·J_kᵀ v: one convolution and one backward sweep a group, where ε-plus's two branches
// took two of each, half as deep (5% less time for an LRP on a ResNet at one thread). The sums
// are grouped differently, so the values move by rounding (Zennit's within 1e-8 still).
template <ad::Scalar T>
ad::Tensor<T> affine_relevance(const Affine<T>& a, Rule rule, const Settings& s, const ad::Var<T>& x_var, std::span<const T> relevance) {
  const std::vector<Branch<T>> branches = branches_of<T>(rule);
  const double eps = rule == Rule::epsilon ? s.epsilon : s.stabilizer;
  const std::span<const T> x = x_var.value();
  const ad::Shape& shape = x_var.shape();
  const size_t nz = relevance.size();
  // The dimension the branches stack along: a convolution's channels, a dense layer's features.
  const int stacked = a.conv ? 1 : shape.rank() - 1;
  int64_t inner = 1;  // values of one row from that dimension on
  for (int d = stacked; d < shape.rank(); ++d) inner *= shape[d];
  const int64_t rows = inner ? int64_t(x.size()) / inner : 0;
  const int64_t outs = a.weight.size(0), per_output = outs ? a.weight.numel() / outs : 0;
  ad::ThreadTape<T> thread_tape;
  ad::Tape<T>& tape = *thread_tape;
  std::span<const T> original;
  if (rule == Rule::gamma) original = a.apply(tape, tape.constant(shape, x.data())).value();
  int groups = 0;
  for (const Branch<T>& b : branches) groups = std::max(groups, b.group + 1);
  ad::Tensor<T> result(shape);
  T* r = result.data();
  // Scratch on the tape, as the stacked weights below: no allocation, nothing cleared, a part.
  T* v = tape.template scratch<T>(nz);
  T* modified = tape.template scratch<T>(size_t(a.weight.numel()));
  for (int grp = 0; grp < groups; ++grp) {
    std::vector<size_t> members;
    for (size_t k = 0; k < branches.size(); ++k)
      if (branches[k].group == grp) members.push_back(k);
    const int64_t count = int64_t(members.size());
    ad::Shape stacked_shape = shape, stacked_weight = a.weight.shape();
    stacked_shape[stacked] *= count;
    stacked_weight[1] *= count;
    ad::Var<T> in = tape.make(stacked_shape, true);
    T* iv = tape.write(in);
    const ad::Var<T> w = tape.make(stacked_weight, false), bias = tape.make(a.bias.shape(), false);
    T *wv = tape.write(w), *bv = tape.write(bias);
    std::fill_n(bv, outs, T(0));
    for (int64_t m = 0; m < count; ++m) {
      const Branch<T>& b = branches[members[size_t(m)]];
      for (int64_t row = 0; row < rows; ++row) branch_input(b.input, s, x.subspan(size_t(row * inner), size_t(inner)), iv + (row * count + m) * inner);
      modify(b.param, T(s.gamma), a.weight.span(), modified);
      for (int64_t o = 0; o < outs; ++o) {
        T* to = wv + (o * count + m) * per_output;
        const T* from = modified + o * per_output;
        for (int64_t k = 0; k < per_output; ++k) to[k] = b.den_sign * from[k];
      }
      if (b.bias) {
        modify(b.param, T(s.gamma), a.bias.span(), modified);
        for (int64_t o = 0; o < outs; ++o) bv[o] += b.den_sign * modified[o];
      }
    }
    const ad::Var<T> z = a.apply(in, w, bias);
    const T* zv = z.value().data();
    for (size_t j = 0; j < nz; ++j) {
      v[j] = relevance[j] / stabilize(zv[j], eps);
      if (rule == Rule::gamma && !(grp == 0 ? original[j] > T(0) : original[j] < T(0))) v[j] = T(0);
    }
    tape.backward(z, std::span<const T>(v, nz));
    const T* jv = tape.grad(in);  // den_sign·J_kᵀ v, branch by branch within each row
    for (int64_t m = 0; m < count; ++m) {
      const Branch<T>& b = branches[members[size_t(m)]];
      const T coef = b.coef * b.den_sign;  // den_sign is ±1: dividing by it is multiplying
      for (int64_t row = 0; row < rows; ++row) {
        const int64_t at = (row * count + m) * inner;
        T* rr = r + row * inner;
        if (rule == Rule::flat)
          for (int64_t j = 0; j < inner; ++j) rr[j] += coef * jv[at + j];
        else
          for (int64_t j = 0; j < inner; ++j) rr[j] += coef * (iv[at + j] * jv[at + j]);
      }
    }
  }
  return result;
}

// What a node's replaced backward needs; kept outside the tape (its closures hold no containers).
template <ad::Scalar T>
struct NodeRule {
  Rule rule;
  const Settings* settings;
  const nn::Layer<T>* layer;  // norm rule on a pooling layer: its forward
  bool sum;                   // norm rule on Add (else on a pooling layer)
  Affine<T> affine;
  std::vector<ad::Var<T>> reads;  // the values the node read (on the part's tape, alive until its backward)
  std::vector<ad::Tensor<T>> backward(std::span<const T> relevance) const {
    switch (rule) {
      case Rule::norm: {
        if (sum) {  // Zennit's Norm on its Sum: x_j · R / stab(Σ x)
          // One pass per input over all elements (loops that vectorise; a loop over the inputs
          // inside the loop over elements did not), each element summed in input order as before.
          std::vector<ad::Tensor<T>> out;
          for (size_t j = 0; j < reads.size(); ++j) out.emplace_back(reads[0].shape());
          const size_t count = relevance.size();
          std::vector<T> v(count, T(0));
          for (const ad::Var<T>& read : reads) {
            const T* r = read.value().data();
            for (size_t k = 0; k < count; ++k) v[k] += r[k];
          }
          for (size_t k = 0; k < count; ++k) v[k] = relevance[k] / stabilize(v[k], settings->stabilizer);
          for (size_t j = 0; j < reads.size(); ++j) {
            const T* r = reads[j].value().data();
            T* to = out[j].data();
            for (size_t k = 0; k < count; ++k) to[k] = r[k] * v[k];
          }
          return out;
        }
        ad::ThreadTape<T> tape;  // pooling: x ⊙ Jᵀ(R / stab(pool(x)))
        ad::Var<T> in = tape->leaf(reads[0].shape(), reads[0].value().data(), true);
        ad::Var<T> z = layer->forward(*tape, in, nn::Grads::none);
        std::vector<T> v(relevance.size());
        const T* zv = z.value().data();
        for (size_t k = 0; k < v.size(); ++k) v[k] = relevance[k] / stabilize(zv[k], settings->stabilizer);
        tape->backward(z, v);
        ad::Tensor<T> out = in.grad_tensor();
        const T* x = reads[0].value().data();
        for (int64_t k = 0, n = out.numel(); k < n; ++k) out[k] *= x[k];
        return {out};
      }
      default: return {affine_relevance(affine, rule, *settings, reads[0], relevance)};
    }
  }
};

// Zennit's Pass rule: the node keeps its value (written by `fill`) and hands the relevance from
// above to its input unchanged. No copy of the input is kept.
template <ad::Scalar T, class Fill>
ad::Var<T> pass_rule(ad::Tape<T>& tape, ad::Var<T> x, Fill&& fill) {
  ad::Var<T> out = tape.make(x.shape(), x.requires_grad());
  fill(tape.write(out));
  if (out.requires_grad())
    tape.on_backward(out, [x, out](ad::Tape<T>& t) {
      const T* g = t.grad(out);
      T* gx = t.grad_to(x);
      if (!g || !gx) return;
      for (int64_t k = 0, n = out.numel(); k < n; ++k) gx[k] += g[k];
    });
  return out;
}

// `value` on the tape, reading `reads`, with the rule as its backward.
template <ad::Scalar T>
ad::Var<T> with_rule(ad::Tape<T>& tape, std::span<const ad::Var<T>> reads, std::span<const T> value, const ad::Shape& shape, const NodeRule<T>* rule) {
  bool needs = false;
  for (const auto& r : reads) needs = needs || r.requires_grad();
  ad::Var<T> out = tape.make(shape, needs);
  std::copy(value.begin(), value.end(), tape.write(out));
  if (!needs) return out;
  if (reads.size() > 2) throw std::logic_error("lrp: a rule node reads at most two values");
  const ad::Var<T> r0 = reads[0], r1 = reads.size() > 1 ? reads[1] : reads[0];
  const size_t count = reads.size();
  tape.on_backward(out, [out, r0, r1, count, rule](ad::Tape<T>& t) {
    const T* g = t.grad(out);
    if (!g) return;
    const std::vector<ad::Tensor<T>> back = rule->backward(std::span<const T>(g, size_t(out.numel())));
    for (size_t j = 0; j < count; ++j) {
      T* gx = t.grad_to(j == 0 ? r0 : r1);
      if (!gx) continue;
      const T* b = back[j].data();
      for (int64_t k = 0, n = back[j].numel(); k < n; ++k) gx[k] += b[k];
    }
  });
  return out;
}

// LRP of rows [begin, end) of x, written at those rows of `relevance` and `f_input`.
template <ad::Scalar T>
void lrp_part(const nn::Model<T>& model, const ad::Tensor<T>& x, int64_t begin, int64_t end, const Target<T>& target, std::span<const int64_t> targets,
              const Composite& composite, const Settings& settings, ad::Tensor<T>& relevance, std::vector<double>& f_input) {
  const size_t n = model.layers.size();
  // The canonizer: node i's BatchNorm reader, when it is i's only reader and i is conv/dense.
  std::vector<const nn::BatchNorm<T>*> merged(n, nullptr);
  std::vector<bool> merged_away(n, false);
  size_t first = n;
  for (size_t i = 0; i < n; ++i) {
    const bool conv = nn::layer_is<nn::Conv2d<T>>(*model.layers[i]);
    if (!conv && !nn::layer_is<nn::Linear<T>>(*model.layers[i])) continue;
    if (first == n && (conv || composite.first_dense)) first = i;
    const std::vector<size_t> readers = model.node_readers(int(i));
    if (readers.size() == 1) {
      merged[i] = dynamic_cast<const nn::BatchNorm<T>*>(model.layers[readers[0]].get());
      merged_away[readers[0]] = merged[i] != nullptr;
    }
  }
  std::vector<Rule> node_rules;  // each node's, resolved once
  for (size_t i = 0; i < n; ++i) node_rules.push_back(rule_of(model.layers[i]->kind(), composite, i == first));
  std::deque<NodeRule<T>> rules;  // stable addresses for the tape's closures
  ad::ThreadTape<T> thread_tape;  // a reused arena: fresh tapes page-faulted a good part of the time
  ad::Tape<T>& tape = *thread_tape;
  const int64_t row = x.shape().stride(0);
  ad::Var<T> input = tape.leaf(x.shape().with(0, end - begin), x.data() + begin * row, true);
  const ad::Var<T> out = model.forward(tape, input, nn::Grads::none, {.instead = [&](size_t i, std::span<const ad::Var<T>> reads) {
                                         const nn::Layer<T>& layer = *model.layers[i];
                                         const Rule rule = node_rules[i];
                                         if (rule == Rule::gradient) return ad::Var<T>();
                                         if (rule == Rule::pass) {
                                           const ad::Var<T> in = reads[0];
                                           const std::span<const T> v = in.value();
                                           if (merged_away[i]) return in;  // the BatchNorm merged into the layer before: the identity, no copy
                                           if (nn::layer_is<nn::ReLU<T>>(layer))
                                             return pass_rule(tape, in, [&](T* y) {
                                               for (size_t k = 0; k < v.size(); ++k) y[k] = std::max(v[k], T(0));
                                             });
                                           ad::ThreadTape<T> local;
                                           const ad::Var<T> value = layer.forward(*local, local->constant(in.shape(), v.data()), nn::Grads::none);
                                           return pass_rule(tape, in, [&](T* y) { std::copy(value.value().begin(), value.value().end(), y); });
                                         }
                                         NodeRule<T>& r = rules.emplace_back(NodeRule<T>{rule, &settings, &layer, nn::layer_is<nn::Add<T>>(layer), {}, {}});
                                         r.reads.assign(reads.begin(), reads.end());
                                         ad::ThreadTape<T> local;
                                         ad::Var<T> value;
                                         if (rule == Rule::norm) {
                                           std::vector<ad::Var<T>> in;
                                           for (const auto& v : r.reads) in.push_back(local->constant(v.shape(), v.value().data()));
                                           value = layer.forward(*local, std::span<const ad::Var<T>>(in), nn::Grads::none);
                                         } else {
                                           r.affine = affine_of(layer, merged[i]);
                                           value = r.affine.apply(*local, local->constant(r.reads[0].shape(), r.reads[0].value().data()));
                                         }
                                         return with_rule(tape, reads, value.value(), value.shape(), &r);
                                       }});
  const auto part_targets = targets.empty() ? targets : targets.subspan(size_t(begin), size_t(end - begin));
  const ad::Var<T> f = select_target(out, target, part_targets);
  std::copy(f.value().begin(), f.value().end(), f_input.begin() + begin);  // F(x) from this forward: explain need not run another
  tape.backward(ad::sum(f));
  const T* g = tape.grad(input);
  std::copy(g, g + (end - begin) * row, relevance.data() + begin * row);
}

// Examples per tape: at most this many, and about kPartValues recorded values a part (parts.h).
constexpr int64_t kRowsPerPart = 32, kPartValues = int64_t(1) << 19;

template <ad::Scalar T>
ad::Tensor<T> lrp(const nn::Model<T>& model, const ad::Tensor<T>& x, const Target<T>& target, const Composite& composite, const Settings& settings,
                  std::vector<double>& f_input) {
  const Forward<T> forward = forward_of(model);
  const std::vector<int64_t> targets = resolve_targets(forward, x, target);
  const int64_t rows = nn::rows_per_part(forward.values_per_example, kPartValues, kRowsPerPart);
  const int64_t n = x.size(0);
  ad::Tensor<T> relevance(x.shape());
  f_input.assign(static_cast<size_t>(n), 0.0);
  // Fixed parts shared among the threads, each on its own tape (examples never mix in evaluation,
  // and every rule works example by example): the same bits whatever the thread count or chunk.
  const int64_t parts = (n + rows - 1) / rows;
  nn::for_each_example(parts, [&](int64_t p) {
    lrp_part(model, x, p * rows, std::min(n, (p + 1) * rows), target, targets, composite, settings, relevance, f_input);
  });
  return relevance;
}

}  // namespace

template <ad::Scalar T>
Method<T> lrp_method() {
  using K = OptionSpec::Kind;
  Method<T> m{.name = "lrp",
              .display_name = "LRP",
              .summary = "layer-wise relevance propagation with Zennit's rules and composites, BatchNorm merged (Zennit 0.5.1)",
              .options = {{.name = "composite", .kind = K::choice, .default_value = "epsilon-plus-flat",
                           .help = "the rules: which for the first layer, convolutions and dense layers (Zennit's composites)",
                           .choices = {"epsilon", "epsilon-plus", "epsilon-plus-flat", "epsilon-gamma-box", "epsilon-alpha2-beta1"}},
                          {.name = "epsilon", .kind = K::real, .default_value = "1e-6", .help = "ε of the ε rule (dense layers)", .min = 0, .max = 1e6},
                          {.name = "gamma", .kind = K::real, .default_value = "0.25", .help = "γ of the γ rule (epsilon-gamma-box)", .min = 0, .max = 1e6},
                          {.name = "low", .kind = K::real, .default_value = "0", .help = "the lowest input value, for z-box (epsilon-gamma-box)", .min = -1e9, .max = 1e9},
                          {.name = "high", .kind = K::real, .default_value = "1", .help = "the highest input value, for z-box (epsilon-gamma-box)", .min = -1e9, .max = 1e9}}};
  // One matrix row per composite. Every rule's backward is linear in the relevance handed to it,
  // so the map of a combination of outputs is that combination of maps (linearity). Dummy holds
  // wherever the first layer's rule weighs each input by its own weights (a feature with zero
  // weights gets x·0 = 0); the flat rule spreads relevance over the receptive field whatever the
  // weights, so it does not.
  for (const char* composite : {"epsilon", "epsilon-plus", "epsilon-plus-flat", "epsilon-gamma-box", "epsilon-alpha2-beta1"}) {
    MatrixRowSpec row{fmt::format("lrp_{}", composite), {{"composite", composite}}, {"dummy", "linearity"}};
    if (std::string(composite) == "epsilon-plus-flat") row.guarantees = {"linearity"};
    // LRP-ε on a bias-free ReLU network is gradient × input up to ε's share (each z/(z + ε·sign z)):
    // it passes on relevance 1 whole. The z⁺, flat, γ, box and αβ rules of the other composites
    // conserve only where their denominators do not vanish, which nothing guarantees.
    row.conserves_without_bias = std::string(composite) == "epsilon";
    m.matrix_rows.push_back(std::move(row));
  }
  m.unit_seed = true;  // Zennit's seed: relevance 1 at the target output, so Σ R = 1 where conserved
  m.in_tables = [](const nn::Model<T>& model) { return model.input_dtype != nn::InputDtype::int64; };
  m.run = [](const MethodCall<T>& c) {
    if (c.model.input_dtype == nn::InputDtype::int64) throw std::invalid_argument("LRP needs floating-point inputs, not token ids");
    const Settings s{c.options.real("epsilon"), c.options.real("gamma"), c.options.real("low"), c.options.real("high")};
    if (s.low > s.high) throw std::invalid_argument(fmt::format("--low {} is above --high {}", s.low, s.high));
    Attribution<T> a;
    a.values = lrp(c.model, c.inputs, c.target, parse_composite(c.options.text("composite")), s, a.f_input);
    return a;
  };
  return m;
}

template Method<float> lrp_method<float>();
template Method<double> lrp_method<double>();

}  // namespace integrad::attr
