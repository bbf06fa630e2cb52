// The convergence study (evaluation/convergence.h) rendered: a table for the terminal (relative
// error with |delta| in brackets, and the fitted order), CSV, and a log-log SVG plot.
#pragma once

#include <string>

#include "attribution/evaluation/convergence.h"

namespace integrad::attr {

std::string convergence_table(const ConvergenceStudy& study);
std::string convergence_csv(const ConvergenceStudy& study);
std::string convergence_svg(const ConvergenceStudy& study);  // log-log, one line per rule

}  // namespace integrad::attr
