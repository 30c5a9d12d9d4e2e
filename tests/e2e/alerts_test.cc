// Alerts end to end: deliverd with a relay that refuses everything, a send
// that fails, and the alert that reaches a webhook receiver with the SMTP
// reply as evidence (signed, recorded by ListAlerts); channel and rule
// management and test alerts over the Alerts service.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "deliverd/v1/alerts.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/http_receiver.h"
#include "testing/smtp_server.h"
#include "testing_alerts.h"
#include "testing_deliverd.h"

namespace deliverd::e2e {
namespace {

using ::deliverd::testing::HttpReceiver;
using ::deliverd::testing::HttpReply;
using ::deliverd::testing::SmtpServer;
using ::deliverd::testing::SmtpServerOptions;
using ::testing::HasSubstr;

TEST(AlertsTest, ARefusingRelayRaisesOneAlertWithTheEvidence) {
  SmtpServerOptions options;
  options.mail_reply = "554 5.7.1 Relay access denied for this sender";
  SmtpServer relay(options);
  ASSERT_OK(relay.Start());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<HttpReceiver> receiver,
                       HttpReceiver::Start());
  ASSERT_OK_AND_ASSIGN(auto server, Deliverd::Start(RelayFlags(relay)));
  Client client = server->NewClient();
  AlertsClient alerts(client);
  ASSERT_OK_AND_ASSIGN(v1::AlertChannel channel,
                       alerts.CreateChannel(Webhook("ops", receiver->url("/hook/s3cr3t"))));
  // The URL is a credential: shown redacted.
  EXPECT_EQ(channel.url(), absl::StrCat("http://127.0.0.1:", receiver->port()));
  EXPECT_TRUE(channel.secret().empty());
  for (v1::AlertKind kind :
       {v1::ALERT_KIND_MESSAGE_FAILED, v1::ALERT_KIND_HARD_BOUNCE}) {
    v1::AlertRule rule;
    rule.set_kind(kind);
    rule.add_channels("ops");
    ASSERT_OK(alerts.CreateRule(rule).status());
  }

  ASSERT_OK_AND_ASSIGN(
      v1::Message queued,
      client.Send(MakeSend("news@shop.example", "ann@example.org", "Hi", "Hello")));
  ASSERT_OK_AND_ASSIGN(v1::Message done, client.WaitUntilSettled(queued.id()));
  EXPECT_NE(done.status(), v1::MESSAGE_STATUS_SENT) << done.DebugString();

  ASSERT_OK_AND_ASSIGN(std::vector<testing::HttpRequest> requests,
                       receiver->WaitForRequests(1, absl::Seconds(20)));
  ASSERT_EQ(requests.size(), 1u);
  const testing::HttpRequest& hook = requests[0];
  EXPECT_EQ(hook.method, "POST");
  EXPECT_EQ(hook.target, "/hook/s3cr3t");
  EXPECT_EQ(hook.Header("Content-Type"), "application/json");
  EXPECT_FALSE(hook.Header("X-Deliverd-Signature").empty());
  EXPECT_FALSE(hook.Header("X-Deliverd-Timestamp").empty());
  EXPECT_THAT(hook.body, HasSubstr(queued.id()));
  EXPECT_THAT(hook.body, HasSubstr("Relay access denied for this sender"));
  EXPECT_THAT(hook.body, HasSubstr("ann@example.org"));
  EXPECT_THAT(hook.body, HasSubstr(R"("tenant":"default")"));

