// IngestFeedback and `deliverctl ingest` on a running deliverd (outbox
// transport): a DSN for a sent message bounces it and suppresses the
// address, the same DSN again changes nothing, a watcher sees the event, a
// provider event confirms delivery, and forged or foreign feedback changes
// nothing.
#include <future>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing_deliverd.h"

namespace deliverd::e2e {
namespace {

using ::testing::HasSubstr;

class IngestTest : public SharedDeliverdTest<IngestTest> {};

// A Postfix-style DSN for `id` (sent from shop.example), returned to its
// VERP address, failing `recipient` with `status` and `diagnostic`.
std::string Dsn(const std::string& id, const std::string& recipient,
                const std::string& status, const std::string& diagnostic) {
  return absl::StrCat(
      "From: MAILER-DAEMON@mx.shop.example (Mail Delivery System)\r\n"
      "To: bounce+", id, "@shop.example\r\n"
      "Subject: Undelivered Mail Returned to Sender\r\n"
      "Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n"
      "Message-ID: <dsn.", id, "@mx.shop.example>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/report; report-type=delivery-status;\r\n"
      " boundary=\"b1\"\r\n"
      "\r\n"
      "--b1\r\n"
      "Content-Type: text/plain\r\n"
      "\r\n"
      "Your message could not be delivered.\r\n"
      "--b1\r\n"
      "Content-Type: message/delivery-status\r\n"
      "\r\n"
      "Reporting-MTA: dns; mx.shop.example\r\n"
      "\r\n"
      "Final-Recipient: rfc822; ", recipient, "\r\n"
      "Action: failed\r\n"
      "Status: ", status, "\r\n"
      "Remote-MTA: dns; mx.example.org\r\n"
      "Diagnostic-Code: smtp; ", diagnostic, "\r\n"
      "--b1\r\n"
      "Content-Type: text/rfc822-headers\r\n"
      "\r\n"
      "From: news@shop.example\r\n"
      "To: ", recipient, "\r\n"
      "Subject: Hello\r\n"
      "Message-ID: <", id, "@shop.example>\r\n"
      "X-Deliverd-Id: ", id, "\r\n"
      "--b1--\r\n");
}

v1::IngestFeedbackRequest Raw(const std::string& message) {
  v1::IngestFeedbackRequest request;
  request.set_raw_message(message);
  return request;
}

absl::StatusOr<v1::IngestFeedbackResponse> Ingest(
    Client& client, const v1::IngestFeedbackRequest& request) {
  v1::IngestFeedbackResponse response;
  grpc::Status s =
      client.hygiene().IngestFeedback(client.Context().get(), request, &response);
  if (!s.ok()) return FromGrpc(s);
  return response;
}

TEST_F(IngestTest, DsnBouncesSuppressesAndIsIdempotent) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Message sent,
                       client.Send(MakeSend("news@shop.example",
                                            "gone@example.org", "Hello", "x")));
  ASSERT_OK_AND_ASSIGN(v1::Message settled,
                       client.WaitForStatus(sent.id(), v1::MESSAGE_STATUS_SENT));

  // Watch from the last event so far: whatever the timing, the bounce
  // event comes after the cursor.
  v1::WatchEventsRequest history;
  history.set_from_beginning(true);
  history.set_message(sent.name());
  ASSERT_OK_AND_ASSIGN(
      std::vector<v1::Event> so_far,
      client.Watch(history, [](const std::vector<v1::Event>& events) {
        return !events.empty() &&
               events.back().type() == v1::EVENT_TYPE_SENT;
      }));
  v1::WatchEventsRequest after;
  after.set_after_cursor(so_far.back().cursor());
  after.set_message(sent.name());
  std::future<absl::StatusOr<std::vector<v1::Event>>> watcher =
      std::async(std::launch::async, [&] {
        return client.Watch(after, [](const std::vector<v1::Event>& events) {
          return !events.empty();
        });
      });

