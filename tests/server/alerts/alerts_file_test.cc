// --alerts-file (server/alerts/alerts_file.h): parsing and validation of the
// JSON file (both field name styles, enum names, errors naming the file and
// the entry, duplicates), the file permission check, and applying the file
// to a real SqliteStore (tenant, channel and rule creation, idempotence,
// channel updates, removal of rules the file no longer declares while API
// rules stay, rules on channels the file does not declare).
#include "server/alerts/alerts_file.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "deliverd/v1/alerts.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/alerts/alert_config.h"
#include "server/store/sqlite_store.h"

namespace deliverd::alerts {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kFile[] = "/etc/deliverd/alerts.json";
constexpr char kSecret[] = "a-webhook-secret-of-some-length";
// Nanoseconds on purpose: the store keeps microseconds, and re-applying an
// unchanged file must not see a difference there.
const absl::Time kNow = absl::FromUnixNanos(1700000000123456789);

// One tenant "acme" with a Slack channel "ops", a webhook "hook" and a
// MESSAGE_FAILED rule on both; lowerCamelCase where the names differ.
constexpr char kCamelCase[] = R"json({
  "tenants": [{
    "tenant": "acme",
    "channels": [
      {"name": "ops", "type": "ALERT_CHANNEL_TYPE_SLACK",
       "url": "https://hooks.slack.com/services/T1/B1/one"},
      {"name": "alertChannels/hook", "type": "ALERT_CHANNEL_TYPE_WEBHOOK",
       "url": "https://hooks.example.com/deliverd",
       "secret": "a-webhook-secret-of-some-length"},
      {"name": "mail", "type": "ALERT_CHANNEL_TYPE_EMAIL",
       "emailTo": ["oncall@example.com", "ops@example.com"]}
    ],
    "rules": [
      {"kind": "ALERT_KIND_MESSAGE_FAILED", "channels": ["ops", "hook"],
       "cooldownSeconds": 60},
      {"kind": "ALERT_KIND_QUEUE_AGE", "channels": ["alertChannels/mail"],
       "severity": "ALERT_SEVERITY_WARNING", "maxAgeSeconds": "600"}
    ]
  }]
})json";

// The same settings with the proto field names.
constexpr char kSnakeCase[] = R"json({
  "tenants": [{
    "tenant": "acme",
    "channels": [
      {"name": "ops", "type": "ALERT_CHANNEL_TYPE_SLACK",
       "url": "https://hooks.slack.com/services/T1/B1/one"},
      {"name": "hook", "type": "ALERT_CHANNEL_TYPE_WEBHOOK",
       "url": "https://hooks.example.com/deliverd",
       "secret": "a-webhook-secret-of-some-length"},
      {"name": "mail", "type": "ALERT_CHANNEL_TYPE_EMAIL",
       "email_to": ["oncall@example.com", "ops@example.com"]}
    ],
    "rules": [
      {"kind": "ALERT_KIND_MESSAGE_FAILED", "channels": ["ops", "hook"],
       "cooldown_seconds": 60},
      {"kind": "ALERT_KIND_QUEUE_AGE", "channels": ["mail"],
       "severity": "ALERT_SEVERITY_WARNING", "max_age_seconds": 600}
    ]
  }]
})json";

// A file of one tenant with `channels` and `rules` (JSON array contents).
std::string FileOf(const std::string& tenant, const std::string& channels,
                   const std::string& rules) {
  return absl::StrCat(R"({"tenants": [{"tenant": ")", tenant,
                      R"(", "channels": [)", channels, R"(], "rules": [)",
                      rules, "]}]}");
}

std::string SlackJson(const std::string& name, const std::string& url) {
  return absl::StrCat(R"({"name": ")", name,
                      R"(", "type": "ALERT_CHANNEL_TYPE_SLACK", "url": ")", url,
                      R"("})");
}

std::string FailedRuleJson(const std::string& channel, int cooldown = 0) {
  std::string rule =
      absl::StrCat(R"({"kind": "ALERT_KIND_MESSAGE_FAILED", "channels": [")",
                   channel, R"("])");
  if (cooldown > 0)
    absl::StrAppend(&rule, R"(, "cooldownSeconds": )", cooldown);
  return absl::StrCat(rule, "}");
}

