#include "auth_checks/spf/spf_inputs.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::auth_checks::spf {
namespace {

using ::testing::StartsWith;

std::string Error(std::string_view ip, std::string_view from,
                  std::string_view helo) {
  absl::Status s = ValidateSpfInputs(ip, from, helo);
  if (s.ok()) return "OK";
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  return std::string(s.message());
}

TEST(SpfInputs, AcceptsOrdinaryChecks) {
  EXPECT_EQ(Error("192.0.2.1", "user@example.com", "mx.example.com"), "OK");
  EXPECT_EQ(Error("2001:db8::1", "user@example.com", ""), "OK");
  EXPECT_EQ(Error("192.0.2.1", "", "mx.example.com"), "OK");
}

TEST(SpfInputs, NamesTheBadField) {
  EXPECT_THAT(Error("", "u@example.com", "h"), StartsWith("ip: required"));
  EXPECT_THAT(Error("999.1.1.1", "u@example.com", "h"), StartsWith("ip: "));
  EXPECT_THAT(Error("example.com", "u@example.com", "h"), StartsWith("ip: "));
  EXPECT_THAT(Error("192.0.2.1", "no-at-sign", "h"), StartsWith("mail_from: "));
  EXPECT_THAT(Error("192.0.2.1", "u@", "h"), StartsWith("mail_from: "));
  EXPECT_THAT(Error("192.0.2.1", "u@a..b", "h"), StartsWith("mail_from: "));
  EXPECT_THAT(Error("192.0.2.1", "u@example.com\r\n", "h"),
              StartsWith("mail_from: "));
  EXPECT_THAT(Error("192.0.2.1", "", ""), StartsWith("helo: required"));
  EXPECT_THAT(Error("192.0.2.1", "", "bad name"), StartsWith("helo: "));
  EXPECT_THAT(Error("192.0.2.1", "",
                    std::string(64, 'a') + ".example.com"),
              StartsWith("helo: "));
}

}  // namespace
}  // namespace deliverd::auth_checks::spf
