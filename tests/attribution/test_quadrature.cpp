#include <doctest/doctest.h>

#include <cmath>
#include <numbers>
#include <numeric>

#include "attribution/methods/quadrature.h"

using namespace integrad::attr;

namespace {
double integrate_monomial(const Quadrature& q, int degree) {
  double s = 0;
  for (size_t k = 0; k < q.alphas.size(); ++k) s += q.weights[k] * std::pow(q.alphas[k], degree);
  return s;
}
const Rule kRules[] = {Rule::gauss_legendre, Rule::riemann_left, Rule::riemann_right, Rule::riemann_middle, Rule::riemann_trapezoid};
}  // namespace

TEST_CASE("every rule's weights sum to 1 (Captum's trapezoid does not)") {
  for (Rule r : kRules)
    for (int n : {2, 3, 7, 50}) {
      const Quadrature q = quadrature(r, n);
      CHECK(std::accumulate(q.weights.begin(), q.weights.end(), 0.0) == doctest::Approx(1.0).epsilon(1e-14));
      for (double a : q.alphas) CHECK((a >= 0.0 && a <= 1.0));
    }
  const Quadrature captum = captum_trapezoid(50);
  CHECK(std::accumulate(captum.weights.begin(), captum.weights.end(), 0.0) == doctest::Approx(49.0 / 50.0).epsilon(1e-14));
}

TEST_CASE("each rule integrates polynomials exactly up to the degree it promises") {
  for (Rule r : kRules)
    for (int n : {2, 3, 5, 10}) {
      const Quadrature q = quadrature(r, n);
      const int degree = exact_degree(r, n);
      CAPTURE(rule_name(r));
      CAPTURE(n);
      for (int d = 0; d <= degree; ++d) CHECK(integrate_monomial(q, d) == doctest::Approx(1.0 / (d + 1)).epsilon(1e-13));
      // ...and not one degree further (so the promise is tight).
      CHECK(std::abs(integrate_monomial(q, degree + 1) - 1.0 / (degree + 2)) > 1e-12);
    }
}

TEST_CASE("Gauss-Legendre points and weights match NumPy's leggauss mapped to [0, 1]") {
  // numpy.polynomial.legendre.leggauss(3): nodes ±sqrt(3/5), 0; weights 5/9, 8/9, 5/9.
  const Quadrature q = quadrature(Rule::gauss_legendre, 3);
  CHECK(q.alphas[0] == doctest::Approx(0.5 * (1 - std::sqrt(0.6))).epsilon(1e-15));
  CHECK(q.alphas[1] == doctest::Approx(0.5).epsilon(1e-15));
  CHECK(q.weights[0] == doctest::Approx(5.0 / 18).epsilon(1e-15));
  CHECK(q.weights[1] == doctest::Approx(8.0 / 18).epsilon(1e-15));
}

TEST_CASE("Captum's Riemann points") {
  CHECK(quadrature(Rule::riemann_left, 4).alphas == std::vector<double>{0, 0.25, 0.5, 0.75});
  CHECK(quadrature(Rule::riemann_right, 4).alphas == std::vector<double>{0.25, 0.5, 0.75, 1});
  CHECK(quadrature(Rule::riemann_middle, 4).alphas == std::vector<double>{0.125, 0.375, 0.625, 0.875});
  const Quadrature t = quadrature(Rule::riemann_trapezoid, 5);
  CHECK(t.alphas == std::vector<double>{0, 0.25, 0.5, 0.75, 1});
  CHECK(t.weights == std::vector<double>{0.125, 0.25, 0.25, 0.25, 0.125});
  CHECK_THROWS(parse_rule("simpson"));
}

