#include "nn/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <set>
#include <stdexcept>
#include <vector>

#include "nn/atomic_file.h"
#include "nn/printable.h"

namespace integrad::nn {

namespace {

constexpr uint64_t kMaxHeaderBytes = 100u << 20;

[[noreturn]] void fail(const std::string& name, const std::string& what) {
  throw std::runtime_error(printable(name) + ": not a valid safetensors file: " + what);
}

// A header is an object of objects holding arrays of numbers ({"w": {"shape": [2, 3]}}): three
// levels. Deeper nesting is refused as soon as it opens, so a header of ten million '{' costs
// nothing; the DOM parser would first build all of it.
constexpr int kMaxHeaderDepth = 3;

// Parses the header, refusing what nlohmann accepts silently: a key given twice in one object
// (the last would win, so a tensor or __metadata__ could be swapped behind a reader's back),
// nesting past kMaxHeaderDepth, and NUL bytes (nlohmann stops at the first, ignoring what follows).
// The checks ride on nlohmann's plain DOM builder through its SAX interface, in linear time: its
// callback parser, used before, rescans the parent object after every entry (to drop discarded
// values), so 40 000 tensors took 14 s and 300 000 over a minute.
class CheckedHeader : public nlohmann::detail::json_sax_dom_parser<nlohmann::json> {
  using Dom = nlohmann::detail::json_sax_dom_parser<nlohmann::json>;

 public:
  CheckedHeader(nlohmann::json& root, const std::string& name) : Dom(root, true), name_(name) {}
  bool start_object(std::size_t n) {
    open();
    keys_.emplace_back();
    return Dom::start_object(n);
  }
  bool end_object() {
    keys_.pop_back();
    --depth_;
    return Dom::end_object();
  }
  bool start_array(std::size_t n) {
    open();
    return Dom::start_array(n);
  }
  bool end_array() {
    --depth_;
    return Dom::end_array();
  }
  bool key(std::string& k) {
    if (!keys_.back().insert(k).second) fail(name_, "the header names '" + printable(k) + "' twice" + (depth_ > 1 ? " in one entry" : ""));
    return Dom::key(k);
  }

