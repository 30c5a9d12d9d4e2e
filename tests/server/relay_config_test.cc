// Relay, retry and domain settings, and turning them into a transport.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/config.h"
#include "server/transport_setup.h"

namespace deliverd {
namespace {

using ::testing::HasSubstr;

absl::Status Parse(std::vector<std::string> args, Config* c) {
  return ParseConfig(args, c).status();
}

std::string TempFile(const std::string& text, mode_t mode) {
  char tmpl[] = "/tmp/deliverd-relay-config-XXXXXX";
  int fd = mkstemp(tmpl);
  close(fd);
  std::ofstream(tmpl) << text;
  chmod(tmpl, mode);
  return tmpl;
}

TEST(RelayConfig, RelaySelectsTheSmtpTransportAndItsWorkers) {
  Config c;
  EXPECT_EQ(c.DispatcherWorkers(), 2);
  ASSERT_TRUE(Parse({"--smtp-relay", "smtp://relay.example.net:587",
                     "--smtp-connections", "5"},
                    &c)
                  .ok());
  EXPECT_EQ(c.transport, "smtp");
  EXPECT_EQ(c.DispatcherWorkers(), 5);  // one per connection
  ASSERT_TRUE(Parse({"--smtp-relay", "smtp://r.example", "--dispatcher-workers",
                     "0"},
                    &c)
                  .ok());
  EXPECT_EQ(c.DispatcherWorkers(), 0);
}

TEST(RelayConfig, ErrorsNameTheSetting) {
  struct Case {
    std::vector<std::string> args;
    const char* says;
  } cases[] = {
      {{"--smtp-relay", "http://x"}, "smtp-relay"},
      {{"--transport", "smtp"}, "needs smtp-relay"},
      {{"--transport", "carrier-pigeon"}, "outbox or smtp"},
      {{"--smtp-relay", "smtp://r", "--smtp-user", "u"}, "go together"},
      {{"--smtp-relay", "smtps://r", "--smtp-tls", "none"}, "contradicts"},
      {{"--smtp-tls", "sometimes"}, "starttls or none"},
      {{"--smtp-tls-verify", "perhaps"}, "true or false"},
      {{"--smtp-connections", "0"}, "smtp-connections"},
      {{"--smtp-timeout", "soon"}, "duration"},
      {{"--smtp-helo-name", "two words"}, "host name"},
      {{"--return-path-domain", "a@b"}, "a domain"},
      {{"--retry-initial", "0s"}, "retry-initial"},
      {{"--retry-initial", "10m", "--retry-max-delay", "5m"}, "retry"},
      {{"--retry-multiplier", "0.5"}, "1 to 10"},
      {{"--domain-concurrency", "-1"}, "domain-concurrency"},
      {{"--domain-backoff", "2h", "--domain-backoff-max", "1h"}, "domain-backoff"},
  };
  for (const Case& k : cases) {
    Config c;
    absl::Status s = Parse(k.args, &c);
    ASSERT_FALSE(s.ok()) << k.args[0];
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(k.says)) << k.args[0];
  }
}

TEST(RelayConfig, RelayOptionsFollowTheSettings) {
  Config c;
  std::string password = TempFile("pa ss\n", 0600);
  ASSERT_TRUE(Parse({"--smtp-relay", "smtp://relay.example.net:2525",
                     "--smtp-user", "me", "--smtp-password-file", password,
                     "--smtp-helo-name", "mta.example.com", "--smtp-timeout",
                     "20s", "--smtp-tls-verify", "false"},
                    &c)
                  .ok());
  auto o = RelayOptionsFromConfig(c);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->session.host, "relay.example.net");
  EXPECT_EQ(o->session.port, 2525);
  EXPECT_EQ(o->session.tls, delivery::TlsMode::kStartTls);
  EXPECT_EQ(o->session.user, "me");
  EXPECT_EQ(o->session.password, "pa ss");
  EXPECT_EQ(o->session.helo_name, "mta.example.com");
  EXPECT_EQ(o->session.timeouts.data_end, absl::Seconds(20));
  EXPECT_FALSE(o->tls.verify);
  unlink(password.c_str());
}

TEST(RelayConfig, PasswordFileMustBePrivateAndNonEmpty) {
  for (auto [text, mode, says] :
       {std::tuple<const char*, mode_t, const char*>{"pw\n", 0644,
                                                      "readable by other"},
        {"\n", 0600, "empty"}}) {
    Config c;
    std::string password = TempFile(text, mode);
    ASSERT_TRUE(Parse({"--smtp-relay", "smtp://r.example", "--smtp-user", "u",
                       "--smtp-password-file", password},
                      &c)
                    .ok());
    auto o = RelayOptionsFromConfig(c);
    ASSERT_FALSE(o.ok());
    EXPECT_THAT(std::string(o.status().message()), HasSubstr(says));
    unlink(password.c_str());
  }
  Config c;
  ASSERT_TRUE(Parse({"--smtp-relay", "smtp://r.example", "--smtp-user", "u",
                     "--smtp-password-file", "/nonexistent/pw"},
                    &c)
                  .ok());
  EXPECT_THAT(std::string(RelayOptionsFromConfig(c).status().message()),
              HasSubstr("cannot read"));
}

TEST(RelayConfig, ImplicitTlsAndPlainText) {
  Config tls;
  ASSERT_TRUE(Parse({"--smtp-relay", "smtps://r.example"}, &tls).ok());
  EXPECT_EQ(RelayOptionsFromConfig(tls)->session.tls,
            delivery::TlsMode::kImplicit);
  EXPECT_EQ(RelayOptionsFromConfig(tls)->session.port, 465);
  Config plain;
  ASSERT_TRUE(
      Parse({"--smtp-relay", "smtp://r.example", "--smtp-tls", "none"}, &plain)
          .ok());
  EXPECT_EQ(RelayOptionsFromConfig(plain)->session.tls,
            delivery::TlsMode::kNone);
  EXPECT_THAT(DescribeTransport(plain), HasSubstr("relay smtp://r.example"));
}

}  // namespace
}  // namespace deliverd

namespace deliverd {
namespace {

TEST(RelayConfig, SharedStoreCapsSmtpTimeoutsWellInsideTheLease) {
  Config c;
  ASSERT_TRUE(ParseConfig({"--smtp-relay", "smtp://relay.example.net",
                           "--store", "mysql://u@db/deliverd",
                           "--delivery-lease", "60s"},
                          &c)
                  .ok());
  auto o = RelayOptionsFromConfig(c);
  ASSERT_TRUE(o.ok()) << o.status();
  // A twentieth of the lease: an attempt ends long before another replica
  // may take the message over.
  EXPECT_EQ(o->session.timeouts.data_end, absl::Seconds(3));
  EXPECT_EQ(o->session.timeouts.greeting, absl::Seconds(3));

  // The embedded store keeps RFC 5321's timeouts.
  Config local;
  ASSERT_TRUE(ParseConfig({"--smtp-relay", "smtp://relay.example.net",
                           "--delivery-lease", "60s"},
                          &local)
                  .ok());
  auto l = RelayOptionsFromConfig(local);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->session.timeouts.data_end, absl::Minutes(10));
}

}  // namespace
}  // namespace deliverd
