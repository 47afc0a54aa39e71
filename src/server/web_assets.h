// The dashboard's files (src/server/web, and Chart.js from Debian's libjs-chart.js), compiled
// into the binary by cmake/embed_assets.cmake.
#pragma once

#include <string_view>
#include <vector>

namespace engram::server {

struct WebAsset {
  std::string_view name;   // "index.html", "app.js", "chart.min.js", ...
  std::string_view bytes;  // the file's whole content
};

const std::vector<WebAsset>& WebAssets();

}  // namespace engram::server
