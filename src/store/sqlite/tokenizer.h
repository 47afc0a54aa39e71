// The tokenizer of recall's search index on SQLite: every word indexed as it is written and as
// its stem, so that a search can count an exact match above a match of another form of the
// word.
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>
#include <vector>

#include "engram/status.h"

namespace engram::sqlite {

// Stems are indexed with this mark before them; no word written has it (the tokenizer splits
// words at it).
inline constexpr char kStemMark = '~';

// The FTS5 extension API of the connection, or nullptr when SQLite was built without FTS5.
fts5_api* Fts5Api(sqlite3* db);

// Registers the FTS5 tokenizer "engram" on the connection. In text it emits, for each word of
// unicode61 (lowercased, diacritics removed), the word, and at the same position its Porter
// stem behind kStemMark (FTS5_TOKEN_COLOCATED: the column's length counts the word once). In a
// query, a term that begins with kStemMark is read as a stem, any other as a written word.
// Every connection that opens the index must have it (the store's do).
Status RegisterTokenizer(sqlite3* db);

// The written forms and the stems of `text`'s words, in order, as the tokenizer indexes them.
struct Tokens {
  std::vector<std::string> words;
  std::vector<std::string> stems;  // each with kStemMark before it
};
Result<Tokens> Tokenize(sqlite3* db, std::string_view text);

}  // namespace engram::sqlite
