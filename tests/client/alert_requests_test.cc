#include "client/alert_requests.h"

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "client/commands.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

ParsedCommandLine MustParse(std::vector<std::string> args) {
  auto parsed = ParseCommandLine(args, CommandSpecs());
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : ParsedCommandLine();
}

// Files and environment variables for the secret tests.
struct World {
  std::map<std::string, std::string> files;
  std::map<std::string, std::string> env;

  FileReader reader() const {
    return [this](const std::string& path) -> absl::StatusOr<std::string> {
      auto it = files.find(path);
      if (it == files.end()) {
        return absl::NotFoundError(path + ": No such file or directory");
      }
      return it->second;
    };
  }
  EnvLookup get_env() const {
    return [this](absl::string_view name) -> std::optional<std::string> {
      auto it = env.find(std::string(name));
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
  }
};

absl::StatusOr<v1::CreateAlertChannelRequest> BuildChannel(
    std::vector<std::string> args, const World& world = World()) {
  args.insert(args.begin(), {"alerts", "add-channel"});
  return BuildCreateAlertChannelRequest(MustParse(args), world.reader(),
                                        world.get_env());
}

absl::StatusOr<v1::CreateAlertRuleRequest> BuildRule(
    std::vector<std::string> args) {
  args.insert(args.begin(), {"alerts", "add-rule"});
  return BuildCreateAlertRuleRequest(MustParse(args));
}

// --- Values ---

TEST(ParseThresholdTest, PercentagesAndFractions) {
  EXPECT_DOUBLE_EQ(*ParseThreshold("0.3%"), 0.003);
  EXPECT_DOUBLE_EQ(*ParseThreshold("5%"), 0.05);
  EXPECT_DOUBLE_EQ(*ParseThreshold("100%"), 1);
  EXPECT_DOUBLE_EQ(*ParseThreshold("0.003"), 0.003);
  EXPECT_DOUBLE_EQ(*ParseThreshold(".05"), 0.05);
  EXPECT_DOUBLE_EQ(*ParseThreshold("1"), 1);
}

TEST(ParseThresholdTest, Rejects) {
  for (const char* bad : {"", "%", "0", "0%", "-0.1", "-1%", "101%", "abc",
                          "0.3%%", "nan", "inf", "1.5x"}) {
    EXPECT_FALSE(ParseThreshold(bad).ok()) << bad;
  }
  // A bare number above 1 is most likely a percentage without its sign.
  absl::StatusOr<double> five = ParseThreshold("5");
  ASSERT_FALSE(five.ok());
  EXPECT_THAT(five.status().message(), HasSubstr("5%"));
}

TEST(FormatThresholdTest, AsPercentage) {
  EXPECT_EQ(FormatThreshold(0.003), "0.3%");
  EXPECT_EQ(FormatThreshold(0.05), "5%");
  EXPECT_EQ(FormatThreshold(0.001), "0.1%");
  EXPECT_EQ(FormatThreshold(1), "100%");
}

TEST(ParseDurationSecondsTest, Forms) {
  EXPECT_EQ(*ParseDurationSeconds("window", "90s"), 90);
  EXPECT_EQ(*ParseDurationSeconds("window", "15m"), 900);
  EXPECT_EQ(*ParseDurationSeconds("window", "1h"), 3600);
  EXPECT_EQ(*ParseDurationSeconds("window", "2d"), 172800);
  EXPECT_EQ(*ParseDurationSeconds("window", "1h30m"), 5400);
  EXPECT_EQ(*ParseDurationSeconds("window", "1.5m"), 90);
}

TEST(ParseDurationSecondsTest, RejectsAndNamesTheFlag) {
  for (const char* bad : {"", "15", "soon", "-1h", "0s", "1500ms"}) {
    absl::StatusOr<int64_t> seconds = ParseDurationSeconds("cooldown", bad);
    ASSERT_FALSE(seconds.ok()) << bad;
    EXPECT_THAT(seconds.status().message(), HasSubstr("--cooldown")) << bad;
  }
}

TEST(FormatSecondsTest, ShortestUnits) {
  EXPECT_EQ(FormatSeconds(90), "1m30s");
  EXPECT_EQ(FormatSeconds(900), "15m");
  EXPECT_EQ(FormatSeconds(3600), "1h");
  EXPECT_EQ(FormatSeconds(5400), "1h30m");
  EXPECT_EQ(FormatSeconds(172800), "2d");
  EXPECT_EQ(FormatSeconds(86400 + 1), "1d1s");
  EXPECT_EQ(FormatSeconds(0), "-");
  // What is printed parses back.
  for (int64_t s : {10, 90, 900, 3600, 5400, 90061, 604800}) {
    EXPECT_EQ(*ParseDurationSeconds("x", FormatSeconds(s)), s) << s;
  }
}

TEST(AlertKindTest, NamesRoundTrip) {
  EXPECT_EQ(*ParseAlertKind("message-failed", false),
            v1::ALERT_KIND_MESSAGE_FAILED);
  EXPECT_EQ(*ParseAlertKind("hard-bounce", false), v1::ALERT_KIND_HARD_BOUNCE);
  EXPECT_EQ(*ParseAlertKind("complaint", false), v1::ALERT_KIND_COMPLAINT);
  EXPECT_EQ(*ParseAlertKind("bounce-rate", false), v1::ALERT_KIND_BOUNCE_RATE);
  EXPECT_EQ(*ParseAlertKind("complaint-rate", false),
            v1::ALERT_KIND_COMPLAINT_RATE);
  EXPECT_EQ(*ParseAlertKind("queue-age", false), v1::ALERT_KIND_QUEUE_AGE);
  EXPECT_EQ(*ParseAlertKind("domain-auth", false),
            v1::ALERT_KIND_DOMAIN_AUTH_REGRESSED);
  // Underscores, case and the proto's longer name.
  EXPECT_EQ(*ParseAlertKind("Bounce_Rate", false), v1::ALERT_KIND_BOUNCE_RATE);
  EXPECT_EQ(*ParseAlertKind("domain_auth_regressed", false),
            v1::ALERT_KIND_DOMAIN_AUTH_REGRESSED);
  for (int kind = 1; kind <= 8; ++kind) {
    EXPECT_EQ(*ParseAlertKind(AlertKindCliName(kind), true), kind);
  }
  EXPECT_EQ(AlertKindCliName(v1::ALERT_KIND_DOMAIN_AUTH_REGRESSED),
            "domain-auth");
  EXPECT_EQ(AlertKindCliName(99), "99");
}

TEST(AlertKindTest, TestOnlyWhereAllowed) {
  EXPECT_EQ(*ParseAlertKind("test", true), v1::ALERT_KIND_TEST);
  absl::StatusOr<v1::AlertKind> test = ParseAlertKind("test", false);
  ASSERT_FALSE(test.ok());
  EXPECT_THAT(test.status().message(), Not(HasSubstr(", test")));
  absl::StatusOr<v1::AlertKind> bogus = ParseAlertKind("bounces", false);
  ASSERT_FALSE(bogus.ok());
  EXPECT_THAT(bogus.status().message(),
              HasSubstr("message-failed, hard-bounce, complaint, bounce-rate, "
                        "complaint-rate, queue-age, domain-auth"));
  EXPECT_FALSE(ParseAlertKind("unspecified", true).ok());
}

TEST(TrimOneTrailingNewlineTest, OnlyOne) {
  EXPECT_EQ(TrimOneTrailingNewline("abc\n"), "abc");
  EXPECT_EQ(TrimOneTrailingNewline("abc\r\n"), "abc");
  EXPECT_EQ(TrimOneTrailingNewline("abc\n\n"), "abc\n");
  EXPECT_EQ(TrimOneTrailingNewline("abc "), "abc ");
  EXPECT_EQ(TrimOneTrailingNewline("abc"), "abc");
  EXPECT_EQ(TrimOneTrailingNewline("\n"), "");
  EXPECT_EQ(TrimOneTrailingNewline(""), "");
}

TEST(AlertNamesTest, Prefixes) {
  EXPECT_EQ(AlertChannelName("ops"), "alertChannels/ops");
  EXPECT_EQ(AlertChannelName("alertChannels/ops"), "alertChannels/ops");
  EXPECT_EQ(BareAlertChannelName("alertChannels/ops"), "ops");
  EXPECT_EQ(BareAlertChannelName("ops"), "ops");
  EXPECT_EQ(AlertRuleName("r_1"), "alertRules/r_1");
  EXPECT_EQ(AlertRuleName("alertRules/r_1"), "alertRules/r_1");
  EXPECT_EQ(BareAlertName("alertRules/r_1"), "r_1");
  EXPECT_EQ(BareAlertName("alerts/42"), "42");
}

// --- add-channel ---

TEST(AddChannelTest, Slack) {
  auto request = BuildChannel({"ops", "--type", "slack", "--url",
                               "https://hooks.slack.com/services/T/B/x"});
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->channel().name(), "alertChannels/ops");
  EXPECT_EQ(request->channel().type(), v1::ALERT_CHANNEL_TYPE_SLACK);
  EXPECT_EQ(request->channel().url(), "https://hooks.slack.com/services/T/B/x");
  EXPECT_EQ(request->channel().secret(), "");
}

