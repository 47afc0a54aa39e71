// Secrets never reach the store: what an agent sends through every call that writes is
// redacted before the database file, its full-text index, an export or the patterns see it,
// checked by reading the SQLite file's bytes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engram/engram.h"
#include "test_util.h"

namespace engram {
namespace {

using testing::ValueOf;
namespace fs = std::filesystem;

const std::vector<std::string> kSecrets = {
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "sk-proj-AbCdEf0123456789GhIjKlMnOpQrStUv",
    "Sup3rS3cret",
    "hunter22",
    "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
    "MIIEowIBAAKCAQEA7b3x",
};

std::string Bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(Redaction, NoSecretReachesTheDatabaseFileTheIndexAnExportOrThePatterns) {
  const fs::path dir = fs::temp_directory_path() / ("engram-redaction-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string url = "sqlite://" + (dir / "e.db").string();
  std::vector<std::string> ids;
  {
    auto memory = ValueOf(Memory::open(url));
    for (int i = 0; i < 3; ++i) {
      EpisodeSpec spec;
      spec.task = "deploy with key AKIAIOSFODNN7EXAMPLE";
      spec.metadata = {{"repo", "https://bot:ghp_16C7e42F292c6912E7710c838347Ae178B4a@github.com"}};
      const std::string id = ValueOf(memory->start_episode(spec));
      ids.push_back(id);
      ExecutionStep s;
      s.tool = "bash";
      s.action = "psql postgres://app:Sup3rS3cret@db/prod";
      s.observation =
          "error: password=hunter22 rejected\n-----BEGIN RSA PRIVATE KEY-----\n"
          "MIIEowIBAAKCAQEA7b3x\n-----END RSA PRIVATE KEY-----";
      s.success = false;
      s.parameters = {{"env", {{"OPENAI_API_KEY", "sk-proj-AbCdEf0123456789GhIjKlMnOpQrStUv"}}}};
      s.metadata = {{"auth",
                     "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
                     "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"}};
      ASSERT_OK(memory->log_step(id, s));
      s.success = true;
      ASSERT_OK(memory->log_steps(id, {s}));
      ASSERT_OK(memory->log_step_async(id, s));
      Outcome o;
      o.summary = "rotated AKIAIOSFODNN7EXAMPLE, password=hunter22";
      ASSERT_OK(memory->complete_episode(id, o));
    }
    // Imported episodes too.
    Episode imported;
    imported.task = "import with ghp_16C7e42F292c6912E7710c838347Ae178B4a";
    ExecutionStep s;
    s.tool = "curl";
    s.action = "curl -H 'Authorization: Bearer hunter22abc' https://x";
    s.observation = "sk-proj-AbCdEf0123456789GhIjKlMnOpQrStUv";
    imported.steps.push_back(s);
    const Status imported_status = ValueOf(memory->import_episodes({imported}))[0];
    ASSERT_TRUE(imported_status.ok()) << imported_status.message();
    // What an export and the patterns show.
    std::string shown;
    for (const auto& id : ids) shown += to_json(ValueOf(memory->get_episode(id))).dump();
    for (const auto& p : ValueOf(memory->list_patterns(PatternFilter{}))) {
      shown += to_json(p).dump();
    }
    const Episode first = ValueOf(memory->get_episode(ids[0]));
    EXPECT_EQ(first.task, "deploy with key [REDACTED:aws_access_key]");
    EXPECT_EQ(first.steps[0].metadata.value("redacted", ""),
              "jwt:1, openai_key:1, private_key:1, secret_assignment:1, url_password:1");
    EXPECT_NE(shown.find("[REDACTED:"), std::string::npos);
    for (const auto& secret : kSecrets) EXPECT_EQ(shown.find(secret), std::string::npos) << secret;
    ASSERT_OK(memory->close());
  }
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    ++files;
    const std::string bytes = Bytes(entry.path());
    for (const auto& secret : kSecrets) {
      EXPECT_EQ(bytes.find(secret), std::string::npos) << secret << " in " << entry.path();
    }
  }
  EXPECT_GE(files, 1);
  fs::remove_all(dir);
}

TEST(Redaction, ABadOptionFailsOpeningNamingIt) {
  Options options;
  options.redaction.disabled = {"nope"};
  auto memory = Memory::open("sqlite::memory:", options);
  ASSERT_FALSE(memory.ok());
  EXPECT_TRUE(memory.status().IsInvalidArgument());
  EXPECT_EQ(
      memory.status().message().rfind("redaction.disabled names an unknown detector \"nope\"", 0),
      0u);
}

}  // namespace
}  // namespace engram
