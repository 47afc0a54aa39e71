// The signature of an error message: what stays the same when the same error happens again
// with other line numbers, paths, addresses or values.
#pragma once

#include <string>
#include <string_view>

namespace engram {

// Lowercases and replaces quoted values with <q>, paths with <path>, hexadecimal with <hex> and
// numbers with <n>, folds white space, and keeps the first 200 bytes. E.g.
//   "error[E0425]: cannot find value `verbose` in src/main.rs:88:12"
//   -> "error[e<n>]: cannot find value <q> in <path>"
std::string ErrorSignature(std::string_view observation);

}  // namespace engram
