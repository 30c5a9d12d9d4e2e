#include "testing/smtp_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

constexpr absl::Duration kWait = absl::Seconds(10);

// A raw SMTP client over a loopback socket (optionally TLS after STARTTLS).
// Reads time out after 10 s so that a broken server fails the test instead
// of hanging it.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv = {10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    connected_ =
        connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawClient() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    if (fd_ >= 0) close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  // True once a read saw the server's orderly close.
  bool eof() const { return eof_; }

  bool Send(absl::string_view data) {
    while (!data.empty()) {
      int n;
      if (ssl_ != nullptr) {
        n = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
      } else {
        n = static_cast<int>(send(fd_, data.data(), data.size(), MSG_NOSIGNAL));
      }
      if (n <= 0) return false;
      data.remove_prefix(n);
    }
    return true;
  }

  // One reply, all its lines joined by "\r\n"; empty on EOF or error.
  std::string ReadReply() {
    std::string reply;
    while (true) {
      std::string line;
      if (!ReadLine(&line)) return "";
      if (!reply.empty()) reply += "\r\n";
      reply += line;
      if (line.size() < 4 || line[3] != '-') return reply;
    }
  }

  // Sends `line` + CRLF, returns the reply.
  std::string Command(absl::string_view line) {
    if (!Send(absl::StrCat(line, "\r\n"))) return "";
    return ReadReply();
  }

  // True when the next read sees the end of the stream (no more data).
  bool ReadsEof() {
    while (Fill()) {
    }
    return eof_ && buf_.empty();
  }

  // STARTTLS's handshake, verifying the server against `ca_file` and the
  // host name `host` (or, when `ip` is set, the IP address instead).
  bool StartTls(const std::string& ca_file, const std::string& host,
                const std::string& ip, std::string* error) {
    if (!buf_.empty()) {
      *error = "data after the 220 reply";
      return false;
    }
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr) != 1) {
      *error = Errors("load_verify_locations");
      return false;
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    if (!ip.empty()) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), ip.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl_, host.c_str());
      SSL_set1_host(ssl_, host.c_str());
    }
    if (SSL_connect(ssl_) != 1) {
      *error = absl::StrCat(
          Errors("SSL_connect"), " verify: ",
          X509_verify_cert_error_string(SSL_get_verify_result(ssl_)));
      return false;
    }
    if (SSL_get_verify_result(ssl_) != X509_V_OK) {
      *error = "not verified";
      return false;
    }
    return true;
  }

 private:
  static std::string Errors(absl::string_view what) {
    std::string out(what);
    unsigned long err;
    while ((err = ERR_get_error()) != 0) {
      char buf[256];
      ERR_error_string_n(err, buf, sizeof(buf));
      absl::StrAppend(&out, ": ", buf);
    }
    return out;
  }

  bool Fill() {
    char buf[4096];
    int n;
    if (ssl_ != nullptr) {
      n = SSL_read(ssl_, buf, sizeof(buf));
      if (n <= 0) {
        int err = SSL_get_error(ssl_, n);
        eof_ = err == SSL_ERROR_ZERO_RETURN ||
               (err == SSL_ERROR_SYSCALL && errno == 0) ||
               err == SSL_ERROR_SSL;  // OpenSSL 3: unexpected EOF.
        return false;
      }
    } else {
      n = static_cast<int>(recv(fd_, buf, sizeof(buf), 0));
      if (n <= 0) {
        eof_ = n == 0;
        return false;
      }
    }
    buf_.append(buf, n);
    return true;
  }

  bool ReadLine(std::string* line) {
    while (true) {
      size_t end = buf_.find("\r\n");
      if (end != std::string::npos) {
        *line = buf_.substr(0, end);
        buf_.erase(0, end + 2);
        return true;
      }
      if (!Fill()) return false;
    }
  }

  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string buf_;
};

std::string PlainResponse(absl::string_view user, absl::string_view password) {
  return absl::Base64Escape(
      absl::StrCat(std::string(1, '\0'), user, std::string(1, '\0'), password));
}

