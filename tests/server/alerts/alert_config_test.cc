// Validation of alert channels and rules from the API (every error
// INVALID_ARGUMENT starting with the offending field), the defaults a rule
// gets, the API view of a channel (secrets left out, URLs redacted), the
// store rows and back, and the redacted destinations.
#include "server/alerts/alert_config.h"

#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "deliverd/v1/alerts.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::alerts {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int64_t kTenant = 7;
constexpr char kSlackUrl[] = "https://hooks.slack.com/services/T0/B0/secret";
constexpr char kSecret[] = "0123456789abcdef";  // 16 bytes

// Expects INVALID_ARGUMENT whose message starts with "<field>: ".
template <typename T>
void ExpectInvalid(const absl::StatusOr<T>& got, const std::string& field) {
  ASSERT_FALSE(got.ok()) << "expected an error naming " << field;
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument)
      << got.status();
  EXPECT_THAT(std::string(got.status().message()), StartsWith(field + ": "));
}

v1::AlertChannel Slack() {
  v1::AlertChannel proto;
  proto.set_name("alertChannels/ops");
  proto.set_type(v1::ALERT_CHANNEL_TYPE_SLACK);
  proto.set_url(kSlackUrl);
  return proto;
}

v1::AlertChannel Webhook() {
  v1::AlertChannel proto;
  proto.set_name("hooks");
  proto.set_type(v1::ALERT_CHANNEL_TYPE_WEBHOOK);
  proto.set_url("https://receiver.example/alerts?token=abc");
  proto.set_secret(kSecret);
  return proto;
}

v1::AlertChannel Email() {
  v1::AlertChannel proto;
  proto.set_name("mail");
  proto.set_type(v1::ALERT_CHANNEL_TYPE_EMAIL);
  proto.add_email_to("ops@example.com");
  proto.add_email_to("oncall@example.org");
  return proto;
}

v1::AlertChannel Sms() {
  v1::AlertChannel proto;
  proto.set_name("pager");
  proto.set_type(v1::ALERT_CHANNEL_TYPE_SMS);
  proto.set_sms_account_sid("AC0123456789abcdef");
  proto.set_sms_auth_token("token-secret");
  proto.set_sms_from("+15005550006");
  proto.add_sms_to("+14155550123");
  return proto;
}

v1::AlertRule Rule(v1::AlertKind kind) {
  v1::AlertRule proto;
  proto.set_kind(kind);
  proto.add_channels("alertChannels/ops");
  if (kind == v1::ALERT_KIND_DOMAIN_AUTH_REGRESSED) {
    proto.add_domains("example.com");
  }
  return proto;
}

// ParseChannelName

TEST(AlertConfigTest, ParseChannelNameAcceptsBareAndPrefixedNames) {
  EXPECT_EQ(*ParseChannelName("f", "ops"), "ops");
  EXPECT_EQ(*ParseChannelName("f", "alertChannels/ops-2"), "ops-2");
  EXPECT_EQ(*ParseChannelName("f", std::string(63, 'a')), std::string(63, 'a'));
}

TEST(AlertConfigTest, ParseChannelNameRefusesBadNames) {
  ExpectInvalid(ParseChannelName("channel.name", ""), "channel.name");
  ExpectInvalid(ParseChannelName("channel.name", "alertChannels/"),
                "channel.name");
  ExpectInvalid(ParseChannelName("channel.name", std::string(64, 'a')),
                "channel.name");
  ExpectInvalid(ParseChannelName("channel.name", "Ops"), "channel.name");
  ExpectInvalid(ParseChannelName("channel.name", "ops_team"), "channel.name");
  ExpectInvalid(ParseChannelName("x", "ops team"), "x");
  ExpectInvalid(ParseChannelName("x", "alertRules/ops"), "x");
}

// ChannelFromProto: valid channels of each type.

TEST(AlertConfigTest, ValidHttpChannels) {
  const struct {
    v1::AlertChannelType type;
    ChannelType want;
  } kCases[] = {{v1::ALERT_CHANNEL_TYPE_SLACK, ChannelType::kSlack},
                {v1::ALERT_CHANNEL_TYPE_DISCORD, ChannelType::kDiscord},
                {v1::ALERT_CHANNEL_TYPE_TEAMS, ChannelType::kTeams}};
  for (const auto& c : kCases) {
    v1::AlertChannel proto = Slack();
    proto.set_type(c.type);
    absl::StatusOr<ChannelConfig> channel = ChannelFromProto(kTenant, proto);
    ASSERT_TRUE(channel.ok()) << channel.status();
    EXPECT_EQ(channel->tenant_id, kTenant);
    EXPECT_EQ(channel->name, "ops");
    EXPECT_EQ(channel->type, c.want);
    EXPECT_EQ(channel->url, kSlackUrl);
    EXPECT_EQ(channel->secret, "");
    EXPECT_TRUE(channel->email_to.empty());
    EXPECT_TRUE(channel->sms_to.empty());
  }
  v1::AlertChannel http = Slack();
  http.set_url("http://localhost:8080/hook");
  EXPECT_TRUE(ChannelFromProto(kTenant, http).ok());
}

