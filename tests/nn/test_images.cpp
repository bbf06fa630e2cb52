// PNG and JPEG inputs: exact pixels from PNG, the model's channel count, and damaged or oversized
// files refused with the file's name before any pixel is decoded.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

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

TEST_CASE("a JPEG reads to the right shape and range") {
  const auto x = nn::read_image<float>(kDir + "gray28.jpg", 1);
  REQUIRE(x.shape() == ad::Shape{1, 1, 28, 28});
  for (float v : x.span()) CHECK((v >= 0 && v <= 1));
  CHECK(nn::is_image_path("a/B.JPEG"));
  CHECK_FALSE(nn::is_image_path("x.npy"));
}

TEST_CASE("damaged, oversized and unsupported images are refused by name") {
  const std::string png = nn::read_file(kDir + "gray28.png");
  CHECK_THROWS_WITH_AS(nn::image_parse<float>("not an image at all", 1, "junk.png"), doctest::Contains("junk.png: not a PNG or JPEG"), std::runtime_error);
  CHECK_THROWS_WITH_AS(nn::image_parse<float>(png.substr(0, 60), 1, "cut.png"), doctest::Contains("cut.png"), std::runtime_error);
  // The same header claiming 100000 × 100000 pixels: refused from the header alone.
  std::string huge = png;
  const unsigned char dims[8] = {0x00, 0x01, 0x86, 0xA0, 0x00, 0x01, 0x86, 0xA0};
  huge.replace(16, 8, reinterpret_cast<const char*>(dims), 8);
  CHECK_THROWS_WITH_AS(nn::image_parse<float>(huge, 1, "huge.png"), doctest::Contains("huge.png"), std::runtime_error);
  CHECK_THROWS_WITH_AS(nn::image_parse<float>(png, 2, "two.png"), doctest::Contains("2 input channels"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(nn::read_image<float>(kDir + "missing.png", 1), doctest::Contains("no such file"), std::runtime_error);
}
