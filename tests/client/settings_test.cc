#include "client/settings.h"

#include <map>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::client {
namespace {

using ::testing::HasSubstr;

// An environment with the given variables and files; paths not listed are
// missing, except those in `unreadable`.
struct FakeWorld {
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> files;
  std::set<std::string> unreadable;

  Environment AsEnvironment() const {
    Environment e;
    e.get_env = [this](absl::string_view name) -> std::optional<std::string> {
      auto it = env.find(std::string(name));
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    e.read_file =
        [this](const std::string& path) -> absl::StatusOr<std::string> {
      if (unreadable.count(path)) {
        return absl::PermissionDeniedError(path + ": Permission denied");
      }
      auto it = files.find(path);
      if (it == files.end()) {
        return absl::NotFoundError(path + ": No such file or directory");
      }
      return it->second;
    };
    return e;
  }
};

TEST(SettingsTest, Defaults) {
  FakeWorld world;
  auto settings = ResolveConnectionSettings({}, world.AsEnvironment());
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->server, "127.0.0.1:7420");
  EXPECT_EQ(settings->api_key, "");
  EXPECT_EQ(settings->api_key_source, "");
  EXPECT_EQ(settings->timeout, absl::Seconds(30));
  EXPECT_FALSE(settings->timeout_explicit);
}

TEST(SettingsTest, ServerFlagBeatsEnvironment) {
  FakeWorld world;
  world.env["DELIVERD_SERVER"] = "env:1";
  auto from_env = ResolveConnectionSettings({}, world.AsEnvironment());
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(from_env->server, "env:1");
  GlobalOptions global;
  global.server = "flag:2";
  auto from_flag = ResolveConnectionSettings(global, world.AsEnvironment());
  ASSERT_TRUE(from_flag.ok());
  EXPECT_EQ(from_flag->server, "flag:2");
}

TEST(SettingsTest, EmptyEnvironmentVariablesCountAsUnset) {
  FakeWorld world;
  world.env["DELIVERD_SERVER"] = "";
  world.env["DELIVERD_API_KEY"] = "";
  world.files["data/api-key"] = "filekey\n";
  auto settings = ResolveConnectionSettings({}, world.AsEnvironment());
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->server, "127.0.0.1:7420");
  EXPECT_EQ(settings->api_key, "filekey");
}

TEST(SettingsTest, KeyPrecedence) {
  FakeWorld world;
  world.files["data/api-key"] = "default-file\n";
  world.files["/k"] = "  flag-file \n";
  world.env["DELIVERD_API_KEY"] = "env";

  GlobalOptions flag;
  flag.api_key = "flag";
  EXPECT_EQ(ResolveConnectionSettings(flag, world.AsEnvironment())->api_key,
            "flag");

  GlobalOptions file_flag;
  file_flag.api_key_file = "/k";
  auto from_file_flag =
      ResolveConnectionSettings(file_flag, world.AsEnvironment());
  ASSERT_TRUE(from_file_flag.ok());
  EXPECT_EQ(from_file_flag->api_key, "flag-file");
  EXPECT_EQ(from_file_flag->api_key_source, "--api-key-file /k");

  auto from_env = ResolveConnectionSettings({}, world.AsEnvironment());
  EXPECT_EQ(from_env->api_key, "env");
  EXPECT_EQ(from_env->api_key_source, "DELIVERD_API_KEY");

  world.env.clear();
  auto from_default = ResolveConnectionSettings({}, world.AsEnvironment());
  EXPECT_EQ(from_default->api_key, "default-file");
  EXPECT_EQ(from_default->api_key_source, "./data/api-key");
}

TEST(SettingsTest, BothKeyFlagsIsAnError) {
  FakeWorld world;
  world.files["/k"] = "k";
  GlobalOptions global;
  global.api_key = "a";
  global.api_key_file = "/k";
  EXPECT_FALSE(ResolveConnectionSettings(global, world.AsEnvironment()).ok());
}

TEST(SettingsTest, UnreadableKeyFilesAreErrorsNotFallbacks) {
  FakeWorld world;
  world.env["DELIVERD_API_KEY"] = "env";
  GlobalOptions global;
  global.api_key_file = "/missing";
  auto missing = ResolveConnectionSettings(global, world.AsEnvironment());
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("/missing"));

  world.env.clear();
  world.unreadable.insert("data/api-key");
  auto unreadable = ResolveConnectionSettings({}, world.AsEnvironment());
  ASSERT_FALSE(unreadable.ok());
  EXPECT_THAT(unreadable.status().message(), HasSubstr("./data/api-key"));
}

TEST(SettingsTest, BadKeysAreRejected) {
  FakeWorld world;
  world.files["data/api-key"] = " \n";
  auto empty = ResolveConnectionSettings({}, world.AsEnvironment());
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.status().message(), HasSubstr("empty"));

  GlobalOptions global;
  global.api_key = "two words";
  EXPECT_FALSE(ResolveConnectionSettings(global, world.AsEnvironment()).ok());
  global.api_key = "caf\xc3\xa9";
  EXPECT_FALSE(ResolveConnectionSettings(global, world.AsEnvironment()).ok());
  global.api_key = "";
  EXPECT_FALSE(ResolveConnectionSettings(global, world.AsEnvironment()).ok());
}

TEST(SettingsTest, TimeoutAndDns) {
  FakeWorld world;
  GlobalOptions global;
  global.timeout = absl::Seconds(5);
  global.dns = "127.0.0.1:5353";
  auto settings = ResolveConnectionSettings(global, world.AsEnvironment());
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->timeout, absl::Seconds(5));
  EXPECT_TRUE(settings->timeout_explicit);
  EXPECT_EQ(settings->dns, "127.0.0.1:5353");
}

}  // namespace
}  // namespace deliverd::client