namespace {

// The small-n path of attribution/quadrature.cpp (Newton on the three-term recurrence for every
// root, O(n²)) in long double: a reference some 2000 times more precise than the double results.
Quadrature gauss_legendre_reference(int n) {
  std::vector<double> x(static_cast<size_t>(n)), w(static_cast<size_t>(n));
  for (int i = 0; i < (n + 1) / 2; ++i) {
    long double z = std::cos(std::numbers::pi_v<long double> * (i + 0.75L) / (n + 0.5L)), p0 = 1, p1 = z;
    auto evaluate = [&] {  // P_(n−1)(z), P_n(z)
      p0 = 1, p1 = z;
      for (int k = 2; k <= n; ++k) {
        const long double p2 = ((2.0L * k - 1) * z * p1 - (k - 1.0L) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      return n * (z * p1 - p0) / (z * z - 1);  // P_n′(z)
    };
    for (int iter = 0; iter < 100; ++iter) {
      const long double dp = evaluate(), dz = p1 / dp;
      z -= dz;
      if (std::abs(dz) < 1e-18L) break;  // a few long-double ulps: converged
    }
    const long double dp = evaluate();
    x[static_cast<size_t>(i)] = static_cast<double>(-z);
    x[static_cast<size_t>(n - 1 - i)] = static_cast<double>(z);
    w[static_cast<size_t>(i)] = w[static_cast<size_t>(n - 1 - i)] = static_cast<double>(2 / ((1 - z * z) * dp * dp));
  }
  if (n % 2 == 1) x[static_cast<size_t>(n / 2)] = 0.0;
  Quadrature q{x, w};
  for (double& a : q.alphas) a = 0.5 * (1 + a);
  for (double& v : q.weights) v *= 0.5;
  return q;
}

// Σ w f(α) in long double, so that the check measures the rule and not the summation.
template <class F>
double integrate(const Quadrature& q, F f) {
  long double s = 0;
  for (size_t k = 0; k < q.alphas.size(); ++k) s += static_cast<long double>(q.weights[k]) * f(q.alphas[k]);
  return static_cast<double>(s);
}

}  // namespace

TEST_CASE("Gauss-Legendre agrees with the long-double reference on both sides of the 1000-point switch") {
  // Up to 1000 points every root comes from the recurrence (the same bits as before the
  // asymptotic path existed); above, the interior ones from the asymptotic expansion. Nodes
  // within 4e-16; weights within 1e-13 of the largest weight everywhere (at the ends 1 − x² loses
  // digits: relative errors there reach 1e-11 of a weight of ~1e-6), and relative to themselves
  // over the middle 90% of the nodes within 2e-13 for the recurrence (its error grows with n:
  // 1.3e-13 at n = 1000) but 2e-15 for the expansion.
  for (int n : {3, 50, 200, 1000, 1001, 1002, 2500}) {
    CAPTURE(n);
    const Quadrature q = quadrature(Rule::gauss_legendre, n), r = gauss_legendre_reference(n);
    const double largest = r.weights[size_t(n / 2)];
    double node_error = 0, middle_error = 0, weight_error = 0;
    for (size_t k = 0; k < q.alphas.size(); ++k) {
      node_error = std::max(node_error, std::abs(q.alphas[k] - r.alphas[k]));
      weight_error = std::max(weight_error, std::abs(q.weights[k] - r.weights[k]) / largest);
      if (k >= size_t(n / 20) && k < size_t(n - n / 20)) middle_error = std::max(middle_error, std::abs(q.weights[k] - r.weights[k]) / r.weights[k]);
    }
    CAPTURE(node_error);
    CAPTURE(middle_error);
    CAPTURE(weight_error);
    CHECK(node_error < 4e-16);
    CHECK(middle_error < (n <= 1000 ? 2e-13 : 2e-15));
    CHECK(weight_error < 1e-13);
  }
}

TEST_CASE("Gauss-Legendre at many points: weights sum to 1, symmetric, ascending, exact for polynomials") {
  for (int n : {1001, 1500, 20'000, 100'000}) {
    CAPTURE(n);
    const Quadrature q = quadrature(Rule::gauss_legendre, n);
    REQUIRE(q.alphas.size() == size_t(n));
    long double total = 0;
    for (double v : q.weights) total += v;
    CHECK(std::abs(static_cast<double>(total) - 1.0) < 1e-14);
    bool symmetric = true, ascending = true;
    for (size_t k = 0; k < q.alphas.size(); ++k) {
      const size_t mirror = q.alphas.size() - 1 - k;
      symmetric = symmetric && q.alphas[k] + q.alphas[mirror] == 1.0 && q.weights[k] == q.weights[mirror];
      ascending = ascending && (k == 0 || q.alphas[k] > q.alphas[k - 1]);
    }
    CHECK(symmetric);
    CHECK(ascending);
    CHECK((q.alphas.front() > 0 && q.alphas.back() < 1));
  }
  // Exact up to degree 2n − 1, for moderate n: monomials are ill-conditioned at high degree, so the
  // polynomial is the Legendre polynomial P_d(2α − 1), whose integral over [0, 1] is 0 for d ≥ 1.
  // Even d only: odd ones cancel by the symmetry of the rule whatever its nodes. And a smooth
  // non-polynomial, ∫₀¹ cos(40α) dα = sin(40) / 40.
  for (int n : {1001, 1200}) {
    CAPTURE(n);
    const Quadrature q = quadrature(Rule::gauss_legendre, n);
    for (int d : {2, 500, 1000, 2 * n - 2}) {
      CAPTURE(d);
      const double value = integrate(q, [d](double a) {
        long double p0 = 1, p1 = 2.0L * a - 1, t = p1;  // P_d(t) by its recurrence
        for (int k = 2; k <= d; ++k) {
          const long double p2 = ((2.0L * k - 1) * t * p1 - (k - 1.0L) * p0) / k;
          p0 = p1;
          p1 = p2;
        }
        return d == 0 ? p0 : p1;
      });
      CHECK(std::abs(value) < 1e-14);
    }
    CHECK(std::abs(integrate(q, [](double a) { return std::cos(40.0L * a); }) - std::sin(40.0) / 40) < 1e-15);
  }
}