TEST(SmtpServerTest, NormalTransaction) {
  SmtpServer server;
  ASSERT_TRUE(server.Start().ok());
  ASSERT_GT(server.port(), 0);
  {
    RawClient client(server.port());
    ASSERT_TRUE(client.connected());
    EXPECT_EQ(client.ReadReply(), "220 mx.test ESMTP");
    std::string ehlo = client.Command("EHLO client.test");
    EXPECT_THAT(ehlo, StartsWith("250-mx.test greets client.test\r\n"));
    EXPECT_THAT(ehlo, HasSubstr("250-PIPELINING\r\n"));
    EXPECT_THAT(ehlo, HasSubstr("250-8BITMIME\r\n"));
    EXPECT_THAT(ehlo, HasSubstr("250 ENHANCEDSTATUSCODES"));
    EXPECT_THAT(ehlo, Not(HasSubstr("STARTTLS")));
    EXPECT_EQ(client.Command("MAIL FROM:<a@example.com> BODY=8BITMIME"),
              "250 2.1.0 Ok");
    EXPECT_EQ(client.Command("RCPT TO:<b@example.org> NOTIFY=NEVER"),
              "250 2.1.5 Ok");
    EXPECT_THAT(client.Command("DATA"), StartsWith("354 "));
    const std::string content = "Subject: dots\r\n\r\n..x\r\n...\r\nbody.\r\n";
    EXPECT_EQ(client.Command(content + "."), "250 2.0.0 Ok: queued as Q1");
    EXPECT_EQ(client.Command("NOOP"), "250 2.0.0 Ok");
    EXPECT_EQ(client.Command("RSET"), "250 2.0.0 Ok");
    EXPECT_EQ(client.Command("VRFY someone"),
              "500 5.5.2 Command not recognized");
    EXPECT_EQ(client.Command("QUIT"), "221 2.0.0 Bye");
    EXPECT_TRUE(client.ReadsEof());
  }  // The client closes: the server's side of the connection ends too.
  EXPECT_TRUE(server.WaitForClosedConnections(1, kWait));

  std::vector<ReceivedMessage> messages = server.messages();
  ASSERT_EQ(messages.size(), 1u);
  const ReceivedMessage& m = messages[0];
  EXPECT_EQ(m.mail_from, "a@example.com");
  EXPECT_EQ(m.mail_params, "BODY=8BITMIME");
  ASSERT_EQ(m.rcpts.size(), 1u);
  EXPECT_EQ(m.rcpts[0].address, "b@example.org");
  EXPECT_EQ(m.rcpts[0].params, "NOTIFY=NEVER");
  EXPECT_EQ(m.data, "Subject: dots\r\n\r\n.x\r\n..\r\nbody.\r\n");
  EXPECT_FALSE(m.tls);
  EXPECT_EQ(m.auth_user, "");
  EXPECT_EQ(m.connection, 0);
  EXPECT_EQ(m.queue_id, "Q1");
  EXPECT_EQ(m.reply, "250 2.0.0 Ok: queued as Q1");
  EXPECT_THAT(
      server.commands(),
      ElementsAre("EHLO client.test", "MAIL FROM:<a@example.com> BODY=8BITMIME",
                  "RCPT TO:<b@example.org> NOTIFY=NEVER", "DATA", "NOOP",
                  "RSET", "VRFY someone", "QUIT"));
  EXPECT_EQ(server.max_commands_in_one_read(), 1);
  EXPECT_EQ(server.connections(), 1);
}

