// Database URLs: what each form names, and options for another backend than the one named.
#include "store/url.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace engram {
namespace {

TEST(StoreUrl, EachFormNamesItsKindOfStore) {
  struct Case {
    const char* url;
    StoreUrl::Kind kind;
    const char* location;
  };
  for (const Case& c : {
           Case{"sqlite:///var/lib/engram.db", StoreUrl::Kind::kFile, "/var/lib/engram.db"},
           Case{"sqlite://rel/engram.db", StoreUrl::Kind::kFile, "rel/engram.db"},
           Case{"engram.db", StoreUrl::Kind::kFile, "engram.db"},
           Case{"./dir:with:colons/engram.db", StoreUrl::Kind::kFile,
                "./dir:with:colons/engram.db"},
           Case{"sqlite::memory:", StoreUrl::Kind::kMemory, ":memory:"},
           Case{":memory:", StoreUrl::Kind::kMemory, ":memory:"},
           Case{"postgres://u@h:5432/db", StoreUrl::Kind::kServer, "postgres://u@h:5432/db"},
           Case{"postgresql://h/db", StoreUrl::Kind::kServer, "postgresql://h/db"},
           Case{"host=h dbname=engram", StoreUrl::Kind::kServer, "host=h dbname=engram"},
       }) {
    auto parsed = ParseStoreUrl(c.url);
    ASSERT_TRUE(parsed.ok()) << c.url << ": " << parsed.status().message();
    EXPECT_EQ(parsed->kind, c.kind) << c.url;
    EXPECT_EQ(parsed->location, c.location) << c.url;
  }
  for (const char* bad : {"", "sqlite://", "mysql://h/db"}) {
    auto parsed = ParseStoreUrl(bad);
    EXPECT_TRUE(parsed.status().IsInvalidArgument()) << bad;
  }
  EXPECT_EQ(ParseStoreUrl("mysql://h/db").status().message(),
            "database URL \"mysql://h/db\" has an unknown scheme \"mysql\" (expected "
            "sqlite:///path/engram.db, sqlite::memory:, a file path, postgres://user@host:port/db "
            "or libpq's host=... dbname=...)");
}

TEST(StoreUrl, OptionsForAnotherBackendAreRefusedNotIgnored) {
  Options sqlite_options;
  sqlite_options.sqlite.emplace().synchronous = Synchronous::kFull;
  // Refused before any connection is tried: no server listens on port 1.
  auto pg = OpenStore("postgres://nobody@127.0.0.1:1/engram", sqlite_options);
  ASSERT_TRUE(pg.status().IsInvalidArgument()) << pg.status().ToString();
  EXPECT_EQ(pg.status().message(),
            "Options::sqlite is set, but the database is PostgreSQL: its durability and lock "
            "waits are the server's settings (synchronous_commit, lock_timeout)");

  Options pg_options;
  pg_options.postgres.emplace();
  auto file = OpenStore("sqlite::memory:", pg_options);
  ASSERT_TRUE(file.status().IsInvalidArgument());
  EXPECT_EQ(file.status().message(),
            "Options::postgres is set, but the database is a SQLite file, not a PostgreSQL server");
  EXPECT_TRUE(OpenStore("sqlite::memory:", sqlite_options).ok());

  Options no_readers;
  no_readers.postgres.emplace().max_read_connections = 0;
  EXPECT_EQ(OpenStore("postgres://nobody@127.0.0.1:1/engram", no_readers).status().message(),
            "PostgresOptions::max_read_connections is 0; at least 1");
}

}  // namespace
}  // namespace engram