TEST(AlertConfigTest, ValidWebhookChannel) {
  absl::StatusOr<ChannelConfig> channel = ChannelFromProto(kTenant, Webhook());
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(channel->type, ChannelType::kWebhook);
  EXPECT_EQ(channel->name, "hooks");
  EXPECT_EQ(channel->url, "https://receiver.example/alerts?token=abc");
  EXPECT_EQ(channel->secret, kSecret);
}

TEST(AlertConfigTest, ValidEmailChannel) {
  absl::StatusOr<ChannelConfig> channel = ChannelFromProto(kTenant, Email());
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(channel->type, ChannelType::kEmail);
  EXPECT_THAT(channel->email_to,
              ElementsAre("ops@example.com", "oncall@example.org"));
  EXPECT_EQ(channel->url, "");
}

TEST(AlertConfigTest, ValidSmsChannelGetsTheDefaultBaseUrl) {
  absl::StatusOr<ChannelConfig> channel = ChannelFromProto(kTenant, Sms());
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(channel->type, ChannelType::kSms);
  EXPECT_EQ(channel->sms.base_url, "https://api.twilio.com");
  EXPECT_EQ(channel->sms.account_sid, "AC0123456789abcdef");
  EXPECT_EQ(channel->sms.auth_token, "token-secret");
  EXPECT_EQ(channel->sms.from, "+15005550006");
  EXPECT_THAT(channel->sms_to, ElementsAre("+14155550123"));

  v1::AlertChannel custom = Sms();
  custom.set_sms_base_url("http://127.0.0.1:9000");
  channel = ChannelFromProto(kTenant, custom);
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(channel->sms.base_url, "http://127.0.0.1:9000");
}

TEST(AlertConfigTest, CreateTimeIsKept) {
  v1::AlertChannel proto = Slack();
  proto.mutable_create_time()->set_seconds(1700000000);
  proto.mutable_create_time()->set_nanos(5000);
  absl::StatusOr<ChannelConfig> channel = ChannelFromProto(kTenant, proto);
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(channel->create_time,
            absl::FromUnixSeconds(1700000000) + absl::Nanoseconds(5000));
}

// ChannelFromProto: each invalid field.

TEST(AlertConfigTest, ChannelNameAndTypeAreRequired) {
  v1::AlertChannel proto = Slack();
  proto.set_name("");
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.name");
  proto.set_name("Bad Name");
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.name");

  proto = Slack();
  proto.set_type(v1::ALERT_CHANNEL_TYPE_UNSPECIFIED);
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.type");
  proto.set_type(static_cast<v1::AlertChannelType>(42));
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.type");
}

TEST(AlertConfigTest, ChannelUrlMustBeAnHttpUrlWithAHost) {
  for (v1::AlertChannelType type :
       {v1::ALERT_CHANNEL_TYPE_SLACK, v1::ALERT_CHANNEL_TYPE_DISCORD,
        v1::ALERT_CHANNEL_TYPE_TEAMS, v1::ALERT_CHANNEL_TYPE_WEBHOOK}) {
    SCOPED_TRACE(type);
    v1::AlertChannel proto =
        type == v1::ALERT_CHANNEL_TYPE_WEBHOOK ? Webhook() : Slack();
    proto.set_type(type);
    for (const std::string& url :
         {std::string(""), std::string("hooks.slack.com/x"),
          std::string("ftp://hooks.slack.com/x"), std::string("https://"),
          std::string("https:///path"), std::string("https://?q"),
          std::string("https://host/a b"), std::string("https://host/\n"),
          absl::StrCat("https://host/", std::string(2048, 'a'))}) {
      SCOPED_TRACE(url);
      proto.set_url(url);
      ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.url");
    }
  }
  v1::AlertChannel upper = Slack();
  upper.set_url("HTTPS://hooks.slack.com/x");
  EXPECT_TRUE(ChannelFromProto(kTenant, upper).ok());
}

TEST(AlertConfigTest, WebhookSecretIsSixteenTo256Bytes) {
  v1::AlertChannel proto = Webhook();
  proto.set_secret("");
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.secret");
  proto.set_secret(std::string(15, 's'));
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.secret");
  proto.set_secret(std::string(16, 's'));
  EXPECT_TRUE(ChannelFromProto(kTenant, proto).ok());
  proto.set_secret(std::string(256, 's'));
  EXPECT_TRUE(ChannelFromProto(kTenant, proto).ok());
  proto.set_secret(std::string(257, 's'));
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.secret");
}

