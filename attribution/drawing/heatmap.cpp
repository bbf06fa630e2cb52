#include "attribution/drawing/heatmap.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace integrad::attr {

namespace {

struct Rgb {
  double r, g, b;
};

Rgb mix(Rgb a, Rgb b, double t) { return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t}; }

// v in [−1, 1] (signed) or [0, 1] (absolute), already clipped.
Rgb colour(double v, bool is_signed) {
  const Rgb white{255, 255, 255}, blue{33, 102, 172}, red{178, 24, 43}, orange{244, 109, 67}, dark{103, 0, 13};
  if (is_signed) return v < 0 ? mix(white, blue, -v) : mix(white, red, v);
  return v < 0.5 ? mix(white, orange, v * 2) : mix(orange, dark, (v - 0.5) * 2);
}

double normalised(double a, bool is_signed, double vmax) {
  if (vmax <= 0) return 0;
  return std::clamp(a / vmax, is_signed ? -1.0 : 0.0, 1.0);
}

void put(Image& img, int x, int y, Rgb c) {
  uint8_t* p = img.rgb.data() + (size_t(y) * size_t(img.width) + size_t(x)) * 3;
  p[0] = static_cast<uint8_t>(std::lround(std::clamp(c.r, 0.0, 255.0)));
  p[1] = static_cast<uint8_t>(std::lround(std::clamp(c.g, 0.0, 255.0)));
  p[2] = static_cast<uint8_t>(std::lround(std::clamp(c.b, 0.0, 255.0)));
}

Image blank(int width, int height) { return {width, height, std::vector<uint8_t>(size_t(width) * size_t(height) * 3, 255)}; }

// A 3×5 pixel font for the colour bar's numbers.
const char* glyph(char c) {
  switch (c) {
    case '0': return "111101101101111";
    case '1': return "010110010010111";
    case '2': return "111001111100111";
    case '3': return "111001111001111";
    case '4': return "101101111001001";
    case '5': return "111100111001111";
    case '6': return "111100111101111";
    case '7': return "111001001001001";
    case '8': return "111101111101111";
    case '9': return "111101111001111";
    case '.': return "000000000000010";
    case '-': return "000000111000000";
    case 'e': return "000111111100111";
    case '+': return "000010111010000";
    default: return "000000000000000";
  }
}

void text(Image& img, int x, int y, const std::string& s, int size) {
  for (char ch : s) {
    const char* g = glyph(ch);
    for (int r = 0; r < 5; ++r)
      for (int c = 0; c < 3; ++c)
        if (g[r * 3 + c] == '1')
          for (int dy = 0; dy < size; ++dy)
            for (int dx = 0; dx < size; ++dx) {
              const int px = x + c * size + dx, py = y + r * size + dy;
              if (px < img.width && py < img.height) put(img, px, py, {0, 0, 0});
            }
    x += 4 * size;
  }
}

}  // namespace

double cumulative_sum_threshold(std::span<const double> values, double outlier_perc) {
  std::vector<double> sorted;
  for (double v : values) sorted.push_back(std::abs(v));
  std::sort(sorted.begin(), sorted.end());
  double total = 0;
  for (double v : sorted) total += v;
  if (total <= 0) return 0;
  const double target = total * (100 - outlier_perc) / 100;
  double cum = 0;
  for (double v : sorted) {
    cum += v;
    if (cum >= target) return v;
  }
  return sorted.back();
}

Image heatmap(std::span<const double> attr, int height, int width, bool is_signed, double vmax, int scale) {
  Image img = blank(width * scale, height * scale);
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) put(img, x, y, colour(normalised(attr[size_t(y / scale * width + x / scale)], is_signed, vmax), is_signed));
  return img;
}

Image overlay(std::span<const double> input, std::span<const double> attr, int height, int width, bool is_signed, double vmax, int scale) {
  Image img = blank(width * scale, height * scale);
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      const size_t i = size_t(y / scale * width + x / scale);
      const double gray = 255 * std::clamp(input[i], 0.0, 1.0) * 0.8;
      const double v = normalised(attr[i], is_signed, vmax);
      put(img, x, y, mix({gray, gray, gray}, colour(v, is_signed), std::min(1.0, std::abs(v) * 1.5)));
    }
  return img;
}

Image with_colour_bar(const Image& image, bool is_signed, double vmax) {
  const int bar = 16, label = 48, pad = 6, size = std::max(1, image.height / 112);
  Image out = blank(image.width + pad + bar + 4 + label * size / 1, image.height);
  for (int y = 0; y < image.height; ++y)
    std::copy_n(image.rgb.data() + size_t(y) * size_t(image.width) * 3, size_t(image.width) * 3, out.rgb.data() + size_t(y) * size_t(out.width) * 3);
  for (int y = 0; y < out.height; ++y) {
    const double t = 1.0 - double(y) / std::max(1, out.height - 1);  // top = vmax
    const double v = is_signed ? 2 * t - 1 : t;
    for (int x = 0; x < bar; ++x) put(out, image.width + pad + x, y, colour(v, is_signed));
  }
  const int lx = image.width + pad + bar + 3;
  text(out, lx, 1, fmt::format("{:.2g}", vmax), size);
  if (is_signed) text(out, lx, out.height / 2 - 3 * size, "0", size);
  text(out, lx, out.height - 6 * size, is_signed ? fmt::format("{:.2g}", -vmax) : "0", size);
  return out;
}

}  // namespace integrad::attr
