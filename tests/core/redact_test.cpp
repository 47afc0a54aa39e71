// The redaction stage: a corpus of realistic leaks (each detector, inside JSON, across lines,
// inside parameters) and of lookalikes that must come through unchanged.
#include "core/redact.h"

#include <gtest/gtest.h>

#include "engram/json.h"
#include "test_util.h"

namespace engram {
namespace {

using nlohmann::json;
using testing::ValueOf;

std::shared_ptr<const Redactor> Default() {
  return ValueOf(Redactor::Make(RedactionOptions{}));
}

// The text redacted, and what fired.
std::pair<std::string, std::string> Redacted(const Redactor& r, std::string text) {
  RedactionCounts counts;
  r.Redact(text, counts);
  return {text, Redactor::Describe(counts)};
}

struct Leak {
  std::string text, redacted, fired;
};

TEST(Redact, EveryDetectorFindsItsLeak) {
  const auto r = Default();
  const std::vector<Leak> leaks = {
      {"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7b3x\nq9Zk\n-----END RSA PRIVATE "
       "KEY-----\n"
       "done",
       "[REDACTED:private_key]\ndone", "private_key:1"},
      {"cat id_ed25519\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA",
       "cat id_ed25519\n[REDACTED:private_key]", "private_key:1"},
      {"export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
       "export AWS_ACCESS_KEY_ID=[REDACTED:aws_access_key]", "aws_access_key:1"},
      {"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
       "aws_secret_access_key = [REDACTED:aws_secret_key]\n", "aws_secret_key:1"},
      {"remote: https://ghp_16C7e42F292c6912E7710c838347Ae178B4a@github.com",
       "remote: https://[REDACTED:github_token]@github.com", "github_token:1"},
      {"GH_TOKEN github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
       "GH_TOKEN [REDACTED:github_token]", "github_token:1"},
      {"glpat-xJ3bT9kP2mQ7vR5sW8yZ", "[REDACTED:gitlab_token]", "gitlab_token:1"},
      {"SLACK=xoxb-2048576-1234567890-AbCdEfGhIjKlMnOp", "SLACK=[REDACTED:slack_token]",
       "slack_token:1"},
      {"curl https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX -d x",
       "curl [REDACTED:slack_token] -d x", "slack_token:1"},
      {"stripe.api_key = \"sk_live_4eC39HqLyjWDarjtT1zdp7dc\"",
       "stripe.api_key = \"[REDACTED:stripe_key]\"", "stripe_key:1"},
      {"OPENAI_API_KEY=sk-proj-AbCdEf0123456789GhIjKlMnOpQrStUv",
       "OPENAI_API_KEY=[REDACTED:openai_key]", "openai_key:1"},
      {"x-api-key: sk-ant-api03-AbCdEf0123456789GhIjKlMnOpQrStUvWxYz",
       "x-api-key: [REDACTED:anthropic_key]", "anthropic_key:1"},
      {"token "
       "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_"
       "XgL0n3I9PlFUP0THsR8U",
       "token [REDACTED:jwt]", "jwt:1"},
      {"curl -H 'Authorization: Bearer 8f2a9c41d7e3b6' https://api.example.com",
       "curl -H 'Authorization: Bearer [REDACTED:authorization]' https://api.example.com",
       "authorization:1"},
      {"> Authorization: Basic dXNlcjpwYXNzd29yZA==",
       "> Authorization: Basic [REDACTED:authorization]", "authorization:1"},
      {"could not connect to postgres://app:Sup3rS3cret@db.internal:5432/prod",
       "could not connect to postgres://app:[REDACTED:url_password]@db.internal:5432/prod",
       "url_password:1"},
      {"DB_PASSWORD=hunter22 ./run", "DB_PASSWORD=[REDACTED:secret_assignment] ./run",
       "secret_assignment:1"},
      {"config:\n  client_secret: 'two words'\n  api-key = abc123def\n",
       "config:\n  client_secret: '[REDACTED:secret_assignment]'\n  api-key = "
       "[REDACTED:secret_assignment]\n",
       "secret_assignment:2"},
      {"{\"password\": \"correct horse\", \"user\": \"mia\"}",
       "{\"password\": \"[REDACTED:secret_assignment]\", \"user\": \"mia\"}",
       "secret_assignment:1"},
      {"MY_SERVICE_SIGNING_KEY: 9fK2mQ7vR5sW8yZx3bT1pL6n",
       "MY_SERVICE_SIGNING_KEY: [REDACTED:high_entropy]", "high_entropy:1"},
  };
  for (const Leak& leak : leaks) {
    SCOPED_TRACE(leak.text);
    const auto [text, fired] = Redacted(*r, leak.text);
    EXPECT_EQ(text, leak.redacted);
    EXPECT_EQ(fired, leak.fired);
  }
}

TEST(Redact, LookalikesComeThroughUnchanged) {
  const auto r = Default();
  for (const std::string text : {
           "commit 3f786850e387550fdab836ed7e6dc881de23001b",
           "episode 0190a3c2-7b4e-7d2a-9f1e-2b3c4d5e6f70 completed",
           "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
           "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
           "max_tokens=512 input_tokens: 1200",
           "token_budget: 500",
           "the password is checked by the server",
           "https://github.com/rust-lang/cargo/issues/1234",
           "sk-short",
           "Bearer of bad news",
           "postgres://db.internal:5432/prod",
           "keys: 12345678901234567890",  // not random
           "sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
           // Code, which coding agents read all day: names and types after the keywords.
           "fn next_token() -> Token { Token::Eof }",
           "fn login(user: &str, password: String) -> Result<Token>",
           "let token = self.next_token(); password = get_password()",
           "if token == None: raise ValueError(\"no token\")",
           "login: admin\nPassword:\nLogin incorrect 42",
       }) {
    SCOPED_TRACE(text);
    EXPECT_EQ(Redacted(*r, text), std::pair(text, std::string()));
  }
}

TEST(Redact, JsonValuesParametersAndMaskedKeys) {
  RedactionOptions options;
  options.masked_keys = {"X-Internal-Auth"};
  const auto r = ValueOf(Redactor::Make(options));
  ExecutionStep s;
  s.tool = "http";
  s.action = "curl -u admin:pa55w0rd https://admin:pa55w0rd@example.com";
  s.parameters = {{"headers", {{"x-internal-auth", "letmein"}, {"accept", "json"}}},
                  {"env", json::array({"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE"})}};
  s.observation =
      "{\"error\":\"bad token\",\"token\":\"ghp_16C7e42F292c6912E7710c838347Ae178B4a\"}";
  s.metadata = {{"note", "password: hunter22"}};
  r->Redact(s);
  EXPECT_EQ(s.action, "curl -u admin:pa55w0rd https://admin:[REDACTED:url_password]@example.com");
  EXPECT_EQ(s.parameters["headers"]["x-internal-auth"], "[REDACTED:masked_key]");
  EXPECT_EQ(s.parameters["headers"]["accept"], "json");
  EXPECT_EQ(s.parameters["env"][0], "AWS_ACCESS_KEY_ID=[REDACTED:aws_access_key]");
  EXPECT_EQ(s.observation, "{\"error\":\"bad token\",\"token\":\"[REDACTED:github_token]\"}");
  EXPECT_EQ(s.metadata["note"], "password: [REDACTED:secret_assignment]");
  EXPECT_EQ(s.metadata["redacted"],
            "aws_access_key:1, github_token:1, masked_key:1, secret_assignment:1, url_password:1");
  // Redacted again (an export imported), it is as it was: markers are never secrets.
  ExecutionStep again = s;
  r->Redact(again);
  EXPECT_EQ(to_json(again), to_json(s));
}

TEST(Redact, DetectorsTurnOffAndPatternsOfTheUsersOwnAdd) {
  RedactionOptions options;
  options.disabled = {"jwt", "secret_assignment"};
  options.patterns = {{"employee_id", R"(\bEMP-[0-9]{6}\b)"}};
  const auto r = ValueOf(Redactor::Make(options));
  EXPECT_EQ(Redacted(*r, "EMP-123456 has password=hunter22"),
            std::pair(std::string("[REDACTED:employee_id] has password=hunter22"),
                      std::string("employee_id:1")));
  RedactionOptions off;
  off.enabled = false;
  EXPECT_EQ(Redacted(*ValueOf(Redactor::Make(off)), "AKIAIOSFODNN7EXAMPLE").second, "");

  auto why = [](RedactionOptions o) { return Redactor::Make(o).status().message(); };
  RedactionOptions bad;
  bad.disabled = {"jwts"};
  EXPECT_EQ(why(bad).rfind("redaction.disabled names an unknown detector \"jwts\" (known: "
                           "private_key, ",
                           0),
            0u);
  bad = {};
  bad.patterns = {{"x", "(unclosed"}};
  EXPECT_EQ(why(bad), "redaction.patterns: \"x\" is not a valid RE2 pattern: missing ): (unclosed");
  bad.patterns = {{"Bad Name", "x"}};
  EXPECT_EQ(
      why(bad),
      "redaction.patterns: a pattern's name must be 1 to 64 of a-z, 0-9 and _, got \"Bad Name\"");
  bad = {};
  bad.masked_keys = {""};
  EXPECT_EQ(why(bad), "redaction.masked_keys contains an empty key");
}

TEST(Redact, AnEpisodesTaskMetadataAndOutcome) {
  const auto r = Default();
  Episode e;
  e.task = "rotate the key AKIAIOSFODNN7EXAMPLE";
  e.metadata = {{"repo", "https://bot:ghp_16C7e42F292c6912E7710c838347Ae178B4a@github.com/x"}};
  e.outcome = Outcome{};
  e.outcome->summary = "used password=hunter22";
  r->Redact(e);
  EXPECT_EQ(e.task, "rotate the key [REDACTED:aws_access_key]");
  EXPECT_EQ(e.outcome->summary, "used password=[REDACTED:secret_assignment]");
  EXPECT_EQ(e.metadata["redacted"], "aws_access_key:1, github_token:1, secret_assignment:1");
  EXPECT_EQ(e.metadata["repo"], "https://bot:[REDACTED:github_token]@github.com/x");
}

TEST(Redact, AHostileInputIsLinear) {
  // Patterns that would backtrack in a backtracking engine take linear time in RE2.
  const auto r = Default();
  std::string text = "password=" + std::string(2'000'000, 'a') + "!";
  text += std::string(1'000'000, '-') + "BEGIN";
  const auto start = std::chrono::steady_clock::now();
  RedactionCounts counts;
  r->Redact(text, counts);
  EXPECT_EQ(counts["secret_assignment"], 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

}  // namespace
}  // namespace engram
