#include "client/suppression_requests.h"

#include <string>
#include <vector>

#include "client/commands.h"
#include "client/times.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

ParsedCommandLine MustParse(std::vector<std::string> args) {
  auto parsed = ParseCommandLine(args, CommandSpecs());
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : ParsedCommandLine();
}

TEST(ListSuppressionsTest, DefaultScopeIsEveryScope) {
  auto request =
      BuildListSuppressionsRequest(MustParse({"suppressions", "list"}));
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->scope(), "*");
  EXPECT_EQ(request->reason(), v1::SUPPRESSION_REASON_UNSPECIFIED);
}

TEST(ListSuppressionsTest, Filters) {
  auto request = BuildListSuppressionsRequest(
      MustParse({"suppressions", "list", "--reason", "complaint",
                 "--scope=", "--prefix", "bob", "--limit", "100"}));
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->reason(), v1::SUPPRESSION_REASON_COMPLAINT);
  EXPECT_EQ(request->scope(), "");  // Tenant-wide only.
  EXPECT_EQ(request->address_prefix(), "bob");
  EXPECT_EQ(request->page_size(), 100);
  EXPECT_FALSE(BuildListSuppressionsRequest(
                   MustParse({"suppressions", "list", "--reason", "spam"}))
                   .ok());
}

TEST(AddSuppressionTest, ReasonScopeExpiryNote) {
  const absl::Time now = absl::FromUnixSeconds(1714564800);
  auto request = BuildAddSuppressionRequest(
      MustParse({"suppressions", "add", "x@y", "--reason", "manual", "--scope",
                 "news", "--expires", "30d", "--note", "asked"}),
      now);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->address(), "x@y");
  EXPECT_EQ(request->reason(), v1::SUPPRESSION_REASON_MANUAL);
  EXPECT_EQ(request->scope(), "news");
  EXPECT_EQ(FromTimestamp(request->expire_time()), now + absl::Hours(720));
  EXPECT_EQ(request->note(), "asked");
}

TEST(AddSuppressionTest, Errors) {
  const absl::Time now = absl::FromUnixSeconds(1714564800);
  auto bad_reason = BuildAddSuppressionRequest(
      MustParse({"suppressions", "add", "x@y", "--reason", "bounce"}), now);
  ASSERT_FALSE(bad_reason.ok());
  EXPECT_THAT(bad_reason.status().message(), HasSubstr("hard_bounce"));
  EXPECT_FALSE(BuildAddSuppressionRequest(
                   MustParse({"suppressions", "add", "x@y", "--reason",
                              "manual", "--expires", "2020-01-01"}),
                   now)
                   .ok());
  EXPECT_FALSE(BuildAddSuppressionRequest(
                   MustParse({"suppressions", "add", "x@y", "--reason",
                              "manual", "--expires", "later"}),
                   now)
                   .ok());
}

TEST(RemoveSuppressionTest, NeedsANonBlankReason) {
  auto request = BuildRemoveSuppressionRequest(
      MustParse({"suppressions", "remove", "x@y", "--reason", "fixed",
                 "--scope", "news"}));
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->reason(), "fixed");
  EXPECT_EQ(request->scope(), "news");
  EXPECT_FALSE(
      BuildRemoveSuppressionRequest(
          MustParse({"suppressions", "remove", "x@y", "--reason", " "}))
          .ok());
}

TEST(CheckSuppressionTest, AddressesAndStream) {
  const v1::CheckSuppressionRequest request = BuildCheckSuppressionRequest(
      MustParse({"suppressions", "check", "a@x", "b@x", "--stream", "s"}));
  EXPECT_THAT(request.addresses(), ElementsAre("a@x", "b@x"));
  EXPECT_EQ(request.stream(), "s");
}

}  // namespace
}  // namespace deliverd::client
