// deliverd's SMTP relay transport against our scriptable SMTP server
// (tests/testing/smtp_server, in this process) where a test needs replies
// per recipient, STARTTLS with a test certificate, AUTH or a dropped
// connection. smtp-sink covers the rest (relay_test.cc).
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/smtp_server.h"
#include "testing_deliverd.h"

namespace deliverd::e2e {
namespace {

using SmtpServer = ::deliverd::testing::SmtpServer;
using SmtpServerOptions = ::deliverd::testing::SmtpServerOptions;
using ::testing::HasSubstr;

// Flags pointing deliverd at `server` in plain text, with timeouts and
// retries short enough for tests.
std::vector<std::string> RelayFlags(const SmtpServer& server,
                                    std::vector<std::string> more = {}) {
  std::vector<std::string> flags = {
      "--smtp-relay", absl::StrCat("smtp://127.0.0.1:", server.port()),
      "--smtp-tls",   "none",
      "--smtp-timeout", "5s",
      "--retry-initial", "1s",
      "--retry-multiplier", "1",
      "--retry-max-delay", "1s",
  };
  flags.insert(flags.end(), more.begin(), more.end());
  return flags;
}

const v1::Recipient* FindRecipient(const v1::Message& m,
                                   const std::string& address) {
  for (const v1::Recipient& r : m.recipients()) {
    if (r.address() == address) return &r;
  }
  return nullptr;
}

TEST(RelayScriptedTest, OneRefusedRecipientDoesNotStopTheOthers) {
  SmtpServerOptions options;
  options.rcpt_reply = [](const std::string& rcpt) -> std::string {
    return rcpt == "nobody@example.org"
               ? "550 5.1.1 <nobody@example.org>: Recipient address rejected: "
                 "User unknown"
               : "250 2.1.5 Ok";
  };
  SmtpServer relay(options);
  ASSERT_OK(relay.Start());
  ASSERT_OK_AND_ASSIGN(auto server, Deliverd::Start(RelayFlags(relay)));
  Client client = server->NewClient();
  v1::SendRequest request =
      MakeSend("news@shop.example", "first@example.org", "Three", "Hello");
  request.mutable_content()->add_to()->set_address("nobody@example.org");
  request.mutable_content()->add_to()->set_address("third@example.org");
  ASSERT_OK_AND_ASSIGN(v1::Message queued, client.Send(request));
  ASSERT_OK_AND_ASSIGN(v1::Message done, client.WaitUntilSettled(queued.id()));

  const v1::Recipient* first = FindRecipient(done, "first@example.org");
  const v1::Recipient* nobody = FindRecipient(done, "nobody@example.org");
  const v1::Recipient* third = FindRecipient(done, "third@example.org");
  ASSERT_TRUE(first && nobody && third);
  EXPECT_EQ(first->status(), v1::MESSAGE_STATUS_SENT);
  EXPECT_EQ(third->status(), v1::MESSAGE_STATUS_SENT);
  EXPECT_THAT(first->last_reply().text(), HasSubstr("queued as Q1"));
  EXPECT_EQ(nobody->status(), v1::MESSAGE_STATUS_BOUNCED);
  EXPECT_EQ(nobody->last_reply().code(), 550);
  EXPECT_EQ(nobody->last_reply().enhanced_code(), "5.1.1");

  // One transaction carried the two accepted recipients, with a VERP
  // envelope sender naming the message.
  std::vector<deliverd::testing::ReceivedMessage> got = relay.messages();
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].rcpts.size(), 2u);
  EXPECT_EQ(got[0].mail_from, "bounce+" + queued.id() + "@shop.example");
  EXPECT_THAT(got[0].data, HasSubstr("X-Deliverd-Id: " + queued.id()));

  // The hard bounce suppressed that address, and only that one.
  v1::CheckSuppressionRequest check;
  check.add_addresses("nobody@example.org");
  check.add_addresses("first@example.org");
  ASSERT_OK_AND_ASSIGN(auto checked, client.CheckSuppression(check));
  ASSERT_EQ(checked.results_size(), 2);
  EXPECT_TRUE(checked.results(0).suppressed());
  EXPECT_EQ(checked.results(0).suppression().reason(),
            v1::SUPPRESSION_REASON_HARD_BOUNCE);
  EXPECT_FALSE(checked.results(1).suppressed());

  // A later message to the bounced address is suppressed, never sent.
  ASSERT_OK_AND_ASSIGN(
      v1::Message again,
      client.Send(MakeSend("news@shop.example", "nobody@example.org", "Again",
                           "Hello")));
  ASSERT_OK_AND_ASSIGN(v1::Message after, client.WaitUntilSettled(again.id()));
  EXPECT_EQ(after.status(), v1::MESSAGE_STATUS_SUPPRESSED);
  EXPECT_EQ(relay.messages().size(), 1u);
}

