// Chooses the store for a database URL.
#include <fmt/format.h>

#include "store/pg_store.h"
#include "store/sqlite_store.h"
#include "store/store.h"

namespace engram {

Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const Options& options) {
  if (url.empty()) return Status::InvalidArgument("database URL is empty");
  if (IsPostgresUrl(url)) return OpenPostgresStore(std::string(url), options);
  if (url == "sqlite::memory:" || url == ":memory:") return OpenSqliteStore(":memory:", options);
  constexpr std::string_view kSqlite = "sqlite://";
  if (url.substr(0, kSqlite.size()) == kSqlite) {
    std::string path(url.substr(kSqlite.size()));  // sqlite:///abs → /abs, sqlite://rel → rel
    if (path.empty()) return Status::InvalidArgument("database URL sqlite:// names no file");
    return OpenSqliteStore(path, options);
  }
  const auto colon = url.find(':');
  const auto slash = url.find('/');
  if (colon == std::string_view::npos || (slash != std::string_view::npos && slash < colon)) {
    return OpenSqliteStore(std::string(url), options);  // a plain file path
  }
  const std::string_view scheme = url.substr(0, colon);
  return Status::InvalidArgument(
      fmt::format("database URL \"{}\" has an unknown scheme \"{}\" (expected sqlite:///path/"
                  "engram.db, sqlite::memory:, a file path, postgres://user@host:port/db or "
                  "libpq's host=... dbname=...)",
                  url, scheme));
}

}  // namespace engram