  std::string dsn = Dsn(sent.id(), "gone@example.org", "5.1.1",
                        "550 5.1.1 <gone@example.org>: User unknown");
  ASSERT_OK_AND_ASSIGN(v1::IngestFeedbackResponse first,
                       Ingest(client, Raw(dsn)));
  EXPECT_TRUE(first.classification().bounce());
  ASSERT_EQ(first.items_size(), 1);
  EXPECT_EQ(first.items(0).outcome(), "applied");
  EXPECT_EQ(first.items(0).kind(), "bounce");
  EXPECT_EQ(first.items(0).reason(), "user_unknown");
  EXPECT_EQ(first.items(0).message(), sent.name());
  EXPECT_THAT(first.matched_messages(), ::testing::ElementsAre(sent.name()));
  EXPECT_THAT(first.suppressed(), ::testing::ElementsAre("gone@example.org"));

  ASSERT_OK_AND_ASSIGN(std::vector<v1::Event> seen, watcher.get());
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen[0].type(), v1::EVENT_TYPE_BOUNCED);
  EXPECT_EQ(seen[0].recipient(), "gone@example.org");

  ASSERT_OK_AND_ASSIGN(v1::Message bounced, client.GetMessage(sent.id()));
  EXPECT_EQ(bounced.status(), v1::MESSAGE_STATUS_BOUNCED);
  ASSERT_EQ(bounced.recipients_size(), 1);
  EXPECT_EQ(bounced.recipients(0).last_reply().enhanced_code(), "5.1.1");
  v1::CheckSuppressionRequest check;
  check.add_addresses("gone@example.org");
  ASSERT_OK_AND_ASSIGN(v1::CheckSuppressionResponse checked,
                       client.CheckSuppression(check));
  EXPECT_TRUE(checked.results(0).suppressed());
  EXPECT_EQ(checked.results(0).suppression().reason(),
            v1::SUPPRESSION_REASON_HARD_BOUNCE);
  EXPECT_EQ(checked.results(0).suppression().source_message(), sent.name());

  // The same DSN again: nothing changes.
  int events_before = bounced.events_size();
  ASSERT_OK_AND_ASSIGN(v1::IngestFeedbackResponse second,
                       Ingest(client, Raw(dsn)));
  ASSERT_EQ(second.items_size(), 1);
  EXPECT_EQ(second.items(0).outcome(), "duplicate");
  EXPECT_TRUE(second.suppressed().empty());
  ASSERT_OK_AND_ASSIGN(v1::Message again, client.GetMessage(sent.id()));
  EXPECT_EQ(again.events_size(), events_before);
}

TEST_F(IngestTest, ReputationBlockIsRecordedButNeverSuppresses) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Message sent,
                       client.Send(MakeSend("news@shop.example",
                                            "fine@example.org", "Hi", "x")));
  ASSERT_OK(client.WaitForStatus(sent.id(), v1::MESSAGE_STATUS_SENT));
  ASSERT_OK_AND_ASSIGN(
      v1::IngestFeedbackResponse r,
      Ingest(client,
             Raw(Dsn(sent.id(), "fine@example.org", "5.7.1",
                     "554 5.7.1 Service unavailable; Client host [192.0.2.1] "
                     "blocked using zen.spamhaus.org"))));
  ASSERT_EQ(r.items_size(), 1);
  EXPECT_EQ(r.items(0).reason(), "blocked");
  EXPECT_EQ(r.items(0).class_(), v1::BOUNCE_CLASS_SOFT);
  EXPECT_TRUE(r.suppressed().empty());
  ASSERT_OK_AND_ASSIGN(v1::Message m, client.GetMessage(sent.id()));
  EXPECT_EQ(m.status(), v1::MESSAGE_STATUS_BLOCKED);
  v1::CheckSuppressionRequest check;
  check.add_addresses("fine@example.org");
  ASSERT_OK_AND_ASSIGN(v1::CheckSuppressionResponse checked,
                       client.CheckSuppression(check));
  EXPECT_FALSE(checked.results(0).suppressed());
}