absl::Status ParseError(const std::string& json) {
  return ParseAlertsFile(kFile, json).status();
}

TEST(AlertsFileParseTest, ReadsLowerCamelCaseFieldsAndEnumNames) {
  absl::StatusOr<DeclaredAlerts> parsed = ParseAlertsFile(kFile, kCamelCase);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->tenants.size(), 1u);
  const DeclaredAlerts::Tenant& tenant = parsed->tenants[0];
  EXPECT_EQ(tenant.name, "acme");
  ASSERT_EQ(tenant.channels.size(), 3u);
  EXPECT_EQ(tenant.channels[0].name, "ops");
  EXPECT_EQ(tenant.channels[0].type, ChannelType::kSlack);
  EXPECT_EQ(tenant.channels[0].url,
            "https://hooks.slack.com/services/T1/B1/one");
  EXPECT_EQ(tenant.channels[1].name, "hook");  // "alertChannels/" stripped
  EXPECT_EQ(tenant.channels[1].type, ChannelType::kWebhook);
  EXPECT_EQ(tenant.channels[1].secret, kSecret);
  EXPECT_EQ(tenant.channels[2].type, ChannelType::kEmail);
  EXPECT_THAT(tenant.channels[2].email_to,
              ElementsAre("oncall@example.com", "ops@example.com"));
  ASSERT_EQ(tenant.rules.size(), 2u);
  EXPECT_EQ(tenant.rules[0].kind, AlertKind::kMessageFailed);
  EXPECT_EQ(tenant.rules[0].severity, AlertSeverity::kCritical);  // default
  EXPECT_THAT(tenant.rules[0].channels, ElementsAre("ops", "hook"));
  EXPECT_EQ(tenant.rules[0].cooldown, absl::Minutes(1));
  EXPECT_EQ(tenant.rules[1].kind, AlertKind::kQueueAge);
  EXPECT_EQ(tenant.rules[1].severity, AlertSeverity::kWarning);
  EXPECT_THAT(tenant.rules[1].channels, ElementsAre("mail"));
  EXPECT_EQ(tenant.rules[1].max_age, absl::Minutes(10));
  EXPECT_EQ(tenant.rules[1].cooldown, kDefaultCooldown);
  // Derived ids: "r_cfg" and 24 hex digits, one per rule.
  for (const RuleConfig& rule : tenant.rules) {
    EXPECT_THAT(rule.id, StartsWith("r_cfg"));
    EXPECT_EQ(rule.id.size(), 5u + 24u) << rule.id;
    EXPECT_EQ(rule.id.find_first_not_of("0123456789abcdef", 5),
              std::string::npos)
        << rule.id;
  }
  EXPECT_NE(tenant.rules[0].id, tenant.rules[1].id);
}

TEST(AlertsFileParseTest, SnakeCaseNamesMeanTheSameAndGiveTheSameRuleIds) {
  absl::StatusOr<DeclaredAlerts> camel = ParseAlertsFile(kFile, kCamelCase);
  absl::StatusOr<DeclaredAlerts> snake = ParseAlertsFile(kFile, kSnakeCase);
  ASSERT_TRUE(camel.ok()) << camel.status();
  ASSERT_TRUE(snake.ok()) << snake.status();
  ASSERT_EQ(snake->tenants.size(), 1u);
  const DeclaredAlerts::Tenant& a = camel->tenants[0];
  const DeclaredAlerts::Tenant& b = snake->tenants[0];
  ASSERT_EQ(b.channels.size(), a.channels.size());
  for (size_t i = 0; i < a.channels.size(); ++i) {
    EXPECT_EQ(ChannelToRow(b.channels[i]).spec,
              ChannelToRow(a.channels[i]).spec)
        << a.channels[i].name;
  }
  ASSERT_EQ(b.rules.size(), a.rules.size());
  for (size_t i = 0; i < a.rules.size(); ++i) {
    EXPECT_EQ(b.rules[i].id, a.rules[i].id);
    EXPECT_EQ(b.rules[i].max_age, a.rules[i].max_age);
    EXPECT_EQ(b.rules[i].cooldown, a.rules[i].cooldown);
  }
}

