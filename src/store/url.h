// What a database URL names (the forms Memory::open documents), and the store for it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "engram/options.h"
#include "engram/status.h"
#include "store/store.h"

namespace engram {

struct StoreUrl {
  enum class Kind {
    kFile,    // an embedded database in a file
    kMemory,  // an embedded database of this process alone
    kServer,  // a database server that several processes share
  };
  Kind kind = Kind::kFile;
  // The file's path (kFile), or the server's URL or key=value connection string (kServer).
  std::string location;
};

// InvalidArgument when the URL is empty, names no file, or has a scheme engram does not know.
Result<StoreUrl> ParseStoreUrl(std::string_view url);

// Opens the store named by `url`. InvalidArgument for a URL ParseStoreUrl refuses, or options
// for another kind of store than the one named (Options::sqlite for a server, ...); otherwise
// what the backend's opening returns.
Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const Options& options);

}  // namespace engram
