// The axiom matrix: rows are attribution methods, columns the axioms, each cell a check's
// pass/fail and figure. Rendered as a terminal table, Markdown and JSON.
#pragma once

#include <string>
#include <vector>

#include "attribution/evaluation/axioms.h"

namespace integrad::attr {

struct MatrixRow {
  std::string method;
  std::vector<CheckResult> checks;  // in kAxiomNames order
};

inline const std::vector<std::string> kAxiomNames = {"completeness", "sensitivity_a", "dummy", "implementation_invariance", "linearity", "symmetry"};

// `baseline` [N, ...]; targets default to the predicted classes.
template <ad::Scalar T>
std::vector<MatrixRow> axiom_matrix(const nn::Sequential<T>& model, const std::vector<NamedMethod<T>>& methods, const ad::Tensor<T>& x,
                                    const ad::Tensor<T>& baseline, const Twins<T>& user_twins, const CheckOptions& options = {});

std::string matrix_table(const std::vector<MatrixRow>& rows);     // for a terminal
std::string matrix_markdown(const std::vector<MatrixRow>& rows);
std::string matrix_json(const std::vector<MatrixRow>& rows);       // every figure, tolerance and detail

// Methods that must satisfy an axiom by theory; a failure there is a defect (or a bad setting).
bool must_satisfy(const std::string& method, const std::string& axiom);

}  // namespace integrad::attr
