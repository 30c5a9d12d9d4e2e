#include "server/store/mysql_uri.h"

#include "gtest/gtest.h"

namespace deliverd::store {
namespace {

TEST(MysqlUriTest, FullUri) {
  absl::StatusOr<MysqlConfig> c =
      ParseMysqlUri("mysql://mailer:s3cret@db.example.net:3307/deliverd?pool=12");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->user, "mailer");
  EXPECT_EQ(c->password, "s3cret");
  EXPECT_EQ(c->host, "db.example.net");
  EXPECT_EQ(c->port, 3307);
  EXPECT_EQ(c->database, "deliverd");
  EXPECT_EQ(c->pool_size, 12);
}

TEST(MysqlUriTest, DefaultsAndNoPassword) {
  absl::StatusOr<MysqlConfig> c = ParseMysqlUri("mysql://root@localhost/d");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->user, "root");
  EXPECT_EQ(c->password, "");
  EXPECT_EQ(c->port, 3306);
  EXPECT_EQ(c->pool_size, MysqlConfig().pool_size);
}

TEST(MysqlUriTest, PercentEncodedPasswordMayHoldAtAndSlash) {
  absl::StatusOr<MysqlConfig> c =
      ParseMysqlUri("mysql://u:p%40ss%2Fw%3Ard@127.0.0.1:3306/db");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->password, "p@ss/w:rd");
  EXPECT_EQ(c->host, "127.0.0.1");
}

TEST(MysqlUriTest, BracketedIpv6Host) {
  absl::StatusOr<MysqlConfig> c = ParseMysqlUri("mysql://u@[::1]:3310/db");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->port, 3310);
}

TEST(MysqlUriTest, ErrorsNameThePartAndNeverThePassword) {
  struct Case {
    const char* uri;
    const char* says;
  } cases[] = {
      {"postgres://u@h/db", "not a mysql://"},
      {"mysql://u:topsecret@h", "no /DATABASE"},
      {"mysql://u:topsecret@h/", "empty database"},
      {"mysql://h/db", "no USER@"},
      {"mysql://:topsecret@h/db", "empty user"},
      {"mysql://u:topsecret@h:0/db", "port"},
      {"mysql://u:topsecret@h:99999/db", "port"},
      {"mysql://u:topsecret@h:abc/db", "port"},
      {"mysql://u:topsecret@h:/db", "port"},
      {"mysql://u:topsecret@/db", "empty host"},
      {"mysql://u:top%zzsecret@h/db", "percent-encoding in the password"},
      {"mysql://u:topsecret@h/db?pool=1", "pool"},
      {"mysql://u:topsecret@h/db?timeout=3", "unknown parameter"},
      {"mysql://u:topsecret@[::1/db", "unclosed"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<MysqlConfig> parsed = ParseMysqlUri(c.uri);
    ASSERT_FALSE(parsed.ok()) << c.uri;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(c.says), std::string::npos)
        << c.uri << ": " << parsed.status();
    EXPECT_EQ(parsed.status().message().find("topsecret"), std::string::npos)
        << c.uri << ": " << parsed.status();
  }
}

TEST(MysqlUriTest, IsMysqlUri) {
  EXPECT_TRUE(IsMysqlUri("mysql://u@h/d"));
  EXPECT_FALSE(IsMysqlUri("sqlite:/tmp/x.db"));
  EXPECT_FALSE(IsMysqlUri(""));
}

TEST(MysqlDatetimeTest, RoundTripsMicrosecondsAndClampsInfinities) {
  absl::Time t = absl::FromUnixMicros(1700000000123456);
  EXPECT_EQ(MysqlDatetime(t), "2023-11-14 22:13:20.123456");
  absl::StatusOr<absl::Time> back = ParseMysqlDatetime(MysqlDatetime(t));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, t);
  EXPECT_EQ(MysqlDatetime(absl::InfinitePast()), "1000-01-01 00:00:00.000000");
  EXPECT_EQ(MysqlDatetime(absl::InfiniteFuture()),
            "9999-12-31 23:59:59.999999");
  EXPECT_FALSE(ParseMysqlDatetime("yesterday").ok());
}

}  // namespace
}  // namespace deliverd::store