TEST(AlertConfigTest, SettingsOfAnotherTypeAreRefused) {
  v1::AlertChannel proto = Slack();
  proto.set_secret(kSecret);
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.secret");

  proto = Slack();
  proto.add_email_to("ops@example.com");
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.email_to");

  proto = Webhook();
  proto.add_sms_to("+14155550123");
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.sms_to");

  proto = Email();
  proto.set_url(kSlackUrl);
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.url");

  proto = Email();
  proto.set_secret(kSecret);
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.secret");

  proto = Sms();
  proto.set_url(kSlackUrl);
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.url");

  proto = Sms();
  proto.add_email_to("ops@example.com");
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.email_to");
}

// Each SMS setting on a channel of another type is refused naming that
// setting, not a wildcard.
TEST(AlertConfigTest, SmsSettingsOnAnotherTypeNameTheField) {
  const struct {
    const char* field;
    void (*set)(v1::AlertChannel*);
  } kCases[] = {
      {"channel.sms_base_url",
       [](v1::AlertChannel* c) { c->set_sms_base_url("https://api.x"); }},
      {"channel.sms_account_sid",
       [](v1::AlertChannel* c) { c->set_sms_account_sid("AC1"); }},
      {"channel.sms_auth_token",
       [](v1::AlertChannel* c) { c->set_sms_auth_token("t"); }},
      {"channel.sms_from",
       [](v1::AlertChannel* c) { c->set_sms_from("+15005550006"); }},
      {"channel.sms_to",
       [](v1::AlertChannel* c) { c->add_sms_to("+14155550123"); }},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.field);
    v1::AlertChannel proto = Email();
    c.set(&proto);
    ExpectInvalid(ChannelFromProto(kTenant, proto), c.field);
  }
}

TEST(AlertConfigTest, EmailRecipientsAreOneToTenValidDistinctAddresses) {
  v1::AlertChannel proto = Email();
  proto.clear_email_to();
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.email_to");

  for (int i = 0; i < kMaxChannelRecipients; ++i) {
    proto.add_email_to(absl::StrCat("ops", i, "@example.com"));
  }
  EXPECT_TRUE(ChannelFromProto(kTenant, proto).ok());
  proto.add_email_to("one-too-many@example.com");
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.email_to");
}

// A bad entry is named by its index, as channel.sms_to[i] is.
TEST(AlertConfigTest, EmailRecipientErrorsNameTheEntry) {
  v1::AlertChannel proto = Email();
  proto.add_email_to("not an address");
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.email_to[2]");

  proto = Email();
  proto.add_email_to("ops@example.com");
  absl::StatusOr<ChannelConfig> got = ChannelFromProto(kTenant, proto);
  ExpectInvalid(got, "channel.email_to[2]");
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("email_to[0]"));
}

TEST(AlertConfigTest, SmsSettingsAreRequiredAndChecked) {
  v1::AlertChannel proto = Sms();
  proto.clear_sms_account_sid();
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.sms_account_sid");
  proto.set_sms_account_sid("AC-not-alnum");
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.sms_account_sid");
  proto.set_sms_account_sid(std::string(65, 'A'));
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.sms_account_sid");

  proto = Sms();
  proto.clear_sms_auth_token();
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.sms_auth_token");
  proto.set_sms_auth_token("has space");
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.sms_auth_token");
  proto.set_sms_auth_token(std::string(257, 't'));
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.sms_auth_token");

  proto = Sms();
  proto.clear_sms_from();
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.sms_from");
  proto.set_sms_from("+1 500");
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.sms_from");

  proto = Sms();
  proto.set_sms_base_url("api.twilio.com");
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.sms_base_url");

  proto = Sms();
  proto.clear_sms_to();
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.sms_to");
  for (int i = 0; i < kMaxChannelRecipients; ++i) {
    proto.add_sms_to(absl::StrCat("+1415555010", i));
  }
  EXPECT_TRUE(ChannelFromProto(kTenant, proto).ok());
  proto.add_sms_to("+14155550200");
  ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.sms_to");
}

TEST(AlertConfigTest, SmsNumbersAreE164) {
  for (const std::string& good :
       {std::string("+12345678"), std::string("+123456789012345"),
        std::string("+447700900123")}) {
    v1::AlertChannel proto = Sms();
    proto.set_sms_to(0, good);
    EXPECT_TRUE(ChannelFromProto(kTenant, proto).ok()) << good;
  }
  for (const std::string& bad :
       {std::string("14155550123"), std::string("+1234567"),
        std::string("+1234567890123456"), std::string("+04155550123"),
        std::string("+1415555O123"), std::string("+1 4155550123"),
        std::string("+")}) {
    SCOPED_TRACE(bad);
    v1::AlertChannel proto = Sms();
    proto.set_sms_to(0, bad);
    ExpectInvalid(ChannelFromProto(kTenant, proto), "channel.sms_to[0]");
  }
  v1::AlertChannel twice = Sms();
  twice.add_sms_to("+14155550123");
  absl::StatusOr<ChannelConfig> got = ChannelFromProto(kTenant, twice);
  ExpectInvalid(got, "channel.sms_to[1]");
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("listed twice"));
}

