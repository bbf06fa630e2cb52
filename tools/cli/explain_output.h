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

// Examples explain prints a line for unless --verbose.
constexpr int64_t kExamplesShown = 10;

// A line per example for the first `lines` examples (all when negative), numbered from `first`,
// then a summary: the count, mean and worst |delta| where the method has one, and how many
// examples have non-finite attributions.
template <ad::Scalar T>
void print_summary(const ExplainResult<T>& r, int64_t lines = -1, int64_t first = 0);
// DIR/{i}_{method}_heatmap.png and DIR/{i}_{method}_overlay.png for image inputs [N, C, H, W] or [N, H, W];
// i counts from `first` (a shard's first example), so shards write distinct names into one DIR.
template <ad::Scalar T>
void write_pngs(const std::string& dir, const ad::Tensor<T>& inputs, const ExplainResult<T>& r, int64_t first = 0);
// Tabular inputs [N, F] with a name per feature: per example (the first `limit`), a row per feature
// with its value, its attribution and a bar of the attribution's share of the largest |value|.
template <ad::Scalar T>
void print_features(const ad::Tensor<T>& inputs, const ExplainResult<T>& r, const std::vector<std::string>& names, int64_t limit = 5);
template <ad::Scalar T>
void print_tokens(const ad::Tensor<T>& inputs, const ExplainResult<T>& r);
template <ad::Scalar T>
void write_token_html(const std::string& path, const ad::Tensor<T>& inputs, const ExplainResult<T>& r);

}  // namespace integrad::cli
