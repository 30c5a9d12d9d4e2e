// The SMTP client session against our scriptable test server (a real
// socket peer on loopback).
#include "server/delivery/smtp_session.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/smtp_server.h"

namespace deliverd::delivery {
namespace {

using ::deliverd::testing::SmtpServer;
using ::deliverd::testing::SmtpServerOptions;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kMessage[] =
    "From: a@example.com\r\nTo: b@example.org\r\nSubject: hi\r\n\r\n"
    "line one\r\n.starts with a dot\r\n.\r\nlast\r\n";

class SmtpSessionTest : public ::testing::Test {
 protected:
  void StartServer(SmtpServerOptions options) {
    server_ = std::make_unique<SmtpServer>(std::move(options));
    ASSERT_TRUE(server_->Start().ok());
  }

  SmtpSessionOptions Options(TlsMode tls = TlsMode::kNone) {
    SmtpSessionOptions o;
    o.host = "127.0.0.1";
    o.port = server_->port();
    o.tls = tls;
    o.helo_name = "client.test";
    o.timeouts.CapAt(absl::Seconds(10));
    if (tls != TlsMode::kNone) {
      TlsOptions t;
      t.ca_file = server_->cert_file();
      tls_ = *TlsContext::Create(t);
      o.tls_context = tls_.get();
    }
    return o;
  }

  static SmtpTransaction Txn(std::vector<std::string> to) {
    SmtpTransaction t;
    t.mail_from = "bounce+m_1@example.com";
    t.rcpt_to = std::move(to);
    t.envelope_id = "m_1";
    return t;
  }

  std::unique_ptr<SmtpServer> server_;
  std::unique_ptr<TlsContext> tls_;
};

TEST_F(SmtpSessionTest, PipelinedTransactionsOnOneSession) {
  StartServer({});
  auto session = SmtpSession::Open(Options());
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_TRUE((*session)->extensions().pipelining);
  for (int i = 0; i < 3; ++i) {
    auto result = (*session)->Send(Txn({"b@example.org"}), kMessage);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->recipient_replies.size(), 1u);
    EXPECT_EQ(result->recipient_replies[0].code, 250);
    EXPECT_EQ(result->recipient_replies[0].enhanced_code, "2.0.0");
    EXPECT_THAT(result->recipient_replies[0].text,
                HasSubstr(absl::StrCat("queued as Q", i + 1)));
    EXPECT_THAT(result->recipient_replies[0].remote_host, HasSubstr("127.0.0.1"));
  }
  EXPECT_EQ((*session)->transactions(), 3);
  auto messages = server_->messages();
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].data, kMessage);  // dot-stuffing undone exactly
  EXPECT_EQ(messages[0].mail_from, "bounce+m_1@example.com");
  EXPECT_EQ(messages[0].rcpts[0].address, "b@example.org");
  EXPECT_EQ(server_->connections(), 1);
  // MAIL, RCPT and DATA went in one write.
  EXPECT_GE(server_->max_commands_in_one_read(), 3);
}

TEST_F(SmtpSessionTest, WithoutPipeliningCommandsGoOneByOne) {
  SmtpServerOptions o;
  o.pipelining = false;
  StartServer(o);
  auto session = SmtpSession::Open(Options());
  ASSERT_TRUE(session.ok()) << session.status();
  auto result = (*session)->Send(Txn({"b@example.org", "c@example.org"}), kMessage);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->recipient_replies[1].code, 250);
  EXPECT_EQ(server_->max_commands_in_one_read(), 1);
  ASSERT_EQ(server_->messages().size(), 1u);
}

TEST_F(SmtpSessionTest, OneRefusedRecipientDoesNotStopTheOthers) {
  for (bool pipelining : {true, false}) {
    SCOPED_TRACE(pipelining);
    SmtpServerOptions o;
    o.pipelining = pipelining;
    o.rcpt_reply = [](const std::string& rcpt) -> std::string {
      return rcpt == "bad@example.org" ? "550 5.1.1 No such user"
                                       : "250 2.1.5 Ok";
    };
    StartServer(o);
    auto session = SmtpSession::Open(Options());
    ASSERT_TRUE(session.ok());
    auto result = (*session)->Send(
        Txn({"a@example.org", "bad@example.org", "c@example.org"}), kMessage);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->recipient_replies[0].code, 250);
    EXPECT_EQ(result->recipient_replies[1].code, 550);
    EXPECT_EQ(result->recipient_replies[1].enhanced_code, "5.1.1");
    EXPECT_EQ(result->recipient_replies[1].text, "No such user");
    EXPECT_EQ(result->recipient_replies[2].code, 250);
    auto messages = server_->messages();
    ASSERT_EQ(messages.size(), 1u);
    ASSERT_EQ(messages[0].rcpts.size(), 2u);
    EXPECT_EQ(messages[0].rcpts[1].address, "c@example.org");
    server_->Stop();
  }
}