// RuleFromProto: defaults per kind.

TEST(AlertConfigTest, RuleDefaultsPerKind) {
  absl::StatusOr<RuleConfig> bounce =
      RuleFromProto(kTenant, Rule(v1::ALERT_KIND_BOUNCE_RATE));
  ASSERT_TRUE(bounce.ok()) << bounce.status();
  EXPECT_EQ(bounce->tenant_id, kTenant);
  EXPECT_EQ(bounce->id, "");
  EXPECT_EQ(bounce->kind, AlertKind::kBounceRate);
  EXPECT_EQ(bounce->severity, AlertSeverity::kWarning);
  EXPECT_DOUBLE_EQ(bounce->threshold, 0.05);
  EXPECT_EQ(bounce->window, absl::Hours(1));
  EXPECT_EQ(bounce->min_volume, 100);
  EXPECT_EQ(bounce->cooldown, absl::Minutes(15));
  EXPECT_THAT(bounce->channels, ElementsAre("ops"));

  absl::StatusOr<RuleConfig> complaint =
      RuleFromProto(kTenant, Rule(v1::ALERT_KIND_COMPLAINT_RATE));
  ASSERT_TRUE(complaint.ok()) << complaint.status();
  EXPECT_DOUBLE_EQ(complaint->threshold, 0.003);
  EXPECT_EQ(complaint->window, absl::Hours(1));
  EXPECT_EQ(complaint->min_volume, 100);
  EXPECT_EQ(complaint->severity, AlertSeverity::kWarning);

  absl::StatusOr<RuleConfig> age =
      RuleFromProto(kTenant, Rule(v1::ALERT_KIND_QUEUE_AGE));
  ASSERT_TRUE(age.ok()) << age.status();
  EXPECT_EQ(age->max_age, absl::Minutes(30));
  EXPECT_EQ(age->severity, AlertSeverity::kCritical);
  EXPECT_EQ(age->threshold, 0);
  EXPECT_EQ(age->window, absl::ZeroDuration());

  absl::StatusOr<RuleConfig> failed =
      RuleFromProto(kTenant, Rule(v1::ALERT_KIND_MESSAGE_FAILED));
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_EQ(failed->kind, AlertKind::kMessageFailed);
  EXPECT_EQ(failed->severity, AlertSeverity::kCritical);
  EXPECT_EQ(failed->cooldown, absl::Minutes(15));
  EXPECT_EQ(failed->max_age, absl::ZeroDuration());

  for (v1::AlertKind kind :
       {v1::ALERT_KIND_HARD_BOUNCE, v1::ALERT_KIND_COMPLAINT}) {
    absl::StatusOr<RuleConfig> rule = RuleFromProto(kTenant, Rule(kind));
    ASSERT_TRUE(rule.ok()) << rule.status();
    EXPECT_EQ(rule->severity, AlertSeverity::kWarning);
    EXPECT_EQ(rule->cooldown, absl::Minutes(15));
  }

  absl::StatusOr<RuleConfig> domain =
      RuleFromProto(kTenant, Rule(v1::ALERT_KIND_DOMAIN_AUTH_REGRESSED));
  ASSERT_TRUE(domain.ok()) << domain.status();
  EXPECT_EQ(domain->check_interval, absl::Hours(1));
  EXPECT_EQ(domain->severity, AlertSeverity::kWarning);
  EXPECT_THAT(domain->domains, ElementsAre("example.com"));
}

TEST(AlertConfigTest, RuleTakesExplicitSettings) {
  v1::AlertRule proto = Rule(v1::ALERT_KIND_BOUNCE_RATE);
  proto.set_threshold(0.02);
  proto.set_window_seconds(600);
  proto.set_min_volume(50);
  proto.set_cooldown_seconds(60);
  proto.set_severity(v1::ALERT_SEVERITY_CRITICAL);
  proto.add_channels("pager");
  absl::StatusOr<RuleConfig> rule = RuleFromProto(kTenant, proto);
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_DOUBLE_EQ(rule->threshold, 0.02);
  EXPECT_EQ(rule->window, absl::Minutes(10));
  EXPECT_EQ(rule->min_volume, 50);
  EXPECT_EQ(rule->cooldown, absl::Minutes(1));
  EXPECT_EQ(rule->severity, AlertSeverity::kCritical);
  EXPECT_THAT(rule->channels, ElementsAre("ops", "pager"));

  v1::AlertRule failed = Rule(v1::ALERT_KIND_MESSAGE_FAILED);
  failed.set_severity(v1::ALERT_SEVERITY_WARNING);
  rule = RuleFromProto(kTenant, failed);
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_EQ(rule->severity, AlertSeverity::kWarning);

  v1::AlertRule domains = Rule(v1::ALERT_KIND_DOMAIN_AUTH_REGRESSED);
  domains.add_domains("Mail.Example.ORG");
  domains.set_check_interval_seconds(300);
  rule = RuleFromProto(kTenant, domains);
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_THAT(rule->domains, ElementsAre("example.com", "mail.example.org"));
  EXPECT_EQ(rule->check_interval, absl::Minutes(5));
}

