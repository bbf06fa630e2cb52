#include "nn/npy.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nn/atomic_file.h"
#include "nn/printable.h"

namespace integrad::nn {

namespace {

constexpr int64_t kMaxElements = int64_t(1) << 34;  // refuse absurd shapes before allocating

[[noreturn]] void fail(const std::string& name, const std::string& what) { throw std::runtime_error(printable(name) + ": not a valid .npy file: " + what); }

// The header is a Python dict literal, {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), },
// parsed as Python would (NumPy uses ast.literal_eval): quotes ' or ", whitespace anywhere between
// tokens, an optional trailing comma; a 1-tuple needs its comma, as (5) is the number 5. Anything
// else — (8 1 28 28), (8,,1), '<f4junk', unknown or repeated keys — is refused.
struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& name) : s_(text), name_(name) {}

  NpyHeader parse() {
    NpyHeader h;
    bool has_descr = false, has_fortran = false, has_shape = false;
    expect('{');
    while (!peek('}')) {
      const std::string key = string_literal("a key");
      expect(':');
      auto once = [&](bool& seen) {
        if (seen) fail(name_, "header gives '" + key + "' twice");
        seen = true;
      };
      if (key == "descr") {
        once(has_descr);
        if (!peek('\'') && !peek('"')) fail(name_, "'descr' is not a simple dtype string (structured dtypes are not supported): " + printable(rest()));
        h.descr = string_literal("the dtype");
      } else if (key == "fortran_order") {
        once(has_fortran);
        h.fortran_order = boolean();
      } else if (key == "shape") {
        once(has_shape);
        h.shape = tuple();
      } else {
        fail(name_, "header has the unknown key '" + printable(key) + "' (expected descr, fortran_order and shape)");
      }
      if (!peek('}')) expect(',');
    }
    expect('}');
    skip_space();
    if (at_ != s_.size()) fail(name_, "header has text after the dict at offset " + std::to_string(at_) + ": " + printable(rest()));
    for (auto [seen, key] : {std::pair{has_descr, "descr"}, std::pair{has_fortran, "fortran_order"}, std::pair{has_shape, "shape"}})
      if (!seen) fail(name_, std::string("header has no '") + key + "'");
    return h;
  }

 private:
  void skip_space() {
    while (at_ < s_.size() && (s_[at_] == ' ' || s_[at_] == '\t' || s_[at_] == '\n' || s_[at_] == '\r')) ++at_;
  }
  bool peek(char c) {
    skip_space();
    return at_ < s_.size() && s_[at_] == c;
  }
  std::string rest() const { return std::string(s_.substr(at_, 40)); }
  void expect(char c) {
    if (!peek(c)) fail(name_, std::string("header: expected '") + c + "' at offset " + std::to_string(at_) + ", found '" + printable(rest()) + "'");
    ++at_;
  }
  std::string string_literal(const char* what) {
    skip_space();
    if (at_ >= s_.size() || (s_[at_] != '\'' && s_[at_] != '"')) fail(name_, std::string("header: expected ") + what + " in quotes at offset " + std::to_string(at_));
    const char quote = s_[at_++];
    const size_t end = s_.find(quote, at_);
    if (end == std::string_view::npos) fail(name_, "header: unterminated string at offset " + std::to_string(at_ - 1));
    const std::string value(s_.substr(at_, end - at_));
    if (value.find_first_of("\\\n") != std::string::npos) fail(name_, "header: escapes and line breaks in strings are not supported: " + printable(value));
    at_ = end + 1;
    return value;
  }
  bool boolean() {
    skip_space();
    for (auto [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      const std::string_view w(word);
      if (s_.substr(at_, w.size()) == w && !is_word(at_ + w.size())) {
        at_ += w.size();
        return value;
      }
    }
    fail(name_, "'fortran_order' is " + printable(rest()) + ", expected True or False");
  }
  bool is_word(size_t i) const { return i < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i])) || s_[i] == '_'); }
  std::vector<int64_t> tuple() {
    const size_t open = (skip_space(), at_);
    expect('(');
    std::vector<int64_t> dims;
    bool comma = false;
    while (!peek(')')) {
      if (!dims.empty() && !comma) fail(name_, "'shape' " + printable(std::string(s_.substr(open, 60))) + ": expected ',' between dimensions");
      size_t j = at_;
      while (j < s_.size() && std::isdigit(static_cast<unsigned char>(s_[j]))) ++j;
      if (j == at_ || j - at_ > 12 || (s_[at_] == '0' && j - at_ > 1))
        fail(name_, "bad dimension in shape " + printable(std::string(s_.substr(open, 60))));
      dims.push_back(std::stoll(std::string(s_.substr(at_, j - at_))));
      at_ = j;
      if (at_ < s_.size() && s_[at_] == 'L') ++at_;  // Python 2's long literals, as NumPy still reads them
      if (is_word(at_)) fail(name_, "bad dimension in shape " + printable(std::string(s_.substr(open, 60))));
      comma = peek(',');
      if (comma) ++at_;
    }
    expect(')');
    if (dims.size() == 1 && !comma) fail(name_, "'shape' (" + std::to_string(dims[0]) + ") is a number, not a tuple: write (" + std::to_string(dims[0]) + ",)");
    return dims;
  }

  std::string_view s_;
  const std::string& name_;
  size_t at_ = 0;
};

