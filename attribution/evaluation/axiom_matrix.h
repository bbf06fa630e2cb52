// The axiom matrix: rows are attribution methods (matrix_methods in method.h), columns the axioms,
// each cell a check's pass/fail and figure. Rendered apart (attribution/drawing/axiom_table.h).
#pragma once

#include <string>
#include <vector>

#include "attribution/evaluation/axioms.h"

namespace integrad::attr {

struct MatrixRow {
  std::string method;
  std::vector<CheckResult> checks;      // in axiom_names() order
  // Axioms the method must satisfy by theory: its own, and conservation on a bias-free ReLU
  // network from the zero baseline for the rows that declare it (Method::conserves_without_bias).
  std::vector<std::string> guarantees;
  std::string left_out;                 // non-empty: the method was not run (checks all n/a), and why
};

// The columns: each axiom's name, its short name for narrow tables, in column order.
struct AxiomName {
  std::string name, short_name;
};
const std::vector<AxiomName>& axiom_names();

// `baseline` [N, ...]; targets are the predicted classes.
template <ad::Scalar T>
std::vector<MatrixRow> axiom_matrix(const nn::Model<T>& model, const std::vector<NamedMethod<T>>& methods, const ad::Tensor<T>& x,
                                    const ad::Tensor<T>& baseline, const Twins<T>& user_twins, const CheckOptions& options = {});

// A failed check of an axiom the row's method guarantees: a defect (or a bad setting).
bool must_satisfy(const MatrixRow& row, const std::string& axiom);

}  // namespace integrad::attr
