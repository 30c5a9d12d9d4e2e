// The relay transport's pool and outcome mapping, against the scriptable
// test SMTP server.
#include "server/delivery/smtp_relay_transport.h"

#include <thread>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/smtp_server.h"

namespace deliverd::delivery {
namespace {

using ::deliverd::testing::SmtpServer;
using ::deliverd::testing::SmtpServerOptions;
using ::testing::HasSubstr;

constexpr char kData[] = "Subject: t\r\n\r\nbody\r\n";

SmtpRelayOptions RelayTo(const SmtpServer& server) {
  SmtpRelayOptions o;
  o.session.host = "127.0.0.1";
  o.session.port = server.port();
  o.session.tls = TlsMode::kNone;
  o.session.timeouts.CapAt(absl::Seconds(10));
  return o;
}

Envelope To(std::vector<std::string> rcpts) {
  Envelope e;
  e.mail_from = "bounce+m_1@example.com";
  e.rcpt_to = std::move(rcpts);
  e.message_id = "m_1";
  return e;
}

TEST(SmtpRelayTransportTest, MapsRepliesToOutcomesPerRecipient) {
  SmtpServerOptions so;
  so.rcpt_reply = [](const std::string& rcpt) -> std::string {
    if (absl::StartsWith(rcpt, "later")) return "450 4.2.1 Mailbox busy";
    if (absl::StartsWith(rcpt, "bad")) return "550 5.1.1 No such user";
    return "250 2.1.5 Ok";
  };
  SmtpServer server(so);
  ASSERT_TRUE(server.Start().ok());
  auto transport = SmtpRelayTransport::Create(RelayTo(server));
  ASSERT_TRUE(transport.ok());
  auto result = (*transport)->Send(
      To({"ok@example.org", "later@example.org", "bad@example.org"}), kData);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->recipients.size(), 3u);
  EXPECT_EQ(result->recipients[0].outcome, Outcome::kAccepted);
  EXPECT_THAT(result->recipients[0].reply.text, HasSubstr("queued as Q1"));
  EXPECT_EQ(result->recipients[1].outcome, Outcome::kTransient);
  EXPECT_EQ(result->recipients[2].outcome, Outcome::kPermanent);
  EXPECT_EQ(result->recipients[2].reply.enhanced_code, "5.1.1");
  EXPECT_THAT(result->detail, HasSubstr("queued as Q1"));
  EXPECT_EQ((*transport)->name(),
            "smtp:127.0.0.1:" + std::to_string(server.port()));
}

TEST(SmtpRelayTransportTest, KeepsOneConnectionForSequentialMessages) {
  SmtpServer server;
  ASSERT_TRUE(server.Start().ok());
  auto transport = SmtpRelayTransport::Create(RelayTo(server));
  ASSERT_TRUE(transport.ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE((*transport)->Send(To({"a@example.org"}), kData).ok());
  }
  EXPECT_EQ(server.messages().size(), 5u);
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ((*transport)->connections_opened(), 1);
}

TEST(SmtpRelayTransportTest, ReconnectsAfterTheMessagesPerConnectionLimit) {
  SmtpServer server;
  ASSERT_TRUE(server.Start().ok());
  SmtpRelayOptions o = RelayTo(server);
  o.max_transactions_per_connection = 2;
  auto transport = SmtpRelayTransport::Create(o);
  ASSERT_TRUE(transport.ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE((*transport)->Send(To({"a@example.org"}), kData).ok());
  }
  EXPECT_EQ(server.connections(), 3);
  // The retired connections said QUIT.
  std::vector<std::string> commands = server.commands();
  EXPECT_GE(std::count(commands.begin(), commands.end(), "QUIT"), 2);
}

TEST(SmtpRelayTransportTest, NeverOpensMoreThanTheLimit) {
  SmtpServer server;
  ASSERT_TRUE(server.Start().ok());
  SmtpRelayOptions o = RelayTo(server);
  o.max_connections = 3;
  auto transport = SmtpRelayTransport::Create(o);
  ASSERT_TRUE(transport.ok());
  std::vector<std::thread> senders;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    senders.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        if ((*transport)->Send(To({"a@example.org"}), kData).ok()) ++ok;
      }
    });
  }
  for (std::thread& t : senders) t.join();
  EXPECT_EQ(ok.load(), 80);
  EXPECT_EQ(server.messages().size(), 80u);
  EXPECT_LE(server.connections(), 3);
}

TEST(SmtpRelayTransportTest, AnUnusableSessionIsReplaced) {
  SmtpServerOptions so;
  int calls = 0;
  so.rcpt_reply = [&calls](const std::string&) -> std::string {
    // The first RCPT gets a 421 (the server closes); later ones are fine.
    return ++calls == 1 ? "421 4.7.0 Slow down" : "250 2.1.5 Ok";
  };
  SmtpServer server(so);
  ASSERT_TRUE(server.Start().ok());
  auto transport = SmtpRelayTransport::Create(RelayTo(server));
  ASSERT_TRUE(transport.ok());
  auto first = (*transport)->Send(To({"a@example.org"}), kData);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->recipients[0].outcome, Outcome::kTransient);
  auto second = (*transport)->Send(To({"a@example.org"}), kData);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->recipients[0].outcome, Outcome::kAccepted);
  EXPECT_EQ(server.connections(), 2);
}

TEST(SmtpRelayTransportTest, APooledConnectionTheRelayClosedIsReplacedAtOnce) {
  SmtpServerOptions so;
  so.close_after_messages = 1;
  SmtpServer server(so);
  ASSERT_TRUE(server.Start().ok());
  auto transport = SmtpRelayTransport::Create(RelayTo(server));
  ASSERT_TRUE(transport.ok());
  ASSERT_TRUE((*transport)->Send(To({"a@example.org"}), kData).ok());
  // The server shut the pooled connection right after its reply; the next
  // message finds it closed before anything was said about it and goes out
  // on a fresh connection.
  auto second = (*transport)->Send(To({"b@example.org"}), kData);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->recipients[0].outcome, Outcome::kAccepted);
  EXPECT_EQ(server.messages().size(), 2u);
  EXPECT_EQ(server.connections(), 2);
}

TEST(SmtpRelayTransportTest, RelayDownIsUnavailable) {
  SmtpServer server;
  ASSERT_TRUE(server.Start().ok());
  SmtpRelayOptions o = RelayTo(server);
  server.Stop();
  auto transport = SmtpRelayTransport::Create(o);
  ASSERT_TRUE(transport.ok());
  auto result = (*transport)->Send(To({"a@example.org"}), kData);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(absl::IsUnavailable(result.status())) << result.status();
  // The failed connection attempt does not use up the pool.
  auto again = (*transport)->Send(To({"a@example.org"}), kData);
  EXPECT_TRUE(absl::IsUnavailable(again.status()));
}

TEST(SmtpRelayTransportTest, RefusesImpossibleSettings) {
  SmtpRelayOptions o;
  o.max_connections = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(SmtpRelayTransport::Create(o).status()));
  o.max_connections = 1;
  o.session.tls = TlsMode::kStartTls;
  o.tls.ca_file = "/nonexistent/ca.pem";
  EXPECT_TRUE(
      absl::IsFailedPrecondition(SmtpRelayTransport::Create(o).status()));
}

}  // namespace
}  // namespace deliverd::delivery
