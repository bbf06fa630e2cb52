// .npy and safetensors: round trips, files written by NumPy / by the format's rules, and
// malformed files refused with a message naming the file and the problem.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "nn/atomic_file.h"
#include "nn/fashion_mnist.h"
#include "nn/npy.h"
#include "nn/safetensors.h"
#include "temp_path.h"

using namespace integrad;

namespace {
void write_raw(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

// The error message of reading `bytes` as `reader`, or "" if it was accepted.
template <class Reader>
std::string error_of(const std::string& name, const std::string& bytes, Reader reader) {
  const std::string path = temp_path(name);
  write_raw(path, bytes);
  try {
    reader(path);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

std::string npy_header(const std::string& dict, int version = 1) {
  std::string h = "\x93NUMPY";
  h += char(version);
  h += '\0';
  std::string d = dict;
  const size_t prefix = version == 1 ? 10 : 12;
  d.append((64 - (prefix + d.size() + 1) % 64) % 64, ' ');
  d += '\n';
  if (version == 1) {
    h += char(d.size() & 0xff);
    h += char(d.size() >> 8);
  } else {
    for (int i = 0; i < 4; ++i) h += char((d.size() >> (8 * i)) & 0xff);
  }
  return h + d;
}

std::string safetensors_bytes(const std::string& json, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[size_t(i)] = char((json.size() >> (8 * i)) & 0xff);
  return out + json + data;
}
}  // namespace

TEST_CASE("npy round trips float, double and labels") {
  ad::Rng rng(1);
  const auto f = ad::Tensor<float>::uniform(ad::Shape{2, 3, 4}, rng);
  const auto d = ad::Tensor<double>::normal(ad::Shape{5}, rng);
  nn::npy_write(temp_path("f.npy"), f);
  nn::npy_write(temp_path("d.npy"), d);
  CHECK(nn::npy_read_tensor<float>(temp_path("f.npy")).vector() == f.vector());
  CHECK(nn::npy_read_tensor<double>(temp_path("d.npy")).vector() == d.vector());
  const std::vector<int64_t> labels = {3, 0, 9};
  nn::npy_write_labels(temp_path("l.npy"), labels, ad::Shape{3});
  CHECK(nn::npy_read_labels(temp_path("l.npy")) == labels);
}

TEST_CASE("npy: version 2 headers, every dtype, big-endian and Fortran order are read correctly") {
  const std::string v2 = npy_header("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", 2) + std::string("\x07\0\0\0\xfe\xff\xff\xff", 8);
  CHECK(error_of("v2.npy", v2, [](auto& p) { nn::npy_read(p); }) == "");
  CHECK(nn::npy_read_tensor<double>(temp_path("v2.npy")).vector() == std::vector<double>{7, -2});
  const std::string big = npy_header("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }") + std::string("\x3f\xf8\0\0\0\0\0\0", 8);  // 1.5
  write_raw(temp_path("big.npy"), big);
  CHECK(nn::npy_read_tensor<double>(temp_path("big.npy"))[0] == 1.5);
  // [[1, 2, 3], [4, 5, 6]] stored column by column.
  const std::string fortran = npy_header("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3), }") + std::string("\x01\x04\x02\x05\x03\x06", 6);
  write_raw(temp_path("fortran.npy"), fortran);
  CHECK(nn::npy_read_tensor<float>(temp_path("fortran.npy")).vector() == std::vector<float>{1, 2, 3, 4, 5, 6});
  const std::string i8 = npy_header("{'descr': '<i8', 'fortran_order': False, 'shape': (), }") + std::string("\x05\0\0\0\0\0\0\0", 8);
  write_raw(temp_path("scalar.npy"), i8);
  CHECK(nn::npy_read_labels(temp_path("scalar.npy")) == std::vector<int64_t>{5});
}

TEST_CASE("npy: malformed files are refused with the file name and the problem") {
  auto read = [](auto& p) { nn::npy_read(p); };
  const std::string good = npy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }");
  CHECK(error_of("magic.npy", "NOTNUMPY" + good, read).find("magic") != std::string::npos);
  CHECK(error_of("short.npy", good + std::string(4, '\0'), read).find("needs 8 data bytes") != std::string::npos);
  CHECK(error_of("hdrlen.npy", good.substr(0, 12), read).find("runs past the end") != std::string::npos);
  CHECK(error_of("dtype.npy", npy_header("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }") + std::string(16, '\0'), read)
            .find("unsupported dtype") != std::string::npos);
  CHECK(error_of("huge.npy", npy_header("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999), }"), read).find("too large") !=
        std::string::npos);
  CHECK(error_of("noshape.npy", npy_header("{'descr': '<f8', 'fortran_order': False, }"), read).find("'shape'") != std::string::npos);
  CHECK(error_of("labels.npy", npy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }") + std::string("\0\0\xc0\x3f", 4),
                 [](auto& p) { nn::npy_read_labels(p); })
            .find("expected an integer label") != std::string::npos);
  CHECK(error_of("named.npy", "garbage", read).find("named.npy") != std::string::npos);
  CHECK_THROWS_WITH(nn::npy_read(temp_path("does-not-exist.npy")), doctest::Contains("no such file"));
}

TEST_CASE("safetensors: round trip with metadata, F32 and F64") {
  ad::Rng rng(2);
  const auto w = ad::Tensor<double>::normal(ad::Shape{3, 2}, rng), b = ad::Tensor<double>::normal(ad::Shape{3}, rng);
  for (const char* dtype : {"F32", "F64"}) {
    nn::safetensors_write<double>(temp_path("m.safetensors"), {{"0.weight", &w}, {"0.bias", &b}}, {{"architecture", "Linear(2, 3)"}}, dtype);
    const auto file = nn::safetensors_read(temp_path("m.safetensors"));
    CHECK(file.metadata.at("architecture") == "Linear(2, 3)");
    CHECK(file.tensors.at("0.weight").dtype == dtype);
    const auto back = nn::safetensors_tensor<double>(file, "0.weight", "m");
    for (int64_t i = 0; i < w.numel(); ++i) CHECK(back[i] == (std::string(dtype) == "F32" ? double(float(w[i])) : w[i]));
  }
}

TEST_CASE("safetensors: malformed headers are refused before anything is allocated") {
  auto read = [](auto& p) { nn::safetensors_read(p); };
  const std::string data(8, '\0');
  CHECK(error_of("short.st", "abc", read).find("shorter than") != std::string::npos);
  CHECK(error_of("len.st", std::string("\xff\xff\xff\xff\0\0\0\0", 8) + "{}", read).find("above the 100 MB limit") != std::string::npos);
  CHECK(error_of("past.st", std::string("\x40\0\0\0\0\0\0\0", 8) + "{}", read).find("runs past the end") != std::string::npos);
  CHECK(error_of("json.st", safetensors_bytes("{not json", ""), read).find("not valid JSON") != std::string::npos);
  CHECK(error_of("dtype.st", safetensors_bytes(R"({"w":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}})", data), read).find("unknown dtype") !=
        std::string::npos);
  CHECK(error_of("range.st", safetensors_bytes(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", data), read).find("outside the data buffer") !=
        std::string::npos);
  CHECK(error_of("size.st", safetensors_bytes(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data), read).find("needs 12 bytes") !=
        std::string::npos);
  CHECK(error_of("overlap.st",
                 safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", data),
                 read)
            .find("overlap") != std::string::npos);
  CHECK(error_of("neg.st", safetensors_bytes(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data), read).find("non-negative") !=
        std::string::npos);
}

TEST_CASE("IDX: gzip and plain files, corruption refused") {
  // A 2x2 image set of one image, written plainly.
  std::string idx("\0\0\x08\x03\0\0\0\x01\0\0\0\x02\0\0\0\x02\x01\x02\x03\x04", 20);
  write_raw(temp_path("ok.idx"), idx);
  CHECK(nn::idx_read(temp_path("ok.idx")).dims == std::vector<int64_t>{1, 2, 2});
  CHECK(error_of("trunc.idx", idx.substr(0, 18), [](auto& p) { nn::idx_read(p); }).find("data bytes") != std::string::npos);
  CHECK(error_of("type.idx", std::string("\0\0\x0d\x01\0\0\0\x01\0", 9), [](auto& p) { nn::idx_read(p); }).find("element type") != std::string::npos);
  CHECK(error_of("gz.idx", std::string("\x1f\x8b\x08\0garbage", 11), [](auto& p) { nn::idx_read(p); }).find("gzip") != std::string::npos);
  CHECK_THROWS_WITH(nn::load_fashion_mnist<float>(temp_path("nowhere"), true), doctest::Contains("dataset-fashion-mnist"));
}

TEST_CASE("Fashion-MNIST from Debian's package, when installed") {
  if (!std::filesystem::exists(std::string(nn::kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz")) {
    MESSAGE("skipped: dataset-fashion-mnist is not installed");
    return;
  }
  const auto test = nn::load_fashion_mnist<float>(nn::kFashionMnistDir, false);
  CHECK(test.size() == 10000);
  CHECK(test.inputs.shape() == ad::Shape{10000, 1, 28, 28});
  const auto [lo, hi] = std::minmax_element(test.inputs.span().begin(), test.inputs.span().end());
  CHECK(*lo == 0.0f);
  CHECK(*hi == 1.0f);
  CHECK(nn::load_fashion_mnist<float>(nn::kFashionMnistDir, true, 1).labels[0] == 9);  // the first training image is an ankle boot
}

TEST_CASE("outputs are written whole: no temporary file is left behind, a failed write leaves no file") {
  const std::string path = temp_path("whole.bin");
  nn::write_file_atomically(path, "hello");
  CHECK(nn::read_file(path) == "hello");
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(path).parent_path()))
    CHECK(!e.path().filename().string().starts_with(nn::kTemporaryPrefix));
  CHECK_THROWS_WITH(nn::write_file_atomically("/nonexistent-dir/x.npy", "data"), doctest::Contains("/nonexistent-dir/x.npy"));
}

TEST_CASE("npy: rows read from a memory map equal the whole array's rows; bad files fail as npy_read does") {
  ad::Tensor<float> f(ad::Shape{5, 2, 3});
  for (int64_t i = 0; i < f.numel(); ++i) f[i] = 0.5f * float(i) - 3.0f;
  nn::npy_write(temp_path("rows.npy"), f);
  ad::Shape whole;
  CHECK(nn::npy_read_rows<float>(temp_path("rows.npy"), 1, 4, &whole).vector() == f.rows(1, 4).vector());
  CHECK(whole == f.shape());
  CHECK(nn::npy_read_rows<double>(temp_path("rows.npy"), 3, 99).vector() == f.rows(3, 5).to<double>().vector());  // end clamped
  CHECK(nn::npy_read_rows<float>(temp_path("rows.npy"), 5, 5).shape() == ad::Shape{0, 2, 3});
  CHECK_THROWS_AS(nn::npy_read_rows<float>(temp_path("rows.npy"), 4, 2), std::invalid_argument);
  // Big-endian and Fortran order through the rows path.
  write_raw(temp_path("big_rows.npy"), npy_header("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }") + std::string("\x3f\xf8\0\0\0\0\0\0\xc0\0\0\0\0\0\0\0", 16));
  CHECK(nn::npy_read_rows<double>(temp_path("big_rows.npy"), 1, 2).vector() == std::vector<double>{-2});
  write_raw(temp_path("fortran_rows.npy"), npy_header("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3), }") + std::string("\x01\x04\x02\x05\x03\x06", 6));
  CHECK(nn::npy_read_rows<float>(temp_path("fortran_rows.npy"), 1, 2).vector() == std::vector<float>{4, 5, 6});
  // The same messages as npy_read, whether the file is mapped or (empty, missing) read.
  const std::string good = npy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }");
  for (const auto& [name, bytes] : {std::pair<std::string, std::string>{"short_rows.npy", good + std::string(4, '\0')}, {"empty_rows.npy", ""},
                                    {"magic_rows.npy", "NOTNUMPY" + good}}) {
    const std::string by_read = error_of(name, bytes, [](auto& p) { nn::npy_read(p); });
    CHECK(!by_read.empty());
    CHECK(error_of(name, bytes, [](auto& p) { nn::npy_read_tensor<float>(p); }) == by_read);
  }
  std::string missing;
  try {
    nn::npy_read_tensor<float>(temp_path("no_such_file.npy"));
  } catch (const std::exception& e) {
    missing = e.what();
  }
  CHECK(missing.find("no_such_file.npy") != std::string::npos);
}