TEST(AlertsFileParseTest, RuleIdsDependOnTheTenantAndEverySetting) {
  auto id_of = [](const std::string& tenant, const std::string& rule) {
    absl::StatusOr<DeclaredAlerts> parsed = ParseAlertsFile(
        kFile, FileOf(tenant, SlackJson("ops", "https://a.example/x"), rule));
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    return parsed.ok() ? parsed->tenants[0].rules[0].id : std::string();
  };
  const std::string base = id_of("acme", FailedRuleJson("ops"));
  EXPECT_EQ(id_of("acme", FailedRuleJson("alertChannels/ops")), base);
  // Defaults are filled in before the id is derived.
  EXPECT_EQ(id_of("acme", FailedRuleJson("ops", 900)), base);
  EXPECT_NE(id_of("acme", FailedRuleJson("ops", 60)), base);
  EXPECT_NE(id_of("globex", FailedRuleJson("ops")), base);
}

TEST(AlertsFileParseTest, AnEmptyFileDeclaresNothing) {
  absl::StatusOr<DeclaredAlerts> parsed = ParseAlertsFile(kFile, "{}");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->tenants.empty());
}

TEST(AlertsFileParseTest, MalformedJsonNamesTheFile) {
  absl::Status status = ParseError(R"({"tenants": [)");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              StartsWith("alerts-file /etc/deliverd/alerts.json: not a valid "
                         "alerts file: "));
}

TEST(AlertsFileParseTest, AnUnknownFieldIsRefusedNotIgnored) {
  absl::Status status =
      ParseError(R"({"tenants": [{"tenant": "acme", "chanels": []}]})");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              StartsWith("alerts-file /etc/deliverd/alerts.json: "));
  EXPECT_THAT(status.message(), HasSubstr("chanels"));

  status = ParseError(FileOf("acme", SlackJson("ops", "https://a.example/x"),
                             R"({"kind": "ALERT_KIND_MESSAGE_FAILED",
                                 "channels": ["ops"], "cooldown": 60})"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("cooldown"));
}

TEST(AlertsFileParseTest, AnUnknownEnumNameIsRefused) {
  absl::Status status = ParseError(
      FileOf("acme", R"({"name": "ops", "type": "ALERT_CHANNEL_TYPE_PAGER",
                  "url": "https://a.example/x"})",
             ""));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              StartsWith("alerts-file /etc/deliverd/alerts.json: "));
}

TEST(AlertsFileParseTest, AnInvalidChannelNamesItsPathOnce) {
  absl::Status status = ParseError(
      FileOf("acme",
             absl::StrCat(SlackJson("ops", "https://a.example/x"), ",",
                          SlackJson("pager", "ftp://a.example/x")),
             ""));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      std::string(status.message()),
      "alerts-file /etc/deliverd/alerts.json: tenants[0].channels[1].url: "
      "must be an http:// or https:// URL");

  // A list entry keeps its index, without the API's "channel." prefix.
  status =
      ParseError(FileOf("acme",
                        R"({"name": "mail", "type": "ALERT_CHANNEL_TYPE_EMAIL",
          "emailTo": ["oncall@example.com", "not an address"]})",
                        ""));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              StartsWith("alerts-file /etc/deliverd/alerts.json: "
                         "tenants[0].channels[0].email_to"));
  EXPECT_THAT(status.message(), Not(HasSubstr("channel.")));

  status = ParseError(
      FileOf("acme", R"({"name": "Ops!", "type": "ALERT_CHANNEL_TYPE_SLACK",
                  "url": "https://a.example/x"})",
             ""));
  EXPECT_EQ(
      std::string(status.message()),
      "alerts-file /etc/deliverd/alerts.json: tenants[0].channels[0].name: "
      "a channel name has only a-z, 0-9 and '-' characters");

  status = ParseError(
      FileOf("acme", R"({"name": "hook", "type": "ALERT_CHANNEL_TYPE_WEBHOOK",
                  "url": "https://a.example/x", "secret": "short"})",
             ""));
  EXPECT_EQ(
      std::string(status.message()),
      "alerts-file /etc/deliverd/alerts.json: tenants[0].channels[0].secret: "
      "must be 16 to 256 bytes");
}

