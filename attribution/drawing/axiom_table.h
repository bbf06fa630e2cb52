// The axiom matrix rendered: a terminal table, Markdown, JSON (every figure, tolerance and
// detail) and an HTML table whose cells carry the detail as a tooltip.
#pragma once

#include <string>
#include <vector>

#include "attribution/evaluation/axiom_matrix.h"

namespace integrad::attr {

std::string matrix_table(const std::vector<MatrixRow>& rows);
std::string matrix_markdown(const std::vector<MatrixRow>& rows);
std::string matrix_json(const std::vector<MatrixRow>& rows);
std::string matrix_html(const std::vector<MatrixRow>& rows);

}  // namespace integrad::attr