TEST(SmtpServerTest, BadSequence) {
  SmtpServer server;
  ASSERT_TRUE(server.Start().ok());
  RawClient client(server.port());
  ASSERT_THAT(client.ReadReply(), StartsWith("220 "));
  EXPECT_THAT(client.Command("MAIL FROM:<a@example.com>"),
              StartsWith("503 5.5.1 "));
  EXPECT_THAT(client.Command("EHLO c"), StartsWith("250-"));
  EXPECT_THAT(client.Command("RCPT TO:<b@example.org>"),
              StartsWith("503 5.5.1 "));
  EXPECT_THAT(client.Command("DATA"), StartsWith("503 5.5.1 "));
  EXPECT_THAT(client.Command("MAIL FROM:a@example.com"), StartsWith("501 "));
  EXPECT_EQ(client.Command("MAIL FROM:<>"), "250 2.1.0 Ok");
  EXPECT_THAT(client.Command("MAIL FROM:<>"), StartsWith("503 5.5.1 "));
  EXPECT_EQ(client.Command("DATA"), "554 5.5.1 No valid recipients");
  EXPECT_THAT(client.Command("BDAT 10 LAST"), StartsWith("500 5.5.2 "));
  EXPECT_TRUE(client.Send("NOOP\n"));
  EXPECT_THAT(client.ReadReply(), StartsWith("500 5.5.2 "));
  EXPECT_THAT(server.messages(), IsEmpty());
}

TEST(SmtpServerTest, PipelinedCommandsGetRepliesInOrder) {
  SmtpServer server;
  ASSERT_TRUE(server.Start().ok());
  RawClient client(server.port());
  ASSERT_THAT(client.ReadReply(), StartsWith("220 "));
  ASSERT_THAT(client.Command("EHLO c"), HasSubstr("PIPELINING"));
  ASSERT_TRUE(
      client.Send("MAIL FROM:<a@example.com>\r\n"
                  "RCPT TO:<b@example.org>\r\n"
                  "RCPT TO:<c@example.org>\r\n"
                  "DATA\r\n"));
  EXPECT_EQ(client.ReadReply(), "250 2.1.0 Ok");
  EXPECT_EQ(client.ReadReply(), "250 2.1.5 Ok");
  EXPECT_EQ(client.ReadReply(), "250 2.1.5 Ok");
  EXPECT_THAT(client.ReadReply(), StartsWith("354 "));
  ASSERT_TRUE(client.Send("hello\r\n.\r\nQUIT\r\n"));
  EXPECT_EQ(client.ReadReply(), "250 2.0.0 Ok: queued as Q1");
  EXPECT_EQ(client.ReadReply(), "221 2.0.0 Bye");
  EXPECT_TRUE(client.ReadsEof());
  EXPECT_EQ(server.max_commands_in_one_read(), 4);
  std::vector<ReceivedMessage> messages = server.messages();
  ASSERT_EQ(messages.size(), 1u);
  ASSERT_EQ(messages[0].rcpts.size(), 2u);
  EXPECT_EQ(messages[0].rcpts[1].address, "c@example.org");
  EXPECT_EQ(messages[0].data, "hello\r\n");
}

TEST(SmtpServerTest, PerRecipientReplies) {
  SmtpServerOptions options;
  options.rcpt_reply = [](const std::string& rcpt) -> std::string {
    if (rcpt == "bad@example.org") return "550 5.1.1 No such user";
    return "250 2.1.5 Ok";
  };
  options.data_reply = [](const ReceivedMessage& m) {
    return absl::StrCat("250-accepted for ", m.rcpts.size(),
                        "\r\n250 2.0.0 Ok ", m.queue_id);
  };
  SmtpServer server(options);
  ASSERT_TRUE(server.Start().ok());
  RawClient client(server.port());
  ASSERT_THAT(client.ReadReply(), StartsWith("220 "));
  ASSERT_THAT(client.Command("EHLO c"), StartsWith("250"));
  EXPECT_EQ(client.Command("MAIL FROM:<a@example.com>"), "250 2.1.0 Ok");
  EXPECT_EQ(client.Command("RCPT TO:<one@example.org>"), "250 2.1.5 Ok");
  EXPECT_EQ(client.Command("RCPT TO:<bad@example.org>"),
            "550 5.1.1 No such user");
  EXPECT_EQ(client.Command("RCPT TO:<three@example.org>"), "250 2.1.5 Ok");
  EXPECT_THAT(client.Command("DATA"), StartsWith("354 "));
  EXPECT_EQ(client.Command("x\r\n."), "250-accepted for 2\r\n250 2.0.0 Ok Q1");
  ASSERT_TRUE(server.WaitForMessages(1, kWait));
  std::vector<ReceivedMessage> messages = server.messages();
  ASSERT_EQ(messages[0].rcpts.size(), 2u);
  EXPECT_EQ(messages[0].rcpts[0].address, "one@example.org");
  EXPECT_EQ(messages[0].rcpts[1].address, "three@example.org");

  // Changed mid-test: a 421 reply closes the connection.
  server.SetRcptReply(
      [](const std::string&) { return "421 4.3.2 shutting down"; });
  EXPECT_EQ(client.Command("MAIL FROM:<a@example.com>"), "250 2.1.0 Ok");
  EXPECT_EQ(client.Command("RCPT TO:<one@example.org>"),
            "421 4.3.2 shutting down");
  EXPECT_TRUE(client.ReadsEof());
}

