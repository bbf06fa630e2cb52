#include "nn/fashion_mnist.h"

#include <zlib.h>

#include <filesystem>
#include <stdexcept>

#include "nn/atomic_file.h"
#include "nn/big_endian.h"

namespace integrad::nn {

namespace {

constexpr size_t kMaxInflated = size_t(1) << 30;

[[noreturn]] void fail(const std::string& name, const std::string& what) { throw std::runtime_error(name + ": not a valid IDX file: " + what); }

// Inflate a gzip stream, never past `limit` bytes (a small file cannot claim gigabytes).
std::string gunzip(std::string_view in, const std::string& name, size_t limit) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) throw std::runtime_error(name + ": zlib initialisation failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[1 << 16];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      fail(name, std::string("corrupt gzip data (") + (z.msg ? z.msg : "truncated") + ")");
    }
    out.append(buf, sizeof buf - z.avail_out);
    if (out.size() > limit) {
      inflateEnd(&z);
      fail(name, "decompresses to more than " + std::to_string(limit) + " bytes");
    }
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
      inflateEnd(&z);
      fail(name, "gzip stream ends early");
    }
  }
  inflateEnd(&z);
  return out;
}

}  // namespace

IdxFile idx_parse(std::string_view bytes, const std::string& name) {
  std::string inflated;
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f && static_cast<unsigned char>(bytes[1]) == 0x8b) {
    inflated = gunzip(bytes, name, kMaxInflated);
    bytes = inflated;
  }
  if (bytes.size() < 4) fail(name, "shorter than the 4-byte magic");
  if (bytes[0] != 0 || bytes[1] != 0) fail(name, "magic does not start with two zero bytes");
  if (static_cast<unsigned char>(bytes[2]) != 0x08) fail(name, "element type " + std::to_string(static_cast<unsigned char>(bytes[2])) + " at offset 2, expected 8 (unsigned byte)");
  const int rank = static_cast<unsigned char>(bytes[3]);
  if (rank < 1 || rank > 4) fail(name, "rank " + std::to_string(rank) + " at offset 3, expected 1 to 4");
  if (bytes.size() < 4 + 4 * size_t(rank)) fail(name, "truncated dimensions");
  IdxFile f;
  uint64_t count = 1;
  for (int d = 0; d < rank; ++d) {
    const uint64_t v = big_endian_32(bytes, 4 + 4 * size_t(d));
    count *= v;
    if (count > kMaxInflated) fail(name, "dimensions describe more than " + std::to_string(kMaxInflated) + " bytes");
    f.dims.push_back(static_cast<int64_t>(v));
  }
  const size_t start = 4 + 4 * size_t(rank);
  if (bytes.size() - start != count)
    fail(name, "dimensions need " + std::to_string(count) + " data bytes, the file has " + std::to_string(bytes.size() - start));
  f.data = std::string(bytes.substr(start));
  return f;
}

IdxFile idx_read(const std::string& path) { return idx_parse(read_file(path, size_t(512) << 20), path); }

template <ad::Scalar T>
Dataset<T> load_fashion_mnist(const std::string& dir, bool train, int64_t limit) {
  const std::string prefix = train ? "train" : "t10k";
  auto find = [&](const std::string& stem) {
    for (const std::string& candidate : {dir + "/" + stem + ".gz", dir + "/" + stem})
      if (std::filesystem::exists(candidate)) return candidate;
    throw std::runtime_error(dir + "/" + stem + ".gz: Fashion-MNIST file not found; install the Debian package dataset-fashion-mnist "
                             "(apt-get install dataset-fashion-mnist) or pass --data-dir");
  };
  const std::string images_path = find(prefix + "-images-idx3-ubyte"), labels_path = find(prefix + "-labels-idx1-ubyte");
  const IdxFile images = idx_read(images_path), labels = idx_read(labels_path);
  if (images.dims.size() != 3 || images.dims[1] != 28 || images.dims[2] != 28) fail(images_path, "expected [N, 28, 28] images");
  if (labels.dims.size() != 1 || labels.dims[0] != images.dims[0]) fail(labels_path, "expected one label per image (" + std::to_string(images.dims[0]) + ")");
  const int64_t n = limit >= 0 ? std::min(limit, images.dims[0]) : images.dims[0];
  Dataset<T> ds;
  ds.inputs = ad::Tensor<T>(ad::Shape{n, 1, 28, 28});
  for (int64_t i = 0; i < n * 784; ++i) ds.inputs[i] = static_cast<T>(static_cast<unsigned char>(images.data[static_cast<size_t>(i)])) / T(255);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = static_cast<unsigned char>(labels.data[static_cast<size_t>(i)]);
    if (label > 9) fail(labels_path, "label " + std::to_string(label) + " at index " + std::to_string(i) + " outside 0..9");
    ds.labels.push_back(label);
  }
  ds.num_classes = 10;
  ds.class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
  return ds;
}

template Dataset<float> load_fashion_mnist<float>(const std::string&, bool, int64_t);
template Dataset<double> load_fashion_mnist<double>(const std::string&, bool, int64_t);

}  // namespace integrad::nn
