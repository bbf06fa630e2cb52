#include "attribution/methods/quadrature.h"

#include <cmath>
#include <numbers>
#include <stdexcept>

namespace integrad::attr {

namespace {

// n-point Gauss–Legendre on [−1, 1]: nodes are the roots of P_n, found by Newton's method from
// the Chebyshev-like first guesses; weights 2 / ((1 − x²) P_n′(x)²). Same values as NumPy's
// leggauss to within a few ulps.
void gauss_legendre(int n, std::vector<double>& x, std::vector<double>& w) {
  x.assign(static_cast<size_t>(n), 0.0);
  w.assign(static_cast<size_t>(n), 0.0);
  for (int i = 0; i < (n + 1) / 2; ++i) {
    double z = std::cos(std::numbers::pi * (i + 0.75) / (n + 0.5)), dp = 0;
    for (int iter = 0; iter < 100; ++iter) {
      double p0 = 1, p1 = z;  // P_0, P_1
      for (int k = 2; k <= n; ++k) {
        const double p2 = ((2.0 * k - 1) * z * p1 - (k - 1.0) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      const double pn = n == 1 ? z : p1, pn_1 = n == 1 ? 1.0 : p0;
      dp = n * (z * pn - pn_1) / (z * z - 1);
      const double dz = pn / dp;
      z -= dz;
      if (std::abs(dz) < 1e-16) break;
    }
    double p0 = 1, p1 = z;
    for (int k = 2; k <= n; ++k) {
      const double p2 = ((2.0 * k - 1) * z * p1 - (k - 1.0) * p0) / k;
      p0 = p1;
      p1 = p2;
    }
    dp = n == 1 ? 1.0 : n * (z * p1 - p0) / (z * z - 1);
    // Roots come out descending from the cosine guess; store ascending, symmetric pairs.
    x[static_cast<size_t>(i)] = -z;
    x[static_cast<size_t>(n - 1 - i)] = z;
    w[static_cast<size_t>(i)] = w[static_cast<size_t>(n - 1 - i)] = 2 / ((1 - z * z) * dp * dp);
  }
  if (n % 2 == 1) x[static_cast<size_t>(n / 2)] = 0.0;
}

std::vector<double> linspace(double a, double b, int n) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<size_t>(i)] = n == 1 ? a : a + (b - a) * i / (n - 1);
  return v;
}

}  // namespace

Quadrature quadrature(Rule rule, int n) {
  if (n < 1 || n > 1'000'000) throw std::invalid_argument("number of steps must be in [1, 1000000], got " + std::to_string(n));
  Quadrature q;
  switch (rule) {
    case Rule::gauss_legendre: {
      gauss_legendre(n, q.alphas, q.weights);
      for (double& a : q.alphas) a = 0.5 * (1 + a);
      for (double& w : q.weights) w *= 0.5;
      return q;
    }
    case Rule::riemann_left: q.alphas = linspace(0, 1 - 1.0 / n, n); break;
    case Rule::riemann_right: q.alphas = linspace(1.0 / n, 1, n); break;
    case Rule::riemann_middle: q.alphas = linspace(0.5 / n, 1 - 0.5 / n, n); break;
    case Rule::riemann_trapezoid:
      if (n < 2) throw std::invalid_argument("the trapezoid rule needs at least 2 steps");
      q.alphas = linspace(0, 1, n);
      q.weights.assign(static_cast<size_t>(n), 1.0 / (n - 1));
      q.weights.front() = q.weights.back() = 0.5 / (n - 1);
      return q;
  }
  q.weights.assign(static_cast<size_t>(n), 1.0 / n);
  return q;
}

Quadrature captum_trapezoid(int n) {
  Quadrature q = quadrature(Rule::riemann_trapezoid, n);
  q.weights.assign(static_cast<size_t>(n), 1.0 / n);
  q.weights.front() = q.weights.back() = 0.5 / n;
  return q;
}

Rule parse_rule(const std::string& name) {
  if (name == "gausslegendre") return Rule::gauss_legendre;
  if (name == "riemann_left") return Rule::riemann_left;
  if (name == "riemann_right") return Rule::riemann_right;
  if (name == "riemann_middle") return Rule::riemann_middle;
  if (name == "riemann_trapezoid") return Rule::riemann_trapezoid;
  throw std::invalid_argument("unknown quadrature '" + name + "' (gausslegendre, riemann_left, riemann_right, riemann_middle, riemann_trapezoid)");
}

std::string rule_name(Rule rule) {
  switch (rule) {
    case Rule::gauss_legendre: return "gausslegendre";
    case Rule::riemann_left: return "riemann_left";
    case Rule::riemann_right: return "riemann_right";
    case Rule::riemann_middle: return "riemann_middle";
    default: return "riemann_trapezoid";
  }
}

int exact_degree(Rule rule, int n) {
  switch (rule) {
    case Rule::gauss_legendre: return 2 * n - 1;
    case Rule::riemann_middle:
    case Rule::riemann_trapezoid: return 1;
    default: return 0;
  }
}

}  // namespace integrad::attr
