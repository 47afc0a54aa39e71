// Chooses the store for a database URL.
#include <fmt/format.h>

#include "store/pg_store.h"
#include "store/sqlite_store.h"
#include "store/store.h"

namespace engram {

std::optional<std::string> SqlitePathOf(std::string_view url) {
  if (url.empty() || IsPostgresUrl(url)) return std::nullopt;
  if (url == "sqlite::memory:" || url == ":memory:") return ":memory:";
  constexpr std::string_view kSqlite = "sqlite://";
  if (url.substr(0, kSqlite.size()) == kSqlite) {
    return std::string(url.substr(kSqlite.size()));  // sqlite:///abs → /abs, sqlite://rel → rel
  }
  const auto colon = url.find(':');
  const auto slash = url.find('/');
  if (colon == std::string_view::npos || (slash != std::string_view::npos && slash < colon)) {
    return std::string(url);  // a plain file path
  }
  return std::nullopt;
}

Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const Options& options) {
  if (url.empty()) return Status::InvalidArgument("database URL is empty");
  if (IsPostgresUrl(url)) return OpenPostgresStore(std::string(url), options);
  if (auto path = SqlitePathOf(url)) {
    if (path->empty()) return Status::InvalidArgument("database URL sqlite:// names no file");
    return OpenSqliteStore(*path, options);
  }
  const std::string_view scheme = url.substr(0, url.find(':'));
  return Status::InvalidArgument(
      fmt::format("database URL \"{}\" has an unknown scheme \"{}\" (expected sqlite:///path/"
                  "engram.db, sqlite::memory:, a file path, postgres://user@host:port/db or "
                  "libpq's host=... dbname=...)",
                  url, scheme));
}

}  // namespace engram
