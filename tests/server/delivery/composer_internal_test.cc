// The composer's two body writers must agree: every body PlainBody writes
// without GMime is compared byte for byte with GMime's serialisation of the
// same part, and every body that needs encoding or structure is left to
// GMime.

#include "server/delivery/composer_internal.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/delivery/composer.h"

namespace deliverd::delivery::internal {
namespace {

ComposeInput WithText(std::string text) {
  ComposeInput in;
  in.text_body = std::move(text);
  return in;
}

ComposeInput WithHtml(std::string html) {
  ComposeInput in;
  in.html_body = std::move(html);
  return in;
}

std::vector<std::string> PlainTexts() {
  return {
      "x",
      "Hello\nworld\n",
      "no final line break",
      "CRLF\r\nline breaks\r\n",
      "a lone\rCR and\r\n\r\nblank lines\n\n\n",
      "\n",
      "\n\n\nafter blank lines",
      ".leading dot\n..two\n.\n",
      "From the start of a line\n>quoted\n",
      "trailing spaces   \ntabs\there\t\n",
      "  leading spaces\n",
      std::string(998, 'a') + "\n" + std::string(998, 'b'),
      [] {
        std::string lines;
        for (int i = 0; i < 40; ++i) lines += std::string(99, 'z') + "\n";
        return lines;
      }(),
      "--boundary-like line\n--\n",
      "=?utf-8?q?looks_encoded?= and = signs =3D\n",
      "Content-Type: text/html\n\nnot a header\n",
      std::string(3000, '\n'),
  };
}

TEST(ComposerBodiesTest, PlainBodyMatchesGMimeForEveryPlainTextPart) {
  for (const std::string& text : PlainTexts()) {
    for (const ComposeInput& in : {WithText(text), WithHtml(text)}) {
      std::optional<std::string> plain = PlainBody(in);
      ASSERT_TRUE(plain.has_value()) << "text: " << text.substr(0, 60);
      absl::StatusOr<std::string> gmime = GMimeBody(in);
      ASSERT_TRUE(gmime.ok()) << gmime.status();
      EXPECT_EQ(*plain, *gmime) << "text: " << text.substr(0, 60);
    }
  }
}

TEST(ComposerBodiesTest, PlainBodyNamesTheSubtypeAndSevenBit) {
  std::optional<std::string> text = PlainBody(WithText("hi"));
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text,
            "Content-Type: text/plain; charset=us-ascii\r\n"
            "Content-Transfer-Encoding: 7bit\r\n\r\nhi\r\n");
  std::optional<std::string> html = PlainBody(WithHtml("<p>hi</p>"));
  ASSERT_TRUE(html.has_value());
  EXPECT_EQ(*html,
            "Content-Type: text/html; charset=us-ascii\r\n"
            "Content-Transfer-Encoding: 7bit\r\n\r\n<p>hi</p>\r\n");
}

TEST(ComposerBodiesTest, BodiesThatNeedEncodingOrStructureAreLeftToGMime) {
  // Not ASCII: quoted-printable, charset utf-8.
  EXPECT_FALSE(PlainBody(WithText("caf\xc3\xa9\n")).has_value());
  // A line over 998 octets: quoted-printable.
  EXPECT_FALSE(PlainBody(WithText(std::string(999, 'a'))).has_value());
  EXPECT_FALSE(
      PlainBody(WithHtml("ok\n" + std::string(1200, 'b') + "\n")).has_value());
  // Two alternatives: multipart/alternative.
  ComposeInput both = WithText("plain");
  both.html_body = "<p>html</p>";
  EXPECT_FALSE(PlainBody(both).has_value());
  // Attachments: multipart/mixed.
  ComposeInput attached = WithText("see attached");
  attached.attachments.push_back({"a.txt", "text/plain", "data", ""});
  EXPECT_FALSE(PlainBody(attached).has_value());
  // No body at all (the composer refuses it before this point).
  EXPECT_FALSE(PlainBody(ComposeInput()).has_value());
}

TEST(ComposerBodiesTest, ComposedMessageEndsWithThePlainBody) {
  ComposeInput in = WithText("Hello\nworld");
  in.from = {"sender@example.com", "Sender"};
  in.to = {{"rcpt@example.org", ""}};
  in.subject = "Hi";
  in.message_id = "m_1@deliverd.local";
  in.deliverd_id = "m_1";
  in.date = absl::FromUnixSeconds(1790000000);
  absl::StatusOr<std::string> message = ComposeMessage(in);
  ASSERT_TRUE(message.ok()) << message.status();
  absl::StatusOr<std::string> gmime = GMimeBody(in);
  ASSERT_TRUE(gmime.ok()) << gmime.status();
  ASSERT_GE(message->size(), gmime->size());
  EXPECT_EQ(message->substr(message->size() - gmime->size()), *gmime);
  EXPECT_NE(message->find("X-Deliverd-Id: m_1\r\nContent-Type: text/plain"),
            std::string::npos);
}

}  // namespace
}  // namespace deliverd::delivery::internal
