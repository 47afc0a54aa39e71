// engram: episodic memory for AI agents. This one header reaches the whole public API.
#pragma once

#include "engram/json.h"     // IWYU pragma: export
#include "engram/memory.h"   // IWYU pragma: export
#include "engram/migrate.h"  // IWYU pragma: export
#include "engram/options.h"  // IWYU pragma: export
#include "engram/status.h"   // IWYU pragma: export
#include "engram/types.h"    // IWYU pragma: export