TEST(AlertsFileParseTest, AnInvalidRuleNamesItsPathOnce) {
  const std::string channel = SlackJson("ops", "https://a.example/x");
  absl::Status status = ParseError(absl::StrCat(
      R"({"tenants": [)", R"({"tenant": "acme"},)",
      R"({"tenant": "globex", "channels": [)", channel, R"(], "rules": [)",
      FailedRuleJson("ops"), ",", FailedRuleJson("ops", 5), "]}]}"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      std::string(status.message()),
      "alerts-file /etc/deliverd/alerts.json: "
      "tenants[1].rules[1].cooldown_seconds: must be between 10 and 86400 "
      "seconds");

  status = ParseError(FileOf(
      "acme", channel,
      R"({"kind": "ALERT_KIND_MESSAGE_FAILED", "channels": ["ops", "ops"]})"));
  EXPECT_EQ(
      std::string(status.message()),
      "alerts-file /etc/deliverd/alerts.json: tenants[0].rules[0].channels[1]: "
      "listed twice");

  status = ParseError(FileOf("acme", channel, R"({"channels": ["ops"]})"));
  EXPECT_EQ(std::string(status.message()),
            "alerts-file /etc/deliverd/alerts.json: tenants[0].rules[0].kind: "
            "required");

  status = ParseError(
      FileOf("acme", channel,
             R"({"kind": "ALERT_KIND_MESSAGE_FAILED", "channels": ["ops"],
          "threshold": 0.1})"));
  EXPECT_EQ(
      std::string(status.message()),
      "alerts-file /etc/deliverd/alerts.json: tenants[0].rules[0].threshold: "
      "only for BOUNCE_RATE and COMPLAINT_RATE");
}

TEST(AlertsFileParseTest, ATenantNeedsAName) {
  absl::Status status = ParseError(R"({"tenants": [{"channels": []}]})");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      std::string(status.message()),
      "alerts-file /etc/deliverd/alerts.json: tenants[0].tenant: required "
      "(1 to 64 characters)");
}

TEST(AlertsFileParseTest, DuplicatesAreRefused) {
  const std::string channel = SlackJson("ops", "https://a.example/x");
  absl::Status status = ParseError(
      R"({"tenants": [{"tenant": "acme"}, {"tenant": "globex"},
                      {"tenant": "acme"}]})");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(status.message()),
            "alerts-file /etc/deliverd/alerts.json: tenants[2].tenant: acme is "
            "declared twice");

  // "alertChannels/ops" is "ops".
  status = ParseError(FileOf(
      "acme",
      absl::StrCat(channel, ",", SlackJson("other", "https://b.example/y"), ",",
                   SlackJson("alertChannels/ops", "https://b.example/y")),
      ""));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      std::string(status.message()),
      "alerts-file /etc/deliverd/alerts.json: tenants[0].channels[2].name: "
      "ops is declared twice");

  // Identical once defaults are filled in and names normalised.
  status = ParseError(
      FileOf("acme", channel,
             absl::StrCat(FailedRuleJson("ops", 60), ",", FailedRuleJson("ops"),
                          ",", FailedRuleJson("alertChannels/ops", 900))));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      std::string(status.message()),
      "alerts-file /etc/deliverd/alerts.json: tenants[0].rules[2]: the same "
      "rule is declared twice");

  // The same rule in two tenants is two rules.
  absl::StatusOr<DeclaredAlerts> two = ParseAlertsFile(
      kFile, absl::StrCat(R"({"tenants": [{"tenant": "acme", "channels": [)",
                          channel, R"(], "rules": [)", FailedRuleJson("ops"),
                          R"(]}, {"tenant": "globex", "channels": [)", channel,
                          R"(], "rules": [)", FailedRuleJson("ops"), "]}]}"));
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_NE(two->tenants[0].rules[0].id, two->tenants[1].rules[0].id);
}

class AlertsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/alerts-file-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store::SqliteOptions options;
    options.full_sync = false;
    absl::StatusOr<std::unique_ptr<store::SqliteStore>> opened =
        store::SqliteStore::Open(dir_ + "/db", options);
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = *std::move(opened);
  }

  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string WriteFile(const std::string& name, const std::string& text,
                        mode_t mode) {
    const std::string path = absl::StrCat(dir_, "/", name);
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << text;
    }
    EXPECT_EQ(chmod(path.c_str(), mode), 0);
    return path;
  }

  absl::StatusOr<AlertsFileChanges> Apply(const std::string& json,
                                          absl::Time now = kNow) {
    absl::StatusOr<DeclaredAlerts> parsed = ParseAlertsFile(kFile, json);
    if (!parsed.ok()) return parsed.status();
    return ApplyAlertsFile(*store_, *parsed, now);
  }

  int64_t Tenant(const std::string& name) {
    absl::StatusOr<int64_t> id = store_->FindTenant(name);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.ok() ? *id : -1;
  }

  std::vector<store::AlertChannelRow> Channels(int64_t tenant) {
    absl::StatusOr<std::vector<store::AlertChannelRow>> rows =
        store_->ListAlertChannels(tenant);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::vector<store::AlertChannelRow>{};
  }

  std::vector<store::AlertRuleRow> Rules(int64_t tenant) {
    absl::StatusOr<std::vector<store::AlertRuleRow>> rows =
        store_->ListAlertRules(tenant);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::vector<store::AlertRuleRow>{};
  }

  std::vector<std::string> RuleIds(int64_t tenant) {
    std::vector<std::string> ids;
    for (const store::AlertRuleRow& row : Rules(tenant)) ids.push_back(row.id);
    return ids;
  }

  // As the Alerts service does.
  void ApiChannel(int64_t tenant, const std::string& name,
                  const std::string& url) {
    v1::AlertChannel proto;
    proto.set_name(name);
    proto.set_type(v1::ALERT_CHANNEL_TYPE_SLACK);
    proto.set_url(url);
    absl::StatusOr<ChannelConfig> channel = ChannelFromProto(tenant, proto);
    ASSERT_TRUE(channel.ok()) << channel.status();
    channel->create_time = kNow - absl::Hours(1);
    ASSERT_TRUE(store_->CreateAlertChannel(ChannelToRow(*channel)).ok());
  }
  void ApiRule(int64_t tenant, const std::string& id,
               const std::string& channel) {
    v1::AlertRule proto;
    proto.set_kind(v1::ALERT_KIND_COMPLAINT);
    proto.add_channels(channel);
    absl::StatusOr<RuleConfig> rule = RuleFromProto(tenant, proto);
    ASSERT_TRUE(rule.ok()) << rule.status();
    rule->id = id;
    rule->create_time = kNow - absl::Hours(1);
    absl::Status created = store_->CreateAlertRule(RuleToRow(*rule));
    ASSERT_TRUE(created.ok()) << created;
  }

  std::string dir_;
  std::unique_ptr<store::SqliteStore> store_;
};

TEST_F(AlertsFileTest, LoadsAPrivateFile) {
  const std::string path = WriteFile("alerts.json", kCamelCase, 0600);
  absl::StatusOr<DeclaredAlerts> loaded = LoadAlertsFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->tenants.size(), 1u);
  EXPECT_EQ(loaded->tenants[0].channels.size(), 3u);
  EXPECT_EQ(loaded->tenants[0].rules.size(), 2u);
}

TEST_F(AlertsFileTest, RefusesAFileOthersCanRead) {
  for (mode_t mode : {0640, 0604, 0644, 0660}) {
    const std::string path = WriteFile("alerts.json", kCamelCase, mode);
    absl::StatusOr<DeclaredAlerts> loaded = LoadAlertsFile(path);
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition)
        << std::oct << mode << " " << loaded.status();
    EXPECT_THAT(loaded.status().message(), HasSubstr("alerts-file"));
    EXPECT_THAT(loaded.status().message(), HasSubstr(path));
    EXPECT_THAT(loaded.status().message(), HasSubstr("chmod 600"));
  }
}

TEST_F(AlertsFileTest, AMissingFileIsAnError) {
  const std::string path = dir_ + "/missing.json";
  absl::StatusOr<DeclaredAlerts> loaded = LoadAlertsFile(path);
  EXPECT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(loaded.status().message(), HasSubstr("alerts-file"));
  EXPECT_THAT(loaded.status().message(), HasSubstr(path));
}