// RuleFromProto: kinds, severities, channels, ranges.

TEST(AlertConfigTest, RuleKindIsRequiredAndTestIsRefused) {
  ExpectInvalid(RuleFromProto(kTenant, Rule(v1::ALERT_KIND_UNSPECIFIED)),
                "rule.kind");
  ExpectInvalid(RuleFromProto(kTenant, Rule(v1::ALERT_KIND_TEST)),
                "rule.kind");
  ExpectInvalid(
      RuleFromProto(kTenant, Rule(static_cast<v1::AlertKind>(99))),
      "rule.kind");
  v1::AlertRule severity = Rule(v1::ALERT_KIND_COMPLAINT);
  severity.set_severity(static_cast<v1::AlertSeverity>(9));
  ExpectInvalid(RuleFromProto(kTenant, severity), "rule.severity");
}

TEST(AlertConfigTest, RuleChannelsAreOneToTenDistinctNames) {
  v1::AlertRule proto = Rule(v1::ALERT_KIND_COMPLAINT);
  proto.clear_channels();
  ExpectInvalid(RuleFromProto(kTenant, proto), "rule.channels");
  for (int i = 0; i < kMaxRuleChannels; ++i) {
    proto.add_channels(absl::StrCat("c", i));
  }
  EXPECT_TRUE(RuleFromProto(kTenant, proto).ok());
  proto.add_channels("c-extra");
  ExpectInvalid(RuleFromProto(kTenant, proto), "rule.channels");

  proto = Rule(v1::ALERT_KIND_COMPLAINT);
  proto.add_channels("Not_Valid");
  ExpectInvalid(RuleFromProto(kTenant, proto), "rule.channels[1]");

  proto = Rule(v1::ALERT_KIND_COMPLAINT);
  proto.add_channels("ops");  // the same as "alertChannels/ops"
  ExpectInvalid(RuleFromProto(kTenant, proto), "rule.channels[1]");
}

TEST(AlertConfigTest, RateRuleRanges) {
  v1::AlertRule proto = Rule(v1::ALERT_KIND_COMPLAINT_RATE);
  for (double bad : {-0.1, 1.0001, 2.0, std::numeric_limits<double>::quiet_NaN(),
                     std::numeric_limits<double>::infinity()}) {
    SCOPED_TRACE(bad);
    proto.set_threshold(bad);
    ExpectInvalid(RuleFromProto(kTenant, proto), "rule.threshold");
  }
  proto.set_threshold(1);
  EXPECT_TRUE(RuleFromProto(kTenant, proto).ok());
  proto.set_threshold(0.0001);
  EXPECT_TRUE(RuleFromProto(kTenant, proto).ok());

  proto = Rule(v1::ALERT_KIND_BOUNCE_RATE);
  for (int64_t bad : {int64_t{-1}, int64_t{59}, int64_t{7 * 24 * 3600 + 1},
                      std::numeric_limits<int64_t>::max()}) {
    SCOPED_TRACE(bad);
    proto.set_window_seconds(bad);
    ExpectInvalid(RuleFromProto(kTenant, proto), "rule.window_seconds");
  }
  proto.set_window_seconds(60);
  EXPECT_TRUE(RuleFromProto(kTenant, proto).ok());
  proto.set_window_seconds(7 * 24 * 3600);
  EXPECT_TRUE(RuleFromProto(kTenant, proto).ok());

  proto = Rule(v1::ALERT_KIND_BOUNCE_RATE);
  proto.set_min_volume(-1);
  ExpectInvalid(RuleFromProto(kTenant, proto), "rule.min_volume");
  proto.set_min_volume(1000000001);
  ExpectInvalid(RuleFromProto(kTenant, proto), "rule.min_volume");
  proto.set_min_volume(1);
  EXPECT_EQ(RuleFromProto(kTenant, proto)->min_volume, 1);
}

