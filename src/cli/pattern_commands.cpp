// engram pattern list | show
#include <fmt/format.h>

#include <charconv>
#include <iostream>

#include "cli/cli.h"

namespace engram::cli {
namespace {

using json = nlohmann::ordered_json;

struct ListArgs {
  std::string type, domain, min_support = "1", min_success = "0";
};

double ParseRate(const std::string& text) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw CommandError{
        fmt::format("min_success must be a number between 0 and 1, got \"{}\"", text), 2};
  }
  return v;
}

}  // namespace

void AddPatternCommands(CLI::App& app, GlobalFlags& flags) {
  auto* group = app.add_subcommand("pattern", "Patterns mined across completed episodes");
  group->require_subcommand(1);

  auto args = std::make_shared<ListArgs>();
  auto* list = group->add_subcommand("list", "List patterns, by support then success rate");
  list->add_option("--type", args->type, OneOf<PatternType>());
  list->add_option("--domain", args->domain, "Only patterns seen in episodes of this domain");
  list->add_option("--min-support", args->min_support, "At least this many episodes (default 1)");
  list->add_option("--min-success", args->min_success, "Success rate at least this, 0-1");
  list->callback([args, &flags] {
    PatternFilter f;
    if (!args->type.empty()) f.type = Check(parse_pattern_type(args->type));
    if (!args->domain.empty()) f.domain = args->domain;
    f.min_support = ParseCount("min_support", args->min_support, 1);
    f.min_success = ParseRate(args->min_success);
    auto patterns = Check(OpenMemory(flags)->list_patterns(f));
    if (flags.json) {
      json list = json::array();
      for (const auto& p : patterns) list.push_back(to_json(p));
      std::cout << json{{"patterns", std::move(list)}}.dump(2) << "\n";
    } else {
      std::cout << RenderPatternList(patterns);
    }
  });

  auto id = std::make_shared<std::string>();
  auto* show = group->add_subcommand("show", "Show a pattern with its evidence");
  show->add_option("id", *id, "Pattern id")->required();
  show->callback([id, &flags] {
    Pattern p = Check(OpenMemory(flags)->get_pattern(*id));
    if (flags.json) {
      std::cout << to_json(p).dump(2) << "\n";
    } else {
      std::cout << RenderPattern(p);
    }
  });
}

}  // namespace engram::cli