TEST_F(AlertsFileTest, LoadErrorsNameTheFile) {
  const std::string path = WriteFile("alerts.json", R"({"tenants": 3})", 0600);
  absl::StatusOr<DeclaredAlerts> loaded = LoadAlertsFile(path);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(loaded.status().message()),
              StartsWith(absl::StrCat("alerts-file ", path, ": ")));
}

TEST_F(AlertsFileTest, CreatesTheTenantItsChannelsAndRules) {
  ASSERT_EQ(store_->FindTenant("acme").status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<AlertsFileChanges> changes = Apply(kCamelCase);
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_EQ(changes->channels_created, 3);
  EXPECT_EQ(changes->channels_updated, 0);
  EXPECT_EQ(changes->rules_created, 2);
  EXPECT_EQ(changes->rules_deleted, 0);

  const int64_t acme = Tenant("acme");
  std::vector<store::AlertChannelRow> channels = Channels(acme);
  ASSERT_EQ(channels.size(), 3u);
  EXPECT_EQ(channels[0].name, "hook");
  EXPECT_EQ(channels[1].name, "mail");
  EXPECT_EQ(channels[2].name, "ops");
  absl::StatusOr<ChannelConfig> hook = DecodeChannel(channels[0]);
  ASSERT_TRUE(hook.ok()) << hook.status();
  EXPECT_EQ(hook->type, ChannelType::kWebhook);
  EXPECT_EQ(hook->url, "https://hooks.example.com/deliverd");
  EXPECT_EQ(hook->secret, kSecret);  // stored, for signing
  EXPECT_EQ(hook->tenant_id, acme);

  std::vector<store::AlertRuleRow> rules = Rules(acme);
  ASSERT_EQ(rules.size(), 2u);
  absl::StatusOr<DeclaredAlerts> parsed = ParseAlertsFile(kFile, kCamelCase);
  ASSERT_TRUE(parsed.ok());
  std::vector<std::string> want = {parsed->tenants[0].rules[0].id,
                                   parsed->tenants[0].rules[1].id};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(RuleIds(acme), want);
  for (const store::AlertRuleRow& row : rules) {
    absl::StatusOr<RuleConfig> rule = DecodeRule(row);
    ASSERT_TRUE(rule.ok()) << rule.status();
    EXPECT_EQ(rule->tenant_id, acme);
  }
}

TEST_F(AlertsFileTest, UsesAnExistingTenant) {
  absl::StatusOr<int64_t> acme = store_->CreateTenant("acme");
  ASSERT_TRUE(acme.ok());
  absl::StatusOr<AlertsFileChanges> changes = Apply(kCamelCase);
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_EQ(Tenant("acme"), *acme);
  EXPECT_EQ(Channels(*acme).size(), 3u);
  EXPECT_EQ(Rules(*acme).size(), 2u);
}

TEST_F(AlertsFileTest, ApplyingTheSameFileAgainChangesNothing) {
  absl::StatusOr<AlertsFileChanges> first = Apply(kCamelCase);
  ASSERT_TRUE(first.ok()) << first.status();
  const int64_t acme = Tenant("acme");
  const std::vector<store::AlertChannelRow> channels = Channels(acme);
  const std::vector<std::string> rules = RuleIds(acme);

  // Later (as at the next start), from either spelling of the file.
  for (const char* json : {kCamelCase, kSnakeCase}) {
    absl::StatusOr<AlertsFileChanges> again =
        Apply(json, kNow + absl::Hours(5) + absl::Nanoseconds(987));
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->channels_created, 0);
    EXPECT_EQ(again->channels_updated, 0);
    EXPECT_EQ(again->rules_created, 0);
    EXPECT_EQ(again->rules_deleted, 0);
  }
  std::vector<store::AlertChannelRow> after = Channels(acme);
  ASSERT_EQ(after.size(), channels.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].spec, channels[i].spec) << after[i].name;
    EXPECT_EQ(after[i].create_time, channels[i].create_time) << after[i].name;
  }
  EXPECT_EQ(RuleIds(acme), rules);
}

