// Pieces of HTML the report and `explain --html` share: escaping, a token coloured by its
// attribution, and PNG bytes as a data URI.
#pragma once

#include <cstdint>
#include <string>

namespace integrad::attr {

std::string html_escape(const std::string& text);
std::string base64(const std::string& bytes);
// A token id on a background whose colour says the sign (red +, blue −) and whose opacity says
// |value| / scale; the value itself is the tooltip. Pages that use it include kTokenStyle.
std::string token_span(int64_t token, double value, double scale);
inline constexpr const char* kTokenStyle = "span.tok{padding:2px 4px;margin:1px;border-radius:3px;display:inline-block;font-family:monospace}";

}  // namespace integrad::attr