TEST(AddChannelTest, WebhookSecretFromFileWithoutItsNewline) {
  World world;
  world.files["/k"] = "0123456789abcdef0123\n";
  world.env[std::string(kAlertSecretEnv)] = "from-the-environment";
  auto request = BuildChannel({"hook", "--type", "webhook", "--url",
                               "https://example.com/h", "--secret-file", "/k"},
                              world);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->channel().secret(), "0123456789abcdef0123");
}

TEST(AddChannelTest, WebhookSecretFromTheEnvironment) {
  World world;
  world.env[std::string(kAlertSecretEnv)] = "from-the-environment";
  auto request = BuildChannel(
      {"hook", "--type", "webhook", "--url", "https://example.com/h"}, world);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->channel().secret(), "from-the-environment");
}

TEST(AddChannelTest, WebhookSecretErrors) {
  World world;
  world.files["/empty"] = "\n";
  world.env[std::string(kAlertSecretEnv)] = "";  // Empty counts as unset.
  const std::vector<std::string> base = {"hook", "--type", "webhook", "--url",
                                         "https://example.com/h"};
  auto missing = BuildChannel(base, world);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(
      missing.status().message(),
      HasSubstr("needs --secret-file FILE (or $DELIVERCTL_ALERT_SECRET)"));

  std::vector<std::string> unreadable = base;
  unreadable.insert(unreadable.end(), {"--secret-file", "/nope"});
  auto not_read = BuildChannel(unreadable, world);
  ASSERT_FALSE(not_read.ok());
  EXPECT_THAT(not_read.status().message(),
              HasSubstr("cannot read --secret-file /nope"));

  std::vector<std::string> empty = base;
  empty.insert(empty.end(), {"--secret-file", "/empty"});
  auto blank = BuildChannel(empty, world);
  ASSERT_FALSE(blank.ok());
  EXPECT_THAT(blank.status().message(), HasSubstr("is empty"));
}