TEST(AlertConfigTest, QueueAgeDomainAndCooldownRanges) {
  v1::AlertRule proto = Rule(v1::ALERT_KIND_QUEUE_AGE);
  for (int64_t bad : {int64_t{-5}, int64_t{59}, int64_t{30 * 24 * 3600 + 1}}) {
    proto.set_max_age_seconds(bad);
    ExpectInvalid(RuleFromProto(kTenant, proto), "rule.max_age_seconds");
  }
  proto.set_max_age_seconds(60);
  EXPECT_EQ(RuleFromProto(kTenant, proto)->max_age, absl::Minutes(1));

  proto = Rule(v1::ALERT_KIND_DOMAIN_AUTH_REGRESSED);
  proto.set_check_interval_seconds(299);
  ExpectInvalid(RuleFromProto(kTenant, proto), "rule.check_interval_seconds");
  proto.set_check_interval_seconds(7 * 24 * 3600 + 1);
  ExpectInvalid(RuleFromProto(kTenant, proto), "rule.check_interval_seconds");

  proto = Rule(v1::ALERT_KIND_DOMAIN_AUTH_REGRESSED);
  proto.clear_domains();
  ExpectInvalid(RuleFromProto(kTenant, proto), "rule.domains");
  for (int i = 0; i < kMaxRuleDomains; ++i) {
    proto.add_domains(absl::StrCat("d", i, ".example.com"));
  }
  EXPECT_TRUE(RuleFromProto(kTenant, proto).ok());
  proto.add_domains("one-more.example.com");
  ExpectInvalid(RuleFromProto(kTenant, proto), "rule.domains");

  proto = Rule(v1::ALERT_KIND_DOMAIN_AUTH_REGRESSED);
  proto.add_domains("not a domain");
  ExpectInvalid(RuleFromProto(kTenant, proto), "rule.domains[1]");
  proto = Rule(v1::ALERT_KIND_DOMAIN_AUTH_REGRESSED);
  proto.add_domains("EXAMPLE.com");
  ExpectInvalid(RuleFromProto(kTenant, proto), "rule.domains[1]");

  proto = Rule(v1::ALERT_KIND_HARD_BOUNCE);
  for (int64_t bad : {int64_t{-1}, int64_t{9}, int64_t{24 * 3600 + 1}}) {
    proto.set_cooldown_seconds(bad);
    ExpectInvalid(RuleFromProto(kTenant, proto), "rule.cooldown_seconds");
  }
  proto.set_cooldown_seconds(10);
  EXPECT_EQ(RuleFromProto(kTenant, proto)->cooldown, absl::Seconds(10));
  proto.set_cooldown_seconds(24 * 3600);
  EXPECT_EQ(RuleFromProto(kTenant, proto)->cooldown, absl::Hours(24));
}

// Settings of another kind are refused, naming the setting that was given.
TEST(AlertConfigTest, RuleFieldsOfAnotherKindAreRefused) {
  const struct {
    v1::AlertKind kind;
    const char* field;
    void (*set)(v1::AlertRule*);
  } kCases[] = {
      {v1::ALERT_KIND_MESSAGE_FAILED, "rule.threshold",
       [](v1::AlertRule* r) { r->set_threshold(0.1); }},
      {v1::ALERT_KIND_HARD_BOUNCE, "rule.window_seconds",
       [](v1::AlertRule* r) { r->set_window_seconds(600); }},
      {v1::ALERT_KIND_QUEUE_AGE, "rule.min_volume",
       [](v1::AlertRule* r) { r->set_min_volume(10); }},
      {v1::ALERT_KIND_BOUNCE_RATE, "rule.max_age_seconds",
       [](v1::AlertRule* r) { r->set_max_age_seconds(600); }},
      {v1::ALERT_KIND_COMPLAINT, "rule.max_age_seconds",
       [](v1::AlertRule* r) { r->set_max_age_seconds(600); }},
      {v1::ALERT_KIND_QUEUE_AGE, "rule.domains",
       [](v1::AlertRule* r) { r->add_domains("example.com"); }},
      {v1::ALERT_KIND_COMPLAINT_RATE, "rule.check_interval_seconds",
       [](v1::AlertRule* r) { r->set_check_interval_seconds(600); }},
      {v1::ALERT_KIND_DOMAIN_AUTH_REGRESSED, "rule.threshold",
       [](v1::AlertRule* r) { r->set_threshold(0.5); }},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(absl::StrCat(v1::AlertKind_Name(c.kind), " ", c.field));
    v1::AlertRule proto = Rule(c.kind);
    c.set(&proto);
    ExpectInvalid(RuleFromProto(kTenant, proto), c.field);
  }
}

// ChannelToProto / RuleToProto

