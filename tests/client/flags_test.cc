#include "client/flags.h"

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "client/commands.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A small command table, independent of deliverctl's real one, so these
// tests pin the parser's rules rather than today's commands.
std::vector<CommandSpec> TestCommands() {
  CommandSpec send;
  send.name = "send";
  send.flags = {
      {"from", FlagKind::kValue, "ADDR", "", /*required=*/true},
      {"to", FlagKind::kRepeated, "ADDR", "", false, /*split_commas=*/true},
      {"tag", FlagKind::kRepeated, "TAG", ""},
      {"subject", FlagKind::kValue, "TEXT", ""},
      {"dry", FlagKind::kBool, "", ""},
  };
  CommandSpec status;
  status.name = "status";
  status.arguments = "ID";
  status.min_positionals = 1;
  status.max_positionals = 1;
  CommandSpec list;
  list.name = "things list";
  list.max_positionals = 0;
  list.flags = {{"all", FlagKind::kBool, "", ""}};
  CommandSpec add;
  add.name = "things add";
  add.arguments = "ADDR...";
  add.min_positionals = 1;
  add.max_positionals = -1;
  return {send, status, list, add};
}

absl::StatusOr<ParsedCommandLine> Parse(std::vector<std::string> args) {
  static const auto* const commands =
      new std::vector<CommandSpec>(TestCommands());
  return ParseCommandLine(args, *commands);
}

