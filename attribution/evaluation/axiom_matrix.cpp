#include "attribution/evaluation/axiom_matrix.h"

#include <algorithm>
#include <functional>

#include "attribution/evaluation/homogeneous.h"

namespace integrad::attr {

namespace {

// What every check of one matrix sees.
template <ad::Scalar T>
struct MatrixInputs {
  const nn::Model<T>& model;
  const ad::Tensor<T>& x;
  const ad::Tensor<T>& baseline;
  const std::vector<int64_t>& targets;
  const Twins<T>& twins;
  const CheckOptions& options;
};

template <ad::Scalar T>
struct AxiomColumn {
  AxiomName name;
  std::function<CheckResult(const MatrixInputs<T>&, const ExplainFn<T>&)> check;
};

// The columns, in order: one line an axiom.
template <ad::Scalar T>
const std::vector<AxiomColumn<T>>& axiom_columns() {
  using In = MatrixInputs<T>;
  using Fn = ExplainFn<T>;
  static const std::vector<AxiomColumn<T>> columns = {
      {{"completeness", "complete"}, [](const In& c, const Fn& m) { return check_completeness(c.model, m, c.x, c.baseline, c.targets, c.options); }},
      {{"sensitivity_a", "sens(a)"}, [](const In& c, const Fn& m) { return check_sensitivity_a(c.model, m, c.x, c.baseline, c.targets, c.options); }},
      {{"dummy", "dummy"}, [](const In& c, const Fn& m) { return check_dummy(c.model, m, c.x, c.baseline, c.targets, c.options); }},
      {{"implementation_invariance", "impl.inv"},
       [](const In& c, const Fn& m) { return check_implementation_invariance(c.model, m, c.x, c.baseline, c.targets, c.twins, c.options); }},
      {{"linearity", "linear"}, [](const In& c, const Fn& m) { return check_linearity(c.model, m, c.x, c.baseline, c.options); }},
      {{"symmetry", "symmetry"}, [](const In& c, const Fn& m) { return check_symmetry(c.model, m, c.x, c.baseline, c.targets, c.options); }},
      {{"conservation", "conserve"}, [](const In& c, const Fn& m) { return check_conservation(c.model, m, c.x, c.baseline, c.targets, c.options); }},
  };
  return columns;
}

// One cell: the column's check, or not applicable where the method refuses the model the check
// derives (MethodNotApplicable); any other error is the table's.
template <ad::Scalar T>
CheckResult checked_cell(const AxiomColumn<T>& column, const MatrixInputs<T>& inputs, const ExplainFn<T>& method) {
  try {
    return column.check(inputs, method);
  } catch (const MethodNotApplicable& e) {
    return {.name = column.name.name, .applicable = false, .passed = true, .detail = e.what()};
  }
}

}  // namespace

const std::vector<AxiomName>& axiom_names() {
  static const std::vector<AxiomName> names = [] {
    std::vector<AxiomName> n;
    for (const auto& c : axiom_columns<double>()) n.push_back(c.name);
    return n;
  }();
  return names;
}

template <ad::Scalar T>
std::vector<MatrixRow> axiom_matrix(const nn::Model<T>& model, const std::vector<NamedMethod<T>>& methods, const ad::Tensor<T>& x,
                                    const ad::Tensor<T>& baseline, const Twins<T>& user_twins, const CheckOptions& o) {
  const std::vector<int64_t> targets = resolve_targets(forward_of(model), x, Target<T>::predicted());
  Twins<T> twins = built_twins(model);
  for (const auto& [name, twin] : user_twins) twins.emplace_back(name, twin.clone());
  // A bias-free ReLU network from the zero baseline: F(0) = 0, and the rows that share out
  // F(x) − F(x′) (or LRP-ε's relevance 1) then must conserve F(x) (homogeneous.h).
  const bool conserving = bias_free_relu_network(model) && std::all_of(baseline.span().begin(), baseline.span().end(), [](T v) { return v == T(0); });
  std::vector<MatrixRow> rows;
  for (const auto& m : methods) {
    CheckOptions row_options = o;
    row_options.unit_seed = m.unit_seed;
    const MatrixInputs<T> inputs{model, x, baseline, targets, twins, row_options};
    MatrixRow row{m.name, {}, m.guarantees, m.left_out};
    if (conserving && m.conserves_without_bias) row.guarantees.push_back("conservation");
    for (const auto& column : axiom_columns<T>()) {
      if (!m.left_out.empty()) row.checks.push_back({column.name.name, false, true, 0, 0, m.left_out});
      else row.checks.push_back(checked_cell(column, inputs, m.fn));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

bool must_satisfy(const MatrixRow& row, const std::string& axiom) {
  return std::find(row.guarantees.begin(), row.guarantees.end(), axiom) != row.guarantees.end();
}

template std::vector<MatrixRow> axiom_matrix<float>(const nn::Model<float>&, const std::vector<NamedMethod<float>>&, const ad::Tensor<float>&,
                                                    const ad::Tensor<float>&, const Twins<float>&, const CheckOptions&);
template std::vector<MatrixRow> axiom_matrix<double>(const nn::Model<double>&, const std::vector<NamedMethod<double>>&, const ad::Tensor<double>&,
                                                     const ad::Tensor<double>&, const Twins<double>&, const CheckOptions&);

}  // namespace integrad::attr