TEST(AddChannelTest, EmailRecipientsRepeatedOrCommaSeparated) {
  auto request = BuildChannel({"oncall", "--type", "email", "--email-to",
                               "a@example.com,b@example.com", "--email-to",
                               "c@example.com"});
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_THAT(request->channel().email_to(),
              ElementsAre("a@example.com", "b@example.com", "c@example.com"));
  EXPECT_EQ(request->channel().url(), "");
}

TEST(AddChannelTest, Sms) {
  World world;
  world.files["/token"] = "tok123\r\n";
  auto request = BuildChannel(
      {"pager", "--type", "sms", "--sms-base-url", "https://sms.example",
       "--sms-account-sid", "AC1", "--sms-auth-token-file", "/token",
       "--sms-from", "+15550000000", "--sms-to", "+15551111111,+15552222222"},
      world);
  ASSERT_TRUE(request.ok()) << request.status();
  const v1::AlertChannel& c = request->channel();
  EXPECT_EQ(c.type(), v1::ALERT_CHANNEL_TYPE_SMS);
  EXPECT_EQ(c.sms_base_url(), "https://sms.example");
  EXPECT_EQ(c.sms_account_sid(), "AC1");
  EXPECT_EQ(c.sms_auth_token(), "tok123");
  EXPECT_EQ(c.sms_from(), "+15550000000");
  EXPECT_THAT(c.sms_to(), ElementsAre("+15551111111", "+15552222222"));
}

TEST(AddChannelTest, SmsTokenFromTheEnvironment) {
  World world;
  world.env[std::string(kSmsAuthTokenEnv)] = "envtok";
  auto request =
      BuildChannel({"pager", "--type", "sms", "--sms-account-sid", "AC1",
                    "--sms-from", "+15550000000", "--sms-to", "+15551111111"},
                   world);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->channel().sms_auth_token(), "envtok");
  EXPECT_EQ(request->channel().sms_base_url(), "");  // The server's default.
}

