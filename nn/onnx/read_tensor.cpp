// TensorProto → constant. Every size is checked against the bytes actually present before a
// vector is sized from it, so a file that claims gigabytes it does not hold is refused cheaply.
#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "nn/onnx/builder.h"
#include "nn/printable.h"

namespace integrad::nn::onnx_in {
namespace {

constexpr int64_t kMaxElements = int64_t(1) << 28;  // 1 GiB of float32: far beyond any model we explain

size_t element_size(int type) {
  switch (type) {
    case onnx::TensorProto::FLOAT: return 4;
    case onnx::TensorProto::DOUBLE: return 8;
    case onnx::TensorProto::INT64: return 8;
    case onnx::TensorProto::INT32: return 4;
    case onnx::TensorProto::BOOL: return 1;
    default: return 0;
  }
}

// External data: a file beside the model, never outside its folder.
std::string external_bytes(const onnx::TensorProto& t, const std::string& path, const std::string& dir, size_t want) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : t.external_data()) {
    if (kv.key() == "location") location = kv.value();
    else if (kv.key() == "offset") offset = std::stoll(kv.value());
    else if (kv.key() == "length") length = std::stoll(kv.value());
  }
  const std::filesystem::path rel(location);
  bool inside = !location.empty() && rel.is_relative();
  for (const auto& part : rel) inside = inside && part != "..";
  if (!inside)
    throw std::runtime_error(fmt::format("{}: tensor '{}' keeps its data at '{}', outside the model's folder; refused", printable(path), printable(t.name()),
                                         printable(location)));
  const std::filesystem::path file = std::filesystem::path(dir) / rel;
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec || offset < 0 || (length >= 0 && static_cast<size_t>(length) != want) || static_cast<uint64_t>(offset) + want > size)
    throw std::runtime_error(fmt::format("{}: tensor '{}' needs {} bytes of '{}' from offset {}, which it does not hold", printable(path), printable(t.name()),
                                         want, printable(file.string()), offset));
  std::ifstream in(file, std::ios::binary);
  in.seekg(offset);
  std::string bytes(want, '\0');
  if (!in.read(bytes.data(), static_cast<std::streamsize>(want)))
    throw std::runtime_error(fmt::format("{}: cannot read '{}'", printable(path), printable(file.string())));
  return bytes;
}

}  // namespace

Value tensor_value(const onnx::TensorProto& t, const std::string& path, const std::string& dir) {
  auto fail = [&](const std::string& what) -> void { throw std::runtime_error(fmt::format("{}: tensor '{}' {}", printable(path), printable(t.name()), what)); };
  const size_t esize = element_size(t.data_type());
  if (esize == 0) fail(fmt::format("has data type {}; integrad reads float, double, int64, int32 and bool", t.data_type()));
  if (t.dims_size() > 6) fail(fmt::format("has {} dimensions; at most 6 are supported", t.dims_size()));
  Value v;
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0) fail(fmt::format("has a negative dimension {}", d));
    if (d > 0 && n > kMaxElements / d) fail("claims more than 2^28 elements");
    n *= d;
    v.shape.push_back({0, d});
  }
  const size_t want = static_cast<size_t>(n) * esize;
  std::string external;
  const std::string* raw = nullptr;
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    external = external_bytes(t, path, dir, want);
    raw = &external;
  } else if (t.has_raw_data()) {
    raw = &t.raw_data();
  }
  const bool is_int = t.data_type() == onnx::TensorProto::INT64 || t.data_type() == onnx::TensorProto::INT32 || t.data_type() == onnx::TensorProto::BOOL;
  v.integer = is_int;
  if (raw) {
    if (raw->size() != want) fail(fmt::format("has shape of {} elements but {} bytes of data (expected {})", n, raw->size(), want));
    for (int64_t i = 0; i < n; ++i) {
      const char* p = raw->data() + i * esize;
      switch (t.data_type()) {
        case onnx::TensorProto::FLOAT: { float f; std::memcpy(&f, p, 4); v.real.push_back(f); break; }
        case onnx::TensorProto::DOUBLE: { double d; std::memcpy(&d, p, 8); v.real.push_back(d); break; }
        case onnx::TensorProto::INT64: { int64_t x; std::memcpy(&x, p, 8); v.ints.push_back({0, x}); break; }
        case onnx::TensorProto::INT32: { int32_t x; std::memcpy(&x, p, 4); v.ints.push_back({0, x}); break; }
        default: v.ints.push_back({0, *p != 0}); break;
      }
    }
    return v;
  }
  auto take = [&](const auto& field) {
    if (static_cast<int64_t>(field.size()) != n) fail(fmt::format("has shape of {} elements but holds {} values", n, field.size()));
    for (auto x : field) {
      if (is_int) v.ints.push_back({0, static_cast<int64_t>(x)});
      else v.real.push_back(static_cast<double>(x));
    }
  };
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT: take(t.float_data()); break;
    case onnx::TensorProto::DOUBLE: take(t.double_data()); break;
    case onnx::TensorProto::INT64: take(t.int64_data()); break;
    default: take(t.int32_data()); break;
  }
  return v;
}

}  // namespace integrad::nn::onnx_in
