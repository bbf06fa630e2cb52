#include "attribution/methods/quadrature.h"

#include <cmath>
#include <numbers>
#include <stdexcept>

namespace integrad::attr {

namespace {

// Up to this many points, gauss_legendre below (Newton on the recurrence for every root): O(n²) in
// all, a few milliseconds at 1000, and the same bits as always (fixtures and tests rely on them).
constexpr int kNewtonPoints = 1000;
// Above it, this many roots at each end still do (O(n) each); the rest come from the asymptotic
// expansion below, which is accurate to rounding once n·sin θ is a few dozen.
constexpr int kNewtonEdgeRoots = 20;

// P_n(cos θ) and dP_n(cos θ)/dθ by the interior asymptotic expansion (Szegő; Hale & Townsend,
// "Fast and accurate computation of Gauss–Legendre and Gauss–Jacobi quadrature nodes and
// weights", SIAM J. Sci. Comput. 35 (2013), eq. 3.2):
//   P_n(cos θ) = C_n Σ_m h_m cos(α_m) / (2 sin θ)^(m+1/2),  α_m = (n + m + 1/2) θ − (m + 1/2) π/2,
//   h_0 = 1, h_m = h_(m−1) (m − 1/2)² / (m (n + m + 1/2)),  C_n = (4/π) Π_(j=1..n) j / (j + 1/2).
// Term m is about m! / (2 n sin θ)^m of the first, so the sum stops once terms fall below 1e-18
// of it. α_(m+1) = α_m + (θ − π/2): cos and sin of α_m follow by one rotation each.
struct LegendreValue {
  double p, dp;
};
LegendreValue legendre_asymptotic(int n, double c_n, double theta) {
  const double sin_t = std::sin(theta), cos_t = std::cos(theta), two_sin = 2 * sin_t;
  const double alpha = (n + 0.5) * theta - 0.25 * std::numbers::pi;
  double c = std::cos(alpha), s = std::sin(alpha);
  double h = 1, scale = 1 / std::sqrt(two_sin), p = 0, dp = 0;
  for (int m = 0; m < 60; ++m) {
    const double term = h * scale;
    p += term * c;
    dp -= term * ((n + m + 0.5) * s + (m + 0.5) * c * cos_t / sin_t);
    if (std::abs(term) < 1e-18 * (1 / std::sqrt(two_sin))) break;
    // rotate (c, s) by θ − π/2: cos(θ − π/2) = sin θ, sin(θ − π/2) = −cos θ
    const double c_next = c * sin_t + s * cos_t;
    s = s * sin_t - c * cos_t;
    c = c_next;
    h *= (m + 0.5) * (m + 0.5) / ((m + 1.0) * (n + m + 1.5));
    scale /= two_sin;
  }
  return {c_n * p, c_n * dp};
}

// The i-th largest root cos θ by Newton's method in θ on the expansion, from the same first guess
// as gauss_legendre; weight 2 / (dP_n/dθ)², since dP_n/dθ = −sin θ P_n′(cos θ). O(1) per root.
void asymptotic_root(int n, int i, double c_n, double& root, double& weight) {
  double theta = std::numbers::pi * (i + 0.75) / (n + 0.5);
  LegendreValue v = legendre_asymptotic(n, c_n, theta);
  for (int iter = 0; iter < 10; ++iter) {
    const double step = v.p / v.dp;
    theta -= step;
    v = legendre_asymptotic(n, c_n, theta);
    if (std::abs(step) < 1e-17) break;
  }
  root = std::cos(theta);
  weight = 2 / (v.dp * v.dp);
}

// C_n = (4/π) Π j / (j + 1/2): in long double, whose 64-bit mantissa keeps n roundings (n ≤ 10⁶)
// well below a double's last bit; it scales every asymptotic weight.
double legendre_constant(int n) {
  long double product = 1;
  for (int j = 1; j <= n; ++j) product *= static_cast<long double>(j) / (j + 0.5L);
  return static_cast<double>(4 / std::numbers::pi_v<long double> * product);
}

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

// The i-th largest root z of P_n (i from 0) and its weight, as gauss_legendre finds them (Newton
// on the recurrence, O(n)): for the few roots near ±1 where the asymptotic expansion is not used.
// A copy, not shared with gauss_legendre: factored out of it, the loop compiled (with FMA
// contraction under -march=native) to different last bits of the weights for n ≤ kNewtonPoints.
void recurrence_root(int n, int i, double& root, double& weight) {
  double z = std::cos(std::numbers::pi * (i + 0.75) / (n + 0.5)), dp = 0;
  for (int iter = 0; iter < 100; ++iter) {
    double p0 = 1, p1 = z;  // P_0, P_1
    for (int k = 2; k <= n; ++k) {
      const double p2 = ((2.0 * k - 1) * z * p1 - (k - 1.0) * p0) / k;
      p0 = p1;
      p1 = p2;
    }
    dp = n * (z * p1 - p0) / (z * z - 1);
    const double dz = p1 / dp;
    z -= dz;
    if (std::abs(dz) < 1e-16) break;
  }
  double p0 = 1, p1 = z;
  for (int k = 2; k <= n; ++k) {
    const double p2 = ((2.0 * k - 1) * z * p1 - (k - 1.0) * p0) / k;
    p0 = p1;
    p1 = p2;
  }
  dp = n * (z * p1 - p0) / (z * z - 1);
  root = z;
  weight = 2 / ((1 - z * z) * dp * dp);
}

// gauss_legendre for n > kNewtonPoints: the kNewtonEdgeRoots roots nearest each end by the
// recurrence, the others by the expansion. O(n) in all: 100,000 points in milliseconds.
void gauss_legendre_large(int n, std::vector<double>& x, std::vector<double>& w) {
  x.assign(static_cast<size_t>(n), 0.0);
  w.assign(static_cast<size_t>(n), 0.0);
  const double c_n = legendre_constant(n);
  for (int i = 0; i < (n + 1) / 2; ++i) {
    double z = 0, weight = 0;
    if (i < kNewtonEdgeRoots) recurrence_root(n, i, z, weight);
    else asymptotic_root(n, i, c_n, z, weight);
    x[static_cast<size_t>(i)] = -z;
    x[static_cast<size_t>(n - 1 - i)] = z;
    w[static_cast<size_t>(i)] = w[static_cast<size_t>(n - 1 - i)] = weight;
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
      if (n <= kNewtonPoints) gauss_legendre(n, q.alphas, q.weights);
      else gauss_legendre_large(n, q.alphas, q.weights);
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
