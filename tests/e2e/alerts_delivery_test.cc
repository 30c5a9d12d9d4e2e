// Alert delivery end to end: email alerts through their own relay
// (--alert-smtp-relay) while the mail relay refuses everything, channels and
// rules declared in --alerts-file (and a file others can read refused at
// start), and the rate limit of a rule (one alert, then one summary after
// the cooldown, the counts adding up to the burst).
#include <stdlib.h>
#include <sys/stat.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "deliverd/v1/alerts.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/http_receiver.h"
#include "testing/smtp_server.h"
#include "testing_alerts.h"
#include "testing_deliverd.h"
#include "testing_mariadb.h"

namespace deliverd::e2e {
namespace {

using ::deliverd::testing::HttpReceiver;
using ::deliverd::testing::HttpRequest;
using ::deliverd::testing::ReceivedMessage;
using ::deliverd::testing::SmtpServer;
using ::deliverd::testing::SmtpServerOptions;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kRefusal[] = "554 5.7.1 Relay access denied for this sender";

// A mail relay that refuses every sender.
SmtpServerOptions Refusing() {
  SmtpServerOptions options;
  options.mail_reply = kRefusal;
  return options;
}


v1::AlertRule FailedRule(const std::string& channel, int cooldown_seconds = 0) {
  v1::AlertRule rule;
  rule.set_kind(v1::ALERT_KIND_MESSAGE_FAILED);
  rule.add_channels(channel);
  rule.set_cooldown_seconds(cooldown_seconds);
  return rule;
}

// The body of a message as text: quoted-printable undone when the message
// says so (soft line breaks could split what the tests look for).
std::string DecodedData(const std::string& data) {
  if (!absl::StrContains(absl::AsciiStrToLower(data),
                         "content-transfer-encoding: quoted-printable")) {
    return data;
  }
  std::string out;
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] != '=') {
      out.push_back(data[i]);
    } else if (data.compare(i + 1, 2, "\r\n") == 0) {
      i += 2;
    } else if (i + 2 < data.size() && isxdigit(data[i + 1]) &&
               isxdigit(data[i + 2])) {
      out.push_back(
          static_cast<char>(std::stoi(data.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back('=');
    }
  }
  return out;
}

// The value of `"field":<digits>` in a JSON body, or -1.
int64_t JsonInt(const std::string& body, const std::string& field) {
  const std::string key = absl::StrCat("\"", field, "\":");
  size_t at = body.find(key);
  if (at == std::string::npos) return -1;
  at += key.size();
  size_t end = at;
  while (end < body.size() && isdigit(static_cast<unsigned char>(body[end]))) {
    ++end;
  }
  int64_t value = -1;
  if (!absl::SimpleAtoi(body.substr(at, end - at), &value)) return -1;
  return value;
}

// A private temporary folder for files given to deliverd.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TEST_TMPDIR");
    std::string tmpl = absl::StrCat(base != nullptr ? base : "/tmp",
                                    "/alerts-delivery-XXXXXX");
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

  // Writes `name` with `text` and sets its mode; returns its path.
  std::string Write(const std::string& name, const std::string& text,
                    mode_t mode) const {
    const std::string file = absl::StrCat(path_, "/", name);
    {
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out << text;
    }
    chmod(file.c_str(), mode);
    return file;
  }

 private:
  std::string path_;
};

TEST(AlertsDeliveryTest, EmailAlertsGoThroughTheirOwnRelay) {
  SmtpServer mail_relay(Refusing());
  ASSERT_OK(mail_relay.Start());
  SmtpServer alert_relay;  // accepts everything
  ASSERT_OK(alert_relay.Start());
  std::vector<std::string> flags = RelayFlags(mail_relay);
  // --smtp-tls none applies to the alert relay too (its transport is built
  // from the same settings with the relay replaced).
  flags.insert(flags.end(),
               {"--alert-smtp-relay",
                absl::StrCat("smtp://127.0.0.1:", alert_relay.port()),
                "--alert-from", "alerts@ops.example"});
  ASSERT_OK_AND_ASSIGN(auto server, Deliverd::Start(flags));
  Client client = server->NewClient();
  AlertsClient alerts(client);
  v1::AlertChannel email;
  email.set_name("oncall");
  email.set_type(v1::ALERT_CHANNEL_TYPE_EMAIL);
  email.add_email_to("oncall@example.com");
  ASSERT_OK(alerts.CreateChannel(email).status());
  ASSERT_OK(alerts.CreateRule(FailedRule("oncall")).status());

  ASSERT_OK_AND_ASSIGN(v1::Message queued,
                       client.Send(MakeSend("news@shop.example",
                                            "ann@example.org", "Hi", "Hello")));
  ASSERT_OK(client.WaitUntilStatus(queued.id(), v1::MESSAGE_STATUS_FAILED));

  ASSERT_TRUE(alert_relay.WaitForMessages(1, absl::Seconds(20)))
      << "no alert mail; deliverd stderr:\n"
      << server->Stderr();
  std::vector<ReceivedMessage> mails = alert_relay.messages();
  ASSERT_EQ(mails.size(), 1u);
  const ReceivedMessage& mail = mails[0];
  EXPECT_EQ(mail.mail_from, "alerts@ops.example");
  ASSERT_EQ(mail.rcpts.size(), 1u);
  EXPECT_EQ(mail.rcpts[0].address, "oncall@example.com");
  EXPECT_THAT(mail.reply, StartsWith("250"));
  const std::string data = DecodedData(mail.data);
  EXPECT_THAT(data, HasSubstr("\r\nSubject: [deliverd] ")) << data;
  EXPECT_THAT(data, HasSubstr("alerts@ops.example"));
  EXPECT_THAT(data, HasSubstr("oncall@example.com"));
  EXPECT_THAT(data, HasSubstr(queued.id()));
  EXPECT_THAT(data, HasSubstr("Relay access denied for this sender"));
  // Nothing reached the refusing relay's DATA.
  EXPECT_TRUE(mail_relay.messages().empty());

  ASSERT_OK_AND_ASSIGN(v1::AlertRecord record,
                       alerts.WaitForRecord(absl::Seconds(10)));
  EXPECT_TRUE(record.accepted()) << record.error();
  EXPECT_EQ(record.channel_type(), v1::ALERT_CHANNEL_TYPE_EMAIL);
  EXPECT_EQ(record.channel(), "alertChannels/oncall");
  EXPECT_EQ(record.status_code(), 250);
  EXPECT_EQ(record.kind(), v1::ALERT_KIND_MESSAGE_FAILED);
  ASSERT_GE(record.message_ids_size(), 1);
  EXPECT_EQ(record.message_ids(0), queued.id());
}

std::string AlertsFileJson(const std::string& url) {
  return absl::StrCat(R"({
  "tenants": [{
    "tenant": "default",
    "channels": [{
      "name": "ops-hook",
      "type": "ALERT_CHANNEL_TYPE_WEBHOOK",
      "url": ")",
                      url, R"(",
      "secret": ")",
                      kAlertWebhookSecret, R"("
    }],
    "rules": [{
      "kind": "ALERT_KIND_MESSAGE_FAILED",
      "channels": ["ops-hook"],
      "cooldownSeconds": 60
    }]
  }]
})");
}

