// The deletion or insertion curves of a methods × metrics table (evaluation/method_table.h): the
// mean probability of the target class against the fraction of features removed (or put back),
// one line per method.
#pragma once

#include <string>
#include <vector>

#include "attribution/evaluation/deletion.h"
#include "attribution/evaluation/method_table.h"

namespace integrad::attr {

// Empty when no row has that curve (the metric is not a column).
std::string perturbation_curve_svg(const std::vector<MethodTableRow>& rows, CurveKind kind);

}  // namespace integrad::attr
