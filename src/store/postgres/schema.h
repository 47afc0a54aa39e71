// The PostgreSQL schema and its migrations. The version is kept in a table of its own; the
// migrations run under a transaction-level advisory lock, so several engram nodes starting at
// once against a new database create the schema exactly once.
#pragma once

#include "engram/status.h"
#include "store/postgres/db.h"

namespace engram::pg {

// The version this build writes.
int SchemaVersion();

// Brings the schema up to `target` (default: SchemaVersion()). A database whose schema is
// newer than this build knows is refused with FailedPrecondition; one holding tables that are
// not engram's, with Corruption.
Status MigrateSchema(Connection& conn, int target = -1);

}  // namespace engram::pg
