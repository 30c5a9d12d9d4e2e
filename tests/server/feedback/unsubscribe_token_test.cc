#include "server/feedback/unsubscribe_token.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace deliverd::feedback {
namespace {

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";
constexpr char kId[] = "m_01hxxxxxxxxxxxxxxxxxxxxxx1";
constexpr char kOtherId[] = "m_01hxxxxxxxxxxxxxxxxxxxxxx2";

TEST(UnsubscribeTokenTest, RoundTripsAndFitsInALocalPart) {
  std::string token = MakeUnsubscribeToken(kSecret, kId);
  EXPECT_TRUE(absl::StartsWith(token, absl::StrCat(kId, ".")));
  absl::StatusOr<std::string> id = VerifyUnsubscribeToken(kSecret, token);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, kId);
  std::string mailbox = UnsubscribeMailbox(token, "news.example");
  EXPECT_LE(mailbox.find('@'), 64u);
  // MTAs that fold local parts to lower case do not break it.
  EXPECT_TRUE(VerifyUnsubscribeToken(kSecret, absl::AsciiStrToUpper(token)).ok());
}

TEST(UnsubscribeTokenTest, ForgeriesAreRefused) {
  std::string token = MakeUnsubscribeToken(kSecret, kId);
  std::string tampered = token;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  EXPECT_FALSE(VerifyUnsubscribeToken(kSecret, tampered).ok());
  // Another message's id with this message's signature.
  std::string swapped =
      absl::StrCat(kOtherId, token.substr(token.find('.')));
  EXPECT_FALSE(VerifyUnsubscribeToken(kSecret, swapped).ok());
  // Another server's secret.
  EXPECT_FALSE(VerifyUnsubscribeToken("another secret of 32+ characters!!",
                                      token)
                   .ok());
  for (const char* junk : {"", ".", "m_x.abc", "no-dot", "m_01hxxxxxxxxxxxxxxxxxxxxxx1.",
                           "m_01hxxxxxxxxxxxxxxxxxxxxxx1.zz"}) {
    EXPECT_FALSE(VerifyUnsubscribeToken(kSecret, junk).ok()) << junk;
  }
}

TEST(UnsubscribeTokenTest, FindsTheTokenInAMailbox) {
  EXPECT_EQ(TokenFromUnsubscribeMailbox("<UNSUB+abc.def@Example.org>"),
            "abc.def");
  EXPECT_EQ(TokenFromUnsubscribeMailbox("bounce+m_x@example.org"),
            std::nullopt);
  EXPECT_EQ(TokenFromUnsubscribeMailbox("unsub+@example.org"), std::nullopt);
  EXPECT_EQ(TokenFromUnsubscribeMailbox("unsub+abc"), std::nullopt);
}

TEST(UnsubscribeTokenTest, FindsTheTokenInHeadersOnly) {
  std::string token = MakeUnsubscribeToken(kSecret, kId);
  std::string folded = absl::StrCat(
      "From: reader@example.org\r\nTo: \"Lists\" <lists@news.example>,\r\n"
      " <unsub+", token, "@news.example>\r\nSubject: unsubscribe\r\n\r\n"
      "To: unsub+other.token@news.example\r\n");
  EXPECT_EQ(UnsubscribeTokenInHeaders(folded), token);
  std::string delivered = absl::StrCat(
      "Delivered-To: unsub+", token, "@news.example\r\nTo: lists@news.example\r\n\r\nbody");
  EXPECT_EQ(UnsubscribeTokenInHeaders(delivered), token);
  EXPECT_EQ(UnsubscribeTokenInHeaders(
                "To: a@example.org\n\nTo: unsub+x.y@example.org\n"),
            std::nullopt);
  EXPECT_EQ(UnsubscribeTokenInHeaders(""), std::nullopt);
}

TEST(UnsubscribeTokenTest, HeadersWithAndWithoutOneClick) {
  ListUnsubscribeConfig config;
  config.secret = kSecret;
  auto mailto_only = ListUnsubscribeHeaders(config, kId, "shop.example");
  ASSERT_EQ(mailto_only.size(), 1u);
  EXPECT_EQ(mailto_only[0].first, "List-Unsubscribe");
  std::string token = MakeUnsubscribeToken(kSecret, kId);
  EXPECT_EQ(mailto_only[0].second,
            absl::StrCat("<mailto:unsub+", token,
                         "@shop.example?subject=unsubscribe>"));
  config.https_url = "https://lists.example/u?src=mail";
  config.mailto_domain = "bounces.example";
  auto both = ListUnsubscribeHeaders(config, kId, "shop.example");
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].second,
            absl::StrCat("<mailto:unsub+", token,
                         "@bounces.example?subject=unsubscribe>, "
                         "<https://lists.example/u?src=mail&token=",
                         token, ">"));
  EXPECT_EQ(both[1].first, "List-Unsubscribe-Post");
  EXPECT_EQ(both[1].second, "List-Unsubscribe=One-Click");
}

TEST(UnsubscribeTokenTest, SecretIsCreatedPrivatelyOnceAndReloaded) {
  std::string dir = absl::StrCat(::testing::TempDir(), "/unsub-secret-XXXXXX");
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  std::string path = dir + "/sub/secret";
  absl::StatusOr<std::string> first = LoadOrCreateUnsubscribeSecret(path);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->size(), 64u);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  absl::StatusOr<std::string> again = LoadOrCreateUnsubscribeSecret(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);
  std::ofstream(dir + "/short") << "too short\n";
  EXPECT_FALSE(LoadOrCreateUnsubscribeSecret(dir + "/short").ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace deliverd::feedback
