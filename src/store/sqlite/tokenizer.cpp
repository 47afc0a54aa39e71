#include "store/sqlite/tokenizer.h"

#include <memory>

namespace engram::sqlite {
namespace {

// The two tokenizers FTS5 ships that this one is made of.
struct Inner {
  fts5_tokenizer unicode{}, porter{};
  Fts5Tokenizer* words = nullptr;  // unicode61 remove_diacritics 2
  Fts5Tokenizer* stems = nullptr;  // porter over the same
  ~Inner() {
    if (words) unicode.xDelete(words);
    if (stems) porter.xDelete(stems);
  }
};

struct Token {
  std::string text;
  int start = 0, end = 0;
};

// Runs `tokenizer` over the text and collects its tokens.
int Collect(fts5_tokenizer& api, Fts5Tokenizer* t, int flags, const char* text, int n,
            std::vector<Token>& out) {
  auto add = [](void* ctx, int, const char* token, int length, int start, int end) {
    static_cast<std::vector<Token>*>(ctx)->push_back(
        Token{std::string(token, static_cast<size_t>(length)), start, end});
    return SQLITE_OK;
  };
  return api.xTokenize(t, &out, flags, text, n, add);
}

int Create(void* api_ptr, const char**, int, Fts5Tokenizer** out) {
  auto* api = static_cast<fts5_api*>(api_ptr);
  auto inner = std::make_unique<Inner>();
  void* unicode_data = nullptr;
  void* porter_data = nullptr;
  if (api->xFindTokenizer(api, "unicode61", &unicode_data, &inner->unicode) != SQLITE_OK ||
      api->xFindTokenizer(api, "porter", &porter_data, &inner->porter) != SQLITE_OK) {
    return SQLITE_ERROR;
  }
  const char* words_args[] = {"remove_diacritics", "2"};
  const char* stems_args[] = {"unicode61", "remove_diacritics", "2"};
  int rc = inner->unicode.xCreate(unicode_data, words_args, 2, &inner->words);
  if (rc == SQLITE_OK) rc = inner->porter.xCreate(porter_data, stems_args, 3, &inner->stems);
  if (rc != SQLITE_OK) return rc;
  *out = reinterpret_cast<Fts5Tokenizer*>(inner.release());
  return SQLITE_OK;
}

void Delete(Fts5Tokenizer* t) {
  delete reinterpret_cast<Inner*>(t);
}

int Tokenize(Fts5Tokenizer* t, void* ctx, int flags, const char* text, int n,
             int (*emit)(void*, int, const char*, int, int, int)) {
  auto& inner = *reinterpret_cast<Inner*>(t);
  if (flags & FTS5_TOKENIZE_QUERY) {
    // A query term is a written word, or a stem, as Tokenize made it, when it carries the mark
    // (stemming a stem again can change it).
    if (n > 0 && text[0] == kStemMark) return emit(ctx, 0, text, n, 0, n);
    std::vector<Token> tokens;
    int rc = Collect(inner.unicode, inner.words, flags, text, n, tokens);
    for (size_t i = 0; rc == SQLITE_OK && i < tokens.size(); ++i) {
      rc = emit(ctx, 0, tokens[i].text.data(), static_cast<int>(tokens[i].text.size()),
                tokens[i].start, tokens[i].end);
    }
    return rc;
  }
  std::vector<Token> words, stems;
  int rc = Collect(inner.unicode, inner.words, flags, text, n, words);
  if (rc == SQLITE_OK) rc = Collect(inner.porter, inner.stems, flags, text, n, stems);
  // porter stems each token of the same unicode61 tokenizer: one stem per word.
  if (rc == SQLITE_OK && stems.size() != words.size()) return SQLITE_ERROR;
  std::string stem;
  for (size_t i = 0; rc == SQLITE_OK && i < words.size(); ++i) {
    const Token& w = words[i];
    rc = emit(ctx, 0, w.text.data(), static_cast<int>(w.text.size()), w.start, w.end);
    stem.assign(1, kStemMark).append(stems[i].text);
    if (rc == SQLITE_OK) {
      rc = emit(ctx, FTS5_TOKEN_COLOCATED, stem.data(), static_cast<int>(stem.size()), w.start,
                w.end);
    }
  }
  return rc;
}

}  // namespace

// From "SELECT fts5(?1)", as the FTS5 documentation describes.
fts5_api* Fts5Api(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, nullptr) == SQLITE_OK) {
    sqlite3_bind_pointer(st, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
    sqlite3_step(st);
  }
  sqlite3_finalize(st);
  return api;
}

Status RegisterTokenizer(sqlite3* db) {
  fts5_api* api = Fts5Api(db);
  if (!api) return Status::IOError("SQLite was built without FTS5");
  fts5_tokenizer tokenizer{Create, Delete, Tokenize};
  if (api->xCreateTokenizer(api, "engram", api, &tokenizer, nullptr) != SQLITE_OK) {
    return Status::IOError("cannot register the engram FTS5 tokenizer");
  }
  return Status::Ok();
}

Result<Tokens> Tokenize(sqlite3* db, std::string_view text) {
  fts5_api* api = Fts5Api(db);
  if (!api) return Status::IOError("SQLite was built without FTS5");
  Fts5Tokenizer* t = nullptr;
  if (Create(api, nullptr, 0, &t) != SQLITE_OK) {
    return Status::IOError("cannot create the FTS5 tokenizers unicode61 and porter");
  }
  Tokens out;
  auto& inner = *reinterpret_cast<Inner*>(t);
  std::vector<Token> words, stems;
  const int n = static_cast<int>(text.size());
  int rc = Collect(inner.unicode, inner.words, FTS5_TOKENIZE_DOCUMENT, text.data(), n, words);
  if (rc == SQLITE_OK) {
    rc = Collect(inner.porter, inner.stems, FTS5_TOKENIZE_DOCUMENT, text.data(), n, stems);
  }
  Delete(t);
  if (rc != SQLITE_OK) return Status::IOError("the FTS5 tokenizers failed");
  for (auto& w : words) out.words.push_back(std::move(w.text));
  for (auto& s : stems) out.stems.push_back(kStemMark + s.text);
  return out;
}

}  // namespace engram::sqlite
