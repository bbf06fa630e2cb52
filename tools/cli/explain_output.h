// What explain shows besides the .npy: a summary line per example, heatmaps and overlays for
// images, coloured tokens for token inputs.
#pragma once

#include <string>
#include <vector>

#include "attribution/attribution.h"

namespace integrad::cli {

// What a method returned, and its name (for file names and headings).
template <ad::Scalar T>
struct ExplainResult : attr::Attribution<T> {
  std::string method;
};

template <ad::Scalar T>
void print_summary(const ExplainResult<T>& r);
// DIR/{i}_{method}_heatmap.png and DIR/{i}_{method}_overlay.png for image inputs [N, C, H, W] or [N, H, W].
template <ad::Scalar T>
void write_pngs(const std::string& dir, const ad::Tensor<T>& inputs, const ExplainResult<T>& r);
// Tabular inputs [N, F] with a name per feature: per example (the first `limit`), a row per feature
// with its value, its attribution and a bar of the attribution's share of the largest |value|.
template <ad::Scalar T>
void print_features(const ad::Tensor<T>& inputs, const ExplainResult<T>& r, const std::vector<std::string>& names, int64_t limit = 5);
template <ad::Scalar T>
void print_tokens(const ad::Tensor<T>& inputs, const ExplainResult<T>& r);
template <ad::Scalar T>
void write_token_html(const std::string& path, const ad::Tensor<T>& inputs, const ExplainResult<T>& r);

}  // namespace integrad::cli