TEST(AddChannelTest, UsageErrors) {
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  World world;
  world.files["/k"] = "0123456789abcdef";
  for (const Case& c : std::vector<Case>{
           {{"x", "--type", "pigeon"},
            "unknown type \"pigeon\" (one of: slack"},
           {{"x", "--type", "slack"}, "--type slack needs --url"},
           {{"x", "--type", "email"}, "--type email needs --email-to"},
           {{"x", "--type", "email", "--email-to", "a@x", "--url", "https://u"},
            "--url is only for --type slack, discord, teams and webhook"},
           {{"x", "--type", "slack", "--url", "https://u", "--secret-file",
             "/k"},
            "--secret-file is only for --type webhook"},
           {{"x", "--type", "teams", "--url", "https://u", "--email-to", "a@x"},
            "--email-to is only for --type email"},
           {{"x", "--type", "discord", "--url", "https://u", "--sms-to", "+1"},
            "--sms-to is only for --type sms"},
           {{"x", "--type", "sms", "--sms-from", "+1", "--sms-to", "+2"},
            "--type sms needs --sms-account-sid"},
           {{"x", "--type", "sms", "--sms-account-sid", "AC", "--sms-from",
             "+1", "--sms-to", "+2"},
            "needs --sms-auth-token-file FILE (or $DELIVERCTL_SMS_AUTH_TOKEN)"},
       }) {
    auto request = BuildChannel(c.args, world);
    ASSERT_FALSE(request.ok()) << c.error;
    EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(request.status().message(), HasSubstr(c.error));
  }
}

// --- add-rule ---

TEST(AddRuleTest, ComplaintRate) {
  auto request = BuildRule(
      {"complaint-rate", "--channel", "ops,alertChannels/mail", "--channel",
       "pager", "--severity", "critical", "--threshold", "0.1%", "--window",
       "24h", "--min-volume", "500", "--cooldown", "30m"});
  ASSERT_TRUE(request.ok()) << request.status();
  const v1::AlertRule& rule = request->rule();
  EXPECT_EQ(rule.kind(), v1::ALERT_KIND_COMPLAINT_RATE);
  EXPECT_THAT(rule.channels(),
              ElementsAre("alertChannels/ops", "alertChannels/mail",
                          "alertChannels/pager"));
  EXPECT_EQ(rule.severity(), v1::ALERT_SEVERITY_CRITICAL);
  EXPECT_DOUBLE_EQ(rule.threshold(), 0.001);
  EXPECT_EQ(rule.window_seconds(), 86400);
  EXPECT_EQ(rule.min_volume(), 500);
  EXPECT_EQ(rule.cooldown_seconds(), 1800);
  EXPECT_EQ(rule.max_age_seconds(), 0);
}

TEST(AddRuleTest, DefaultsAreLeftToTheServer) {
  auto request = BuildRule({"message-failed", "--channel", "ops"});
  ASSERT_TRUE(request.ok()) << request.status();
  const v1::AlertRule& rule = request->rule();
  EXPECT_EQ(rule.kind(), v1::ALERT_KIND_MESSAGE_FAILED);
  EXPECT_EQ(rule.severity(), v1::ALERT_SEVERITY_UNSPECIFIED);
  EXPECT_EQ(rule.threshold(), 0);
  EXPECT_EQ(rule.cooldown_seconds(), 0);
}

TEST(AddRuleTest, QueueAgeAndDomainAuth) {
  auto queue = BuildRule({"queue-age", "--channel", "ops", "--max-age", "45m"});
  ASSERT_TRUE(queue.ok()) << queue.status();
  EXPECT_EQ(queue->rule().max_age_seconds(), 2700);

  auto domains = BuildRule({"domain-auth", "--channel", "ops", "--domain",
                            "a.example,b.example", "--domain", "c.example",
                            "--interval", "2h"});
  ASSERT_TRUE(domains.ok()) << domains.status();
  EXPECT_EQ(domains->rule().kind(), v1::ALERT_KIND_DOMAIN_AUTH_REGRESSED);
  EXPECT_THAT(domains->rule().domains(),
              ElementsAre("a.example", "b.example", "c.example"));
  EXPECT_EQ(domains->rule().check_interval_seconds(), 7200);
}