TEST_F(IngestTest, ATenantsSoftBounceThresholdComesFromTheAdminCommand) {
  ASSERT_OK_AND_ASSIGN(std::string key, server().CreateKey("soft-strict"));
  ProcessResult policy = server().Admin(
      {"tenants", "policy", "--tenant", "soft-strict",
       "--soft-bounce-threshold", "1", "--soft-bounce-suppress-for", "48h"});
  ASSERT_EQ(policy.exit_code, 0) << policy;
  EXPECT_THAT(policy.out, HasSubstr("soft-bounce threshold: 1\n"));
  EXPECT_THAT(policy.out, HasSubstr("soft-bounce suppress:  48h\n"));
  ProcessResult bad = server().Admin({"tenants", "policy", "--tenant",
                                      "soft-strict", "--soft-bounce-half-life",
                                      "soon"});
  EXPECT_EQ(bad.exit_code, 2) << bad;
  EXPECT_THAT(bad.err, HasSubstr("--soft-bounce-half-life"));

  Client client = server().NewClient(key);
  ASSERT_OK_AND_ASSIGN(v1::Message sent,
                       client.Send(MakeSend("news@shop.example",
                                            "full@example.org", "Hi", "x")));
  ASSERT_OK(client.WaitForStatus(sent.id(), v1::MESSAGE_STATUS_SENT));
  // One mailbox-full bounce reaches this tenant's threshold of 1.
  ASSERT_OK_AND_ASSIGN(
      v1::IngestFeedbackResponse r,
      Ingest(client, Raw(Dsn(sent.id(), "full@example.org", "5.2.2",
                             "552 5.2.2 Mailbox full"))));
  EXPECT_THAT(r.suppressed(), ::testing::ElementsAre("full@example.org"));
  v1::CheckSuppressionRequest check;
  check.add_addresses("full@example.org");
  ASSERT_OK_AND_ASSIGN(v1::CheckSuppressionResponse checked,
                       client.CheckSuppression(check));
  ASSERT_TRUE(checked.results(0).suppressed());
  EXPECT_EQ(checked.results(0).suppression().reason(),
            v1::SUPPRESSION_REASON_SOFT_BOUNCE);
  EXPECT_TRUE(checked.results(0).suppression().has_expire_time());
}

TEST_F(IngestTest, AnotherTenantsBounceMatchesNothing) {
  ASSERT_OK_AND_ASSIGN(Client owner, NewTenant());
  ASSERT_OK_AND_ASSIGN(Client stranger,
                       server().NewTenantClient("ingest-stranger"));
  ASSERT_OK_AND_ASSIGN(v1::Message sent,
                       owner.Send(MakeSend("news@shop.example",
                                           "kept@example.org", "Hi", "x")));
  ASSERT_OK(owner.WaitForStatus(sent.id(), v1::MESSAGE_STATUS_SENT));
  ASSERT_OK_AND_ASSIGN(
      v1::IngestFeedbackResponse r,
      Ingest(stranger, Raw(Dsn(sent.id(), "kept@example.org", "5.1.1",
                               "550 5.1.1 User unknown"))));
  ASSERT_EQ(r.items_size(), 1);
  EXPECT_EQ(r.items(0).outcome(), "unmatched");
  ASSERT_OK_AND_ASSIGN(v1::Message m, owner.GetMessage(sent.id()));
  EXPECT_EQ(m.status(), v1::MESSAGE_STATUS_SENT);
}

TEST_F(IngestTest, ProviderDeliveryEventConfirms) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Message sent,
                       client.Send(MakeSend("news@shop.example",
                                            "reader@example.org", "Hi", "x")));
  ASSERT_OK(client.WaitForStatus(sent.id(), v1::MESSAGE_STATUS_SENT));
  ASSERT_OK_AND_ASSIGN(v1::Message m, client.GetMessage(sent.id()));
  v1::IngestFeedbackRequest request;
  request.mutable_provider_event()->set_provider("sendgrid");
  request.mutable_provider_event()->set_body(absl::StrCat(
      "[{\"email\":\"reader@example.org\",\"timestamp\":1795000000,"
      "\"event\":\"delivered\",\"sg_event_id\":\"ev-delivered-1\","
      "\"sg_message_id\":\"sg.1\",\"smtp-id\":\"<", m.rfc822_message_id(),
      ">\",\"response\":\"250 2.0.0 OK\"}]"));
  ASSERT_OK_AND_ASSIGN(v1::IngestFeedbackResponse r, Ingest(client, request));
  ASSERT_EQ(r.items_size(), 1);
  EXPECT_EQ(r.items(0).kind(), "delivered");
  EXPECT_EQ(r.items(0).outcome(), "applied");
  ASSERT_OK_AND_ASSIGN(v1::Message confirmed, client.GetMessage(sent.id()));
  EXPECT_EQ(confirmed.status(), v1::MESSAGE_STATUS_CONFIRMED);
}

