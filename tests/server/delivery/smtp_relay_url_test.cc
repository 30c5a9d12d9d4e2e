#include "server/delivery/smtp_relay_url.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::delivery {
namespace {

using ::testing::HasSubstr;

TEST(SmtpRelayUrlTest, DefaultsPortsByScheme) {
  auto plain = ParseSmtpRelayUrl("smtp://relay.example.net");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->host, "relay.example.net");
  EXPECT_EQ(plain->port, 25);
  EXPECT_FALSE(plain->implicit_tls);
  auto tls = ParseSmtpRelayUrl("SMTPS://relay.example.net/");
  ASSERT_TRUE(tls.ok());
  EXPECT_EQ(tls->port, 465);
  EXPECT_TRUE(tls->implicit_tls);
}

TEST(SmtpRelayUrlTest, ExplicitPortAndIpv6) {
  auto a = ParseSmtpRelayUrl("smtp://relay.example.net:587");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->port, 587);
  auto b = ParseSmtpRelayUrl("smtp://[::1]:2525");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 2525);
  auto c = ParseSmtpRelayUrl("smtp://127.0.0.1:1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->port, 1);
}

TEST(SmtpRelayUrlTest, RefusesWhatItCannotUse) {
  struct Case {
    const char* url;
    const char* says;
  } cases[] = {
      {"relay.example.net", "smtp://"},
      {"http://relay.example.net", "smtp://"},
      {"smtp://", "no host"},
      {"smtp://user:pw@relay.example.net", "credentials"},
      {"smtp://relay.example.net/path", "HOST[:PORT]"},
      {"smtp://relay.example.net:0", "1 to 65535"},
      {"smtp://relay.example.net:65536", "1 to 65535"},
      {"smtp://relay.example.net:+25", "1 to 65535"},
      {"smtp://relay.example.net:", "empty port"},
      {"smtp://[::1", "unclosed"},
      {"smtp://[::1]x", "junk"},
      {"smtp://bad host", "not allowed"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseSmtpRelayUrl(c.url);
    ASSERT_FALSE(parsed.ok()) << c.url;
    EXPECT_TRUE(absl::IsInvalidArgument(parsed.status())) << c.url;
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(c.says))
        << c.url;
  }
}

}  // namespace
}  // namespace deliverd::delivery
