// A transformer's attention drawn for HTML pages (`explain --html`, the report): one T×T heat map
// per layer and head as inline SVG (rows: queries, columns: keys, labelled with the token ids;
// white 0 to dark red 1), and tokens coloured by several methods side by side.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace integrad::attr {

// weights: one example's [layers, heads, T, T] (row-major); tokens: its T ids.
std::string attention_heatmaps_svg(const std::vector<double>& weights, int64_t layers, int64_t heads, const std::vector<int64_t>& tokens);

struct TokenRow {
  std::string method;          // shown at the left
  std::vector<double> scores;  // one per token
};
// One table row per method, each token coloured by that method's score (scaled per row), with
// `marked` tokens (e.g. the decisive ones) underlined. Pages include kTokenStyle.
std::string token_rows_html(const std::vector<int64_t>& tokens, const std::vector<TokenRow>& rows, const std::vector<bool>& marked = {});

// The same for a terminal: one line per method, 256-colour backgrounds (red +, blue −).
std::string token_rows_ansi(const std::vector<int64_t>& tokens, const std::vector<TokenRow>& rows);

}  // namespace integrad::attr
