// Input read a line at a time with a bound on a line's size: a line past the bound is counted
// and skipped, never held, so one huge line cannot take the process's memory.
#pragma once

#include <cstddef>
#include <istream>
#include <string>

namespace engram::cli {

// The largest JSON line engram reads (a step, an import record, an MCP message).
inline constexpr size_t kMaxLineBytes = size_t{64} << 20;

struct InputLine {
  std::string text;  // without its newline; empty when too_long
  size_t bytes = 0;  // the line's length
  bool too_long = false;
};

// Reads the next line; false at the end of the input.
inline bool ReadLine(std::istream& in, InputLine& line, size_t limit = kMaxLineBytes) {
  line.text.clear();
  line.bytes = 0;
  line.too_long = false;
  std::streambuf* buf = in.rdbuf();
  bool read_any = false;
  for (int c; (c = buf->sbumpc()) != std::char_traits<char>::eof();) {
    read_any = true;
    if (c == '\n') return true;
    ++line.bytes;
    if (line.too_long) continue;
    if (line.text.size() == limit) {
      line.too_long = true;
      std::string().swap(line.text);  // its memory given back at once
      continue;
    }
    line.text.push_back(static_cast<char>(c));
  }
  in.setstate(std::ios::eofbit);
  return read_any;
}

// "70000000 bytes, limit 67108864 bytes", for after "the line is".
inline std::string TooLong(const InputLine& line) {
  return std::to_string(line.bytes) + " bytes, limit " + std::to_string(kMaxLineBytes) + " bytes";
}

}  // namespace engram::cli