TEST(RelayScriptedTest, StartTlsWithAVerifiedCertificateAndAuth) {
  SmtpServerOptions options;
  options.starttls = true;
  options.require_tls = true;
  options.auth = true;
  options.require_auth = true;
  options.user = "deliverd";
  options.password = "relay secret";
  SmtpServer relay(options);
  ASSERT_OK(relay.Start());
  std::string password_file = ::testing::TempDir() + "/relay-password";
  std::ofstream(password_file) << "relay secret\n";
  chmod(password_file.c_str(), 0600);

  ASSERT_OK_AND_ASSIGN(
      auto server,
      Deliverd::Start({"--smtp-relay",
                       absl::StrCat("smtp://localhost:", relay.port()),
                       "--smtp-tls-ca-file", relay.cert_file(), "--smtp-user",
                       "deliverd", "--smtp-password-file", password_file,
                       "--smtp-timeout", "5s"}));
  Client client = server->NewClient();
  ASSERT_OK_AND_ASSIGN(
      v1::Message queued,
      client.Send(MakeSend("a@example.com", "b@example.org", "TLS", "Hi")));
  ASSERT_OK_AND_ASSIGN(v1::Message done,
                       client.WaitForStatus(queued.id(), v1::MESSAGE_STATUS_SENT));
  std::vector<deliverd::testing::ReceivedMessage> got = relay.messages();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].tls);
  EXPECT_EQ(got[0].auth_user, "deliverd");
}

TEST(RelayScriptedTest, SmtpsRelayIsTlsFromTheFirstByte) {
  SmtpServerOptions options;
  options.implicit_tls = true;
  SmtpServer relay(options);
  ASSERT_OK(relay.Start());
  ASSERT_OK_AND_ASSIGN(
      auto server,
      Deliverd::Start({"--smtp-relay",
                       absl::StrCat("smtps://localhost:", relay.port()),
                       "--smtp-tls-ca-file", relay.cert_file(),
                       "--smtp-timeout", "5s"}));
  Client client = server->NewClient();
  ASSERT_OK_AND_ASSIGN(
      v1::Message queued,
      client.Send(MakeSend("a@example.com", "b@example.org", "TLS", "Hi")));
  ASSERT_OK(client.WaitForStatus(queued.id(), v1::MESSAGE_STATUS_SENT).status());
  ASSERT_EQ(relay.messages().size(), 1u);
  EXPECT_TRUE(relay.messages()[0].tls);
}

TEST(RelayScriptedTest, ReturnPathSettings) {
  SmtpServer relay;
  ASSERT_OK(relay.Start());
  {
    ASSERT_OK_AND_ASSIGN(
        auto server,
        Deliverd::Start(RelayFlags(
            relay, {"--return-path-domain", "bounces.example.net"})));
    Client client = server->NewClient();
    ASSERT_OK_AND_ASSIGN(
        v1::Message queued,
        client.Send(MakeSend("news@shop.example", "b@example.org", "R", "Hi")));
    ASSERT_OK(
        client.WaitForStatus(queued.id(), v1::MESSAGE_STATUS_SENT).status());
    ASSERT_EQ(relay.messages().size(), 1u);
    EXPECT_EQ(relay.messages()[0].mail_from,
              "bounce+" + queued.id() + "@bounces.example.net");
  }
  ASSERT_OK_AND_ASSIGN(auto server,
                       Deliverd::Start(RelayFlags(relay, {"--verp", "false"})));
  Client client = server->NewClient();
  ASSERT_OK_AND_ASSIGN(
      v1::Message queued,
      client.Send(MakeSend("news@shop.example", "b@example.org", "R", "Hi")));
  ASSERT_OK(client.WaitForStatus(queued.id(), v1::MESSAGE_STATUS_SENT).status());
  ASSERT_EQ(relay.messages().size(), 2u);
  EXPECT_EQ(relay.messages()[1].mail_from, "news@shop.example");
}

TEST(RelayScriptedTest, RefusedCredentialsFailTheMessageWithTheReply) {
  SmtpServerOptions options;
  options.auth = true;
  options.require_auth = true;
  SmtpServer relay(options);
  ASSERT_OK(relay.Start());
  std::string password_file = ::testing::TempDir() + "/wrong-password";
  std::ofstream(password_file) << "not the password\n";
  chmod(password_file.c_str(), 0600);
  ASSERT_OK_AND_ASSIGN(
      auto server,
      Deliverd::Start(RelayFlags(relay, {"--smtp-user", "user",
                                         "--smtp-password-file",
                                         password_file})));
  Client client = server->NewClient();
  ASSERT_OK_AND_ASSIGN(
      v1::Message queued,
      client.Send(MakeSend("a@example.com", "b@example.org", "Auth", "Hi")));
  ASSERT_OK_AND_ASSIGN(
      v1::Message done,
      client.WaitForStatus(queued.id(), v1::MESSAGE_STATUS_FAILED));
  EXPECT_THAT(done.recipients(0).detail(), HasSubstr("refused the credentials"));
  EXPECT_THAT(done.recipients(0).detail(), HasSubstr("535"));
  EXPECT_TRUE(relay.messages().empty());
}