TEST(AlertConfigTest, RedactedChannelHidesSecretsAndUrlPaths) {
  ChannelConfig webhook = *ChannelFromProto(kTenant, Webhook());
  v1::AlertChannel shown = ChannelToProto(webhook, /*redact=*/true);
  EXPECT_EQ(shown.name(), "alertChannels/hooks");
  EXPECT_EQ(shown.type(), v1::ALERT_CHANNEL_TYPE_WEBHOOK);
  EXPECT_EQ(shown.url(), "https://receiver.example");
  EXPECT_EQ(shown.secret(), "");

  v1::AlertChannel full = ChannelToProto(webhook, /*redact=*/false);
  EXPECT_EQ(full.url(), "https://receiver.example/alerts?token=abc");
  EXPECT_EQ(full.secret(), kSecret);

  v1::AlertChannel slack =
      ChannelToProto(*ChannelFromProto(kTenant, Slack()), /*redact=*/true);
  EXPECT_EQ(slack.url(), "https://hooks.slack.com");
  EXPECT_EQ(slack.SerializeAsString().find("secret"), std::string::npos);

  v1::AlertChannel sms =
      ChannelToProto(*ChannelFromProto(kTenant, Sms()), /*redact=*/true);
  EXPECT_EQ(sms.sms_auth_token(), "");
  EXPECT_EQ(sms.sms_account_sid(), "AC0123456789abcdef");
  EXPECT_EQ(sms.sms_from(), "+15005550006");
  EXPECT_THAT(sms.sms_to(), ElementsAre("+14155550123"));
  EXPECT_EQ(sms.SerializeAsString().find("token-secret"), std::string::npos);
  EXPECT_EQ(ChannelToProto(*ChannelFromProto(kTenant, Sms()), false)
                .sms_auth_token(),
            "token-secret");

  v1::AlertChannel email =
      ChannelToProto(*ChannelFromProto(kTenant, Email()), /*redact=*/true);
  EXPECT_THAT(email.email_to(),
              ElementsAre("ops@example.com", "oncall@example.org"));
  EXPECT_EQ(email.url(), "");
}

TEST(AlertConfigTest, RuleToProtoShowsTheFilledInRule) {
  RuleConfig rule = *RuleFromProto(kTenant, Rule(v1::ALERT_KIND_BOUNCE_RATE));
  rule.id = "r_abc";
  v1::AlertRule proto = RuleToProto(rule);
  EXPECT_EQ(proto.name(), "alertRules/r_abc");
  EXPECT_EQ(proto.kind(), v1::ALERT_KIND_BOUNCE_RATE);
  EXPECT_THAT(proto.channels(), ElementsAre("alertChannels/ops"));
  EXPECT_EQ(proto.severity(), v1::ALERT_SEVERITY_WARNING);
  EXPECT_DOUBLE_EQ(proto.threshold(), 0.05);
  EXPECT_EQ(proto.window_seconds(), 3600);
  EXPECT_EQ(proto.min_volume(), 100);
  EXPECT_EQ(proto.cooldown_seconds(), 900);
}

// Store rows and back.

void ExpectSameChannel(const ChannelConfig& a, const ChannelConfig& b) {
  EXPECT_EQ(a.tenant_id, b.tenant_id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.url, b.url);
  EXPECT_EQ(a.secret, b.secret);
  EXPECT_EQ(a.email_to, b.email_to);
  EXPECT_EQ(a.sms.base_url, b.sms.base_url);
  EXPECT_EQ(a.sms.account_sid, b.sms.account_sid);
  EXPECT_EQ(a.sms.auth_token, b.sms.auth_token);
  EXPECT_EQ(a.sms.from, b.sms.from);
  EXPECT_EQ(a.sms_to, b.sms_to);
  EXPECT_EQ(a.create_time, b.create_time);
}

TEST(AlertConfigTest, ChannelRowRoundTrip) {
  v1::AlertChannel discord = Slack();
  discord.set_type(v1::ALERT_CHANNEL_TYPE_DISCORD);
  for (const v1::AlertChannel& proto :
       {Slack(), discord, Webhook(), Email(), Sms()}) {
    SCOPED_TRACE(proto.name());
    ChannelConfig channel = *ChannelFromProto(kTenant, proto);
    channel.create_time =
        absl::FromUnixSeconds(1700000123) + absl::Microseconds(456);
    store::AlertChannelRow row = ChannelToRow(channel);
    EXPECT_EQ(row.tenant_id, kTenant);
    EXPECT_EQ(row.name, channel.name);
    EXPECT_EQ(row.type, static_cast<int>(proto.type()));
    EXPECT_EQ(row.create_time, channel.create_time);
    absl::StatusOr<ChannelConfig> back = DecodeChannel(row);
    ASSERT_TRUE(back.ok()) << back.status();
    ExpectSameChannel(*back, channel);
  }
}

void ExpectSameRule(const RuleConfig& a, const RuleConfig& b) {
  EXPECT_EQ(a.tenant_id, b.tenant_id);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.severity, b.severity);
  EXPECT_EQ(a.channels, b.channels);
  EXPECT_EQ(a.threshold, b.threshold);
  EXPECT_EQ(a.window, b.window);
  EXPECT_EQ(a.min_volume, b.min_volume);
  EXPECT_EQ(a.max_age, b.max_age);
  EXPECT_EQ(a.domains, b.domains);
  EXPECT_EQ(a.check_interval, b.check_interval);
  EXPECT_EQ(a.cooldown, b.cooldown);
  EXPECT_EQ(a.create_time, b.create_time);
}

