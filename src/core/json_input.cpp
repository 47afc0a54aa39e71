// JSON from outside engram, parsed with the limits every door shares (engram/json.h
// parse_json).
#include <fmt/format.h>

#include <limits>
#include <optional>

#include "core/utf8.h"
#include "engram/json.h"

namespace engram {
namespace {

using json = nlohmann::json;

// Thrown from the parser's callback at the first value nested too deep: parsing stops there,
// before the document is deeper than the limit anywhere.
struct TooDeep {};

// The parser's message without its "[json.exception.parse_error.101] " prefix.
std::string Message(const json::exception& e) {
  std::string_view what = e.what();
  if (auto pos = what.find("] "); pos != std::string_view::npos) what.remove_prefix(pos + 2);
  return EscapeInvalidUtf8(what);  // it may quote the ill-formed bytes it stopped at
}

// Where a number out of range sits: the key of the value being read when parsing stopped
// (a second pass over the text, taken only after such a failure).
class KeyOfFailure final : public nlohmann::json_sax<json> {
 public:
  std::optional<std::string> failed_key;  // the key of the value that failed, if any
  std::string token;

  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t) override { return Value(); }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool string(string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool start_object(std::size_t) override {
    in_object_.push_back(true);
    pending_ = std::nullopt;
    return in_object_.size() <= static_cast<size_t>(kMaxJsonDepth);
  }
  bool key(string_t& k) override {
    pending_ = k;
    return true;
  }
  bool end_object() override { return End(); }
  bool start_array(std::size_t) override {
    in_object_.push_back(false);
    pending_ = std::nullopt;
    return in_object_.size() <= static_cast<size_t>(kMaxJsonDepth);
  }
  bool end_array() override { return End(); }
  bool parse_error(std::size_t, const std::string& last_token,
                   const nlohmann::detail::exception&) override {
    failed_key = pending_;
    token = last_token;
    return false;
  }

 private:
  bool Value() {
    pending_ = std::nullopt;
    return true;
  }
  bool End() {
    in_object_.pop_back();
    pending_ = std::nullopt;
    return true;
  }
  std::vector<bool> in_object_;
  std::optional<std::string> pending_;
};

}  // namespace

Result<nlohmann::json> parse_json(std::string_view text) {
  auto depth_limit = [](int depth, json::parse_event_t event, json&) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        depth >= kMaxJsonDepth) {
      throw TooDeep{};
    }
    return true;
  };
  try {
    return json::parse(text, depth_limit);
  } catch (const TooDeep&) {
    return Status::InvalidArgument(fmt::format(
        "nested deeper than {} levels (objects and arrays together), the limit", kMaxJsonDepth));
  } catch (const json::out_of_range&) {
    // A number beyond a double's range (1e400): named by its key when it has one.
    KeyOfFailure where;
    json::sax_parse(text, &where);
    return Status::InvalidArgument(fmt::format(
        "out of range{}: the number {} is beyond ±{}",
        where.failed_key ? " at " + *where.failed_key : std::string(),
        where.token.empty() ? "read" : where.token, std::numeric_limits<double>::max()));
  } catch (const json::exception& e) {
    return Status::InvalidArgument("not valid JSON: " + Message(e));
  }
}

}  // namespace engram