TEST(AlertsDeliveryTest, AnAlertsFileIsAppliedAtStart) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  SmtpServer relay(Refusing());
  ASSERT_OK(relay.Start());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<HttpReceiver> receiver,
                       HttpReceiver::Start());
  const std::string file = dir.Write(
      "alerts.json", AlertsFileJson(receiver->url("/from-file")), 0600);
  std::vector<std::string> flags = RelayFlags(relay);
  flags.insert(flags.end(), {"--alerts-file", file});
  ASSERT_OK_AND_ASSIGN(auto server, Deliverd::Start(flags));
  EXPECT_THAT(server->Stdout(),
              HasSubstr(absl::StrCat("Alerts file ", file,
                                     ": 1 channels created, 0 updated, 1 "
                                     "rules created, 0 deleted.")));
  Client client = server->NewClient();
  AlertsClient alerts(client);
  ASSERT_OK_AND_ASSIGN(v1::ListAlertRulesResponse rules, alerts.ListRules());
  ASSERT_EQ(rules.rules_size(), 1);
  EXPECT_THAT(rules.rules(0).name(), StartsWith("alertRules/r_cfg"));
  EXPECT_EQ(rules.rules(0).cooldown_seconds(), 60);
  ASSERT_OK_AND_ASSIGN(v1::ListAlertChannelsResponse channels,
                       alerts.ListChannels());
  ASSERT_EQ(channels.channels_size(), 1);
  EXPECT_EQ(channels.channels(0).name(), "alertChannels/ops-hook");
  EXPECT_TRUE(channels.channels(0).secret().empty());

  ASSERT_OK_AND_ASSIGN(v1::Message queued,
                       client.Send(MakeSend("news@shop.example",
                                            "ann@example.org", "Hi", "Hello")));
  ASSERT_OK(client.WaitUntilStatus(queued.id(), v1::MESSAGE_STATUS_FAILED));
  ASSERT_OK_AND_ASSIGN(std::vector<HttpRequest> requests,
                       receiver->WaitForRequests(1, absl::Seconds(20)));
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/from-file");
  EXPECT_FALSE(requests[0].Header("X-Deliverd-Signature").empty());
  EXPECT_THAT(requests[0].body, HasSubstr(queued.id()));
  EXPECT_THAT(requests[0].body,
              HasSubstr("Relay access denied for this sender"));
  ASSERT_OK_AND_ASSIGN(v1::AlertRecord record,
                       alerts.WaitForRecord(absl::Seconds(10)));
  EXPECT_TRUE(record.accepted()) << record.error();
  EXPECT_EQ(record.channel(), "alertChannels/ops-hook");
  EXPECT_THAT(record.rule(), StartsWith("alertRules/r_cfg"));

  // At the next start the unchanged file changes nothing.
  server->Kill();
  ASSERT_OK(server->Restart());
  EXPECT_THAT(server->Stdout(),
              HasSubstr(absl::StrCat("Alerts file ", file,
                                     ": 0 channels created, 0 updated, 0 "
                                     "rules created, 0 deleted.")));
}