size_t dtype_size(const std::string& dtype) {
  if (dtype.size() < 3) return 0;
  const char kind = dtype[1];
  if (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b') return 0;
  try {
    size_t used = 0;
    const size_t n = std::stoul(dtype.substr(2), &used);
    if (used != dtype.size() - 2 || !std::isdigit(static_cast<unsigned char>(dtype[2]))) return 0;
    if (kind == 'f' && n != 4 && n != 8) return 0;
    if (n != 1 && n != 2 && n != 4 && n != 8) return 0;
    return n;
  } catch (...) {
    return 0;
  }
}

// Element i of raw data as a double, whatever the dtype and byte order.
double element(const char* data, const std::string& dtype, size_t size, int64_t i) {
  unsigned char raw[8] = {};
  size = std::min<size_t>(size, sizeof raw);
  const char* src = data + static_cast<size_t>(i) * size;
  const bool swap = (dtype[0] == '>') != (std::endian::native == std::endian::big);
  for (size_t k = 0; k < size; ++k) raw[k] = static_cast<unsigned char>(src[swap ? size - 1 - k : k]);
  auto as = [&]<class U>(U) {
    U v;
    std::memcpy(&v, raw, sizeof(U));
    return static_cast<double>(v);
  };
  switch (dtype[1]) {
    case 'f': return size == 4 ? as(float{}) : as(double{});
    case 'b': return raw[0] ? 1.0 : 0.0;
    case 'i':
      switch (size) {
        case 1: return as(int8_t{});
        case 2: return as(int16_t{});
        case 4: return as(int32_t{});
        default: return as(int64_t{});
      }
    default:
      switch (size) {
        case 1: return as(uint8_t{});
        case 2: return as(uint16_t{});
        case 4: return as(uint32_t{});
        default: return as(uint64_t{});
      }
  }
}
double element(const NpyArray& a, size_t size, int64_t i) { return element(a.data.data(), a.dtype, size, i); }

// Elements [from, from + count) of raw data into out, converted to T.
template <ad::Scalar T>
void convert(const char* data, const std::string& dtype, int64_t from, int64_t count, T* out) {
  if (count == 0) return;  // an empty tensor's storage may be null, which memcpy must not get
  const size_t size = dtype_size(dtype);
  const bool native = (dtype[0] == '<') == (std::endian::native == std::endian::little) && dtype[1] == 'f' && size == sizeof(T);
  if (native) {
    std::memcpy(out, data + static_cast<size_t>(from) * size, static_cast<size_t>(count) * size);
    return;
  }
  for (int64_t i = 0; i < count; ++i) out[i] = static_cast<T>(element(data, dtype, size, from + i));
}

// Fortran order stores the first index fastest; permute to row-major.
std::string fortran_to_c(const std::string& data, const ad::Shape& shape, size_t size) {
  std::string out(data.size(), '\0');
  const int r = shape.rank();
  std::vector<int64_t> idx(static_cast<size_t>(r), 0);
  for (int64_t c = 0; c < shape.numel(); ++c) {
    int64_t f = 0, stride = 1;
    for (int d = 0; d < r; ++d) {
      f += idx[static_cast<size_t>(d)] * stride;
      stride *= shape[d];
    }
    std::memcpy(out.data() + static_cast<size_t>(c) * size, data.data() + static_cast<size_t>(f) * size, size);
    for (int d = r - 1; d >= 0; --d) {
      if (++idx[static_cast<size_t>(d)] < shape[d]) break;
      idx[static_cast<size_t>(d)] = 0;
    }
  }
  return out;
}

std::string header_for(const std::string& descr, const ad::Shape& shape) {
  std::string dims;
  for (int i = 0; i < shape.rank(); ++i) dims += std::to_string(shape[i]) + (shape.rank() == 1 ? "," : (i + 1 < shape.rank() ? ", " : ""));
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Pad with spaces so the data starts at a multiple of 64 bytes, ending in '\n', as NumPy does.
  const size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>((dict.size() >> 8) & 0xff);
  return out + dict;
}

}  // namespace

