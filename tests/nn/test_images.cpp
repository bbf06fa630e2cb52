// PNG inputs: exact pixels, the model's channel count, and damaged or oversized files refused with
// the file's name before any pixel is decoded; JPEG refused with the reason.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include <zlib.h>

#include "nn/atomic_file.h"
#include "nn/image_file.h"

using namespace integrad;

namespace {
const std::string kDir = std::string(INTEGRAD_TEST_DATA) + "/images/";
}

TEST_CASE("a grayscale PNG reads exactly, scaled to [0, 1], as one example [1, 1, H, W]") {
  const auto x = nn::read_image<double>(kDir + "gray28.png", 1);
  REQUIRE(x.shape() == ad::Shape{1, 1, 28, 28});
  for (int64_t i = 0; i < 28 * 28; ++i) CHECK(x[i] == double((i * 7) % 256) / 255.0);  // the pattern the file was written with
}

TEST_CASE("an RGB PNG becomes three planes; a model with one channel gets it as grayscale") {
  const auto rgb = nn::read_image<float>(kDir + "rgb5x4.png", 3);
  REQUIRE(rgb.shape() == ad::Shape{1, 3, 4, 5});
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t p = 0; p < 20; ++p) CHECK(rgb[c * 20 + p] == float((p * 3 + c) * 13 % 256) / 255.0f);
  const auto gray = nn::read_image<float>(kDir + "rgb5x4.png", 1);
  CHECK(gray.shape() == ad::Shape{1, 1, 4, 5});
}

TEST_CASE("JPEG is recognised and refused with the reason, whatever the file is called") {
  CHECK_THROWS_WITH_AS(nn::read_image<float>(kDir + "gray28.jpg", 1), doctest::Contains("gray28.jpg: JPEG images are not read"), std::runtime_error);
  // The fuzzer's find: stb_image 2.27 writes past a 257-entry Huffman table on this file.
  CHECK_THROWS_WITH_AS(nn::read_image<float>(kDir + "bad-huffman.jpg", 3), doctest::Contains("convert it to PNG"), std::runtime_error);
  const std::string jpeg = nn::read_file(kDir + "gray28.jpg");
  CHECK_THROWS_WITH_AS(nn::image_parse<float>(std::string(40, char(0xFF)) + jpeg.substr(1), 1, "renamed.png"), doctest::Contains("JPEG"), std::runtime_error);
  CHECK(nn::is_image_path("a/B.JPEG"));
  CHECK_FALSE(nn::is_image_path("x.npy"));
}

TEST_CASE("damaged, oversized and unsupported images are refused by name") {
  const std::string png = nn::read_file(kDir + "gray28.png");
  CHECK_THROWS_WITH_AS(nn::image_parse<float>("not an image at all", 1, "junk.png"), doctest::Contains("junk.png: not a PNG image"), std::runtime_error);
  CHECK_THROWS_WITH_AS(nn::image_parse<float>(png.substr(0, 60), 1, "cut.png"), doctest::Contains("cut.png"), std::runtime_error);
  // The same header claiming 100000 × 100000 pixels: refused from the header alone.
  std::string huge = png;
  const unsigned char dims[8] = {0x00, 0x01, 0x86, 0xA0, 0x00, 0x01, 0x86, 0xA0};
  huge.replace(16, 8, reinterpret_cast<const char*>(dims), 8);
  CHECK_THROWS_WITH_AS(nn::image_parse<float>(huge, 1, "huge.png"), doctest::Contains("huge.png"), std::runtime_error);
  CHECK_THROWS_WITH_AS(nn::image_parse<float>(png, 2, "two.png"), doctest::Contains("2 input channels"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(nn::read_image<float>(kDir + "missing.png", 1), doctest::Contains("no such file"), std::runtime_error);
}

namespace {
std::string big_endian(uint32_t v) { return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }
std::string chunk(const std::string& type, const std::string& data) { return big_endian(uint32_t(data.size())) + type + data + "CRC!"; }
}  // namespace

TEST_CASE("PNG chunks that claim more than the file, and zlib bombs, are refused before stb allocates") {
  // The fuzzer's out-of-memory find: a chunk claiming 1.1 GB made stb allocate 2 GB.
  CHECK_THROWS_WITH_AS(nn::read_image<float>(kDir + "huge-chunk.png", 1), doctest::Contains("claims"), std::runtime_error);
  // A 4×4 grayscale image whose pixel stream inflates to 8 MB (the image needs 20 bytes).
  const std::string zeros(8 << 20, '\0');
  uLongf packed_size = compressBound(uLong(zeros.size()));
  std::string packed(packed_size, '\0');
  REQUIRE(compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size, reinterpret_cast<const Bytef*>(zeros.data()), uLong(zeros.size()), 9) == Z_OK);
  packed.resize(packed_size);
  const std::string ihdr = big_endian(4) + big_endian(4) + std::string{8, 0, 0, 0, 0};
  const std::string bomb = std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) + chunk("IDAT", packed) + chunk("IEND", "");
  CHECK(bomb.size() < 20000);
  CHECK_THROWS_WITH_AS(nn::image_parse<float>(bomb, 1, "bomb.png"), doctest::Contains("inflate to more than the 4x4 image needs"), std::runtime_error);
}
