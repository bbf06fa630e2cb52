// Text from files (tensor names, metadata, dtype strings) shown on a terminal: control characters
// and bytes that are not UTF-8 are written as \xHH, so a file cannot move the cursor, retitle the
// window or hide text through `integrad info` or an error message.
#pragma once

#include <string>
#include <string_view>

namespace integrad::nn {

// C0 controls, DEL, C1 controls (U+0080..U+009F, and a lone 0x9b "CSI" byte) and malformed UTF-8
// become \xHH, byte by byte; everything else, including valid multi-byte UTF-8, is kept.
std::string printable(std::string_view text);

}  // namespace integrad::nn
