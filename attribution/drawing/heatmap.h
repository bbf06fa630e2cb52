// Pictures of attributions as RGB pixels (encoding to PNG is the CLI's business): a heatmap, an
// overlay on the grayscale input, and a colour bar. Signed attributions use a diverging map
// (blue < 0 < red, white at 0); absolute ones a sequential map (white → orange → dark red).
// Colours saturate at Captum's threshold: the value below which (100 − outlier_perc)% of the
// total |attribution| mass lies (visualization._cumulative_sum_threshold), outlier_perc = 2.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace integrad::attr {

struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // row-major, 3 bytes a pixel
};

double cumulative_sum_threshold(std::span<const double> values, double outlier_perc = 2.0);

// attr: one H×W plane (sum channels first). `scale` pixels per input pixel.
Image heatmap(std::span<const double> attr, int height, int width, bool is_signed, double vmax, int scale);
// The heatmap blended over the grayscale input (values in [0, 1]); alpha follows |attribution|.
Image overlay(std::span<const double> input, std::span<const double> attr, int height, int width, bool is_signed, double vmax, int scale);
// The image with a vertical colour bar on its right, labelled with −vmax, 0, vmax (or 0, vmax).
Image with_colour_bar(const Image& image, bool is_signed, double vmax);

}  // namespace integrad::attr