TEST(SmtpServerTest, HeloFallbackWhenEhloRefused) {
  SmtpServerOptions options;
  options.ehlo = false;
  SmtpServer server(options);
  ASSERT_TRUE(server.Start().ok());
  RawClient client(server.port());
  ASSERT_THAT(client.ReadReply(), StartsWith("220 "));
  EXPECT_THAT(client.Command("EHLO c"), StartsWith("502 5.5.1 "));
  EXPECT_THAT(client.Command("MAIL FROM:<a@example.com>"),
              StartsWith("503 5.5.1 "));
  EXPECT_EQ(client.Command("HELO c"), "250 mx.test");
  EXPECT_EQ(client.Command("MAIL FROM:<a@example.com>"), "250 2.1.0 Ok");
}

TEST(SmtpServerTest, AuthPlain) {
  SmtpServerOptions options;
  options.auth = true;
  options.require_auth = true;
  options.user = "alice";
  options.password = "s3cret";
  SmtpServer server(options);
  ASSERT_TRUE(server.Start().ok());
  RawClient client(server.port());
  ASSERT_THAT(client.ReadReply(), StartsWith("220 "));
  EXPECT_THAT(client.Command("EHLO c"), HasSubstr("250-AUTH PLAIN LOGIN\r\n"));
  EXPECT_EQ(client.Command("MAIL FROM:<a@example.com>"),
            "530 5.7.0 Authentication required");
  EXPECT_EQ(client.Command(
                absl::StrCat("AUTH PLAIN ", PlainResponse("alice", "wrong"))),
            "535 5.7.8 Authentication credentials invalid");
  // The continuation form.
  EXPECT_EQ(client.Command("AUTH PLAIN"), "334 ");
  EXPECT_EQ(client.Command(PlainResponse("alice", "s3cret")),
            "235 2.7.0 Authentication successful");
  EXPECT_THAT(client.Command("AUTH PLAIN"), StartsWith("503 5.5.1 "));
  EXPECT_EQ(client.Command("MAIL FROM:<a@example.com>"), "250 2.1.0 Ok");
  EXPECT_EQ(client.Command("RCPT TO:<b@example.org>"), "250 2.1.5 Ok");
  EXPECT_THAT(client.Command("DATA"), StartsWith("354 "));
  EXPECT_THAT(client.Command("x\r\n."), StartsWith("250 "));
  ASSERT_EQ(server.messages().size(), 1u);
  EXPECT_EQ(server.messages()[0].auth_user, "alice");

  // The initial-response form, on a second connection.
  RawClient second(server.port());
  ASSERT_THAT(second.ReadReply(), StartsWith("220 "));
  ASSERT_THAT(second.Command("EHLO c"), StartsWith("250"));
  EXPECT_EQ(second.Command(
                absl::StrCat("AUTH PLAIN ", PlainResponse("alice", "s3cret"))),
            "235 2.7.0 Authentication successful");
  // Credentials never reach the records.
  for (const std::string& command : server.commands()) {
    EXPECT_THAT(command, Not(HasSubstr(PlainResponse("alice", "s3cret"))));
    EXPECT_THAT(command, Not(HasSubstr(PlainResponse("alice", "wrong"))));
  }
  EXPECT_THAT(server.commands(1), ElementsAre("EHLO c", "AUTH PLAIN ***"));
  EXPECT_THAT(
      server.commands(0),
      ElementsAre("EHLO c", "MAIL FROM:<a@example.com>", "AUTH PLAIN ***",
                  "AUTH PLAIN", "AUTH PLAIN", "MAIL FROM:<a@example.com>",
                  "RCPT TO:<b@example.org>", "DATA"));
}

