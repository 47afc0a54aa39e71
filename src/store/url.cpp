#include "store/url.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include "store/postgres/store.h"
#include "store/sqlite/store.h"

namespace engram {
namespace {

// postgres:// or postgresql://, or libpq's key=value form (host=... dbname=...).
bool NamesAServer(std::string_view url) {
  if (url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0) return true;
  if (url.find('=') == std::string_view::npos) return false;
  // key=value pairs that libpq accepts (an unknown key fails): "host=db dbname=engram".
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(std::string(url).c_str(), &error);
  PQfreemem(error);
  if (!options) return false;
  PQconninfoFree(options);
  return true;
}

}  // namespace

Result<StoreUrl> ParseStoreUrl(std::string_view url) {
  if (url.empty()) return Status::InvalidArgument("database URL is empty");
  if (NamesAServer(url)) return StoreUrl{StoreUrl::Kind::kServer, std::string(url)};
  if (url == "sqlite::memory:" || url == ":memory:") {
    return StoreUrl{StoreUrl::Kind::kMemory, ":memory:"};
  }
  constexpr std::string_view kSqlite = "sqlite://";
  if (url.substr(0, kSqlite.size()) == kSqlite) {
    // sqlite:///abs → /abs, sqlite://rel → rel
    const std::string_view path = url.substr(kSqlite.size());
    if (path.empty()) return Status::InvalidArgument("database URL sqlite:// names no file");
    return StoreUrl{StoreUrl::Kind::kFile, std::string(path)};
  }
  const auto colon = url.find(':');
  const auto slash = url.find('/');
  if (colon == std::string_view::npos || (slash != std::string_view::npos && slash < colon)) {
    return StoreUrl{StoreUrl::Kind::kFile, std::string(url)};  // a plain file path
  }
  const std::string_view scheme = url.substr(0, colon);
  return Status::InvalidArgument(
      fmt::format("database URL \"{}\" has an unknown scheme \"{}\" (expected sqlite:///path/"
                  "engram.db, sqlite::memory:, a file path, postgres://user@host:port/db or "
                  "libpq's host=... dbname=...)",
                  url, scheme));
}

Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const Options& options) {
  auto where = ParseStoreUrl(url);
  if (!where.ok()) return where.status();
  if (where->kind == StoreUrl::Kind::kServer) {
    if (options.sqlite) {
      return Status::InvalidArgument(
          "Options::sqlite is set, but the database is PostgreSQL: its durability and lock waits "
          "are the server's settings (synchronous_commit, lock_timeout)");
    }
    return OpenPostgresStore(where->location, options.postgres.value_or(PostgresOptions{}));
  }
  if (options.postgres) {
    return Status::InvalidArgument(
        "Options::postgres is set, but the database is a SQLite file, not a PostgreSQL server");
  }
  return OpenSqliteStore(where->location, options.sqlite.value_or(SqliteOptions{}));
}

}  // namespace engram
