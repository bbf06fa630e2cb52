#include "attribution/methods/exact_ig.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string_view>
#include <stdexcept>

#include "attribution/method.h"
#include "attribution/methods/gradients.h"
#include "nn/layers_batch_norm.h"
#include "nn/layers_conv.h"
#include "nn/layers_linear.h"
#include "nn/layers_pool.h"
#include "nn/layers_shape.h"

namespace integrad::attr {

namespace {

// The rule table: how a node carries a value v and its rate dv/dα along the path, by kind (the
// registry's names, and those of the adapters of attribution/several_inputs.cpp). A kind that is
// not here is not piecewise-linear.
enum class PathRule {
  relu,        // kinks where an input crosses 0
  max_pool,    // kinks where another element overtakes a window's winner
  linear,      // affine: the rate through the weights alone
  conv2d,      // affine, as Linear
  batch_norm,  // in evaluation an affine map per channel
  merge,       // Add, Concat: linear in all their inputs
  constant,    // an input held fixed (several inputs): rate 0
  linear_map,  // linear without offset (AvgPool2d, Flatten, ...): the rate goes through the layer itself
};

std::optional<PathRule> path_rule(std::string_view kind) {
  using enum PathRule;
  static const std::map<std::string, PathRule, std::less<>> table = {
      {"ReLU", relu},
      {"MaxPool2d", max_pool},
      {"Linear", linear},
      {"Conv2d", conv2d},
      {"BatchNorm1d", batch_norm},
      {"BatchNorm2d", batch_norm},
      {"Add", merge},
      {"Concat", merge},
      {"FixedInput", constant},
      {"AvgPool2d", linear_map},
      {"AdaptiveAvgPool2d", linear_map},
      {"Flatten", linear_map},
      {"Mean", linear_map},
      {"Identity", linear_map},
      {"InputPart", linear_map},
  };
  const auto it = table.find(kind);
  return it == table.end() ? std::nullopt : std::optional<PathRule>(it->second);
}

// Each node's rule, resolved once; throws naming the first node that is not piecewise-linear.
template <ad::Scalar T>
std::vector<PathRule> path_rules(const nn::Model<T>& model) {
  std::vector<PathRule> rules;
  for (const auto& layer : model.layers) {
    const std::optional<PathRule> r = path_rule(layer->kind());
    if (!r) throw std::invalid_argument("exact IG needs a piecewise-linear network; layer " + layer->architecture() + " is not");
    rules.push_back(*r);
  }
  return rules;
}

}  // namespace

template <ad::Scalar T>
bool exact_ig_affordable(const nn::Model<T>& model, int64_t max_relu_units) {
  int64_t units = 0;
  for (const auto& layer : model.layers)
    if (!path_rule(layer->kind())) return false;
  const std::vector<ad::Shape> shapes = model.output_shapes();
  for (size_t i = 0; i < model.layers.size(); ++i)
    if (path_rule(model.layers[i]->kind()) == PathRule::relu) units += shapes[i].numel();
  return units <= max_relu_units;
}

template bool exact_ig_affordable<float>(const nn::Model<float>&, int64_t);
template bool exact_ig_affordable<double>(const nn::Model<double>&, int64_t);

namespace {

// Value v and rate dv/dα of one example's activations at α0, pushed through the network; returns
// the smallest α > α0 at which any ReLU or max-pool changes its linear piece (or +inf).
template <ad::Scalar T>
double next_kink(const nn::Model<T>& model, const std::vector<PathRule>& rules, const ad::Tensor<T>& point, const ad::Tensor<T>& direction, double alpha0) {
  ad::Tape<T> tape;
  const ad::Var<T> v0 = tape.leaf(point), d0 = tape.leaf(direction);
  double next = std::numeric_limits<double>::infinity();
  // The piece's pattern (which ReLUs are on, which element wins each pool window) is read a step δ
  // ahead of α0, and crossings closer than δ are not kinks ahead: rounding puts a unit that sits on
  // its kink at ±tiny, and deciding by the sign of that tiny value would skip the kink it is on.
  const double delta = std::sqrt(std::numeric_limits<T>::epsilon());
  auto consider = [&](double da) {
    if (da > delta && alpha0 + da < next) next = alpha0 + da;
  };
  // Each node's value and rate, in node order (a graph's branches join in Add and Concat).
  std::vector<ad::Var<T>> values(model.layers.size()), rates(model.layers.size());
  for (size_t node = 0; node < model.layers.size(); ++node) {
    const auto& layer = model.layers[node];
    const PathRule rule = rules[node];
    const std::vector<int> reads = model.node_inputs(node);
    auto value_of = [&](int r) { return r == nn::Model<T>::kModelInput ? v0 : values[size_t(r)]; };
    auto rate_of = [&](int r) { return r == nn::Model<T>::kModelInput ? d0 : rates[size_t(r)]; };
    ad::Var<T> v = value_of(reads[0]), d = rate_of(reads[0]);
    if (rule == PathRule::relu) {
      ad::Tensor<T> mask(v.shape());
      for (int64_t i = 0; i < v.numel(); ++i) {
        const double vi = v.value()[size_t(i)], di = d.value()[size_t(i)];
        mask[i] = vi + delta * di > 0 ? T(1) : T(0);
        if (di != 0) consider(-vi / di);
      }
      ad::Var<T> m = tape.leaf(mask);
      v = v * m;
      d = d * m;
    } else if (rule == PathRule::max_pool) {
      const auto& pool = nn::layer_as<nn::MaxPool2d<T>>(*layer);
      // Winners a step δ ahead; another element overtakes the winner where their lines cross.
      const ad::Shape s = v.shape();
      const int64_t planes = s[0] * s[1], h = s[2], w = s[3], ho = (h - pool.kernel) / pool.stride + 1, wo = (w - pool.kernel) / pool.stride + 1;
      ad::Tensor<T> nv(ad::Shape{s[0], s[1], ho, wo}), nd(nv.shape());
      const T *pv = v.value().data(), *pd = d.value().data();
      for (int64_t p = 0; p < planes; ++p)
        for (int64_t oy = 0; oy < ho; ++oy)
          for (int64_t ox = 0; ox < wo; ++ox) {
            int64_t best = -1;
            for (int i = 0; i < pool.kernel; ++i)
              for (int j = 0; j < pool.kernel; ++j) {
                const int64_t at = p * h * w + (oy * pool.stride + i) * w + ox * pool.stride + j;
                if (best < 0 || pv[at] + delta * pd[at] > pv[best] + delta * pd[best]) best = at;
              }
            for (int i = 0; i < pool.kernel; ++i)
              for (int j = 0; j < pool.kernel; ++j) {
                const int64_t at = p * h * w + (oy * pool.stride + i) * w + ox * pool.stride + j;
                if (pd[at] > pd[best]) consider(double(pv[best] - pv[at]) / double(pd[at] - pd[best]));
              }
            nv[(p * ho + oy) * wo + ox] = pv[best];
            nd[(p * ho + oy) * wo + ox] = pd[best];
          }
      v = tape.leaf(nv);
      d = tape.leaf(nd);
    } else if (rule == PathRule::linear) {
      const auto& l = nn::layer_as<nn::Linear<T>>(*layer);
      v = layer->forward(tape, v, nn::Grads::none);
      d = ad::matmul(d, tape.parameter(l.weight.value, nullptr), false, true);
    } else if (rule == PathRule::conv2d) {
      const auto& c = nn::layer_as<nn::Conv2d<T>>(*layer);
      v = layer->forward(tape, v, nn::Grads::none);
      d = ad::conv2d(d, tape.parameter(c.weight.value, nullptr), ad::Var<T>(), c.stride, c.padding);
    } else if (rule == PathRule::batch_norm) {  // in evaluation an affine map per channel
      auto [scale, shift] = nn::layer_as<nn::BatchNorm<T>>(*layer).affine();
      std::vector<int64_t> per_channel(size_t(v.shape().rank()), 1);
      per_channel[1] = scale.numel();
      v = layer->forward(tape, v, nn::Grads::none);
      d = d * tape.leaf(scale.reshaped(ad::Shape(per_channel)));
    } else if (rule == PathRule::merge) {  // linear in all addends
      std::vector<ad::Var<T>> vs, ds;
      for (int r : reads) vs.push_back(value_of(r)), ds.push_back(rate_of(r));
      v = layer->forward(tape, std::span<const ad::Var<T>>(vs), nn::Grads::none);
      d = layer->forward(tape, std::span<const ad::Var<T>>(ds), nn::Grads::none);
    } else if (rule == PathRule::constant) {  // an input held fixed (several inputs): a constant, rate 0
      v = layer->forward(tape, v, nn::Grads::none);
      d = tape.leaf(ad::Tensor<T>(v.shape()));
    } else {  // AvgPool2d, Flatten, Mean, global pooling, Identity: linear without offset
      v = layer->forward(tape, v, nn::Grads::none);
      d = layer->forward(tape, d, nn::Grads::none);
    }
    values[node] = v;
    rates[node] = d;
  }
  return next;
}

}  // namespace

template <ad::Scalar T>
Attribution<T> exact_integrated_gradients(const nn::Model<T>& model, const ad::Tensor<T>& x, const Target<T>& target, const Baseline<T>& baseline,
                                          int64_t max_pieces) {
  const std::vector<PathRule> rules = path_rules(model);
  const Forward<T> f = forward_of(model);
  Attribution<T> out;
  out.targets = resolve_targets(f, x, target);
  out.f_input = target_values(f, x, target, out.targets);
  const ad::Tensor<T> base = baseline.expand(x);
  out.f_baseline = target_values(f, base, target, out.targets);
  out.values = ad::Tensor<T>(x.shape());
  const int64_t n = x.size(0), row = x.shape().stride(0);
  const ad::Shape one = x.shape().with(0, 1);
  for (int64_t i = 0; i < n; ++i) {
    ad::Tensor<T> direction(one), point(one);
    for (int64_t j = 0; j < row; ++j) direction[j] = x[i * row + j] - base[i * row + j];
    const Target<T> ti = out.targets.empty() ? target : Target<T>::of(out.targets[size_t(i)]);
    std::vector<double> integral(size_t(row), 0.0);
    double alpha = 0;
    int pieces = 0;
    while (alpha < 1) {
      if (++pieces > max_pieces) throw std::runtime_error(fmt::format("exact IG: example {} crosses more than {} kinks", i, max_pieces));
      for (int64_t j = 0; j < row; ++j) point[j] = base[i * row + j] + static_cast<T>(alpha) * direction[j];
      const double end = std::min(1.0, next_kink(model, rules, point, direction, alpha));
      // The gradient is constant inside the piece: take it at the midpoint, away from both kinks.
      for (int64_t j = 0; j < row; ++j) point[j] = base[i * row + j] + static_cast<T>(0.5 * (alpha + end)) * direction[j];
      const ad::Tensor<T> g = gradient(f, point, ti);
      for (int64_t j = 0; j < row; ++j) integral[size_t(j)] += (end - alpha) * double(g[j]);
      alpha = end;
    }
    double total = 0;
    for (int64_t j = 0; j < row; ++j) {
      out.values[i * row + j] = static_cast<T>(integral[size_t(j)] * double(direction[j]));
      total += double(out.values[i * row + j]);
    }
    out.deltas.push_back(total - (out.f_input[size_t(i)] - out.f_baseline[size_t(i)]));
    out.steps.push_back(pieces);
  }
  out.deltas_per_baseline = {out.deltas};
  return out;
}

template Attribution<float> exact_integrated_gradients<float>(const nn::Model<float>&, const ad::Tensor<float>&, const Target<float>&,
                                                              const Baseline<float>&, int64_t);
template Attribution<double> exact_integrated_gradients<double>(const nn::Model<double>&, const ad::Tensor<double>&, const Target<double>&,
                                                                const Baseline<double>&, int64_t);

// The registry entry: in the axiom matrix and the report only where walking every kink is quick.
template <ad::Scalar T>
Method<T> exact_ig_method() {
  Method<T> m{.name = "exact_ig",
              .display_name = "exact IG",
              .summary = "Integrated Gradients integrated exactly, piece by linear piece (piecewise-linear networks only)",
              .uses_baseline = true,
              .has_delta = true,
              .conserves_without_bias = true,  // complete, and F(0) = 0 there
              .guarantees = {"completeness", "sensitivity_a", "dummy", "implementation_invariance", "linearity", "symmetry"}};
  m.in_tables = [](const nn::Model<T>& model) { return exact_ig_affordable(model); };
  m.run = [](const MethodCall<T>& c) { return exact_integrated_gradients(c.model, c.inputs, c.target, c.baseline); };
  return m;
}

template Method<float> exact_ig_method<float>();
template Method<double> exact_ig_method<double>();

}  // namespace integrad::attr