TEST_F(SmtpSessionTest, NoAcceptedRecipientMeansNoDataAndAUsableSession) {
  for (bool pipelining : {true, false}) {
    SCOPED_TRACE(pipelining);
    SmtpServerOptions o;
    o.pipelining = pipelining;
    o.rcpt_reply = [](const std::string& rcpt) -> std::string {
      return absl::StartsWith(rcpt, "bad") ? "550 5.1.1 No such user"
                                           : "250 2.1.5 Ok";
    };
    StartServer(o);
    auto session = SmtpSession::Open(Options());
    ASSERT_TRUE(session.ok());
    auto refused = (*session)->Send(Txn({"bad1@example.org", "bad2@example.org"}),
                                    kMessage);
    ASSERT_TRUE(refused.ok()) << refused.status();
    EXPECT_EQ(refused->recipient_replies[0].code, 550);
    EXPECT_EQ(refused->recipient_replies[1].code, 550);
    EXPECT_TRUE(server_->messages().empty());
    EXPECT_TRUE((*session)->usable());
    auto next = (*session)->Send(Txn({"good@example.org"}), kMessage);
    ASSERT_TRUE(next.ok()) << next.status();
    EXPECT_EQ(next->recipient_replies[0].code, 250);
    ASSERT_EQ(server_->messages().size(), 1u);
    EXPECT_EQ(server_->connections(), 1);
    server_->Stop();
  }
}

TEST_F(SmtpSessionTest, RefusedSenderIsEveryRecipientsAnswer) {
  SmtpServerOptions o;
  o.mail_reply = "550 5.7.1 Sender rejected";
  StartServer(o);
  auto session = SmtpSession::Open(Options());
  ASSERT_TRUE(session.ok());
  auto result = (*session)->Send(Txn({"a@example.org", "b@example.org"}), kMessage);
  ASSERT_TRUE(result.ok()) << result.status();
  for (const store::Reply& r : result->recipient_replies) {
    EXPECT_EQ(r.code, 550);
    EXPECT_EQ(r.enhanced_code, "5.7.1");
  }
  EXPECT_TRUE(server_->messages().empty());
  EXPECT_TRUE((*session)->usable());
}

TEST_F(SmtpSessionTest, RefusalAtTheEndOfDataAndMultiLineReplies) {
  SmtpServerOptions o;
  o.data_reply = [](const testing::ReceivedMessage&) -> std::string {
    return "554-5.7.1 Message rejected\r\n554 5.7.1 see https://example.org/why";
  };
  StartServer(o);
  auto session = SmtpSession::Open(Options());
  ASSERT_TRUE(session.ok());
  auto result = (*session)->Send(Txn({"a@example.org"}), kMessage);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->recipient_replies[0].code, 554);
  EXPECT_EQ(result->recipient_replies[0].text,
            "Message rejected\nsee https://example.org/why");
  EXPECT_TRUE((*session)->usable());
}

TEST_F(SmtpSessionTest, FallsBackToHeloWhenEhloIsRefused) {
  SmtpServerOptions o;
  o.ehlo = false;
  StartServer(o);
  auto session = SmtpSession::Open(Options());
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_FALSE((*session)->extensions().esmtp);
  EXPECT_FALSE((*session)->extensions().pipelining);
  auto result = (*session)->Send(Txn({"a@example.org"}), kMessage);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->recipient_replies[0].code, 250);
  EXPECT_THAT(server_->commands(), ::testing::Contains("HELO client.test"));
}

TEST_F(SmtpSessionTest, StartTlsVerifiesTheCertificateAndHostName) {
  SmtpServerOptions o;
  o.starttls = true;
  o.require_tls = true;
  StartServer(o);
  for (const char* host : {"localhost", "127.0.0.1"}) {
    SCOPED_TRACE(host);
    SmtpSessionOptions options = Options(TlsMode::kStartTls);
    options.host = host;
    auto session = SmtpSession::Open(options);
    ASSERT_TRUE(session.ok()) << session.status();
    EXPECT_TRUE((*session)->tls());
    auto result = (*session)->Send(Txn({"a@example.org"}), kMessage);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->recipient_replies[0].code, 250);
  }
  auto messages = server_->messages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_TRUE(messages[0].tls);
}

TEST_F(SmtpSessionTest, ImplicitTlsFromTheFirstByte) {
  SmtpServerOptions o;
  o.implicit_tls = true;
  StartServer(o);
  SmtpSessionOptions options = Options(TlsMode::kImplicit);
  options.host = "localhost";
  auto session = SmtpSession::Open(options);
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_TRUE((*session)->tls());
  ASSERT_TRUE((*session)->Send(Txn({"a@example.org"}), kMessage).ok());
  ASSERT_EQ(server_->messages().size(), 1u);
  EXPECT_TRUE(server_->messages()[0].tls);
}