  ASSERT_OK_AND_ASSIGN(v1::AlertRecord record,
                       alerts.WaitForRecord(absl::Seconds(10)));
  EXPECT_TRUE(record.accepted()) << record.error();
  EXPECT_EQ(record.status_code(), 200);
  EXPECT_EQ(record.channel(), "alertChannels/ops");
  EXPECT_THAT(record.text(), HasSubstr("Relay access denied"));
  ASSERT_GE(record.message_ids_size(), 1);
  EXPECT_EQ(record.message_ids(0), queued.id());
  // One failure, one alert: the HARD_BOUNCE rule stays quiet.
  ASSERT_OK_AND_ASSIGN(v1::ListAlertsResponse all, alerts.List());
  EXPECT_EQ(all.alerts_size(), 1);
  EXPECT_EQ(receiver->Requests().size(), 1u);
}

TEST(AlertsTest, ChannelsRulesAndTestAlerts) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<HttpReceiver> receiver,
                       HttpReceiver::Start());
  ASSERT_OK_AND_ASSIGN(auto server, Deliverd::Start({}));
  Client client = server->NewClient();
  AlertsClient alerts(client);

  // Bad input names the field.
  v1::AlertChannel bad = Webhook("ops", "ftp://example.com/x");
  absl::StatusOr<v1::AlertChannel> refused = alerts.CreateChannel(bad);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("channel.url"));
  v1::AlertRule orphan;
  orphan.set_kind(v1::ALERT_KIND_COMPLAINT);
  orphan.add_channels("missing");
  EXPECT_EQ(alerts.CreateRule(orphan).status().code(),
            absl::StatusCode::kFailedPrecondition);

  ASSERT_OK(alerts.CreateChannel(Webhook("ops", receiver->url("/t"))).status());
  EXPECT_EQ(alerts.CreateChannel(Webhook("ops", receiver->url("/t"))).status().code(),
            absl::StatusCode::kAlreadyExists);

  ASSERT_OK_AND_ASSIGN(v1::AlertRecord test, alerts.Test("ops"));
  EXPECT_TRUE(test.accepted()) << test.error();
  EXPECT_EQ(test.kind(), v1::ALERT_KIND_TEST);
  ASSERT_OK_AND_ASSIGN(std::vector<testing::HttpRequest> requests,
                       receiver->WaitForRequests(1, absl::Seconds(10)));
  EXPECT_THAT(requests[0].body, HasSubstr("test"));

  // A channel that answers 500: the test alert says so.
  HttpReply error;
  error.status = 500;
  receiver->Script({error, error, error});
  ASSERT_OK_AND_ASSIGN(v1::AlertRecord failed, alerts.Test("ops"));
  EXPECT_FALSE(failed.accepted());
  EXPECT_EQ(failed.status_code(), 500);

  EXPECT_EQ(alerts.Test("nope").status().code(), absl::StatusCode::kNotFound);

  // Other tenants see none of it.
  ASSERT_OK_AND_ASSIGN(std::string other_key, server->CreateKey("tenant-b"));
  Client other = server->NewClient(other_key);
  AlertsClient other_alerts(other);
  EXPECT_EQ(other_alerts.Test("ops").status().code(), absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(v1::ListAlertsResponse none, other_alerts.List());
  EXPECT_EQ(none.alerts_size(), 0);
  ASSERT_OK_AND_ASSIGN(v1::ListAlertsResponse mine, alerts.List());
  EXPECT_EQ(mine.alerts_size(), 2);

  // A channel a rule uses cannot go; once the rule is gone it can.
  v1::AlertRule rule;
  rule.set_kind(v1::ALERT_KIND_QUEUE_AGE);
  rule.add_channels("alertChannels/ops");
  ASSERT_OK_AND_ASSIGN(v1::AlertRule created, alerts.CreateRule(rule));
  EXPECT_EQ(created.max_age_seconds(), 1800);
  EXPECT_EQ(alerts.DeleteChannel("ops").code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(AlertsTest, DeliverctlManagesChannelsRulesAndTestAlerts) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<HttpReceiver> receiver,
                       HttpReceiver::Start());
  ASSERT_OK_AND_ASSIGN(auto server, Deliverd::Start({}));
  CtlOptions with_secret;
  with_secret.env["DELIVERCTL_ALERT_SECRET"] = kAlertWebhookSecret;
  ProcessResult added = server->Deliverctl(
      {"alerts", "add-channel", "hook", "--type", "webhook", "--url",
       receiver->url("/ctl/s3cr3t")},
      with_secret);
  ASSERT_EQ(added.exit_code, 0) << added;
  ProcessResult rule = server->Deliverctl(
      {"alerts", "add-rule", "complaint-rate", "--channel", "hook",
       "--threshold", "0.1%", "--window", "24h"});
  ASSERT_EQ(rule.exit_code, 0) << rule;
  EXPECT_THAT(rule.out, HasSubstr("r_"));

  ProcessResult channels = server->Deliverctl({"alerts", "channels"});
  ASSERT_EQ(channels.exit_code, 0) << channels;
  EXPECT_THAT(channels.out, HasSubstr("hook"));
  EXPECT_THAT(channels.out, ::testing::Not(HasSubstr("s3cr3t")));
  ProcessResult rules = server->Deliverctl({"--json", "alerts", "rules"});
  ASSERT_EQ(rules.exit_code, 0) << rules;
  EXPECT_THAT(rules.out, HasSubstr("0.001"));
  EXPECT_THAT(rules.out, HasSubstr("86400"));

  ProcessResult test = server->Deliverctl({"alerts", "test", "hook"});
  EXPECT_EQ(test.exit_code, 0) << test;
  ASSERT_OK_AND_ASSIGN(std::vector<testing::HttpRequest> requests,
                       receiver->WaitForRequests(1, absl::Seconds(10)));
  EXPECT_EQ(requests[0].target, "/ctl/s3cr3t");
  ProcessResult list = server->Deliverctl({"alerts", "list"});
  ASSERT_EQ(list.exit_code, 0) << list;
  EXPECT_THAT(list.out, HasSubstr("hook"));

  // A channel that refuses: `alerts test` says so and exits 1.
  HttpReply refused;
  refused.status = 403;
  receiver->Script({refused});
  ProcessResult failed = server->Deliverctl({"alerts", "test", "hook"});
  EXPECT_EQ(failed.exit_code, 1) << failed;
  // Bad input: a usage error (2) or the server's INVALID_ARGUMENT (1),
  // with the reason.
  ProcessResult bad = server->Deliverctl(
      {"alerts", "add-rule", "queue-age", "--channel", "hook", "--max-age",
       "10s"});
  EXPECT_NE(bad.exit_code, 0) << bad;
  EXPECT_THAT(bad.err, HasSubstr("max_age"));
}

}  // namespace
}  // namespace deliverd::e2e