TEST(AlertConfigTest, RuleRowRoundTrip) {
  v1::AlertRule custom = Rule(v1::ALERT_KIND_COMPLAINT_RATE);
  custom.set_threshold(0.0012345);
  custom.set_window_seconds(7200);
  custom.set_min_volume(12345);
  custom.set_cooldown_seconds(77);
  custom.set_severity(v1::ALERT_SEVERITY_CRITICAL);
  custom.add_channels("pager");
  v1::AlertRule domains = Rule(v1::ALERT_KIND_DOMAIN_AUTH_REGRESSED);
  domains.add_domains("b.example.net");
  domains.set_check_interval_seconds(900);
  int n = 0;
  for (const v1::AlertRule& proto :
       {Rule(v1::ALERT_KIND_MESSAGE_FAILED), Rule(v1::ALERT_KIND_HARD_BOUNCE),
        Rule(v1::ALERT_KIND_COMPLAINT), Rule(v1::ALERT_KIND_BOUNCE_RATE),
        custom, Rule(v1::ALERT_KIND_QUEUE_AGE), domains}) {
    SCOPED_TRACE(v1::AlertKind_Name(proto.kind()));
    RuleConfig rule = *RuleFromProto(kTenant, proto);
    rule.id = absl::StrCat("r_", ++n);
    rule.create_time = absl::FromUnixSeconds(1700000000 + n);
    store::AlertRuleRow row = RuleToRow(rule);
    EXPECT_EQ(row.tenant_id, kTenant);
    EXPECT_EQ(row.id, rule.id);
    EXPECT_EQ(row.kind, static_cast<int>(proto.kind()));
    EXPECT_EQ(row.channels, rule.channels);
    absl::StatusOr<RuleConfig> back = DecodeRule(row);
    ASSERT_TRUE(back.ok()) << back.status();
    ExpectSameRule(*back, rule);
  }
}

TEST(AlertConfigTest, UnreadableRowsAreDataLoss) {
  store::AlertChannelRow channel;
  channel.tenant_id = kTenant;
  channel.name = "ops";
  channel.spec = "\xff\xff\xff";
  EXPECT_EQ(DecodeChannel(channel).status().code(),
            absl::StatusCode::kDataLoss);
  // Readable but no longer valid (e.g. written by a laxer version).
  v1::AlertChannel invalid = Slack();
  invalid.set_url("ftp://x");
  channel.spec = invalid.SerializeAsString();
  absl::StatusOr<ChannelConfig> decoded = DecodeChannel(channel);
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(decoded.status().message()), HasSubstr("ops"));

  store::AlertRuleRow rule;
  rule.tenant_id = kTenant;
  rule.id = "r_1";
  rule.spec = "\xff\xff\xff";
  EXPECT_EQ(DecodeRule(rule).status().code(), absl::StatusCode::kDataLoss);
}

TEST(AlertConfigTest, KindAndSeverityConversions) {
  for (int k = v1::ALERT_KIND_MESSAGE_FAILED; k <= v1::ALERT_KIND_TEST; ++k) {
    absl::StatusOr<AlertKind> kind = AlertKindFromProto(k);
    ASSERT_TRUE(kind.ok()) << k;
    EXPECT_EQ(AlertKindToProto(*kind), k);
  }
  EXPECT_EQ(AlertKindFromProto(0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AlertKindFromProto(99).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AlertSeverityToProto(AlertSeverity::kCritical),
            v1::ALERT_SEVERITY_CRITICAL);
  EXPECT_EQ(AlertSeverityToProto(AlertSeverity::kWarning),
            v1::ALERT_SEVERITY_WARNING);
}

// ChannelDestination

TEST(AlertConfigTest, ChannelDestinationIsRedacted) {
  EXPECT_EQ(ChannelDestination(*ChannelFromProto(kTenant, Slack())),
            "https://hooks.slack.com");
  EXPECT_EQ(ChannelDestination(*ChannelFromProto(kTenant, Webhook())),
            "https://receiver.example");
  EXPECT_EQ(ChannelDestination(*ChannelFromProto(kTenant, Email())),
            "email:ops@example.com, oncall@example.org");

  v1::AlertChannel sms = Sms();
  sms.add_sms_to("+447700900123");
  const std::string destination =
      ChannelDestination(*ChannelFromProto(kTenant, sms));
  EXPECT_EQ(destination, "sms:+141******23, +447*******23");
  EXPECT_EQ(destination.find("5550123"), std::string::npos);
  EXPECT_EQ(destination.find("900123"), std::string::npos);
}

}  // namespace
}  // namespace deliverd::alerts