TEST_F(SmtpSessionTest, UntrustedCertificateIsRefused) {
  SmtpServerOptions o;
  o.starttls = true;
  StartServer(o);
  SmtpSessionOptions options = Options(TlsMode::kStartTls);
  // The system's trust store does not know the test server's certificate.
  auto system = TlsContext::Create(TlsOptions{});
  ASSERT_TRUE(system.ok());
  options.tls_context = system->get();
  auto session = SmtpSession::Open(options);
  ASSERT_FALSE(session.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(session.status())) << session.status();
  EXPECT_THAT(std::string(session.status().message()), HasSubstr("not accepted"));

  // Relaxed on purpose (test relays): the same server is accepted.
  auto relaxed = TlsContext::Create(TlsOptions{false, ""});
  ASSERT_TRUE(relaxed.ok());
  options.tls_context = relaxed->get();
  EXPECT_TRUE(SmtpSession::Open(options).ok());
}

TEST_F(SmtpSessionTest, StartTlsRequiredButNotOffered) {
  StartServer({});
  auto session = SmtpSession::Open(Options(TlsMode::kStartTls));
  ASSERT_FALSE(session.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(session.status()));
  EXPECT_THAT(std::string(session.status().message()),
              HasSubstr("does not offer STARTTLS"));
}

TEST_F(SmtpSessionTest, AuthenticatesOverTlsAndReportsRefusedCredentials) {
  SmtpServerOptions o;
  o.starttls = true;
  o.auth = true;
  o.require_auth = true;
  o.user = "relay-user";
  o.password = "s3cret pass";
  StartServer(o);
  SmtpSessionOptions options = Options(TlsMode::kStartTls);
  options.user = "relay-user";
  options.password = "s3cret pass";
  auto session = SmtpSession::Open(options);
  ASSERT_TRUE(session.ok()) << session.status();
  auto result = (*session)->Send(Txn({"a@example.org"}), kMessage);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(server_->messages()[0].auth_user, "relay-user");

  options.password = "wrong";
  auto refused = SmtpSession::Open(options);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::IsPermissionDenied(refused.status())) << refused.status();
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("535"));
  // The password never appears in what we report.
  EXPECT_THAT(std::string(refused.status().message()),
              ::testing::Not(HasSubstr("wrong")));
}

TEST_F(SmtpSessionTest, AuthWithoutAnOfferIsAConfigurationError) {
  StartServer({});
  SmtpSessionOptions options = Options();
  options.user = "u";
  options.password = "p";
  auto session = SmtpSession::Open(options);
  ASSERT_FALSE(session.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(session.status()));
}

TEST_F(SmtpSessionTest, ConnectionDroppedMidDataIsTransient) {
  SmtpServerOptions o;
  o.drop_after_data_bytes = 20;
  StartServer(o);
  auto session = SmtpSession::Open(Options());
  ASSERT_TRUE(session.ok());
  auto result = (*session)->Send(Txn({"a@example.org"}), kMessage);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(absl::IsUnavailable(result.status())) << result.status();
  EXPECT_FALSE((*session)->usable());
  EXPECT_TRUE(server_->messages().empty());
}

TEST_F(SmtpSessionTest, BusyGreetingIsTransient) {
  SmtpServerOptions o;
  o.greeting_reply = "421 4.3.2 Too busy";
  StartServer(o);
  auto session = SmtpSession::Open(Options());
  ASSERT_FALSE(session.ok());
  EXPECT_TRUE(absl::IsUnavailable(session.status())) << session.status();
  EXPECT_THAT(std::string(session.status().message()), HasSubstr("Too busy"));
}

TEST_F(SmtpSessionTest, NothingListeningIsTransient) {
  StartServer({});
  SmtpSessionOptions options = Options();
  server_->Stop();
  auto session = SmtpSession::Open(options);
  ASSERT_FALSE(session.ok());
  EXPECT_TRUE(absl::IsUnavailable(session.status())) << session.status();
}

TEST_F(SmtpSessionTest, SilentServerTimesOut) {
  // A listening socket that never says anything: the kernel accepts the
  // connection, nobody greets.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  SmtpSessionOptions options;
  options.host = "127.0.0.1";
  options.port = ntohs(addr.sin_port);
  options.tls = TlsMode::kNone;
  options.timeouts.CapAt(absl::Milliseconds(200));
  auto session = SmtpSession::Open(options);
  close(fd);
  ASSERT_FALSE(session.ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(session.status())) << session.status();
}

