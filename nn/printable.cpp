#include "nn/printable.h"

#include <cstdint>

namespace integrad::nn {

namespace {

// Length of the valid UTF-8 sequence starting at s[i] encoding a code point >= U+00A0, else 0.
size_t printable_utf8_length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  size_t n;
  uint32_t cp;
  if (lead >= 0xc2 && lead <= 0xdf) n = 2, cp = lead & 0x1fu;
  else if (lead >= 0xe0 && lead <= 0xef) n = 3, cp = lead & 0x0fu;
  else if (lead >= 0xf0 && lead <= 0xf4) n = 4, cp = lead & 0x07u;
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (byte(i + k) & 0x3fu);
  }
  const bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
  if (overlong || cp < 0xa0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

}  // namespace

std::string printable(std::string_view text) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
      ++i;
    } else if (const size_t n = c >= 0x80 ? printable_utf8_length(text, i) : 0) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
      ++i;
    }
  }
  return out;
}

}  // namespace integrad::nn