TEST(FlagsTest, GlobalFlagsBeforeTheCommand) {
  auto parsed =
      Parse({"--server", "h:1", "--json", "--api-key=k", "status", "m_1"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->command->name, "status");
  EXPECT_EQ(parsed->global.server, "h:1");
  EXPECT_EQ(parsed->global.api_key, "k");
  EXPECT_TRUE(parsed->global.json);
  EXPECT_THAT(parsed->positionals, ElementsAre("m_1"));
}

TEST(FlagsTest, GlobalFlagsAfterTheCommandAndBetweenArguments) {
  auto parsed = Parse({"status", "--timeout", "2.5", "m_1", "--server=h:2",
                       "--local", "--dns", "127.0.0.1:53"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->global.server, "h:2");
  EXPECT_EQ(parsed->global.timeout, absl::Milliseconds(2500));
  EXPECT_TRUE(parsed->global.local);
  EXPECT_EQ(parsed->global.dns, "127.0.0.1:53");
  EXPECT_THAT(parsed->positionals, ElementsAre("m_1"));
}

TEST(FlagsTest, EqualsAndSpaceFormsAreEquivalent) {
  auto spaced = Parse({"send", "--from", "a@x", "--subject", "Hi there"});
  auto joined = Parse({"send", "--from=a@x", "--subject=Hi there"});
  ASSERT_TRUE(spaced.ok()) << spaced.status();
  ASSERT_TRUE(joined.ok()) << joined.status();
  EXPECT_EQ(spaced->values, joined->values);
  EXPECT_EQ(joined->Get("subject"), "Hi there");
}

TEST(FlagsTest, EqualsFormKeepsLaterEqualsSignsAndAllowsEmptyValues) {
  auto parsed = Parse({"send", "--from=a=b@x", "--subject="});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->Get("from"), "a=b@x");
  EXPECT_EQ(parsed->Get("subject"), "");
  EXPECT_TRUE(parsed->Has("subject"));
}

TEST(FlagsTest, RepeatedFlagsCollectInOrder) {
  auto parsed = Parse(
      {"send", "--from", "a@x", "--tag", "t1", "--tag=t2", "--tag", "t3"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_THAT(parsed->GetAll("tag"), ElementsAre("t1", "t2", "t3"));
  EXPECT_THAT(parsed->GetAll("to"), IsEmpty());
}

TEST(FlagsTest, CommaListsSplitAndTrim) {
  auto parsed =
      Parse({"send", "--from", "a@x", "--to", "b@x, c@x,", "--to", "d@x"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_THAT(parsed->GetAll("to"), ElementsAre("b@x", "c@x", "d@x"));
}

TEST(FlagsTest, FlagsWithoutCommaSplittingKeepCommas) {
  auto parsed = Parse({"send", "--from", "a@x", "--tag", "a,b"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_THAT(parsed->GetAll("tag"), ElementsAre("a,b"));
}

TEST(FlagsTest, BooleanFlags) {
  auto parsed = Parse({"send", "--from", "a@x", "--dry"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->GetBool("dry"));
  parsed = Parse({"send", "--from", "a@x", "--dry=false", "--json=true"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_FALSE(parsed->GetBool("dry"));
  EXPECT_TRUE(parsed->global.json);
  EXPECT_FALSE(Parse({"send", "--from", "a@x", "--dry=maybe"}).ok());
}

TEST(FlagsTest, UnknownFlagIsAnErrorNamingTheCommand) {
  auto parsed = Parse({"send", "--from", "a@x", "--bogus"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(parsed.status()));
  EXPECT_THAT(parsed.status().message(),
              HasSubstr("send: unknown flag --bogus"));
}

TEST(FlagsTest, SubcommandFlagBeforeTheCommandIsUnknown) {
  EXPECT_FALSE(Parse({"--from", "a@x", "send"}).ok());
}

TEST(FlagsTest, SingleDashFlagsOtherThanHelpAreUnknown) {
  EXPECT_FALSE(Parse({"status", "-x", "m_1"}).ok());
  auto parsed = Parse({"status", "-h"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->global.help);
}

TEST(FlagsTest, MissingValueAtTheEnd) {
  auto parsed = Parse({"send", "--from"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("--from needs a value"));
}

TEST(FlagsTest, AFlagWhereAValueShouldBeIsAMissingValue) {
  auto parsed = Parse({"send", "--from", "--to", "b@x"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("--from needs a value"));
  // The '=' form takes such values deliberately.
  parsed = Parse({"send", "--from=a@x", "--subject=--not-a-flag"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->Get("subject"), "--not-a-flag");
}

TEST(FlagsTest, GlobalValueFlagsNeedValuesToo) {
  EXPECT_FALSE(Parse({"status", "m_1", "--server"}).ok());
  EXPECT_FALSE(Parse({"--timeout", "status", "m_1"}).ok());
  EXPECT_FALSE(Parse({"--timeout=-1", "status", "m_1"}).ok());
}

TEST(FlagsTest, SingleValuedFlagGivenTwiceIsAnError) {
  auto parsed = Parse({"send", "--from", "a@x", "--from", "b@x"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("more than once"));
  EXPECT_FALSE(Parse({"--server", "a:1", "status", "m", "--server=b:1"}).ok());
}

TEST(FlagsTest, RequiredFlag) {
  auto parsed = Parse({"send", "--to", "b@x"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("--from is required"));
}

TEST(FlagsTest, PositionalCounts) {
  auto missing = Parse({"status"});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("status: missing ID"));
  auto extra = Parse({"status", "a", "b"});
  ASSERT_FALSE(extra.ok());
  EXPECT_THAT(extra.status().message(), HasSubstr("unexpected argument 'b'"));
  auto many = Parse({"things", "add", "a", "b", "c"});
  ASSERT_TRUE(many.ok()) << many.status();
  EXPECT_THAT(many->positionals, ElementsAre("a", "b", "c"));
}

TEST(FlagsTest, HelpSkipsRequiredChecks) {
  auto parsed = Parse({"send", "--help"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->global.help);
  EXPECT_EQ(parsed->command->name, "send");
}

TEST(FlagsTest, DoubleDashEndsFlagsAndDashIsPositional) {
  auto parsed = Parse({"things", "add", "-", "--", "--odd@x", "--all"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_THAT(parsed->positionals, ElementsAre("-", "--odd@x", "--all"));
}

TEST(FlagsTest, TwoLevelCommandsWithGlobalFlagsInBetween) {
  auto parsed = Parse({"things", "--json", "list", "--all"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->command->name, "things list");
  EXPECT_TRUE(parsed->global.json);
  EXPECT_TRUE(parsed->GetBool("all"));
}

TEST(FlagsTest, GroupWithoutSubcommand) {
  auto parsed = Parse({"things"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->command, nullptr);
  EXPECT_EQ(parsed->group, "things");
}

TEST(FlagsTest, UnknownCommands) {
  EXPECT_FALSE(Parse({"bogus"}).ok());
  auto parsed = Parse({"things", "bogus"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("'things bogus'"));
}

TEST(FlagsTest, NoArguments) {
  auto parsed = Parse({});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->command, nullptr);
  EXPECT_TRUE(parsed->group.empty());
}

TEST(FlagsTest, SplitCommaList) {
  EXPECT_THAT(SplitCommaList(" a , b,,c ,"), ElementsAre("a", "b", "c"));
  EXPECT_THAT(SplitCommaList(",,"), IsEmpty());
}

// The same rules hold with deliverctl's real command table.
TEST(FlagsTest, RealSendCommandLine) {
  auto parsed = ParseCommandLine(
      {"send", "--from", "a@x", "--to", "b@x,c@x", "--subject", "S", "--text",
       "T", "--server", "h:1", "--meta", "k=v", "--meta=k2=v2", "--json"},
      CommandSpecs());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->command->name, "send");
  EXPECT_THAT(parsed->GetAll("to"), ElementsAre("b@x", "c@x"));
  EXPECT_THAT(parsed->GetAll("meta"), ElementsAre("k=v", "k2=v2"));
  EXPECT_EQ(parsed->global.server, "h:1");
  EXPECT_TRUE(parsed->global.json);
}

TEST(FlagsTest, RealSuppressionsCommandLine) {
  auto parsed =
      ParseCommandLine({"--api-key", "k", "suppressions", "add", "x@y",
                        "--reason", "hard_bounce", "--expires=30d"},
                       CommandSpecs());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->command->name, "suppressions add");
  EXPECT_THAT(parsed->positionals, ElementsAre("x@y"));
  EXPECT_EQ(parsed->Get("expires"), "30d");
}

}  // namespace
}  // namespace deliverd::client
