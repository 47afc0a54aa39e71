// The PostgreSQL store: the Store interface on a PostgreSQL database shared by several engram
// processes (nodes). Step numbers are fixed under a lock on the episode's row, so they stay
// contiguous whichever node appends; completing locks the row too, so one completer wins.
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

namespace engram {

// `url` is a postgres:// URL or libpq's key=value connection string.
Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url,
                                                 const PostgresOptions& options);

}  // namespace engram