// The header of a whole file's bytes, checked (the data's size included); the data is not copied.
NpyLayout npy_layout(std::string_view bytes, const std::string& name) {
  if (bytes.size() < 10 || bytes.substr(0, 6) != "\x93NUMPY") fail(name, "missing the \\x93NUMPY magic at offset 0");
  const int major = static_cast<unsigned char>(bytes[6]);
  if (major < 1 || major > 3) fail(name, "unsupported format version " + std::to_string(major) + " at offset 6 (expected 1, 2 or 3)");
  const size_t len_bytes = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + len_bytes) fail(name, "truncated header length");
  size_t header_len = 0;
  for (size_t i = 0; i < len_bytes; ++i) header_len |= size_t(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
  const size_t data_start = 8 + len_bytes + header_len;
  if (data_start > bytes.size()) fail(name, "header length " + std::to_string(header_len) + " runs past the end of the file");
  const std::string header(bytes.substr(8 + len_bytes, header_len));

  const NpyHeader h = HeaderParser(header, name).parse();
  NpyLayout a;
  a.fortran_order = h.fortran_order;
  a.dtype = h.descr;
  if (a.dtype.size() >= 2 && a.dtype[0] != '<' && a.dtype[0] != '>' && a.dtype[0] != '|' && a.dtype[0] != '=') a.dtype = "|" + a.dtype;
  if (!a.dtype.empty() && a.dtype[0] == '=') a.dtype[0] = std::endian::native == std::endian::little ? '<' : '>';
  const size_t size = dtype_size(a.dtype);
  if (size == 0) fail(name, "unsupported dtype '" + printable(a.dtype) + "' (expected a float, integer or bool dtype such as <f4, <f8, <i8, <i4, |u1)");

  const std::vector<int64_t>& dims = h.shape;
  int64_t count = 1;
  for (int64_t d : dims) {
    if (d > 0 && count > kMaxElements / d) {
      std::string text;
      for (int64_t e : dims) text += (text.empty() ? "" : ", ") + std::to_string(e);
      fail(name, "shape (" + text + ") is too large");
    }
    count *= d;
  }
  if (dims.size() > static_cast<size_t>(ad::Shape::kMaxRank)) fail(name, "rank " + std::to_string(dims.size()) + " above the supported " + std::to_string(ad::Shape::kMaxRank));
  a.shape = ad::Shape(dims);
  const size_t expected = static_cast<size_t>(count) * size;
  if (bytes.size() - data_start != expected)
    fail(name, "shape " + a.shape.str() + " of " + a.dtype + " needs " + std::to_string(expected) + " data bytes, the file has " + std::to_string(bytes.size() - data_start));
  a.data_start = data_start;
  return a;
}

NpyArray npy_parse(std::string_view bytes, const std::string& name) {
  const NpyLayout l = npy_layout(bytes, name);
  NpyArray a{l.dtype, l.shape, std::string(bytes.substr(l.data_start))};
  if (l.fortran_order && a.shape.rank() > 1) a.data = fortran_to_c(a.data, a.shape, dtype_size(a.dtype));
  return a;
}

namespace {

// A read-only memory map of a whole file; empty files and failures to map fall back to reading.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    record_input(path);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (fd >= 0 && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) {
        map_ = p;
        size_ = static_cast<size_t>(st.st_size);
        ::madvise(map_, size_, MADV_SEQUENTIAL);
      }
    }
    if (fd >= 0) ::close(fd);
    if (!map_) copy_ = read_file(path);  // its errors name the file, as before
  }
  ~MappedFile() {
    if (map_) ::munmap(map_, size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view bytes() const { return map_ ? std::string_view(static_cast<const char*>(map_), size_) : std::string_view(copy_); }

 private:
  void* map_ = nullptr;
  size_t size_ = 0;
  std::string copy_;
};

}  // namespace

template <ad::Scalar T>
ad::Tensor<T> npy_read_rows(const std::string& path, int64_t begin, int64_t end, ad::Shape* whole_shape) {
  const MappedFile file(path);
  const std::string_view bytes = file.bytes();
  const NpyLayout l = npy_layout(bytes, path);
  if (whole_shape) *whole_shape = l.shape;
  if (l.shape.rank() == 0 || (l.fortran_order && l.shape.rank() > 1)) {
    const ad::Tensor<T> all = npy_to_tensor<T>(npy_parse(bytes, path), path);
    return l.shape.rank() == 0 ? all : all.rows(begin, end);
  }
  end = std::min(end, l.shape[0]);
  if (begin < 0 || begin > end)
    throw std::invalid_argument(path + ": rows [" + std::to_string(begin) + ", " + std::to_string(end) + ") of " + l.shape.str());
  const int64_t row = l.shape.stride(0);
  ad::Tensor<T> t(l.shape.with(0, end - begin));
  convert<T>(bytes.data() + l.data_start, l.dtype, begin * row, (end - begin) * row, t.data());
  return t;
}

