#include "server/config.h"

#include <stdlib.h>
#include <unistd.h>

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd {
namespace {

using ::testing::HasSubstr;

std::string WriteTemp(const std::string& text) {
  char tmpl[] = "/tmp/deliverd-config-XXXXXX";
  int fd = mkstemp(tmpl);
  close(fd);
  std::ofstream(tmpl) << text;
  return tmpl;
}

TEST(Config, DefaultsPointIntoTheDataDir) {
  Config c;
  EXPECT_EQ(c.listen, "127.0.0.1:7420");
  EXPECT_EQ(c.StorePath(), "data/deliverd.db");
  EXPECT_EQ(c.OutboxDir(), "data/outbox");
  EXPECT_EQ(c.ApiKeyFile(), "data/api-key");
}

TEST(Config, FlagsInBothFormsAndPositionalsReturned) {
  Config c;
  auto rest = ParseConfig({"--listen", "127.0.0.1:0", "--data-dir=/tmp/x",
                           "extra", "--max-recipients", "7"},
                          &c);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(c.listen, "127.0.0.1:0");
  EXPECT_EQ(c.StorePath(), "/tmp/x/deliverd.db");
  EXPECT_EQ(c.max_recipients, 7);
  EXPECT_EQ(*rest, std::vector<std::string>{"extra"});
}

TEST(Config, FileIsReadFirstAndFlagsOverrideIt) {
  std::string path = WriteTemp(
      "# comment\n\nlisten = 127.0.0.1:9999\nmax-recipients = 3  # inline\n"
      "store = sqlite:/tmp/other.db\n");
  Config c;
  auto rest = ParseConfig({"--max-recipients=9", "--config", path}, &c);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(c.listen, "127.0.0.1:9999");
  EXPECT_EQ(c.max_recipients, 9);
  EXPECT_EQ(c.StorePath(), "/tmp/other.db");
  unlink(path.c_str());
}

TEST(Config, ErrorsNameTheLineOrFlag) {
  std::string path = WriteTemp("listen = 127.0.0.1:1\nbogus = 1\n");
  Config c;
  auto rest = ParseConfig({"--config", path}, &c);
  ASSERT_FALSE(rest.ok());
  EXPECT_THAT(rest.status().message(), HasSubstr(":2: unknown setting"));
  unlink(path.c_str());

  path = WriteTemp("no equals sign\n");
  rest = ParseConfig({"--config", path}, &c);
  ASSERT_FALSE(rest.ok());
  EXPECT_THAT(rest.status().message(), HasSubstr(":1: expected"));
  unlink(path.c_str());

  rest = ParseConfig({"--max-recipients", "0"}, &c);
  ASSERT_FALSE(rest.ok());
  EXPECT_THAT(rest.status().message(), HasSubstr("--max-recipients"));
  rest = ParseConfig({"--store", "postgres://x"}, &c);
  EXPECT_FALSE(rest.ok());
  rest = ParseConfig({"--listen"}, &c);
  ASSERT_FALSE(rest.ok());
  EXPECT_THAT(rest.status().message(), HasSubstr("needs a value"));
  rest = ParseConfig({"--config", "/nonexistent/file"}, &c);
  EXPECT_FALSE(rest.ok());
}

TEST(Config, DispatcherWorkersMayBeZero) {
  Config c;
  ASSERT_TRUE(ParseConfig({"--dispatcher-workers", "0"}, &c).ok());
  EXPECT_EQ(c.dispatcher_workers, 0);
  EXPECT_FALSE(ParseConfig({"--dispatcher-workers", "-1"}, &c).ok());
  EXPECT_EQ(c.uncommitted_outcomes, 8);
  ASSERT_TRUE(ParseConfig({"--uncommitted-outcomes", "1"}, &c).ok());
  EXPECT_EQ(c.uncommitted_outcomes, 1);
  auto zero = ParseConfig({"--uncommitted-outcomes", "0"}, &c);
  EXPECT_FALSE(zero.ok());
  EXPECT_THAT(zero.status().message(), HasSubstr("uncommitted-outcomes"));
  EXPECT_TRUE(ParseConfig({"--shutdown-grace", "5s"}, &c).ok());
  EXPECT_EQ(c.shutdown_grace, absl::Seconds(5));
  EXPECT_FALSE(ParseConfig({"--shutdown-grace", "soon"}, &c).ok());
}

}  // namespace
}  // namespace deliverd

namespace deliverd {
namespace {

TEST(Config, MysqlStoreAndItsPasswordSources) {
  unsetenv("DELIVERD_STORE_PASSWORD");
  Config c;
  ASSERT_TRUE(
      ParseConfig({"--store", "mysql://mailer:fromuri@db:3307/deliverd"}, &c)
          .ok());
  EXPECT_TRUE(c.SharedStore());
  absl::StatusOr<store::MysqlConfig> mysql = c.MysqlStoreConfig();
  ASSERT_TRUE(mysql.ok()) << mysql.status();
  EXPECT_EQ(mysql->host, "db");
  EXPECT_EQ(mysql->port, 3307);
  EXPECT_EQ(mysql->password, "fromuri");

  // The environment overrides the URI...
  setenv("DELIVERD_STORE_PASSWORD", "fromenv", 1);
  mysql = c.MysqlStoreConfig();
  ASSERT_TRUE(mysql.ok());
  EXPECT_EQ(mysql->password, "fromenv");

  // ... and the file (first line only) overrides both.
  std::string path = WriteTemp("fromfile\r\nsecond line\n");
  ASSERT_TRUE(ParseConfig({"--store-password-file", path}, &c).ok());
  mysql = c.MysqlStoreConfig();
  ASSERT_TRUE(mysql.ok());
  EXPECT_EQ(mysql->password, "fromfile");
  unlink(path.c_str());
  unsetenv("DELIVERD_STORE_PASSWORD");

  // A missing password file is an error that names the flag.
  mysql = c.MysqlStoreConfig();
  ASSERT_FALSE(mysql.ok());
  EXPECT_THAT(mysql.status().message(), HasSubstr("--store-password-file"));

  Config sqlite;
  EXPECT_FALSE(sqlite.SharedStore());
}

TEST(Config, BadMysqlUriNamesThePartButNotThePassword) {
  Config c;
  absl::StatusOr<std::vector<std::string>> rest =
      ParseConfig({"--store", "mysql://u:hunter2@db:99999/x"}, &c);
  ASSERT_FALSE(rest.ok());
  EXPECT_EQ(rest.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(rest.status().message(), HasSubstr("--store"));
  EXPECT_THAT(rest.status().message(), HasSubstr("port"));
  EXPECT_THAT(std::string(rest.status().message()),
              ::testing::Not(HasSubstr("hunter2")));
}

TEST(Config, DeliveryLease) {
  Config c;
  EXPECT_EQ(c.delivery_lease, absl::Minutes(5));
  ASSERT_TRUE(ParseConfig({"--delivery-lease", "30s"}, &c).ok());
  EXPECT_EQ(c.delivery_lease, absl::Seconds(30));
  EXPECT_FALSE(ParseConfig({"--delivery-lease", "1s"}, &c).ok());
  EXPECT_FALSE(ParseConfig({"--delivery-lease", "later"}, &c).ok());
}

}  // namespace
}  // namespace deliverd