TEST_F(AlertsFileTest, AChangedChannelIsUpdatedKeepingItsCreateTime) {
  const std::string rule = FailedRuleJson("ops");
  ASSERT_TRUE(
      Apply(FileOf("acme", SlackJson("ops", "https://a.example/one"), rule))
          .ok());
  const int64_t acme = Tenant("acme");
  std::vector<store::AlertChannelRow> before = Channels(acme);
  ASSERT_EQ(before.size(), 1u);
  const std::vector<std::string> rules = RuleIds(acme);

  absl::StatusOr<AlertsFileChanges> changes =
      Apply(FileOf("acme", SlackJson("ops", "https://a.example/two"), rule),
            kNow + absl::Hours(1));
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_EQ(changes->channels_created, 0);
  EXPECT_EQ(changes->channels_updated, 1);
  EXPECT_EQ(changes->rules_created, 0);
  EXPECT_EQ(changes->rules_deleted, 0);

  std::vector<store::AlertChannelRow> after = Channels(acme);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_NE(after[0].spec, before[0].spec);
  EXPECT_EQ(after[0].create_time, before[0].create_time);
  absl::StatusOr<ChannelConfig> decoded = DecodeChannel(after[0]);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->url, "https://a.example/two");
  EXPECT_EQ(decoded->create_time, before[0].create_time);
  // The rule on it is the same rule.
  EXPECT_EQ(RuleIds(acme), rules);

  // Another type under the same name is an update too.
  changes =
      Apply(FileOf("acme",
                   R"({"name": "ops", "type": "ALERT_CHANNEL_TYPE_WEBHOOK",
                 "url": "https://a.example/two",
                 "secret": "a-webhook-secret-of-some-length"})",
                   rule),
            kNow + absl::Hours(2));
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_EQ(changes->channels_updated, 1);
  after = Channels(acme);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].type, static_cast<int>(v1::ALERT_CHANNEL_TYPE_WEBHOOK));
}

TEST_F(AlertsFileTest, TheFileWinsOverAnApiChannelOfTheSameName) {
  absl::StatusOr<int64_t> acme = store_->CreateTenant("acme");
  ASSERT_TRUE(acme.ok());
  ApiChannel(*acme, "ops", "https://api.example/made-by-hand");
  const absl::Time created = Channels(*acme)[0].create_time;
  absl::StatusOr<AlertsFileChanges> changes =
      Apply(FileOf("acme", SlackJson("ops", "https://a.example/one"), ""));
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_EQ(changes->channels_created, 0);
  EXPECT_EQ(changes->channels_updated, 1);
  std::vector<store::AlertChannelRow> after = Channels(*acme);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].create_time, created);
  absl::StatusOr<ChannelConfig> decoded = DecodeChannel(after[0]);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->url, "https://a.example/one");
}

TEST_F(AlertsFileTest, ARuleLeftOutOfTheFileIsDeletedButApiRulesStay) {
  const std::string channel = SlackJson("ops", "https://a.example/one");
  ASSERT_TRUE(Apply(FileOf("acme", channel,
                           absl::StrCat(FailedRuleJson("ops"), ",",
                                        FailedRuleJson("ops", 60))))
                  .ok());
  const int64_t acme = Tenant("acme");
  absl::StatusOr<DeclaredAlerts> parsed =
      ParseAlertsFile(kFile, FileOf("acme", channel, FailedRuleJson("ops")));
  ASSERT_TRUE(parsed.ok());
  const std::string kept = parsed->tenants[0].rules[0].id;
  // Rules made through the API ("r_" and a message-id-like suffix), on the
  // file's channel and on an API channel.
  ApiChannel(acme, "by-hand", "https://api.example/x");
  ApiRule(acme, "r_01hzy8k2m3n4p5q6r7s8t9v0wx", "ops");
  ApiRule(acme, "r_01hzy8k2m3n4p5q6r7s8t9v0wy", "by-hand");
  ASSERT_EQ(Rules(acme).size(), 4u);

  absl::StatusOr<AlertsFileChanges> changes = Apply(
      FileOf("acme", channel, FailedRuleJson("ops")), kNow + absl::Hours(1));
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_EQ(changes->channels_created, 0);
  EXPECT_EQ(changes->channels_updated, 0);
  EXPECT_EQ(changes->rules_created, 0);
  EXPECT_EQ(changes->rules_deleted, 1);
  std::vector<std::string> want = {kept, "r_01hzy8k2m3n4p5q6r7s8t9v0wx",
                                   "r_01hzy8k2m3n4p5q6r7s8t9v0wy"};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(RuleIds(acme), want);
  // Channels are never deleted.
  EXPECT_EQ(Channels(acme).size(), 2u);

  // A file that drops every rule of the tenant.
  changes = Apply(FileOf("acme", channel, ""), kNow + absl::Hours(2));
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_EQ(changes->rules_deleted, 1);
  EXPECT_THAT(RuleIds(acme), ElementsAre("r_01hzy8k2m3n4p5q6r7s8t9v0wx",
                                         "r_01hzy8k2m3n4p5q6r7s8t9v0wy"));
}

