// make bench, real agent work: recall and next-step suggestions on the tau-bench airline
// development set (bench/data/tau-airline-dev, 100 attempts of a gpt-4o agent at 25 tasks), on
// the protocol of its README, beside the simple baselines it names, in the same run.
#pragma once

#include <filesystem>
#include <string>

#include "bench_common.h"

namespace engram::bench {

struct Accuracy {
  double top1 = 0, top3 = 0;
  int positions = 0;
};

struct TauEval {
  int tasks = 0, stored = 0, queries = 0;
  Quality engram;             // recall with its default weights; the query has no context
  Quality engram_text_alone;  // recall with the text signal only (weights 1, 0, 0, 0)
  Quality bm25_whole;         // plain BM25 over each stored attempt's whole transcript
  Quality bm25_first;         // plain BM25 over each stored attempt's first user message
  Accuracy engram_suggest;    // Memory::suggest before each tool call of the held-out attempts
  Accuracy bigram;            // the most frequent next tool after the current one
};

// Imports the stored attempts into the empty store at `url` with `cli` (engram import --format
// openai-chat), then asks as the protocol says. `dir` holds the transcript file written for it.
TauEval EvaluateTau(const std::string& url, const char* cli, const std::filesystem::path& dir);

// Prints the tables of one or two evaluations (SQLite's, and PostgreSQL's when given).
void PrintTau(const TauEval& sqlite, const TauEval* postgres);

}  // namespace engram::bench
