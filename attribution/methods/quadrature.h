// Quadrature rules for the IG path integral ∫₀¹ ∂F/∂x(x′ + α(x − x′)) dα ≈ Σ w_k ∂F/∂x(α_k).
// Points and weights are Captum's (captum/attr/_utils/approximation_methods.py), except for the
// trapezoid rule: Captum weights it [1/2n, 1/n, …, 1/n, 1/2n], which sums to (n−1)/n — an O(1/n)
// error that no step count removes from a constant integrand's result. Ours is the textbook rule
// on linspace(0, 1, n): [1/2(n−1), 1/(n−1), …, 1/2(n−1)], summing to 1.
#pragma once

#include <string>
#include <vector>

namespace integrad::attr {

enum class Rule { gauss_legendre, riemann_left, riemann_right, riemann_middle, riemann_trapezoid };

struct Quadrature {
  std::vector<double> alphas;   // points in [0, 1], in Captum's order (ascending)
  std::vector<double> weights;  // sum to 1
};

Quadrature quadrature(Rule rule, int steps);
// Captum's own trapezoid weights, kept to show (and test) the difference.
Quadrature captum_trapezoid(int steps);

Rule parse_rule(const std::string& name);  // "gausslegendre", "riemann_left", ...
std::string rule_name(Rule rule);
// The highest polynomial degree the rule integrates exactly with n points.
int exact_degree(Rule rule, int steps);

}  // namespace integrad::attr