TEST_F(AlertsFileTest, TenantsTheFileDoesNotNameAreLeftAlone) {
  ASSERT_TRUE(Apply(FileOf("acme", SlackJson("ops", "https://a.example/one"),
                           FailedRuleJson("ops")))
                  .ok());
  const int64_t acme = Tenant("acme");
  absl::StatusOr<AlertsFileChanges> changes =
      Apply(FileOf("globex", SlackJson("ops", "https://a.example/one"), ""),
            kNow + absl::Hours(1));
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_EQ(changes->channels_created, 1);
  EXPECT_EQ(changes->rules_deleted, 0);
  EXPECT_EQ(Rules(acme).size(), 1u);
  EXPECT_EQ(Rules(Tenant("globex")).size(), 0u);
}

TEST_F(AlertsFileTest, ARuleOnAChannelNoOneDeclaredIsRefused) {
  absl::StatusOr<AlertsFileChanges> changes =
      Apply(FileOf("acme", SlackJson("ops", "https://a.example/one"),
                   absl::StrCat(FailedRuleJson("ops"), ",",
                                R"({"kind": "ALERT_KIND_COMPLAINT",
                       "channels": ["ops", "pager"]})")));
  EXPECT_EQ(changes.status().code(), absl::StatusCode::kInvalidArgument);
  // Named like the other errors: the file, then the entry.
  EXPECT_EQ(
      std::string(changes.status().message()),
      "alerts-file /etc/deliverd/alerts.json: tenants[0].rules[1].channels[1]: "
      "channel \"pager\" is neither declared in the file nor an existing "
      "channel of tenant acme");
  // Checked before anything is changed.
  EXPECT_EQ(store_->FindTenant("acme").status().code(),
            absl::StatusCode::kNotFound);

  // Another tenant's channel of that name does not count.
  absl::StatusOr<int64_t> globex = store_->CreateTenant("globex");
  ASSERT_TRUE(globex.ok());
  ApiChannel(*globex, "pager", "https://api.example/pager");
  changes = Apply(absl::StrCat(
      R"({"tenants": [{"tenant": "globex"}, {"tenant": "acme", "rules": [)",
      FailedRuleJson("pager"), "]}]}"));
  EXPECT_EQ(changes.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(changes.status().message()),
              StartsWith("alerts-file /etc/deliverd/alerts.json: "
                         "tenants[1].rules[0].channels[0]: channel \"pager\""));
}

TEST_F(AlertsFileTest, ARuleMayNameAChannelMadeThroughTheApi) {
  absl::StatusOr<int64_t> acme = store_->CreateTenant("acme");
  ASSERT_TRUE(acme.ok());
  ApiChannel(*acme, "pager", "https://api.example/pager");
  absl::StatusOr<AlertsFileChanges> changes =
      Apply(FileOf("acme", SlackJson("ops", "https://a.example/one"),
                   R"({"kind": "ALERT_KIND_MESSAGE_FAILED",
          "channels": ["ops", "alertChannels/pager"]})"));
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_EQ(changes->channels_created, 1);
  EXPECT_EQ(changes->rules_created, 1);
  std::vector<store::AlertRuleRow> rules = Rules(*acme);
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_THAT(rules[0].channels, ElementsAre("ops", "pager"));
  // The API channel is left as it was.
  std::vector<store::AlertChannelRow> channels = Channels(*acme);
  ASSERT_EQ(channels.size(), 2u);
  absl::StatusOr<ChannelConfig> pager = DecodeChannel(channels[1]);
  ASSERT_TRUE(pager.ok());
  EXPECT_EQ(pager->url, "https://api.example/pager");
}

}  // namespace
}  // namespace deliverd::alerts
