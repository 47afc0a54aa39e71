// An HTTP request as `engram serve` reads it (Beast's parser with engram's limits, the query
// and path decoded), then answered by the API without the network: the token, the route, the
// Content-Type, the body into the store (in memory, renewed now and then).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "renewed.h"
#include "server/http_server.h"

using namespace engram;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::Renewed<server::HttpServer> renewed;
  server::HttpLimits limits;
  limits.max_body_bytes = 1 << 20;
  server::HttpServer& api = renewed.Get([&](Memory& memory) {
    server::ServeOptions options;
    options.token = "fuzz-token";
    options.limits = limits;
    return std::make_unique<server::HttpServer>(memory, options);
  });
  int status = 0;
  auto request = server::ParseHttpRequest(
      std::string_view(reinterpret_cast<const char*>(data), size), limits, &status);
  if (!request.ok()) {
    if (status != 400 && status != 413 && status != 431) __builtin_trap();
    return 0;
  }
  // Half the time with the token, so that the routes behind it are reached.
  if (size > 0 && data[0] % 2 == 0) {
    request->headers.emplace_back("Authorization", "Bearer fuzz-token");
  }
  auto response = api.respond(std::move(*request));
  if (response.status < 200 || response.status > 599) __builtin_trap();
  return 0;
}