 private:
  void open() {
    if (depth_ >= kMaxHeaderDepth) fail(name_, "the header nests deeper than " + std::to_string(kMaxHeaderDepth) + " levels");
    ++depth_;
  }
  const std::string& name_;
  int depth_ = 0;
  std::vector<std::set<std::string>> keys_;  // one set per open object
};

nlohmann::json parse_header(std::string_view text, const std::string& name) {
  if (const size_t nul = text.find('\0'); nul != std::string_view::npos)
    fail(name, "the header holds a NUL byte at offset " + std::to_string(8 + nul) + " (only spaces may pad the JSON)");
  if (text.empty() || text.front() != '{') fail(name, "the header does not start with '{'");
  nlohmann::json header;
  CheckedHeader sax(header, name);
  try {
    nlohmann::json::sax_parse(text, &sax);
  } catch (const nlohmann::json::exception& e) {
    fail(name, std::string("header is not valid JSON: ") + printable(e.what()));
  }
  return header;
}

size_t dtype_size(const std::string& dtype) {
  static const std::map<std::string, size_t> sizes = {{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4},
                                                      {"I16", 2}, {"I8", 1},  {"U8", 1},  {"BOOL", 1}, {"U16", 2}, {"U32", 4}, {"U64", 8}};
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      int e = -1;
      uint32_t m = mant;
      do {
        ++e;
        m <<= 1;
      } while (!(m & 0x400));
      bits = sign | uint32_t(127 - 15 - e) << 23 | (m & 0x3ff) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | mant << 13;
  } else {
    bits = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace

SafetensorsFile safetensors_parse(std::string_view bytes, const std::string& name) {
  if (bytes.size() < 8) fail(name, "shorter than the 8-byte header length");
  uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= uint64_t(static_cast<unsigned char>(bytes[static_cast<size_t>(i)])) << (8 * i);
  if (header_len > kMaxHeaderBytes) fail(name, "header length " + std::to_string(header_len) + " above the 100 MB limit");
  if (header_len > bytes.size() - 8) fail(name, "header length " + std::to_string(header_len) + " runs past the end of the file (" + std::to_string(bytes.size()) + " bytes)");
  const std::string_view data = bytes.substr(8 + header_len);

  const nlohmann::json header = parse_header(bytes.substr(8, header_len), name);
  if (!header.is_object()) fail(name, "header is not a JSON object");

  SafetensorsFile file;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) fail(name, "__metadata__ is not an object");
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) fail(name, "__metadata__ value '" + printable(k) + "' is not a string");
        file.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor '" + printable(key) + "': ";
    if (!value.is_object() || !value.contains("dtype") || !value.contains("shape") || !value.contains("data_offsets"))
      fail(name, where + "needs dtype, shape and data_offsets");
    if (!value["dtype"].is_string()) fail(name, where + "dtype is not a string");
    RawTensor t;
    t.dtype = value["dtype"].get<std::string>();
    const size_t size = dtype_size(t.dtype);
    if (size == 0) fail(name, where + "unknown dtype '" + printable(t.dtype) + "'");
    const auto& shape = value["shape"];
    if (!shape.is_array() || shape.size() > static_cast<size_t>(ad::Shape::kMaxRank)) fail(name, where + "shape is not an array of at most 6 dimensions");
    std::vector<int64_t> dims;
    uint64_t count = 1;
    for (const auto& d : shape) {
      if (!d.is_number_unsigned()) fail(name, where + "shape holds a value that is not a non-negative integer");
      const uint64_t v = d.get<uint64_t>();
      if (v > (uint64_t(1) << 40) || (v && count > (uint64_t(1) << 40) / v)) fail(name, where + "shape too large");
      count *= v;
      dims.push_back(static_cast<int64_t>(v));
    }
    t.shape = ad::Shape(dims);
    const auto& offsets = value["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
      fail(name, where + "data_offsets must be [begin, end]");
    const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    if (begin > end || end > data.size())
      fail(name, where + "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "] outside the data buffer of " + std::to_string(data.size()) + " bytes");
    if (end - begin != count * size)
      fail(name, where + "shape " + t.shape.str() + " of " + t.dtype + " needs " + std::to_string(count * size) + " bytes, data_offsets give " + std::to_string(end - begin));
    t.bytes = std::string(data.substr(begin, end - begin));
    ranges.emplace_back(begin, end);
    file.tensors.emplace(key, std::move(t));
  }
  // As the reference implementation validates: the tensors' byte ranges tile the data buffer
  // exactly — no overlap, no gap, nothing before the first or after the last.
  std::sort(ranges.begin(), ranges.end());
  uint64_t at = 0;
  for (const auto& [begin, end] : ranges) {
    if (begin < at) fail(name, "two tensors' data_offsets overlap");
    if (begin > at) fail(name, "data bytes [" + std::to_string(at) + ", " + std::to_string(begin) + ") belong to no tensor");
    at = end;
  }
  if (at != data.size())
    fail(name, "data bytes [" + std::to_string(at) + ", " + std::to_string(data.size()) + ") after the last tensor belong to no tensor");
  return file;
}

SafetensorsFile safetensors_read(const std::string& path) { return safetensors_parse(read_file(path), path); }

template <ad::Scalar T>
ad::Tensor<T> safetensors_tensor(const SafetensorsFile& file, const std::string& name, const std::string& path) {
  auto it = file.tensors.find(name);
  if (it == file.tensors.end()) throw std::runtime_error(printable(path) + ": no tensor named '" + printable(name) + "'");
  const RawTensor& raw = it->second;
  ad::Tensor<T> t(raw.shape);
  const char* p = raw.bytes.data();
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (raw.dtype == "F32") {
      float v;
      std::memcpy(&v, p + 4 * i, 4);
      t[i] = static_cast<T>(v);
    } else if (raw.dtype == "F64") {
      double v;
      std::memcpy(&v, p + 8 * i, 8);
      t[i] = static_cast<T>(v);
    } else if (raw.dtype == "F16" || raw.dtype == "BF16") {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      float v;
      if (raw.dtype == "F16") {
        v = half_to_float(h);
      } else {
        const uint32_t bits = uint32_t(h) << 16;
        std::memcpy(&v, &bits, 4);
      }
      t[i] = static_cast<T>(v);
    } else {
      throw std::runtime_error(printable(path) + ": tensor '" + printable(name) + "' has dtype " + raw.dtype + ", expected a floating-point dtype (F32, F64, F16, BF16)");
    }
  }
  return t;
}

template <ad::Scalar T>
void safetensors_write(const std::string& path, const std::vector<std::pair<std::string, const ad::Tensor<T>*>>& tensors,
                       const std::map<std::string, std::string>& metadata, const std::string& dtype) {
  if (dtype != "F32" && dtype != "F64") throw std::invalid_argument("safetensors_write: dtype must be F32 or F64, not " + dtype);
  const size_t size = dtype == "F32" ? 4 : 8;
  nlohmann::ordered_json header;
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string data;
  for (const auto& [name, t] : tensors) {
    const size_t begin = data.size();
    for (int64_t i = 0; i < t->numel(); ++i) {
      char buf[8];
      if (size == 4) {
        const float v = static_cast<float>((*t)[i]);
        std::memcpy(buf, &v, 4);
      } else {
        const double v = static_cast<double>((*t)[i]);
        std::memcpy(buf, &v, 8);
      }
      data.append(buf, size);
    }
    header[name] = {{"dtype", dtype}, {"shape", t->shape().vec()}, {"data_offsets", {begin, data.size()}}};
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the reference implementation aligns the data to 8 bytes
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((uint64_t(text.size()) >> (8 * i)) & 0xff);
  write_file_atomically(path, out + text + data);
}

template ad::Tensor<float> safetensors_tensor<float>(const SafetensorsFile&, const std::string&, const std::string&);
template ad::Tensor<double> safetensors_tensor<double>(const SafetensorsFile&, const std::string&, const std::string&);
template void safetensors_write<float>(const std::string&, const std::vector<std::pair<std::string, const ad::Tensor<float>*>>&,
                                       const std::map<std::string, std::string>&, const std::string&);
template void safetensors_write<double>(const std::string&, const std::vector<std::pair<std::string, const ad::Tensor<double>*>>&,
                                        const std::map<std::string, std::string>&, const std::string&);

}  // namespace integrad::nn
