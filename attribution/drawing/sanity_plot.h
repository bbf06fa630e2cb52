// The sanity checks (evaluation/sanity.h) rendered: the rank correlation with the trained model's
// attributions as layers are randomised, one line per method, for one mode (cascading or independent).
#pragma once

#include <string>
#include <vector>

#include "attribution/evaluation/sanity.h"

namespace integrad::attr {

std::string sanity_svg(const std::vector<SanityPoint>& points, const std::string& mode);

}  // namespace integrad::attr
