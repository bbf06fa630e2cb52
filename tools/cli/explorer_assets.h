// The explorer's page (tools/cli/explorer/: index.html, app.js, style.css), compiled into the
// program by cmake/embed_assets.cmake: no file is read and nothing is downloaded at run time.
#pragma once

#include <string_view>

namespace integrad::cli::explorer {

// The file's text; throws for a name that is not one of the page's files.
std::string_view explorer_asset(std::string_view name);

}  // namespace integrad::cli::explorer