TEST(RelayScriptedTest, UntrustedCertificateFailsTheMessage) {
  SmtpServerOptions options;
  options.starttls = true;
  SmtpServer relay(options);
  ASSERT_OK(relay.Start());
  // No CA file: the system's trust store does not know the test certificate.
  ASSERT_OK_AND_ASSIGN(
      auto server,
      Deliverd::Start({"--smtp-relay",
                       absl::StrCat("smtp://localhost:", relay.port()),
                       "--smtp-timeout", "5s"}));
  Client client = server->NewClient();
  ASSERT_OK_AND_ASSIGN(
      v1::Message queued,
      client.Send(MakeSend("a@example.com", "b@example.org", "TLS", "Hi")));
  ASSERT_OK_AND_ASSIGN(
      v1::Message done,
      client.WaitForStatus(queued.id(), v1::MESSAGE_STATUS_FAILED));
  EXPECT_THAT(done.recipients(0).detail(), HasSubstr("certificate"));
  EXPECT_TRUE(relay.messages().empty());
}

TEST(RelayScriptedTest, ConnectionDroppedMidDataIsRetried) {
  SmtpServerOptions options;
  options.drop_after_data_bytes = 10;
  SmtpServer relay(options);
  ASSERT_OK(relay.Start());
  ASSERT_OK_AND_ASSIGN(auto server, Deliverd::Start(RelayFlags(relay)));
  Client client = server->NewClient();
  ASSERT_OK_AND_ASSIGN(
      v1::Message queued,
      client.Send(MakeSend("a@example.com", "b@example.org", "Drop", "Hi")));
  // Waiting, with the next attempt scheduled, until the relay behaves.
  absl::StatusOr<v1::Message> waiting;
  for (int i = 0; i < 200; ++i) {
    waiting = client.GetMessage(queued.id());
    ASSERT_OK(waiting.status());
    if (waiting->status() == v1::MESSAGE_STATUS_WAITING) break;
    relay.WaitForConnections(relay.connections() + 1, absl::Milliseconds(50));
  }
  ASSERT_EQ(waiting->status(), v1::MESSAGE_STATUS_WAITING);
  EXPECT_TRUE(waiting->has_next_attempt_time());
  EXPECT_THAT(waiting->recipients(0).detail(), HasSubstr("closed"));

  options.drop_after_data_bytes = -1;
  relay.SetOptions(options);
  ASSERT_OK_AND_ASSIGN(
      v1::Message done,
      client.WaitUntilStatus(queued.id(), v1::MESSAGE_STATUS_SENT,
                             Seconds(20)));
  EXPECT_GE(done.attempt_count(), 2);
  EXPECT_EQ(relay.messages().size(), 1u);
}

TEST(RelayScriptedTest, ThrottlingDomainBacksOffAlone) {
  SmtpServerOptions options;
  options.rcpt_reply = [](const std::string& rcpt) -> std::string {
    return absl::EndsWith(rcpt, "@slow.example")
               ? "450 4.7.1 Rate limit exceeded, try again later"
               : "250 2.1.5 Ok";
  };
  SmtpServer relay(options);
  ASSERT_OK(relay.Start());
  ASSERT_OK_AND_ASSIGN(auto server,
                       Deliverd::Start(RelayFlags(relay, {"--domain-backoff",
                                                          "10m"})));
  Client client = server->NewClient();
  ASSERT_OK_AND_ASSIGN(
      v1::Message slow,
      client.Send(MakeSend("a@example.com", "x@slow.example", "S", "Hi")));
  absl::StatusOr<v1::Message> deferred;
  for (int i = 0; i < 200; ++i) {
    deferred = client.GetMessage(slow.id());
    ASSERT_OK(deferred.status());
    if (deferred->status() == v1::MESSAGE_STATUS_WAITING) break;
    relay.WaitForConnections(relay.connections() + 1, absl::Milliseconds(50));
  }
  ASSERT_EQ(deferred->status(), v1::MESSAGE_STATUS_WAITING);
  EXPECT_THAT(deferred->recipients(0).detail(),
              HasSubstr("slow.example throttled"));
  // The back-off (10 minutes) wins over the 1 s retry schedule.
  EXPECT_GT(deferred->next_attempt_time().seconds(),
            absl::ToUnixSeconds(absl::Now() + absl::Minutes(9)));

  // Another domain is not held back.
  ASSERT_OK_AND_ASSIGN(
      v1::Message fast,
      client.Send(MakeSend("a@example.com", "y@fast.example", "F", "Hi")));
  ASSERT_OK(client.WaitForStatus(fast.id(), v1::MESSAGE_STATUS_SENT).status());
}

}  // namespace
}  // namespace deliverd::e2e
