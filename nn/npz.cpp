// .npz: the zip central directory lists the members; each member's local header says where its
// bytes start. NumPy writes members with zip64 local headers (force_zip64), so the sizes are taken
// from the central directory, and from its zip64 extra field where they overflow 32 bits.
#include "nn/npz.h"

#include <fmt/format.h>
#include <zlib.h>

#include "nn/atomic_file.h"

#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "nn/printable.h"

namespace integrad::nn {
namespace {

struct Reader {
  const std::string& bytes;
  const std::string& path;

  uint64_t le(size_t at, int n) const {
    if (at + size_t(n) > bytes.size()) throw std::invalid_argument(fmt::format("{}: the zip archive is truncated", printable(path)));
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(bytes[at + size_t(i)]);
    return v;
  }
};

std::string inflate_raw(std::string_view in, uint64_t size, const std::string& what) {
  // Deflate expands at most 1032 to 1: a larger claimed size is a lie, refused before allocating.
  if (size > 1032 * uint64_t(in.size()) + 1024) throw std::invalid_argument(fmt::format("{}: {} bytes cannot inflate to the {} claimed", what, in.size(), size));
  std::string out(static_cast<size_t>(size), '\0');
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) throw std::runtime_error(what + ": zlib initialisation failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  const uint64_t produced = z.total_out;
  inflateEnd(&z);
  if (rc != Z_STREAM_END || produced != size) throw std::invalid_argument(what + ": the compressed data is corrupt or its size is wrong");
  return out;
}

}  // namespace

std::vector<std::pair<std::string, NpyArray>> npz_read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::invalid_argument(fmt::format("cannot open {}", printable(path)));
  std::ostringstream ss;
  ss << f.rdbuf();
  return npz_parse(ss.str(), path);
}

std::vector<std::pair<std::string, NpyArray>> npz_parse(const std::string& bytes, const std::string& path) {
  const Reader r{bytes, path};
  // The end-of-central-directory record: the last signature within its 22 bytes plus a comment.
  size_t end = std::string::npos;
  for (size_t back = 22; back <= std::min<size_t>(bytes.size(), 22 + 65535); ++back)
    if (r.le(bytes.size() - back, 4) == 0x06054b50) {
      end = bytes.size() - back;
      break;
    }
  if (end == std::string::npos) throw std::invalid_argument(fmt::format("{} is not a zip archive (.npz): no end of central directory", printable(path)));
  uint64_t count = r.le(end + 10, 2), at = r.le(end + 16, 4);
  if (r.le(end + 4, 2) != 0 || r.le(end + 6, 2) != 0) throw std::invalid_argument(fmt::format("{}: a zip archive on several disks", printable(path)));
  if (at == 0xFFFFFFFF && end >= 20 && r.le(end - 20, 4) == 0x07064b50) {  // zip64: the record's locator precedes it
    const uint64_t rec = r.le(end - 12, 8);
    count = r.le(rec + 32, 8);
    at = r.le(rec + 48, 8);
  }
  std::vector<std::pair<std::string, NpyArray>> arrays;
  for (uint64_t i = 0; i < count; ++i) {
    if (r.le(at, 4) != 0x02014b50) throw std::invalid_argument(fmt::format("{}: a broken zip central directory", printable(path)));
    const uint64_t flags = r.le(at + 8, 2), method = r.le(at + 10, 2), name_len = r.le(at + 28, 2), extra_len = r.le(at + 30, 2),
                   comment_len = r.le(at + 32, 2);
    uint64_t packed = r.le(at + 20, 4), size = r.le(at + 24, 4), local = r.le(at + 42, 4);
    if (at + 46 + name_len + extra_len > bytes.size()) throw std::invalid_argument(fmt::format("{}: the zip archive is truncated", printable(path)));
    const std::string name = bytes.substr(at + 46, name_len);
    // Sizes and offset that overflow 32 bits are in the zip64 extra field (id 1), in this order.
    for (uint64_t e = at + 46 + name_len; e + 4 <= at + 46 + name_len + extra_len;) {
      const uint64_t id = r.le(e, 2), len = r.le(e + 2, 2);
      if (id == 1) {
        uint64_t p = e + 4;
        if (size == 0xFFFFFFFF) {
          size = r.le(p, 8);
          p += 8;
        }
        if (packed == 0xFFFFFFFF) {
          packed = r.le(p, 8);
          p += 8;
        }
        if (local == 0xFFFFFFFF) local = r.le(p, 8);
      }
      e += 4 + len;
    }
    const std::string what = fmt::format("{}: member {}", printable(path), printable(name));
    if (flags & 1) throw std::invalid_argument(what + " is encrypted");
    if (method != 0 && method != 8) throw std::invalid_argument(fmt::format("{} uses zip compression method {} (NumPy writes 0, stored, or 8, deflate)", what, method));
    if (r.le(local, 4) != 0x04034b50) throw std::invalid_argument(what + ": no local header where the directory says");
    const uint64_t data = local + 30 + r.le(local + 26, 2) + r.le(local + 28, 2);
    if (data + packed > bytes.size()) throw std::invalid_argument(what + " is truncated");
    const std::string_view raw(bytes.data() + data, static_cast<size_t>(packed));
    const std::string content = method == 0 ? std::string(raw) : inflate_raw(raw, size, what);
    std::string key = name.size() > 4 && name.ends_with(".npy") ? name.substr(0, name.size() - 4) : name;
    arrays.emplace_back(std::move(key), npy_parse(content, fmt::format("{} ({})", printable(path), printable(name))));
    at += 46 + name_len + extra_len + comment_len;
  }
  if (arrays.empty()) throw std::invalid_argument(fmt::format("{} holds no arrays", printable(path)));
  return arrays;
}