TEST(SmtpServerTest, AuthLogin) {
  SmtpServerOptions options;
  options.auth = true;
  SmtpServer server(options);
  ASSERT_TRUE(server.Start().ok());
  RawClient client(server.port());
  ASSERT_THAT(client.ReadReply(), StartsWith("220 "));
  ASSERT_THAT(client.Command("EHLO c"), StartsWith("250"));
  EXPECT_EQ(client.Command("AUTH LOGIN"), "334 VXNlcm5hbWU6");
  EXPECT_EQ(client.Command(absl::Base64Escape("user")), "334 UGFzc3dvcmQ6");
  EXPECT_EQ(client.Command(absl::Base64Escape("nope")),
            "535 5.7.8 Authentication credentials invalid");
  EXPECT_EQ(client.Command("AUTH LOGIN"), "334 VXNlcm5hbWU6");
  EXPECT_EQ(client.Command("*"), "501 5.7.0 Authentication cancelled");
  EXPECT_EQ(
      client.Command(absl::StrCat("AUTH LOGIN ", absl::Base64Escape("user"))),
      "334 UGFzc3dvcmQ6");
  EXPECT_EQ(client.Command(absl::Base64Escape("secret")),
            "235 2.7.0 Authentication successful");
  EXPECT_EQ(client.Command("AUTH CRAM-MD5"), "503 5.5.1 Already authenticated");
  EXPECT_THAT(server.commands(),
              ElementsAre("EHLO c", "AUTH LOGIN", "AUTH LOGIN",
                          "AUTH LOGIN ***", "AUTH CRAM-MD5"));
}

TEST(SmtpServerTest, RequireTls) {
  SmtpServerOptions options;
  options.starttls = true;
  options.require_tls = true;
  SmtpServer server(options);
  ASSERT_TRUE(server.Start().ok());
  RawClient client(server.port());
  ASSERT_THAT(client.ReadReply(), StartsWith("220 "));
  EXPECT_THAT(client.Command("EHLO c"), HasSubstr("250-STARTTLS\r\n"));
  EXPECT_EQ(client.Command("MAIL FROM:<a@example.com>"),
            "530 5.7.0 Must issue a STARTTLS command first");
}