TEST(AlertsDeliveryTest, AnAlertsFileOthersCanReadIsRefusedAtStart) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string file =
      dir.Write("alerts.json", AlertsFileJson("http://127.0.0.1:9/hook"), 0644);
  absl::StatusOr<std::unique_ptr<Deliverd>> server =
      Deliverd::Start({"--alerts-file", file});
  ASSERT_FALSE(server.ok()) << "deliverd started with a 0644 alerts file";
  // The harness reports the exit and deliverd's stderr.
  const std::string error(server.status().message());
  EXPECT_THAT(error, HasSubstr("ended before serving (exit status 1)"));
  EXPECT_THAT(error, HasSubstr(absl::StrCat("deliverd: alerts-file: ", file,
                                            " is readable by other users")));
  EXPECT_THAT(error, HasSubstr("chmod 600"));
}

TEST(AlertsDeliveryTest, ABurstGivesOneAlertThenOneSummary) {
  SmtpServer relay(Refusing());
  ASSERT_OK(relay.Start());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<HttpReceiver> receiver,
                       HttpReceiver::Start());
  ASSERT_OK_AND_ASSIGN(auto server, Deliverd::Start(RelayFlags(relay)));
  Client client = server->NewClient();
  AlertsClient alerts(client);
  ASSERT_OK(alerts.CreateChannel(Webhook("ops", receiver->url("/burst")))
                .status());
  ASSERT_OK(
      alerts.CreateRule(FailedRule("ops", /*cooldown_seconds=*/10)).status());

  constexpr int kBurst = 20;
  v1::SendBatchRequest batch;
  for (int i = 0; i < kBurst; ++i) {
    *batch.add_messages() =
        MakeSend("news@shop.example", absl::StrCat("user", i, "@example.org"),
                 absl::StrCat("Hi ", i), "Hello");
  }
  ASSERT_OK_AND_ASSIGN(v1::SendBatchResponse sent, client.SendBatch(batch));
  ASSERT_EQ(sent.accepted_count(), kBurst);
  for (const v1::SendBatchResult& result : sent.results()) {
    ASSERT_TRUE(result.has_message());
    ASSERT_OK(client.WaitUntilStatus(result.message().id(),
                                     v1::MESSAGE_STATUS_FAILED));
  }

  // One alert for the burst so far (the first FAILED events may have been
  // taken on their own); the rest are counted during the cooldown.
  ASSERT_OK_AND_ASSIGN(std::vector<HttpRequest> first,
                       receiver->WaitForRequests(1, absl::Seconds(10)));
  EXPECT_EQ(first.size(), 1u);
  const int64_t first_count = JsonInt(first[0].body, "count");
  EXPECT_GE(first_count, 1) << first[0].body;
  EXPECT_LE(first_count, kBurst) << first[0].body;

  // The summary comes when the 10 s cooldown ends (the engine wakes up for
  // it), so about 10 s after the first alert.
  if (first_count < kBurst) {
    ASSERT_OK_AND_ASSIGN(std::vector<HttpRequest> both,
                         receiver->WaitForRequests(2, absl::Seconds(30)));
    ASSERT_EQ(both.size(), 2u);
    const int64_t summary_count = JsonInt(both[1].body, "count");
    EXPECT_EQ(first_count + summary_count, kBurst)
        << "first: " << both[0].body << "\nsummary: " << both[1].body;
    EXPECT_THAT(both[1].body, HasSubstr("Summary: "));
  }
  // Nothing more: a third alert would have no matches to report. The
  // records say the same.
  const size_t alerts_sent = first_count < kBurst ? 2 : 1;
  EXPECT_EQ(receiver->Requests().size(), alerts_sent);
  // A delivery is recorded once the receiver has answered: poll (bounded).
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  v1::ListAlertsResponse records;
  while (true) {
    ASSERT_OK_AND_ASSIGN(records, alerts.List());
    if (static_cast<size_t>(records.alerts_size()) >= alerts_sent ||
        absl::Now() > deadline) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));  // polling interval
  }
  ASSERT_EQ(static_cast<size_t>(records.alerts_size()), alerts_sent);
  int64_t recorded = 0;
  for (const v1::AlertRecord& record : records.alerts()) {
    EXPECT_TRUE(record.accepted()) << record.error();
    recorded += record.count();
  }
  EXPECT_EQ(recorded, kBurst) << records.DebugString();
}