namespace {
void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
}  // namespace

template <ad::Scalar T>
void npz_write(const std::string& path, const std::vector<std::pair<std::string, ad::Tensor<T>>>& arrays) {
  if (!is_npz_path(path)) throw std::invalid_argument(fmt::format("{}: an archive of several arrays is written as .npz", printable(path)));
  std::string out, directory;
  for (const auto& [name, tensor] : arrays) {
    const std::string member = name + ".npy", data = npy_bytes(tensor);
    if (out.size() + data.size() + 1024 > 0xFFFFFFFFull) throw std::invalid_argument(fmt::format("{}: more than 4 GB of arrays", printable(path)));
    const uint64_t crc = crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size()));
    const uint64_t local = out.size();
    // Local header: version 20, no flags, stored, no time, crc, sizes, name.
    put_le(out, 0x04034b50, 4), put_le(out, 20, 2), put_le(out, 0, 2), put_le(out, 0, 2), put_le(out, 0, 2), put_le(out, 0x21, 2);
    put_le(out, crc, 4), put_le(out, data.size(), 4), put_le(out, data.size(), 4), put_le(out, member.size(), 2), put_le(out, 0, 2);
    out += member + data;
    put_le(directory, 0x02014b50, 4), put_le(directory, 20, 2), put_le(directory, 20, 2), put_le(directory, 0, 2), put_le(directory, 0, 2);
    put_le(directory, 0, 2), put_le(directory, 0x21, 2), put_le(directory, crc, 4), put_le(directory, data.size(), 4), put_le(directory, data.size(), 4);
    put_le(directory, member.size(), 2), put_le(directory, 0, 2), put_le(directory, 0, 2), put_le(directory, 0, 2), put_le(directory, 0, 2);
    put_le(directory, 0, 4), put_le(directory, local, 4);
    directory += member;
  }
  const uint64_t at = out.size();
  out += directory;
  put_le(out, 0x06054b50, 4), put_le(out, 0, 2), put_le(out, 0, 2), put_le(out, arrays.size(), 2), put_le(out, arrays.size(), 2);
  put_le(out, directory.size(), 4), put_le(out, at, 4), put_le(out, 0, 2);
  write_file_atomically(path, out);
}

template void npz_write<float>(const std::string&, const std::vector<std::pair<std::string, ad::Tensor<float>>>&);
template void npz_write<double>(const std::string&, const std::vector<std::pair<std::string, ad::Tensor<double>>>&);

}  // namespace integrad::nn
