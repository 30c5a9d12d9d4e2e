// Whole command lines through RunDeliverctl, without a server: help, usage
// errors and their exit statuses.

#include "client/commands.h"

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::client {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

struct Result {
  int exit_code;
  std::string out;
  std::string err;
};

Result RunCli(std::vector<std::string> args) {
  Environment env;
  env.get_env = [](absl::string_view) { return std::nullopt; };
  env.read_file = [](const std::string& path) -> absl::StatusOr<std::string> {
    return absl::NotFoundError(path);
  };
  std::istringstream in;
  std::ostringstream out, err;
  const int code = RunDeliverctl(args, env, in, out, err);
  return {code, out.str(), err.str()};
}

int LineCount(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

TEST(CommandsTest, HelpForms) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"help"}, {"--help"}, {"-h"}}) {
    const Result r = RunCli(args);
    EXPECT_EQ(r.exit_code, kExitOk);
    EXPECT_THAT(r.out, HasSubstr("Usage: deliverctl"));
    EXPECT_THAT(r.out, HasSubstr("suppressions check"));
    EXPECT_THAT(r.err, IsEmpty());
  }
}

TEST(CommandsTest, HelpForACommand) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"help", "send"}, {"send", "--help"}, {"--help", "send"}}) {
    const Result r = RunCli(args);
    EXPECT_EQ(r.exit_code, kExitOk);
    EXPECT_THAT(r.out, StartsWith("Usage: deliverctl send [flags]"));
    EXPECT_THAT(r.out, HasSubstr("--text-file FILE"));
  }
  const Result nested = RunCli({"help", "suppressions", "remove"});
  EXPECT_EQ(nested.exit_code, kExitOk);
  EXPECT_THAT(nested.out, HasSubstr("--reason TEXT"));
  const Result group = RunCli({"suppressions", "--help"});
  EXPECT_EQ(group.exit_code, kExitOk);
  EXPECT_THAT(group.out, HasSubstr("suppressions list"));
  const Result alerts = RunCli({"help", "alerts"});
  EXPECT_EQ(alerts.exit_code, kExitOk);
  EXPECT_THAT(alerts.out, HasSubstr("alerts add-rule"));
  const Result add_rule = RunCli({"alerts", "add-rule", "--help"});
  EXPECT_EQ(add_rule.exit_code, kExitOk);
  EXPECT_THAT(add_rule.out, HasSubstr("--threshold RATE"));
  EXPECT_THAT(add_rule.out, HasSubstr("domain-auth"));
}

TEST(CommandsTest, HelpForAnUnknownCommand) {
  const Result r = RunCli({"help", "bogus"});
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_EQ(LineCount(r.err), 1);
}

TEST(CommandsTest, EveryCommandHasHelp) {
  for (const CommandSpec& spec : CommandSpecs()) {
    const Result r = RunCli({"help", spec.name});
    EXPECT_EQ(r.exit_code, kExitOk) << spec.name;
  }
}

struct UsageCase {
  std::vector<std::string> args;
  std::string error;
};

class UsageErrorTest : public ::testing::TestWithParam<UsageCase> {};

// Each case must fail before any connection attempt (no server runs here):
// exit 2 and exactly one line on stderr.
TEST_P(UsageErrorTest, ExitsTwoWithOneLine) {
  const Result r = RunCli(GetParam().args);
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_EQ(LineCount(r.err), 1) << r.err;
  EXPECT_THAT(r.err, StartsWith("deliverctl: "));
  EXPECT_THAT(r.err, HasSubstr(GetParam().error));
  EXPECT_THAT(r.out, IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, UsageErrorTest,
    ::testing::Values(
        UsageCase{{}, "missing command"},
        UsageCase{{"bogus"}, "unknown command 'bogus'"},
        UsageCase{{"suppressions"}, "missing command (list, add"},
        UsageCase{{"log", "--bogus"}, "log: unknown flag --bogus"},
        UsageCase{{"log", "--limit"}, "--limit needs a value"},
        UsageCase{{"status"}, "status: missing ID"},
        UsageCase{{"send", "--from", "a@x", "--to", "b@x", "--subject", "s",
                   "--text", "t", "--meta", "nokey"},
                  "send: --meta needs KEY=VALUE"},
        UsageCase{{"send", "--from", "a@x", "--to", "b@x", "--subject", "s",
                   "--text-file", "/nonexistent"},
                  "cannot read --text-file"},
        UsageCase{{"status", "m_1", "--local"},
                  "status: --local is not supported"},
        UsageCase{{"--local", "health"}, "health: --local is not supported"},
        UsageCase{{"health", "--timeout", "soon"}, "invalid timeout"},
        UsageCase{{"health", "--api-key", "a", "--api-key-file", "/k"},
                  "not both"},
        UsageCase{{"health", "--api-key-file", "/k"},
                  "cannot read the API key"},
        UsageCase{{"suppressions", "list", "--csv", "--json"},
                  "--csv or --json"},
        UsageCase{{"log", "--since", "yesterday"}, "--since"},
        UsageCase{{"send-batch", "/nonexistent.jsonl"}, "cannot read"},
        UsageCase{{"alerts"}, "alerts: missing command (channels, add-channel"},
        UsageCase{{"alerts", "add-channel", "x"},
                  "alerts add-channel: --type is required"},
        UsageCase{{"alerts", "add-channel", "x", "--type", "webhook", "--url",
                   "https://example.com/h", "--secret-file", "/nonexistent"},
                  "alerts add-channel: cannot read --secret-file /nonexistent"},
        UsageCase{{"alerts", "add-rule", "bounce-rate"},
                  "alerts add-rule: --channel is required"},
        UsageCase{{"--json", "alerts", "add-rule", "bounces", "--channel", "x"},
                  "alerts add-rule: unknown alert kind \"bounces\""},
        UsageCase{{"alerts", "add-rule", "bounce-rate", "--channel", "x",
                   "--threshold", "5"},
                  "--threshold 5 is more than 1"},
        UsageCase{{"alerts", "add-rule", "queue-age", "--channel", "x",
                   "--max-age", "30"},
                  "--max-age: invalid duration"},
        UsageCase{{"alerts", "test"}, "alerts test: missing CHANNEL"},
        UsageCase{{"alerts", "rm-rule", "r_1", "r_2"},
                  "alerts rm-rule: unexpected argument 'r_2'"},
        UsageCase{{"alerts", "list", "--limit", "0"},
                  "--limit needs a whole number from 1 to 500"}));

}  // namespace
}  // namespace deliverd::client
