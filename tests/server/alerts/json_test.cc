#include "server/alerts/json.h"

#include "gtest/gtest.h"
#include "server/alerts/truncate.h"

namespace deliverd::alerts {
namespace {

TEST(JsonQuoteTest, EscapesQuotesBackslashAndControls) {
  EXPECT_EQ(JsonQuote("plain"), R"j("plain")j");
  EXPECT_EQ(JsonQuote("a\"b\\c"), R"j("a\"b\\c")j");
  EXPECT_EQ(JsonQuote("l1\nl2\r\t\b\f"), R"j("l1\nl2\r\t\b\f")j");
  EXPECT_EQ(JsonQuote(absl::string_view("\x00\x01\x1f\x7f", 4)),
            R"j("\u0000\u0001\u001f\u007f")j");
  EXPECT_EQ(JsonQuote("</script>"), R"j("</script>")j");
}

TEST(JsonQuoteTest, PassesUtf8AndEscapesLineSeparators) {
  EXPECT_EQ(JsonQuote("caf\xC3\xA9 \xF0\x9F\x93\xA7"),
            "\"caf\xC3\xA9 \xF0\x9F\x93\xA7\"");
  EXPECT_EQ(JsonQuote("a\xE2\x80\xA8"
                      "b\xE2\x80\xA9"),
            R"j("a\u2028b\u2029")j");
}

TEST(JsonQuoteTest, ReplacesInvalidUtf8) {
  const std::string kFffd = "\xEF\xBF\xBD";
  EXPECT_EQ(JsonQuote("a\xFFz"), "\"a" + kFffd + "z\"");  // bad byte
  EXPECT_EQ(JsonQuote("a\x80z"), "\"a" + kFffd + "z\"");  // stray cont.
  EXPECT_EQ(JsonQuote("a\xC0\xAFz"),
            "\"a" + kFffd + kFffd + "z\"");  // overlong
  EXPECT_EQ(JsonQuote("a\xED\xA0\x80z"),     // surrogate
            "\"a" + kFffd + kFffd + kFffd + "z\"");
  EXPECT_EQ(JsonQuote("a\xE2\x82"), "\"a" + kFffd + "\"");  // truncated
  EXPECT_EQ(JsonQuote("\xF4\x90\x80\x80"),                  // > U+10FFFF
            "\"" + kFffd + kFffd + kFffd + kFffd + "\"");
  EXPECT_EQ(SanitizeUtf8("ok \xC3\xA9"), "ok \xC3\xA9");
}

TEST(JsonTest, SerializesCompactInOrder) {
  Json json = Json::Object();
  json.Set("z", Json::Int(-3))
      .Set("a", Json::String("x\"y"))
      .Set("list", std::move(Json::Array()
                                 .Push(Json::Bool(true))
                                 .Push(Json::Null())
                                 .Push(Json::Object())
                                 .Push(Json::Array())))
      .Set("k\n", Json::Bool(false));
  EXPECT_EQ(json.Serialize(),
            R"j({"z":-3,"a":"x\"y","list":[true,null,{},[]],"k\n":false})j");
}

TEST(TruncateTest, KeepsShortTextAndCutsOnCodePointBoundary) {
  EXPECT_EQ(TruncateUtf8("short", 10), "short");
  const std::string long_text(100, 'x');
  const std::string cut = TruncateUtf8(long_text, 30);
  EXPECT_EQ(cut.size(), 30u);
  EXPECT_EQ(cut, std::string(30 - kTruncationMarker.size(), 'x') +
                     std::string(kTruncationMarker));
  // "é" is 2 bytes: a cut inside it backs up to before it.
  std::string accents;
  for (int i = 0; i < 40; ++i) accents += "\xC3\xA9";
  const std::string cut2 = TruncateUtf8(accents, 20);  // 5 bytes of text
  EXPECT_EQ(cut2, "\xC3\xA9\xC3\xA9" + std::string(kTruncationMarker));
  EXPECT_EQ(SanitizeUtf8(cut2), cut2);
  EXPECT_EQ(TruncateUtf8(long_text, 3), " [.");
}

}  // namespace
}  // namespace deliverd::alerts