TEST(SmtpServerTest, StartTlsVerifiesAgainstCertFile) {
  SmtpServerOptions options;
  options.starttls = true;
  options.require_tls = true;
  options.auth = true;
  SmtpServer server(options);
  ASSERT_TRUE(server.Start().ok());
  ASSERT_FALSE(server.cert_file().empty());

  RawClient client(server.port());
  ASSERT_THAT(client.ReadReply(), StartsWith("220 "));
  ASSERT_THAT(client.Command("EHLO c"), HasSubstr("STARTTLS"));
  EXPECT_EQ(client.Command("STARTTLS"), "220 2.0.0 Ready to start TLS");
  std::string error;
  ASSERT_TRUE(client.StartTls(server.cert_file(), "localhost", "", &error))
      << error;
  // The session starts over: EHLO again, no STARTTLS offered any more.
  EXPECT_THAT(client.Command("MAIL FROM:<a@example.com>"),
              StartsWith("503 5.5.1 "));
  std::string ehlo = client.Command("EHLO c");
  EXPECT_THAT(ehlo, StartsWith("250-"));
  EXPECT_THAT(ehlo, Not(HasSubstr("STARTTLS")));
  EXPECT_THAT(client.Command("STARTTLS"), StartsWith("503 5.5.1 "));
  EXPECT_EQ(client.Command(
                absl::StrCat("AUTH PLAIN ", PlainResponse("user", "secret"))),
            "235 2.7.0 Authentication successful");
  EXPECT_EQ(client.Command("MAIL FROM:<a@example.com>"), "250 2.1.0 Ok");
  EXPECT_EQ(client.Command("RCPT TO:<b@example.org>"), "250 2.1.5 Ok");
  EXPECT_THAT(client.Command("DATA"), StartsWith("354 "));
  EXPECT_THAT(client.Command("secret stuff\r\n."), StartsWith("250 2.0.0 "));
  EXPECT_EQ(client.Command("QUIT"), "221 2.0.0 Bye");
  EXPECT_TRUE(client.ReadsEof());
  std::vector<ReceivedMessage> messages = server.messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_TRUE(messages[0].tls);
  EXPECT_EQ(messages[0].auth_user, "user");
  EXPECT_EQ(messages[0].data, "secret stuff\r\n");

  // The IP address is in the certificate too.
  RawClient by_ip(server.port());
  ASSERT_THAT(by_ip.ReadReply(), StartsWith("220 "));
  ASSERT_THAT(by_ip.Command("EHLO c"), StartsWith("250"));
  ASSERT_THAT(by_ip.Command("STARTTLS"), StartsWith("220 "));
  EXPECT_TRUE(by_ip.StartTls(server.cert_file(), "", "127.0.0.1", &error))
      << error;

  // Another name is not.
  RawClient wrong(server.port());
  ASSERT_THAT(wrong.ReadReply(), StartsWith("220 "));
  ASSERT_THAT(wrong.Command("EHLO c"), StartsWith("250"));
  ASSERT_THAT(wrong.Command("STARTTLS"), StartsWith("220 "));
  EXPECT_FALSE(
      wrong.StartTls(server.cert_file(), "mx.example.com", "", &error));
  EXPECT_THAT(error, HasSubstr("hostname mismatch"));
}

TEST(SmtpServerTest, DropMidData) {
  SmtpServerOptions options;
  options.drop_after_data_bytes = 20;
  SmtpServer server(options);
  ASSERT_TRUE(server.Start().ok());
  {
    RawClient client(server.port());
    ASSERT_THAT(client.ReadReply(), StartsWith("220 "));
    ASSERT_THAT(client.Command("EHLO c"), StartsWith("250"));
    ASSERT_EQ(client.Command("MAIL FROM:<a@example.com>"), "250 2.1.0 Ok");
    ASSERT_EQ(client.Command("RCPT TO:<b@example.org>"), "250 2.1.5 Ok");
    ASSERT_THAT(client.Command("DATA"), StartsWith("354 "));
    EXPECT_EQ(client.Command(absl::StrCat("Subject: long\r\n\r\n",
                                          std::string(100, 'x'), "\r\n.")),
              "");
    EXPECT_TRUE(client.eof());
  }
  ASSERT_TRUE(server.WaitForClosedConnections(1, kWait));
  EXPECT_THAT(server.messages(), IsEmpty());

  // A message shorter than the limit goes through.
  RawClient client(server.port());
  ASSERT_THAT(client.ReadReply(), StartsWith("220 "));
  ASSERT_THAT(client.Command("EHLO c"), StartsWith("250"));
  ASSERT_EQ(client.Command("MAIL FROM:<a@example.com>"), "250 2.1.0 Ok");
  ASSERT_EQ(client.Command("RCPT TO:<b@example.org>"), "250 2.1.5 Ok");
  ASSERT_THAT(client.Command("DATA"), StartsWith("354 "));
  EXPECT_THAT(client.Command("short\r\n."), StartsWith("250 "));
  EXPECT_EQ(server.messages().size(), 1u);
}

