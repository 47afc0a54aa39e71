// The embedded store: one SQLite file in WAL mode (or an in-memory database).
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

namespace engram {

// `path` is a file path or ":memory:".
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteOptions& options);

}  // namespace engram
