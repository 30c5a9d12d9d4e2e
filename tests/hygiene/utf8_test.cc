#include "hygiene/utf8.h"

#include "gtest/gtest.h"

namespace deliverd::hygiene {
namespace {

std::string Encode(char32_t cp) {
  std::string out;
  AppendUtf8(cp, &out);
  return out;
}

TEST(AppendUtf8, EncodesEachLength) {
  EXPECT_EQ(Encode(U'A'), "A");
  EXPECT_EQ(Encode(0xE4), "\xC3\xA4");            // ä
  EXPECT_EQ(Encode(0x20AC), "\xE2\x82\xAC");      // €
  EXPECT_EQ(Encode(0x1F600), "\xF0\x9F\x98\x80");  // emoji
  EXPECT_EQ(Encode(0x7FF), "\xDF\xBF");
  EXPECT_EQ(Encode(0xFFFF), "\xEF\xBF\xBF");
}

TEST(AppendUtf8, KeepsLoneSurrogatesForCorpusReaders) {
  EXPECT_EQ(Encode(0xD800), "\xED\xA0\x80");
}

}  // namespace
}  // namespace deliverd::hygiene
