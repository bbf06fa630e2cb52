#include "nn/image_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdint>
#include <memory>
#include <stdexcept>

#include <zlib.h>

#include "nn/atomic_file.h"
#include "nn/big_endian.h"

// Static and limited to PNG: a smaller decoder to trust, instrumented with the rest of integrad
// under the sanitizers and the fuzzer, and no clash with libstb's symbols. JPEG is left out on
// purpose: the fuzzer found stb 2.27's JPEG decoder writing past its Huffman tables within
// seconds (fixed upstream in 2.28, which Debian 12 does not have).
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
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

// stb_image grows its buffers to whatever a PNG chunk or its zlib stream claims, up to gigabytes,
// before finding out that they lie (the fuzzer's out-of-memory finds). So chunk lengths are checked
// against the file, and the compressed pixels are inflated here, stopping at twice what the
// header's width, height and pixel format need, before stb sees them.
void check_png(std::string_view b, const std::string& name) {
  static constexpr std::string_view signature("\x89PNG\r\n\x1a\n", 8);
  if (!b.starts_with(signature)) return;
  std::string compressed;
  int64_t width = 0, height = 0, bits = 0, samples = 0;
  for (size_t pos = 8; pos + 8 <= b.size();) {
    const uint32_t length = big_endian_32(b, pos);
    const std::string_view type = b.substr(pos + 4, 4);
    if (length > b.size() - pos - 8)
      throw std::runtime_error(fmt::format("{}: PNG chunk '{}' at offset {} claims {} bytes, {} follow", name, type, pos, length, b.size() - pos - 8));
    const std::string_view data = b.substr(pos + 8, length);
    if (type == "IHDR" && length >= 13) {
      width = big_endian_32(data, 0);
      height = big_endian_32(data, 4);
      bits = uint8_t(data[8]);
      const int color = uint8_t(data[9]);  // grey, -, RGB, palette, grey+alpha, -, RGBA
      samples = color == 2 ? 3 : color == 4 ? 2 : color == 6 ? 4 : 1;
    }
    if (type == "IDAT") compressed.append(data);
    if (type == "IEND") break;
    pos += 12 + size_t(length);
  }
  if (width < 1 || height < 1 || width > kMaxPixels || height > kMaxPixels || width * height > kMaxPixels || bits < 1 || bits > 16) return;  // refused below, by the size check or by stb
  const uint64_t needed = uint64_t(height) * (1 + (uint64_t(width) * uint64_t(samples * bits) + 7) / 8), limit = 2 * needed + 4096;
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return;
  z.next_in = reinterpret_cast<Bytef*>(compressed.data());
  z.avail_in = uInt(std::min<size_t>(compressed.size(), UINT_MAX));
  unsigned char out[1 << 15];
  uint64_t total = 0;
  int status = Z_OK;
  while (status == Z_OK && total <= limit) {
    const uInt input_before = z.avail_in;
    z.next_out = out;
    z.avail_out = sizeof out;
    status = inflate(&z, Z_NO_FLUSH);
    total += sizeof out - z.avail_out;
    if (z.avail_out == sizeof out && z.avail_in == input_before) break;  // no progress (truncated or damaged): stb will say so
  }
  inflateEnd(&z);
  if (total > limit)
    throw std::runtime_error(fmt::format("{}: the compressed pixels inflate to more than the {}x{} image needs ({} bytes)", name, width, height, needed));
}

// How stb_image recognises a JPEG: 0xFF, any number of fill bytes 0xFF, then 0xD8.
bool looks_like_jpeg(std::string_view b) {
  size_t pos = 0;
  while (pos < b.size() && uint8_t(b[pos]) == 0xFF) ++pos;
  return pos > 0 && pos < b.size() && uint8_t(b[pos]) == 0xD8;
}

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
  if (looks_like_jpeg(bytes))
    throw std::runtime_error(fmt::format("{}: JPEG images are not read (the stb_image 2.27 JPEG decoder in Debian writes out of bounds on damaged files, "
                                         "found by fuzzing); convert it to PNG",
                                         name));
  check_png(bytes, name);
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int length = static_cast<int>(bytes.size());
  int w = 0, h = 0, stored = 0;
  if (!stbi_info_from_memory(data, length, &w, &h, &stored))
    throw std::runtime_error(fmt::format("{}: not a PNG image ({})", name, stbi_failure_reason()));
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