// Two replicas on one MariaDB share each rule's cooldown through the
// database: a burst of failures delivered by both gives one first alert
// between them; each replica then summarises the failures it counted, so
// the recorded counts add up to the burst.
TEST(AlertsDeliveryTest, TwoReplicasSendTheFirstAlertOnce) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestMariadb> db, TestMariadb::Start());
  SmtpServer relay(Refusing());
  ASSERT_OK(relay.Start());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<HttpReceiver> receiver,
                       HttpReceiver::Start());
  std::vector<std::string> flags = RelayFlags(relay);
  flags.insert(flags.end(), {"--store", db->uri()});
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Deliverd> a, Deliverd::Start(flags));
  Client client_a = a->NewClient();
  AlertsClient alerts(client_a);
  ASSERT_OK(alerts.CreateChannel(Webhook("ops", receiver->url("/replicas")))
                .status());
  ASSERT_OK(
      alerts.CreateRule(FailedRule("ops", /*cooldown_seconds=*/10)).status());
  // B starts after the rule exists, so it reads it at once (other replicas'
  // changes otherwise arrive within the 10 s refresh).
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Deliverd> b,
                       Deliverd::StartWithKey(a->api_key(), flags));
  Client client_b = b->NewClient();

  constexpr int kBurst = 40;
  std::vector<std::string> ids;
  for (Client* client : {&client_a, &client_b}) {
    v1::SendBatchRequest batch;
    for (int i = 0; i < kBurst / 2; ++i) {
      *batch.add_messages() = MakeSend(
          "news@shop.example", absl::StrCat("user", ids.size() + i, "@example.org"),
          "Hi", "Hello");
    }
    ASSERT_OK_AND_ASSIGN(v1::SendBatchResponse sent, client->SendBatch(batch));
    ASSERT_EQ(sent.accepted_count(), kBurst / 2);
    for (const v1::SendBatchResult& result : sent.results()) {
      ids.push_back(result.message().id());
    }
  }
  for (const std::string& id : ids) {
    ASSERT_OK(client_a.WaitUntilStatus(id, v1::MESSAGE_STATUS_FAILED));
  }

  // Every failure is in exactly one record; one record is a first alert,
  // the others (at most one per replica) are summaries.
  const absl::Time deadline = absl::Now() + absl::Seconds(40);
  v1::ListAlertsResponse records;
  int64_t recorded = 0;
  while (true) {
    ASSERT_OK_AND_ASSIGN(records, alerts.List());
    recorded = 0;
    for (const v1::AlertRecord& record : records.alerts()) {
      recorded += record.count();
    }
    if (recorded >= kBurst || absl::Now() > deadline) break;
    absl::SleepFor(absl::Milliseconds(100));  // polling interval
  }
  EXPECT_EQ(recorded, kBurst) << records.DebugString();
  int firsts = 0;
  for (const v1::AlertRecord& record : records.alerts()) {
    EXPECT_TRUE(record.accepted()) << record.error();
    if (!absl::StartsWith(record.title(), "Summary: ")) ++firsts;
  }
  EXPECT_EQ(firsts, 1) << records.DebugString();
  EXPECT_LE(records.alerts_size(), 3) << records.DebugString();
  EXPECT_EQ(receiver->Requests().size(),
            static_cast<size_t>(records.alerts_size()));
}

}  // namespace
}  // namespace deliverd::e2e
