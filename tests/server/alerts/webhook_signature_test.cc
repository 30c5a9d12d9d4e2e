#include "server/alerts/webhook_signature.h"

#include "gtest/gtest.h"

namespace deliverd::alerts {
namespace {

constexpr char kBody[] = R"j({"a":1})j";
// printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac s3cret
constexpr char kSignature[] =
    "v1=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940";
const absl::Time kSigned = absl::FromUnixSeconds(1700000000);
const absl::Duration kTolerance = absl::Minutes(5);

TEST(WebhookSignatureTest, SignsLikeOpenSslCli) {
  EXPECT_EQ(WebhookTimestamp(kSigned), "1700000000");
  EXPECT_EQ(SignWebhook("s3cret", "1700000000", kBody), kSignature);
}

TEST(WebhookSignatureTest, AcceptsGoodSignatureWithinTolerance) {
  EXPECT_TRUE(VerifyWebhookSignature("s3cret", "1700000000", kSignature, kBody,
                                     kSigned + absl::Seconds(30), kTolerance)
                  .ok());
  // Clock skew the other way, within tolerance.
  EXPECT_TRUE(VerifyWebhookSignature("s3cret", "1700000000", kSignature, kBody,
                                     kSigned - absl::Seconds(30), kTolerance)
                  .ok());
}

TEST(WebhookSignatureTest, AcceptsOneOfSeveralSignaturesAndUpperCase) {
  const std::string rotated = std::string("v1=") + std::string(64, '0') +
                              ", v2=whatever, " + kSignature;
  EXPECT_TRUE(VerifyWebhookSignature("s3cret", "1700000000", rotated, kBody,
                                     kSigned, kTolerance)
                  .ok());
  std::string upper = kSignature;
  for (size_t i = 3; i < upper.size(); ++i) upper[i] = std::toupper(upper[i]);
  EXPECT_TRUE(VerifyWebhookSignature("s3cret", "1700000000", upper, kBody,
                                     kSigned, kTolerance)
                  .ok());
}

TEST(WebhookSignatureTest, RejectsTamperedBody) {
  EXPECT_EQ(VerifyWebhookSignature("s3cret", "1700000000", kSignature,
                                   R"j({"a":2})j", kSigned, kTolerance)
                .code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(WebhookSignatureTest, RejectsWrongSecret) {
  EXPECT_EQ(VerifyWebhookSignature("other", "1700000000", kSignature, kBody,
                                   kSigned, kTolerance)
                .code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(WebhookSignatureTest, RejectsChangedTimestamp) {
  // The timestamp is inside the MAC: moving it forward to dodge the replay
  // check breaks the signature.
  EXPECT_EQ(VerifyWebhookSignature("s3cret", "1700000600", kSignature, kBody,
                                   kSigned + absl::Minutes(10), kTolerance)
                .code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(WebhookSignatureTest, RejectsOldTimestampAsReplay) {
  const absl::Status status =
      VerifyWebhookSignature("s3cret", "1700000000", kSignature, kBody,
                             kSigned + absl::Minutes(6), kTolerance);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(status.message().find("tolerance"), absl::string_view::npos);
  EXPECT_EQ(VerifyWebhookSignature("s3cret", "1700000000", kSignature, kBody,
                                   kSigned - absl::Minutes(6), kTolerance)
                .code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(WebhookSignatureTest, RejectsMalformedHeaders) {
  EXPECT_EQ(VerifyWebhookSignature("s3cret", "", kSignature, kBody, kSigned,
                                   kTolerance)
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyWebhookSignature("s3cret", "-1700000000", kSignature, kBody,
                                   kSigned, kTolerance)
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyWebhookSignature("s3cret", "1700000000", "sha256=abc", kBody,
                                   kSigned, kTolerance)
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyWebhookSignature("s3cret", "1700000000", "v1=", kBody,
                                   kSigned, kTolerance)
                .code(),
            absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace deliverd::alerts
