#include "server/delivery/return_path.h"

#include "gtest/gtest.h"

namespace deliverd::delivery {
namespace {

constexpr char kId[] = "m_01m8bkqck3vg0061h4vf49y71a";

TEST(ReturnPathTest, VerpUsesTheSendersDomainByDefault) {
  EXPECT_EQ(ReturnPathFor({}, "news@shop.example", kId),
            std::string("bounce+") + kId + "@shop.example");
}

TEST(ReturnPathTest, ConfiguredDomainWins) {
  ReturnPathOptions o;
  o.domain = "bounces.example.net";
  EXPECT_EQ(ReturnPathFor(o, "news@shop.example", kId),
            std::string("bounce+") + kId + "@bounces.example.net");
}

TEST(ReturnPathTest, WithoutVerpTheFromAddressIsTheSender) {
  ReturnPathOptions o;
  o.verp = false;
  EXPECT_EQ(ReturnPathFor(o, "news@shop.example", kId), "news@shop.example");
}

TEST(ReturnPathTest, RoundTripsAndToleratesCaseFolding) {
  std::string address = ReturnPathFor({}, "a@b.example", kId);
  EXPECT_EQ(MessageIdFromReturnPath(address), kId);
  EXPECT_EQ(MessageIdFromReturnPath("BOUNCE+M_01M8BKQCK3VG0061H4VF49Y71A@B.EXAMPLE"),
            kId);
}

TEST(ReturnPathTest, ParseMessageIdAcceptsOnlyOurShape) {
  EXPECT_EQ(ParseMessageId(kId), kId);
  EXPECT_EQ(ParseMessageId("M_01M8BKQCK3VG0061H4VF49Y71A"), kId);
  EXPECT_EQ(ParseMessageId(""), std::nullopt);
  EXPECT_EQ(ParseMessageId("m_01m8bkqck3vg0061h4vf49y71"), std::nullopt);
  EXPECT_EQ(ParseMessageId("m_01m8bkqck3vg0061h4vf49y71u"), std::nullopt);
  EXPECT_EQ(ParseMessageId("x_01m8bkqck3vg0061h4vf49y71a"), std::nullopt);
  EXPECT_EQ(ParseMessageId("m_01m8bkqck3vg0061h4vf49y7\r\n"), std::nullopt);
}

TEST(ReturnPathTest, RejectsAddressesThatAreNotOurs) {
  EXPECT_EQ(MessageIdFromReturnPath("someone@b.example"), std::nullopt);
  EXPECT_EQ(MessageIdFromReturnPath("bounce+m_short@b.example"), std::nullopt);
  // 'u' is not in our alphabet.
  EXPECT_EQ(MessageIdFromReturnPath("bounce+m_01m8bkqck3vg0061h4vf49y71u@b"),
            std::nullopt);
  EXPECT_EQ(MessageIdFromReturnPath("bounce+m_01m8bkqck3vg0061h4vf49y71a"),
            std::nullopt);
  EXPECT_EQ(MessageIdFromReturnPath(""), std::nullopt);
}

}  // namespace
}  // namespace deliverd::delivery
