#include "nn/image_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <memory>
#include <stdexcept>

#include "nn/atomic_file.h"

// Static and limited to the two formats we accept: a smaller decoder to trust, instrumented with
// the rest of integrad under the sanitizers and the fuzzer, and no clash with libstb's symbols.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO
#define STBI_MAX_DIMENSIONS 8192
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

namespace integrad::nn {

namespace {
constexpr int64_t kMaxPixels = int64_t(1) << 24;
constexpr size_t kMaxFileBytes = size_t(64) << 20;
}  // namespace

bool is_image_path(const std::string& path) {
  std::string lower = path;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return lower.ends_with(".png") || lower.ends_with(".jpg") || lower.ends_with(".jpeg");
}

template <ad::Scalar T>
ad::Tensor<T> image_parse(std::string_view bytes, int64_t channels, const std::string& name) {
  if (channels != 1 && channels != 3)
    throw std::invalid_argument(fmt::format("{}: a model with {} input channels cannot take an image (it needs 1 or 3)", name, channels));
  if (bytes.size() > size_t(INT_MAX)) throw std::runtime_error(name + ": image file too large");
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int length = static_cast<int>(bytes.size());
  int w = 0, h = 0, stored = 0;
  if (!stbi_info_from_memory(data, length, &w, &h, &stored))
    throw std::runtime_error(fmt::format("{}: not a PNG or JPEG image ({})", name, stbi_failure_reason()));
  if (w < 1 || h < 1 || int64_t(w) * h > kMaxPixels)
    throw std::runtime_error(fmt::format("{}: image of {}x{} pixels (at most {} pixels are read)", name, w, h, kMaxPixels));
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(stbi_load_from_memory(data, length, &w, &h, &stored, int(channels)), stbi_image_free);
  if (!pixels) throw std::runtime_error(fmt::format("{}: cannot decode the image ({})", name, stbi_failure_reason()));
  // stb gives rows of interleaved channels; models want planes.
  ad::Tensor<T> out(ad::Shape{1, channels, h, w});
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t p = 0; p < int64_t(w) * h; ++p) out[c * w * h + p] = T(pixels.get()[p * channels + c]) / T(255);
  return out;
}

template <ad::Scalar T>
ad::Tensor<T> read_image(const std::string& path, int64_t channels) {
  return image_parse<T>(read_file(path, kMaxFileBytes), channels, path);
}

template ad::Tensor<float> image_parse<float>(std::string_view, int64_t, const std::string&);
template ad::Tensor<double> image_parse<double>(std::string_view, int64_t, const std::string&);
template ad::Tensor<float> read_image<float>(const std::string&, int64_t);
template ad::Tensor<double> read_image<double>(const std::string&, int64_t);

}  // namespace integrad::nn