NpyArray npy_read(const std::string& path) { return npy_parse(read_file(path), path); }

template <ad::Scalar T>
ad::Tensor<T> npy_to_tensor(const NpyArray& a, const std::string&) {
  const size_t size = dtype_size(a.dtype);
  ad::Tensor<T> t(a.shape);
  if (size) convert<T>(a.data.data(), a.dtype, 0, t.numel(), t.data());
  return t;
}

template <ad::Scalar T>
ad::Tensor<T> npy_read_tensor(const std::string& path) {
  return npy_read_rows<T>(path, 0, std::numeric_limits<int64_t>::max());
}

std::vector<int64_t> npy_read_labels(const std::string& path, ad::Shape* shape_out) {
  const NpyArray a = npy_read(path);
  const size_t size = dtype_size(a.dtype);
  std::vector<int64_t> labels(static_cast<size_t>(a.shape.numel()));
  for (size_t i = 0; i < labels.size(); ++i) {
    const double v = element(a, size, static_cast<int64_t>(i));
    if (v != std::floor(v)) throw std::runtime_error(printable(path) + ": element " + std::to_string(i) + " is " + std::to_string(v) + ", expected an integer label");
    if (std::abs(v) > 9.0e15)  // an integer, but not one a class index or group id can be
      throw std::runtime_error(fmt::format("{}: element {} is {:.17g}, beyond the largest label this reads (9e15, exact in float64)", printable(path), i, v));
    labels[i] = static_cast<int64_t>(v);
  }
  if (shape_out) *shape_out = a.shape;
  return labels;
}

namespace {
// An .npy written under another format's name (--labels-out y.csv) would be read as that format
// by whoever opens it; refused, naming the option's file.
void require_npy_name(const std::string& path) {
  for (const char* other : {".csv", ".json", ".png", ".safetensors", ".html", ".svg", ".md", ".txt", ".npz"})
    if (path.ends_with(other))
      throw std::invalid_argument(fmt::format("{}: this output is a NumPy .npy array; a name ending in {} would hold .npy bytes — name it .npy", printable(path), other));
}
}  // namespace

template <ad::Scalar T>
std::string npy_bytes(const ad::Tensor<T>& t) {
  std::string out = header_for(sizeof(T) == 4 ? "<f4" : "<f8", t.shape());
  out.append(reinterpret_cast<const char*>(t.data()), sizeof(T) * static_cast<size_t>(t.numel()));
  return out;
}

template <ad::Scalar T>
void npy_write(const std::string& path, const ad::Tensor<T>& t) {
  require_npy_name(path);
  write_file_atomically(path, npy_bytes(t));
}

void npy_write_array(const std::string& path, const NpyArray& a) {
  require_npy_name(path);
  if (dtype_size(a.dtype) * static_cast<size_t>(a.shape.numel()) != a.data.size()) throw std::invalid_argument("npy_write_array: shape does not match the data");
  write_file_atomically(path, header_for(a.dtype, a.shape) + a.data);
}

void npy_write_labels(const std::string& path, std::span<const int64_t> labels, ad::Shape shape) {
  require_npy_name(path);
  if (shape.numel() != static_cast<int64_t>(labels.size())) throw std::invalid_argument("npy_write_labels: shape does not match the label count");
  std::string out = header_for("<i8", shape);
  out.append(reinterpret_cast<const char*>(labels.data()), sizeof(int64_t) * labels.size());
  write_file_atomically(path, out);
}

template ad::Tensor<float> npy_to_tensor<float>(const NpyArray&, const std::string&);
template ad::Tensor<double> npy_to_tensor<double>(const NpyArray&, const std::string&);
template ad::Tensor<float> npy_read_tensor<float>(const std::string&);
template ad::Tensor<float> npy_read_rows<float>(const std::string&, int64_t, int64_t, ad::Shape*);
template ad::Tensor<double> npy_read_rows<double>(const std::string&, int64_t, int64_t, ad::Shape*);
template ad::Tensor<double> npy_read_tensor<double>(const std::string&);
template void npy_write<float>(const std::string&, const ad::Tensor<float>&);
template std::string npy_bytes<float>(const ad::Tensor<float>&);
template std::string npy_bytes<double>(const ad::Tensor<double>&);
template void npy_write<double>(const std::string&, const ad::Tensor<double>&);

}  // namespace integrad::nn