TEST_F(SmtpSessionTest, OversizedMessageIsNotSent) {
  SmtpServerOptions o;
  o.size = 100;
  StartServer(o);
  auto session = SmtpSession::Open(Options());
  ASSERT_TRUE(session.ok());
  EXPECT_EQ((*session)->extensions().max_size, 100);
  std::string big(500, 'x');
  auto result = (*session)->Send(Txn({"a@example.org"}), big);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->recipient_replies[0].code, 552);
  EXPECT_EQ(result->recipient_replies[0].enhanced_code, "5.3.4");
  EXPECT_TRUE(server_->messages().empty());
  // Within the limit: SIZE is declared.
  auto small = (*session)->Send(Txn({"a@example.org"}), "Subject: s\r\n\r\nx\r\n");
  ASSERT_TRUE(small.ok());
  EXPECT_THAT(server_->messages()[0].mail_params, HasSubstr("SIZE="));
}

TEST_F(SmtpSessionTest, Smtputf8IsDeclaredOrTheMessageRefused) {
  StartServer({});
  auto session = SmtpSession::Open(Options());
  ASSERT_TRUE(session.ok());
  SmtpTransaction txn = Txn({"jos\xc3\xa9@example.org"});
  txn.smtputf8 = true;
  auto refused = (*session)->Send(txn, kMessage);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status()));
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("SMTPUTF8"));
  server_->Stop();

  SmtpServerOptions o;
  o.smtputf8 = true;
  StartServer(o);
  session = SmtpSession::Open(Options());
  ASSERT_TRUE(session.ok());
  auto sent = (*session)->Send(txn, kMessage);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_THAT(server_->messages()[0].mail_params, HasSubstr("SMTPUTF8"));
  EXPECT_EQ(server_->messages()[0].rcpts[0].address, "jos\xc3\xa9@example.org");
}

TEST_F(SmtpSessionTest, DsnParametersWhenOffered) {
  SmtpServerOptions o;
  o.dsn = true;
  StartServer(o);
  auto session = SmtpSession::Open(Options());
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE((*session)->Send(Txn({"a+b@example.org"}), kMessage).ok());
  auto m = server_->messages()[0];
  EXPECT_THAT(m.mail_params, HasSubstr("RET=HDRS"));
  EXPECT_THAT(m.mail_params, HasSubstr("ENVID=m_1"));
  EXPECT_THAT(m.rcpts[0].params, HasSubstr("NOTIFY=FAILURE,DELAY"));
  EXPECT_THAT(m.rcpts[0].params, HasSubstr("ORCPT=rfc822;a+2Bb@example.org"));
}

TEST_F(SmtpSessionTest, NoDsnParametersWithoutTheExtension) {
  StartServer({});
  auto session = SmtpSession::Open(Options());
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE((*session)->Send(Txn({"a@example.org"}), kMessage).ok());
  auto m = server_->messages()[0];
  EXPECT_THAT(m.mail_params, ::testing::Not(HasSubstr("RET=")));
  EXPECT_EQ(m.rcpts[0].params, "");
}

TEST_F(SmtpSessionTest, ClosingWith421AtMailIsEveryRecipientsAnswer) {
  // A pipelined group answered 421 at MAIL: once read out of bounds (the
  // first recipient copied "the previous one's" reply) and crashed deliverd.
  for (bool pipelining : {true, false}) {
    SCOPED_TRACE(pipelining);
    SmtpServerOptions o;
    o.pipelining = pipelining;
    o.mail_reply = "421 4.3.2 Service shutting down";
    StartServer(o);
    auto session = SmtpSession::Open(Options());
    ASSERT_TRUE(session.ok());
    auto result =
        (*session)->Send(Txn({"a@example.org", "b@example.org"}), kMessage);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->recipient_replies.size(), 2u);
    for (const store::Reply& r : result->recipient_replies) {
      EXPECT_EQ(r.code, 421);
      EXPECT_EQ(r.enhanced_code, "4.3.2");
    }
    EXPECT_EQ(result->final_reply.code, 421);
    EXPECT_FALSE((*session)->usable());
    server_->Stop();
  }
}

TEST_F(SmtpSessionTest, ServerClosingWith421MakesTheSessionUnusable) {
  SmtpServerOptions o;
  o.rcpt_reply = [](const std::string&) -> std::string {
    return "421 4.7.0 Too many messages, slow down";
  };
  StartServer(o);
  auto session = SmtpSession::Open(Options());
  ASSERT_TRUE(session.ok());
  auto result = (*session)->Send(Txn({"a@example.org", "b@example.org"}), kMessage);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->recipient_replies[0].code, 421);
  EXPECT_EQ(result->recipient_replies[1].code, 421);
  EXPECT_FALSE((*session)->usable());
}

}  // namespace
}  // namespace deliverd::delivery
