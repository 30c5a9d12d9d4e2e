#include "client/health_codec.h"

#include <string>

#include "gtest/gtest.h"

namespace deliverd::client {
namespace {

TEST(HealthCodecTest, EncodesRequest) {
  EXPECT_EQ(EncodeHealthCheckRequest(""), "");
  EXPECT_EQ(EncodeHealthCheckRequest("deliverd.v1.Messages"),
            std::string("\x0a\x14") + "deliverd.v1.Messages");
  // Lengths of 128 and more take a two-byte varint.
  const std::string long_name(200, 'x');
  EXPECT_EQ(EncodeHealthCheckRequest(long_name).substr(0, 3),
            std::string("\x0a\xc8\x01"));
}

TEST(HealthCodecTest, DecodesStatus) {
  EXPECT_EQ(*DecodeHealthCheckResponse(std::string("\x08\x01", 2)), 1);
  EXPECT_EQ(*DecodeHealthCheckResponse(std::string("\x08\x02", 2)), 2);
  EXPECT_EQ(*DecodeHealthCheckResponse(""), 0);  // proto3 default: UNKNOWN.
}

TEST(HealthCodecTest, SkipsUnknownFields) {
  // Field 2 (string "ab") before field 1, and field 3 (varint) after it.
  const std::string bytes(
      "\x12\x02"
      "ab"
      "\x08\x01"
      "\x18\x05",
      8);
  EXPECT_EQ(*DecodeHealthCheckResponse(bytes), 1);
}

TEST(HealthCodecTest, RejectsMalformedInput) {
  EXPECT_FALSE(DecodeHealthCheckResponse(std::string("\x08", 1)).ok());
  EXPECT_FALSE(DecodeHealthCheckResponse(std::string("\x12\x05"
                                                     "ab",
                                                     4))
                   .ok());
  EXPECT_FALSE(DecodeHealthCheckResponse(std::string("\x00\x01", 2)).ok());
}

TEST(HealthCodecTest, Names) {
  EXPECT_EQ(HealthStatusName(1), "SERVING");
  EXPECT_EQ(HealthStatusName(2), "NOT_SERVING");
  EXPECT_EQ(HealthStatusName(0), "UNKNOWN");
  EXPECT_EQ(HealthStatusName(3), "SERVICE_UNKNOWN");
  EXPECT_EQ(HealthStatusName(9), "UNKNOWN(9)");
}

}  // namespace
}  // namespace deliverd::client
