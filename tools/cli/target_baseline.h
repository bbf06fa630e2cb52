// --target and --baseline as explain and evaluate take them (interfaces.md): the target is
// `predicted`, a class index or a TARGETS.npy of one class per example; the baseline is `zero`, a
// finite number, or a BASELINE.npy of one example's shape (shared) or [N, ...].
#pragma once

#include <string>

#include "attribution/attribution.h"

namespace integrad::cli {

template <ad::Scalar T>
attr::Target<T> parse_target(const std::string& text, int64_t n);
template <ad::Scalar T>
attr::Baseline<T> parse_baseline(const std::string& text);

}  // namespace integrad::cli
