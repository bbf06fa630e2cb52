// Files that a permissive reader would accept with a different meaning than the writer's, or at a
// cost out of proportion to their size: refused, each with a message naming the problem.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "nn/npy.h"
#include "nn/printable.h"
#include "nn/safetensors.h"
#include "nn/train.h"

using namespace integrad;

namespace {
std::string safetensors_bytes(const std::string& json, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[size_t(i)] = char((json.size() >> (8 * i)) & 0xff);
  return out + json + data;
}

std::string error_of(const std::string& bytes) {
  try {
    nn::safetensors_parse(bytes, "x.safetensors");
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

const std::string w = R"("w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
}  // namespace

TEST_CASE("safetensors: a well-formed header with padding and metadata is read") {
  const auto f = nn::safetensors_parse(safetensors_bytes(R"({"__metadata__":{"a":"b"},)" + w + "}   ", std::string(8, '\0')), "ok");
  CHECK(f.metadata.at("a") == "b");
  CHECK(f.tensors.at("w").shape == ad::Shape{2});
}

TEST_CASE("safetensors: duplicate keys are refused, not resolved silently") {
  CHECK(error_of(safetensors_bytes("{" + w + "," + w + "}", std::string(8, '\0'))) ==
        "x.safetensors: not a valid safetensors file: the header names 'w' twice");
  CHECK(error_of(safetensors_bytes(R"({"__metadata__":{"a":"1"},"__metadata__":{"a":"2"}})", "")).find("names '__metadata__' twice") != std::string::npos);
  CHECK(error_of(safetensors_bytes(R"({"__metadata__":{"a":"1","a":"2"}})", "")).find("names 'a' twice in one entry") != std::string::npos);
  CHECK(error_of(safetensors_bytes(R"({"w":{"dtype":"F32","dtype":"F64","shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0')))
            .find("names 'dtype' twice") != std::string::npos);
}

TEST_CASE("safetensors: deep nesting is refused as it opens, in constant time") {
  const std::string deep = R"({"__metadata__":{"a":)" + std::string(10'000'000, '[');
  const auto start = std::chrono::steady_clock::now();
  CHECK(error_of(safetensors_bytes(deep, "")).find("nests deeper than 3 levels") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  std::string objects;
  for (int i = 0; i < 1000; ++i) objects += R"({"a":)";
  CHECK(error_of(safetensors_bytes(objects, "")).find("nests deeper") != std::string::npos);
}

TEST_CASE("safetensors: a header of many entries parses in linear time") {
  // nlohmann's callback parser, used before, rescans the parent object after each entry: quadratic,
  // 14 s for 40 000 entries (issue 29). Four times the entries must take about four times as long
  // (a little more: the keys sit in ordered maps), not sixteen; a ratio, so that the check means the
  // same in Release (40 000 entries in about 0.1 s) and under the sanitizers (3 s).
  const auto header = [](int n) {
    std::string json = "{";
    for (int i = 0; i < n; ++i) json += fmt::format(R"({}"t{}":{{"dtype":"F32","shape":[0],"data_offsets":[0,0]}})", i ? "," : "", i);
    return safetensors_bytes(json + "}", "");
  };
  const auto seconds = [](const std::string& bytes, size_t entries) {
    double best = 1e9;
    for (int repeat = 0; repeat < 2; ++repeat) {  // the faster of two: less noise from a loaded machine
      const auto start = std::chrono::steady_clock::now();
      const auto f = nn::safetensors_parse(bytes, "many");
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      CHECK(f.tensors.size() == entries);
    }
    return best;
  };
  const double small = seconds(header(10'000), 10'000), large = seconds(header(40'000), 40'000);
  CHECK(large < 10 * small);
}

TEST_CASE("safetensors: only whitespace may follow the JSON; the header starts with '{'") {
  CHECK(error_of(safetensors_bytes("{" + w + "}" + std::string(1, '\0') + "garbage", std::string(8, '\0'))).find("NUL byte at offset") != std::string::npos);
  CHECK(error_of(safetensors_bytes("{" + w + "} x", std::string(8, '\0'))).find("not valid JSON") != std::string::npos);
  CHECK(error_of(safetensors_bytes(" {" + w + "}", std::string(8, '\0'))).find("does not start with '{'") != std::string::npos);
}

TEST_CASE("safetensors: the tensors' data must tile the buffer exactly") {
  const std::string a = R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})", b = R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]})";
  CHECK(error_of(safetensors_bytes("{" + a + "," + b + "}", std::string(12, '\0'))).find("data bytes [4, 8) belong to no tensor") != std::string::npos);
  CHECK(error_of(safetensors_bytes("{" + a + "}", std::string(12, '\0'))).find("data bytes [4, 12) after the last tensor") != std::string::npos);
  CHECK(error_of(safetensors_bytes(R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", std::string(8, '\0')))
            .find("data bytes [0, 4) belong to no tensor") != std::string::npos);
  CHECK(error_of(safetensors_bytes("{}", "junk")).find("after the last tensor") != std::string::npos);
  // Empty tensors take no bytes and may sit anywhere in the tiling.
  CHECK(error_of(safetensors_bytes(R"({"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},)" + a.substr(0) + "," +
                                   R"("c":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                   std::string(8, '\0'))) == "");
}

TEST_CASE("training curves and settings in metadata: nesting is refused") {
  CHECK(nn::parse_training_curve(R"([{"epoch":1,"loss":0.5,"train_accuracy":0.9,"val_accuracy":0.8,"seconds":1}])").size() == 1);
  CHECK_THROWS_WITH(nn::parse_training_curve("[" + std::string(1'000'000, '[')), doctest::Contains("nests deeper than a list of epochs"));
  CHECK_THROWS_WITH(nn::parse_training_curve(R"([{"epoch":[1]}])"), doctest::Contains("nests deeper"));
}

TEST_CASE("printable: control characters and malformed UTF-8 are shown as \\xHH, UTF-8 text is kept") {
  CHECK(nn::printable("0.weight") == "0.weight");
  CHECK(nn::printable("\x1b]0;pwned\x07name") == "\\x1b]0;pwned\\x07name");
  CHECK(nn::printable("a\nb\tc\x7f") == "a\\x0ab\\x09c\\x7f");
  CHECK(nn::printable("caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80") == "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80");  // é → 😀
  CHECK(nn::printable("\xc2\x9b" "31m") == "\\xc2\\x9b31m");  // C1 CSI as UTF-8
  CHECK(nn::printable("\x9b" "31m") == "\\x9b31m");           // a lone CSI byte
  CHECK(nn::printable("\xe2\x86") == "\\xe2\\x86");           // cut short
  CHECK(nn::printable("\xc0\xaf") == "\\xc0\\xaf");           // overlong '/'
}

namespace {
std::string npy_bytes(const std::string& dict, const std::string& data) {
  std::string d = dict;
  d.append((64 - (10 + d.size() + 1) % 64) % 64, ' ');
  d += '\n';
  return std::string("\x93NUMPY\x01\x00", 8) + char(d.size() & 0xff) + char(d.size() >> 8) + d + data;
}
std::string npy_error(const std::string& dict, const std::string& data = std::string(8, '\0')) {
  try {
    nn::npy_parse(npy_bytes(dict, data), "x.npy");
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("npy: the header is parsed as the Python literal it is, accepting what NumPy accepts") {
  // Accepted by numpy.load, so accepted here.
  CHECK(npy_error(R"({"descr": "<f4", "fortran_order": False, "shape": (2,)})") == "");
  CHECK(npy_error("{'descr': '<f4', 'fortran_order': False , 'shape': (2, ) , }") == "");
  CHECK(npy_error("{'shape':(1,2),'fortran_order':True,'descr':'<f4'}") == "");
  CHECK(npy_error("{'descr': '<f4', 'fortran_order': False, 'shape': (1L, 2L), }") == "");
  CHECK(nn::npy_parse(npy_bytes("{ 'descr' : '<i4' ,\t'fortran_order' : False , 'shape' : ( 1 , 2 ) }", std::string(8, '\0')), "x").shape == ad::Shape{1, 2});
  // Refused by numpy.load, so refused here.
  CHECK(npy_error("{'descr': '<f4', 'fortran_order': False, 'shape': (1 1 2), }").find("expected ',' between dimensions") != std::string::npos);
  CHECK(npy_error("{'descr': '<f4', 'fortran_order': False, 'shape': (1,,2), }").find("bad dimension") != std::string::npos);
  CHECK(npy_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2), }").find("is a number, not a tuple") != std::string::npos);
  CHECK(npy_error("{'descr': '<f4junk', 'fortran_order': False, 'shape': (2,), }").find("unsupported dtype '<f4junk'") != std::string::npos);
  CHECK(npy_error("{'descr': '<f4', 'fortran_order': Falsey, 'shape': (2,), }").find("expected True or False") != std::string::npos);
  CHECK(npy_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}").find("unknown key 'extra'") != std::string::npos);
  CHECK(npy_error("{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}").find("gives 'descr' twice") != std::string::npos);
  CHECK(npy_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} junk").find("text after the dict") != std::string::npos);
  CHECK(npy_error("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}").find("bad dimension") != std::string::npos);
  // A control character in the dtype reaches the message escaped.
  CHECK(npy_error("{'descr': '<f\x1b[2J', 'fortran_order': False, 'shape': (2,)}").find("'<f\\x1b[2J'") != std::string::npos);
}