TEST(AddRuleTest, UsageErrors) {
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {{"bounces", "--channel", "ops"}, "unknown alert kind \"bounces\""},
           {{"test", "--channel", "ops"}, "unknown alert kind \"test\""},
           {{"bounce-rate", "--channel", "ops", "--severity", "high"},
            "unknown severity \"high\" (one of: warning, critical)"},
           {{"bounce-rate", "--channel", "ops", "--threshold", "5"},
            "more than 1"},
           {{"bounce-rate", "--channel", "ops", "--window", "1"},
            "--window: invalid duration"},
           {{"bounce-rate", "--channel", "ops", "--min-volume", "0"},
            "--min-volume needs a whole number"},
           {{"hard-bounce", "--channel", "ops", "--threshold", "1%"},
            "--threshold is only for bounce-rate and complaint-rate rules"},
           {{"queue-age", "--channel", "ops", "--window", "1h"},
            "--window is only for bounce-rate"},
           {{"complaint", "--channel", "ops", "--max-age", "1h"},
            "--max-age is only for queue-age rules"},
           {{"queue-age", "--channel", "ops", "--domain", "a.example"},
            "--domain is only for domain-auth rules"},
           {{"bounce-rate", "--channel", "ops", "--interval", "1h"},
            "--interval is only for domain-auth rules"},
           {{"domain-auth", "--channel", "ops"},
            "a domain-auth rule needs --domain"},
           {{"complaint", "--channel", "ops", "--cooldown", "soon"},
            "--cooldown: invalid duration"},
       }) {
    auto request = BuildRule(c.args);
    ASSERT_FALSE(request.ok()) << c.error;
    EXPECT_THAT(request.status().message(), HasSubstr(c.error));
  }
}

// --- list ---

TEST(ListAlertsTest, Filters) {
  auto request = BuildListAlertsRequest(
      MustParse({"alerts", "list", "--channel", "ops", "--kind", "test",
                 "--limit", "500", "--page-token", "alerts/9"}));
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->channel(), "alertChannels/ops");
  EXPECT_EQ(request->kind(), v1::ALERT_KIND_TEST);
  EXPECT_EQ(request->page_size(), 500);
  EXPECT_EQ(request->page_token(), "alerts/9");

  auto none = BuildListAlertsRequest(MustParse({"alerts", "list"}));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->channel(), "");
  EXPECT_EQ(none->kind(), v1::ALERT_KIND_UNSPECIFIED);
  EXPECT_EQ(none->page_size(), 0);

  EXPECT_FALSE(
      BuildListAlertsRequest(MustParse({"alerts", "list", "--limit", "501"}))
          .ok());
  EXPECT_FALSE(
      BuildListAlertsRequest(MustParse({"alerts", "list", "--kind", "x"}))
          .ok());
}

// --- Text forms ---

TEST(AlertTextTest, RuleParameters) {
  v1::AlertRule rate;
  rate.set_kind(v1::ALERT_KIND_COMPLAINT_RATE);
  rate.set_threshold(0.003);
  rate.set_window_seconds(3600);
  rate.set_min_volume(100);
  EXPECT_EQ(AlertRuleParametersText(rate),
            "threshold=0.3% window=1h min-volume=100");
  v1::AlertRule domains;
  domains.add_domains("a.example");
  domains.add_domains("b.example");
  domains.set_check_interval_seconds(3600);
  EXPECT_EQ(AlertRuleParametersText(domains),
            "domains=a.example,b.example interval=1h");
  v1::AlertRule queue;
  queue.set_max_age_seconds(1800);
  EXPECT_EQ(AlertRuleParametersText(queue), "max-age=30m");
  EXPECT_EQ(AlertRuleParametersText(v1::AlertRule()), "-");
}

TEST(AlertTextTest, ChannelDestination) {
  v1::AlertChannel slack;
  slack.set_url("https://hooks.slack.com/…");
  EXPECT_EQ(AlertChannelDestinationText(slack), "https://hooks.slack.com/…");
  v1::AlertChannel email;
  email.add_email_to("a@example.com");
  email.add_email_to("b@example.com");
  EXPECT_EQ(AlertChannelDestinationText(email), "a@example.com, b@example.com");
  v1::AlertChannel sms;
  sms.add_sms_to("+15551111111");
  EXPECT_EQ(AlertChannelDestinationText(sms), "+15551111111");
  EXPECT_EQ(AlertChannelDestinationText(v1::AlertChannel()), "-");
}

}  // namespace
}  // namespace deliverd::client
