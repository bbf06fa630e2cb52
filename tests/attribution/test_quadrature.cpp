#include <doctest/doctest.h>

#include <cmath>
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