TEST(SmtpServerTest, GreetingFaults) {
  SmtpServerOptions options;
  options.greeting_reply = "421 4.3.2 busy";
  SmtpServer server(options);
  ASSERT_TRUE(server.Start().ok());
  {
    RawClient client(server.port());
    EXPECT_EQ(client.ReadReply(), "421 4.3.2 busy");
    EXPECT_TRUE(client.ReadsEof());
  }
  options.greeting_reply = "";
  options.drop_after_greeting = true;
  server.SetOptions(options);
  {
    RawClient client(server.port());
    EXPECT_EQ(client.ReadReply(), "220 mx.test ESMTP");
    EXPECT_TRUE(client.ReadsEof());
  }
  // An outage, then recovery.
  options.drop_after_greeting = false;
  server.SetOptions(options);
  server.SetAcceptConnections(false);
  {
    RawClient client(server.port());
    EXPECT_EQ(client.ReadReply(), "421 4.3.0 try later");
    EXPECT_TRUE(client.ReadsEof());
  }
  server.SetAcceptConnections(true);
  {
    RawClient client(server.port());
    EXPECT_EQ(client.ReadReply(), "220 mx.test ESMTP");
    EXPECT_EQ(client.Command("QUIT"), "221 2.0.0 Bye");
  }
  EXPECT_TRUE(server.WaitForConnections(4, kWait));
  EXPECT_EQ(server.connections(), 4);
  EXPECT_THAT(server.commands(3), ElementsAre("QUIT"));
}

TEST(SmtpServerTest, StopWithClientsConnectedReturnsPromptly) {
  SmtpServerOptions options;
  options.starttls = true;
  SmtpServer server(options);
  ASSERT_TRUE(server.Start().ok());
  RawClient idle(server.port());
  ASSERT_THAT(idle.ReadReply(), StartsWith("220 "));
  // Mid-line, in DATA and in a TLS handshake that never comes.
  RawClient partial(server.port());
  ASSERT_THAT(partial.ReadReply(), StartsWith("220 "));
  ASSERT_TRUE(partial.Send("EHLO unfinished"));
  RawClient in_data(server.port());
  ASSERT_THAT(in_data.ReadReply(), StartsWith("220 "));
  ASSERT_THAT(in_data.Command("EHLO c"), StartsWith("250"));
  ASSERT_EQ(in_data.Command("MAIL FROM:<a@example.com>"), "250 2.1.0 Ok");
  ASSERT_EQ(in_data.Command("RCPT TO:<b@example.org>"), "250 2.1.5 Ok");
  ASSERT_THAT(in_data.Command("DATA"), StartsWith("354 "));
  ASSERT_TRUE(in_data.Send("half a message"));
  RawClient in_tls(server.port());
  ASSERT_THAT(in_tls.ReadReply(), StartsWith("220 "));
  ASSERT_THAT(in_tls.Command("STARTTLS"), StartsWith("220 "));
  ASSERT_TRUE(server.WaitForConnections(4, kWait));

  absl::Time start = absl::Now();
  server.Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_EQ(server.closed_connections(), 4);
  EXPECT_TRUE(idle.ReadsEof());
  EXPECT_TRUE(in_data.ReadsEof());
  EXPECT_THAT(server.messages(), IsEmpty());
  server.Stop();  // Idempotent.
}

TEST(SmtpServerTest, WaitsTimeOut) {
  SmtpServer server;
  ASSERT_TRUE(server.Start().ok());
  EXPECT_FALSE(server.WaitForMessages(1, absl::Milliseconds(20)));
  EXPECT_FALSE(server.WaitForConnections(1, absl::Milliseconds(20)));
  EXPECT_FALSE(server.Start().ok());
}

}  // namespace
}  // namespace deliverd::testing
