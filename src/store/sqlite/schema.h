// The SQLite schema and its forward migrations, versioned with PRAGMA user_version.
#pragma once

#include <string_view>

#include "engram/status.h"
#include "store/sqlite/db.h"

namespace engram::sqlite {

// 'engr' in PRAGMA application_id marks a file as an engram database.
inline constexpr int32_t kApplicationId = 0x656E6772;

// The schema version this build writes. A database at a newer version is refused.
int SchemaVersion();

// Brings the database to `target` (SchemaVersion() but in tests of older layouts): creates the
// schema in an empty file, migrates an older engram schema forward in one transaction, and
// refuses (Corruption) a file that is not an engram database. Safe when several processes open
// the same file at once.
Status MigrateSchema(Connection& conn, int target = SchemaVersion());

}  // namespace engram::sqlite