TEST_F(IngestTest, BadInputNamesTheField) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  v1::IngestFeedbackRequest none;
  EXPECT_THAT(Ingest(client, none).status().message(), HasSubstr("feedback:"));
  EXPECT_TRUE(absl::IsInvalidArgument(Ingest(client, Raw("")).status()));
  v1::IngestFeedbackRequest unknown;
  unknown.mutable_provider_event()->set_provider("carrier-pigeon");
  unknown.mutable_provider_event()->set_body("{}");
  absl::Status s = Ingest(client, unknown).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("provider_event"));
  v1::IngestFeedbackRequest broken;
  broken.mutable_provider_event()->set_provider("ses");
  broken.mutable_provider_event()->set_body("{not json");
  EXPECT_TRUE(absl::IsInvalidArgument(Ingest(client, broken).status()));
}

TEST_F(IngestTest, DeliverctlIngestsAnMboxExport) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  std::vector<v1::Message> sent;
  for (const char* to : {"one@example.org", "two@example.org"}) {
    ASSERT_OK_AND_ASSIGN(v1::Message m,
                         client.Send(MakeSend("news@shop.example", to, "Hi",
                                              "x")));
    ASSERT_OK(client.WaitForStatus(m.id(), v1::MESSAGE_STATUS_SENT));
    sent.push_back(m);
  }
  std::string mbox = absl::StrCat(
      "From MAILER-DAEMON Thu Nov 26 10:00:00 2026\n",
      Dsn(sent[0].id(), "one@example.org", "5.1.1", "550 5.1.1 No such user"),
      "\nFrom MAILER-DAEMON Thu Nov 26 10:00:01 2026\n",
      Dsn(sent[1].id(), "two@example.org", "5.2.2",
          "552 5.2.2 Mailbox full"),
      "\nFrom someone Thu Nov 26 10:00:02 2026\n"
      "From: friend@example.net\nSubject: lunch?\n\nAre you free?\n");
  CtlOptions options;
  options.api_key_env = client.api_key();
  options.stdin_data = mbox;
  ProcessResult ctl =
      server().Deliverctl({"ingest", "-", "--json"}, options);
  ASSERT_EQ(ctl.exit_code, 0) << ctl;
  EXPECT_THAT(ctl.out, HasSubstr("\"recipient\":\"one@example.org\""));
  EXPECT_THAT(ctl.out, HasSubstr("\"reason\":\"user_unknown\""));
  EXPECT_THAT(ctl.out, HasSubstr("\"reason\":\"mailbox_full\""));
  EXPECT_THAT(ctl.out, HasSubstr("\"outcome\":\"applied\""));
  EXPECT_THAT(ctl.out, HasSubstr("{\"file\":\"-#3\",\"feedback\":false}"));
  ASSERT_OK_AND_ASSIGN(v1::Message one, client.GetMessage(sent[0].id()));
  EXPECT_EQ(one.status(), v1::MESSAGE_STATUS_BOUNCED);
  ASSERT_OK_AND_ASSIGN(v1::Message two, client.GetMessage(sent[1].id()));
  EXPECT_EQ(two.status(), v1::MESSAGE_STATUS_FAILED);

  // Again, as a table: every row is a duplicate.
  ProcessResult again = server().Deliverctl({"ingest", "-"}, options);
  ASSERT_EQ(again.exit_code, 0) << again;
  EXPECT_THAT(again.out, HasSubstr("duplicate"));
  EXPECT_THAT(again.out, ::testing::Not(HasSubstr("applied")));

  // A file that cannot be read: exit 1 and a message.
  ProcessResult missing =
      server().Deliverctl({"ingest", "/nonexistent/bounce.eml"}, options);
  EXPECT_EQ(missing.exit_code, 1) << missing;
  EXPECT_THAT(missing.err, HasSubstr("ingest"));
}

}  // namespace
}  // namespace deliverd::e2e
