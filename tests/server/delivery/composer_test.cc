// Tests for the message composer. Every message is parsed back with GMime's
// own parser, so the assertions are about what a receiver sees, not about the
// composer's internals; the wire-format rules (CRLF, 998 octets) are checked
// on the raw bytes.

#include "server/delivery/composer.h"

#include <gmime/gmime.h>

#include <functional>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::delivery {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// ---------------------------------------------------------------------------
// Helpers: parse with GMime and look at the result.

struct GObjectUnref {
  void operator()(void* object) const {
    if (object != nullptr) g_object_unref(object);
  }
};
template <typename T>
using GObjectPtr = std::unique_ptr<T, GObjectUnref>;

void InitGMime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

GObjectPtr<GMimeMessage> Parse(const std::string& wire) {
  InitGMime();
  GObjectPtr<GMimeStream> stream(
      g_mime_stream_mem_new_with_buffer(wire.data(), wire.size()));
  GObjectPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  return GObjectPtr<GMimeMessage>(
      g_mime_parser_construct_message(parser.get(), nullptr));
}

std::string MimeType(GMimeObject* object) {
  char* type =
      g_mime_content_type_get_mime_type(g_mime_object_get_content_type(object));
  std::string result(type);
  g_free(type);
  return result;
}

GMimeObject* Root(GMimeMessage* message) {
  return g_mime_message_get_mime_part(message);
}

int ChildCount(GMimeObject* multipart) {
  return g_mime_multipart_get_count(GMIME_MULTIPART(multipart));
}

GMimeObject* Child(GMimeObject* multipart, int index) {
  return g_mime_multipart_get_part(GMIME_MULTIPART(multipart), index);
}

// The part's content after undoing its transfer encoding.
std::string Decoded(GMimeObject* object) {
  GMimeDataWrapper* content = g_mime_part_get_content(GMIME_PART(object));
  GObjectPtr<GMimeStream> out(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(content, out.get());
  GByteArray* bytes =
      g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

GMimeContentEncoding Encoding(GMimeObject* object) {
  return g_mime_part_get_content_encoding(GMIME_PART(object));
}

std::string Charset(GMimeObject* object) {
  const char* charset =
      g_mime_object_get_content_type_parameter(object, "charset");
  return charset == nullptr ? "" : absl::AsciiStrToLower(charset);
}

std::string HeaderBlock(const std::string& wire) {
  return wire.substr(0, wire.find("\r\n\r\n") + 2);
}

std::vector<std::string> HeaderLines(const std::string& wire) {
  std::vector<std::string> lines =
      absl::StrSplit(HeaderBlock(wire), "\r\n", absl::SkipEmpty());
  return lines;
}

// Top-level fields as (name, unfolded value). Unfolding removes only the
// CRLFs (RFC 5322 2.2.3); the space after the colon is dropped.
std::vector<std::pair<std::string, std::string>> Fields(
    const std::string& wire) {
  std::vector<std::pair<std::string, std::string>> fields;
  for (const std::string& line : HeaderLines(wire)) {
    if (line[0] == ' ' || line[0] == '\t') {
      fields.back().second += line;
      continue;
    }
    const size_t colon = line.find(':');
    std::string value = line.substr(colon + 1);
    fields.push_back({line.substr(0, colon), value});
  }
  for (auto& [name, value] : fields) {
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
  }
  return fields;
}

std::vector<std::string> FieldValues(const std::string& wire,
                                     absl::string_view name) {
  std::vector<std::string> values;
  for (const auto& [n, v] : Fields(wire)) {
    if (absl::EqualsIgnoreCase(n, name)) values.push_back(v);
  }
  return values;
}

// The promises of composer.h about the raw bytes.
void ExpectWireFormat(const std::string& wire) {
  ASSERT_FALSE(wire.empty());
  EXPECT_TRUE(absl::EndsWith(wire, "\r\n"));
  size_t line = 0;
  size_t longest = 0;
  for (size_t i = 0; i < wire.size(); ++i) {
    if (wire[i] == '\n') {
      ASSERT_TRUE(i > 0 && wire[i - 1] == '\r') << "bare LF at offset " << i;
      longest = std::max(longest, line);
      line = 0;
    } else if (wire[i] == '\r') {
      ASSERT_TRUE(i + 1 < wire.size() && wire[i + 1] == '\n')
          << "bare CR at offset " << i;
    } else {
      ASSERT_NE(wire[i], '\0') << "NUL at offset " << i;
      ++line;
    }
  }
  EXPECT_LE(longest, 998u);
}

// Every RFC 2047 encoded-word in the header block, for length checks.
std::vector<std::string> EncodedWords(const std::string& wire) {
  static const std::regex kWord(R"(=\?[^?\s]+\?[QqBb]\?[^?\s]*\?=)");
  const std::string header = HeaderBlock(wire);
  std::vector<std::string> words;
  for (auto it = std::sregex_iterator(header.begin(), header.end(), kWord);
       it != std::sregex_iterator(); ++it) {
    words.push_back(it->str());
  }
  return words;
}

std::string AddressName(InternetAddressList* list, int index) {
  const char* name =
      internet_address_get_name(internet_address_list_get_address(list, index));
  return name == nullptr ? "" : name;
}

std::string AddressAddr(InternetAddressList* list, int index) {
  return internet_address_mailbox_get_addr(
      INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(list, index)));
}

ComposeInput BaseInput() {
  ComposeInput in;
  in.from = {"sender@example.com", "Example Sender"};
  in.to = {{"rcpt@example.net", "Rcpt"}};
  in.subject = "Hello";
  in.text_body = "Hi there,\nthis is the text.\n";
  in.message_id = "01hxq5v3k2@deliverd.local";
  in.date = absl::FromUnixSeconds(1700000000);  // Tue, 14 Nov 2023 22:13:20 UTC
  in.deliverd_id = "01HXQ5V3K2ZZ";
  return in;
}

std::string MustCompose(const ComposeInput& in) {
  absl::StatusOr<std::string> wire = ComposeMessage(in);
  EXPECT_TRUE(wire.ok()) << wire.status();
  return wire.ok() ? *wire : std::string();
}

// What a receiver decodes from a text part: CRLF line breaks, final break.
std::string Canonical(absl::string_view lf_text) {
  std::string out = absl::StrReplaceAll(lf_text, {{"\n", "\r\n"}});
  if (!absl::EndsWith(out, "\r\n")) out += "\r\n";
  return out;
}

OutgoingAttachment Pdf() {
  return {"report.pdf", "application/pdf",
          std::string("%PDF-1.4\0\x01\x02", 11), ""};
}

OutgoingAttachment Logo() {
  return {"logo.png", "image/png", std::string("\x89PNG\r\n\x1a\n\0\0", 10),
          "logo@example.com"};
}

// ---------------------------------------------------------------------------
// MIME structure.

TEST(ComposerTest, TextOnlyIsSingleTextPlainPart) {
  ComposeInput in = BaseInput();
  const std::string wire = MustCompose(in);
  ExpectWireFormat(wire);
  auto message = Parse(wire);
  ASSERT_NE(message, nullptr);
  GMimeObject* root = Root(message.get());
  EXPECT_EQ(MimeType(root), "text/plain");
  EXPECT_EQ(Charset(root), "us-ascii");
  EXPECT_EQ(Encoding(root), GMIME_CONTENT_ENCODING_7BIT);
  EXPECT_EQ(Decoded(root), Canonical(in.text_body));
}

TEST(ComposerTest, HtmlOnlyIsSingleTextHtmlPart) {
  ComposeInput in = BaseInput();
  in.text_body.clear();
  in.html_body = "<p>Hi <b>there</b></p>";
  const std::string wire = MustCompose(in);
  ExpectWireFormat(wire);
  auto message = Parse(wire);
  GMimeObject* root = Root(message.get());
  EXPECT_EQ(MimeType(root), "text/html");
  EXPECT_EQ(Decoded(root), Canonical(in.html_body));
}

TEST(ComposerTest, TextAndHtmlIsAlternativeWithTextFirst) {
  ComposeInput in = BaseInput();
  in.html_body = "<p>Grüße</p>\n";
  const std::string wire = MustCompose(in);
  ExpectWireFormat(wire);
  auto message = Parse(wire);
  GMimeObject* root = Root(message.get());
  ASSERT_EQ(MimeType(root), "multipart/alternative");
  ASSERT_EQ(ChildCount(root), 2);
  EXPECT_EQ(MimeType(Child(root, 0)), "text/plain");
  EXPECT_EQ(MimeType(Child(root, 1)), "text/html");
  EXPECT_EQ(Decoded(Child(root, 0)), Canonical(in.text_body));
  EXPECT_EQ(Decoded(Child(root, 1)), Canonical(in.html_body));
  EXPECT_EQ(Charset(Child(root, 1)), "utf-8");
}

TEST(ComposerTest, AttachmentsWrapTextBodyInMixed) {
  ComposeInput in = BaseInput();
  in.attachments = {Pdf()};
  const std::string wire = MustCompose(in);
  ExpectWireFormat(wire);
  auto message = Parse(wire);
  GMimeObject* root = Root(message.get());
  ASSERT_EQ(MimeType(root), "multipart/mixed");
  ASSERT_EQ(ChildCount(root), 2);
  EXPECT_EQ(MimeType(Child(root, 0)), "text/plain");
  GMimeObject* pdf = Child(root, 1);
  EXPECT_EQ(MimeType(pdf), "application/pdf");
  EXPECT_STREQ(g_mime_object_get_disposition(pdf), "attachment");
  EXPECT_STREQ(g_mime_part_get_filename(GMIME_PART(pdf)), "report.pdf");
  EXPECT_EQ(Decoded(pdf), in.attachments[0].content);
}

TEST(ComposerTest, AttachmentsWrapAlternativeInMixed) {
  ComposeInput in = BaseInput();
  in.html_body = "<p>hi</p>";
  in.attachments = {Pdf(), {"notes.txt", "text/plain", "a\nb\n", ""}};
  const std::string wire = MustCompose(in);
  ExpectWireFormat(wire);
  auto message = Parse(wire);
  GMimeObject* root = Root(message.get());
  ASSERT_EQ(MimeType(root), "multipart/mixed");
  ASSERT_EQ(ChildCount(root), 3);
  GMimeObject* alternative = Child(root, 0);
  ASSERT_EQ(MimeType(alternative), "multipart/alternative");
  EXPECT_EQ(MimeType(Child(alternative, 0)), "text/plain");
  EXPECT_EQ(MimeType(Child(alternative, 1)), "text/html");
  EXPECT_EQ(MimeType(Child(root, 1)), "application/pdf");
  EXPECT_EQ(MimeType(Child(root, 2)), "text/plain");
  // Attachments keep their bytes: no CRLF canonicalisation of text files.
  EXPECT_EQ(Decoded(Child(root, 2)), "a\nb\n");
}

TEST(ComposerTest, InlinePartsGoInRelatedWithTheHtml) {
  ComposeInput in = BaseInput();
  in.text_body.clear();
  in.html_body = "<img src=\"cid:logo@example.com\">";
  in.attachments = {Logo()};
  const std::string wire = MustCompose(in);
  ExpectWireFormat(wire);
  auto message = Parse(wire);
  GMimeObject* root = Root(message.get());
  ASSERT_EQ(MimeType(root), "multipart/related");
  EXPECT_STREQ(g_mime_object_get_content_type_parameter(root, "type"),
               "text/html");
  ASSERT_EQ(ChildCount(root), 2);
  EXPECT_EQ(MimeType(Child(root, 0)), "text/html");
  GMimeObject* logo = Child(root, 1);
  EXPECT_EQ(MimeType(logo), "image/png");
  EXPECT_STREQ(g_mime_object_get_content_id(logo), "logo@example.com");
  EXPECT_STREQ(g_mime_object_get_disposition(logo), "inline");
  EXPECT_EQ(Decoded(logo), in.attachments[0].content);
}

TEST(ComposerTest, AllPartKindsNestMixedAlternativeRelated) {
  ComposeInput in = BaseInput();
  in.html_body = "<img src=\"cid:logo@example.com\">";
  in.attachments = {Pdf(), Logo()};
  const std::string wire = MustCompose(in);
  ExpectWireFormat(wire);
  auto message = Parse(wire);
  GMimeObject* root = Root(message.get());
  ASSERT_EQ(MimeType(root), "multipart/mixed");
  ASSERT_EQ(ChildCount(root), 2);
  GMimeObject* alternative = Child(root, 0);
  ASSERT_EQ(MimeType(alternative), "multipart/alternative");
  ASSERT_EQ(ChildCount(alternative), 2);
  EXPECT_EQ(MimeType(Child(alternative, 0)), "text/plain");
  GMimeObject* related = Child(alternative, 1);
  ASSERT_EQ(MimeType(related), "multipart/related");
  ASSERT_EQ(ChildCount(related), 2);
  EXPECT_EQ(MimeType(Child(related, 0)), "text/html");
  EXPECT_EQ(MimeType(Child(related, 1)), "image/png");
  EXPECT_EQ(MimeType(Child(root, 1)), "application/pdf");
}

TEST(ComposerTest, InlinePartWithoutHtmlIsSentInMixed) {
  ComposeInput in = BaseInput();
  in.attachments = {Logo()};
  const std::string wire = MustCompose(in);
  auto message = Parse(wire);
  GMimeObject* root = Root(message.get());
  ASSERT_EQ(MimeType(root), "multipart/mixed");
  ASSERT_EQ(ChildCount(root), 2);
  EXPECT_EQ(MimeType(Child(root, 0)), "text/plain");
  EXPECT_EQ(MimeType(Child(root, 1)), "image/png");
  EXPECT_STREQ(g_mime_object_get_content_id(Child(root, 1)),
               "logo@example.com");
  EXPECT_THAT(wire, Not(HasSubstr("multipart/related")));
}

TEST(ComposerTest, ContentIdInAngleBracketsIsNotDoubled) {
  ComposeInput in = BaseInput();
  in.html_body = "<img src=\"cid:logo\">";
  OutgoingAttachment logo = Logo();
  logo.content_id = "<logo>";
  in.attachments = {logo};
  const std::string wire = MustCompose(in);
  EXPECT_THAT(wire, HasSubstr("<logo>\r\n"));
  EXPECT_THAT(wire, Not(HasSubstr("<<")));
}

// ---------------------------------------------------------------------------
// Body encodings and round trips.

TEST(ComposerTest, BinaryAttachmentRoundTripsExactly) {
  std::string binary;
  for (int round = 0; round < 3; ++round) {
    for (int b = 0; b < 256; ++b) binary.push_back(static_cast<char>(b));
  }
  binary += std::string("\r\n\n\r\0\0", 6);
  ComposeInput in = BaseInput();
  in.attachments = {{"blob.bin", "", binary, ""}};
  const std::string wire = MustCompose(in);
  ExpectWireFormat(wire);
  auto message = Parse(wire);
  GMimeObject* blob = Child(Root(message.get()), 1);
  EXPECT_EQ(MimeType(blob), "application/octet-stream");
  EXPECT_EQ(Encoding(blob), GMIME_CONTENT_ENCODING_BASE64);
  const std::string decoded = Decoded(blob);
  EXPECT_EQ(decoded.size(), binary.size());
  EXPECT_EQ(decoded, binary);
}

TEST(ComposerTest, LongNonAsciiLineIsQuotedPrintableAndRoundTrips) {
  // 2,000 characters (2,666 octets) on one line.
  std::string line;
  for (int i = 0; i < 333; ++i) line += "Grüße ";
  line += "ab";
  ASSERT_EQ(g_utf8_strlen(line.data(), line.size()), 2000);
  ComposeInput in = BaseInput();
  in.text_body = absl::StrCat(line, "\nsecond line \xe2\x82\xac\n");
  in.html_body = absl::StrCat("<p>", line, "</p>");
  const std::string wire = MustCompose(in);
  ExpectWireFormat(wire);
  auto message = Parse(wire);
  GMimeObject* root = Root(message.get());
  GMimeObject* text = Child(root, 0);
  EXPECT_EQ(Encoding(text), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  EXPECT_EQ(Charset(text), "utf-8");
  EXPECT_EQ(Decoded(text), Canonical(in.text_body));
  EXPECT_EQ(Decoded(Child(root, 1)), Canonical(in.html_body));
  // No raw 8-bit byte anywhere: the message is 7-bit clean.
  for (char c : wire) ASSERT_LT(static_cast<unsigned char>(c), 0x80);
}

TEST(ComposerTest, LongAsciiLineIsQuotedPrintable) {
  ComposeInput in = BaseInput();
  in.text_body = std::string(1500, 'a') + "\nshort\n";
  const std::string wire = MustCompose(in);
  ExpectWireFormat(wire);
  auto message = Parse(wire);
  GMimeObject* root = Root(message.get());
  EXPECT_EQ(Encoding(root), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  EXPECT_EQ(Charset(root), "us-ascii");
  EXPECT_EQ(Decoded(root), Canonical(in.text_body));
}

TEST(ComposerTest, AsciiLineOf998OctetsStays7bit) {
  ComposeInput in = BaseInput();
  in.text_body = std::string(998, 'b');
  const std::string wire = MustCompose(in);
  ExpectWireFormat(wire);
  auto message = Parse(wire);
  EXPECT_EQ(Encoding(Root(message.get())), GMIME_CONTENT_ENCODING_7BIT);
  EXPECT_EQ(Decoded(Root(message.get())), Canonical(in.text_body));
}

TEST(ComposerTest, LineBreaksBecomeCrlfAndAFinalBreakIsAdded) {
  ComposeInput in = BaseInput();
  in.text_body = "a\r\nb\rc\nd";
  in.html_body = "<p>x</p>\r\n<p>y</p>";
  const std::string wire = MustCompose(in);
  ExpectWireFormat(wire);
  auto message = Parse(wire);
  GMimeObject* root = Root(message.get());
  EXPECT_EQ(Decoded(Child(root, 0)), "a\r\nb\r\nc\r\nd\r\n");
  EXPECT_EQ(Decoded(Child(root, 1)), "<p>x</p>\r\n<p>y</p>\r\n");

  // Same text when the part is the whole message.
  in.html_body.clear();
  const std::string single = MustCompose(in);
  EXPECT_EQ(Decoded(Root(Parse(single).get())), "a\r\nb\r\nc\r\nd\r\n");
}

TEST(ComposerTest, WireFormatHoldsForEveryShape) {
  for (int mask = 1; mask < 16; ++mask) {
    ComposeInput in = BaseInput();
    in.text_body = (mask & 1) ? "plain \xc3\xa9\nline" : "";
    in.html_body = (mask & 2) ? "<p>html</p>" : "";
    if (in.text_body.empty() && in.html_body.empty()) continue;
    if (mask & 4) in.attachments.push_back(Pdf());
    if (mask & 8) in.attachments.push_back(Logo());
    SCOPED_TRACE(absl::StrCat("shape ", mask));
    const std::string wire = MustCompose(in);
    ExpectWireFormat(wire);
    EXPECT_NE(Parse(wire), nullptr);
  }
}

// ---------------------------------------------------------------------------
// Header fields.

TEST(ComposerTest, WritesIdentityAndMimeFieldsExactlyOnce) {
  ComposeInput in = BaseInput();
  in.cc = {{"cc1@example.org", ""}, {"cc2@example.org", "Second"}};
  in.reply_to = {{"replies@example.com", "Replies"}};
  const std::string wire = MustCompose(in);
  EXPECT_THAT(FieldValues(wire, "Date"),
              ElementsAre("Tue, 14 Nov 2023 22:13:20 +0000"));
  EXPECT_THAT(FieldValues(wire, "Message-ID"),
              ElementsAre("<01hxq5v3k2@deliverd.local>"));
  EXPECT_THAT(FieldValues(wire, "MIME-Version"), ElementsAre("1.0"));
  EXPECT_THAT(FieldValues(wire, "X-Deliverd-Id"), ElementsAre("01HXQ5V3K2ZZ"));
  EXPECT_THAT(FieldValues(wire, "Subject"), ElementsAre("Hello"));
  EXPECT_THAT(FieldValues(wire, "From"),
              ElementsAre("Example Sender <sender@example.com>"));
  EXPECT_THAT(FieldValues(wire, "To"), ElementsAre("Rcpt <rcpt@example.net>"));
  EXPECT_THAT(FieldValues(wire, "Cc"),
              ElementsAre("cc1@example.org, Second <cc2@example.org>"));
  EXPECT_THAT(FieldValues(wire, "Reply-To"),
              ElementsAre("Replies <replies@example.com>"));

  auto message = Parse(wire);
  EXPECT_STREQ(g_mime_message_get_message_id(message.get()),
               "01hxq5v3k2@deliverd.local");
  GDateTime* date = g_mime_message_get_date(message.get());
  ASSERT_NE(date, nullptr);
  EXPECT_EQ(g_date_time_to_unix(date), 1700000000);
  InternetAddressList* cc = g_mime_message_get_cc(message.get());
  ASSERT_EQ(internet_address_list_length(cc), 2);
  EXPECT_EQ(AddressAddr(cc, 1), "cc2@example.org");
  EXPECT_EQ(AddressName(cc, 1), "Second");
}

TEST(ComposerTest, NoOptionalAddressFieldsWhenListsAreEmpty) {
  ComposeInput in = BaseInput();
  in.to.clear();  // a Bcc-only message
  const std::string wire = MustCompose(in);
  EXPECT_THAT(FieldValues(wire, "To"), IsEmpty());
  EXPECT_THAT(FieldValues(wire, "Cc"), IsEmpty());
  EXPECT_THAT(FieldValues(wire, "Reply-To"), IsEmpty());
}

TEST(ComposerTest, BccNeverAppears) {
  ComposeInput in = BaseInput();
  in.cc = {{"cc@example.org", "Cc"}};
  in.reply_to = {{"r@example.org", ""}};
  in.headers = {{"X-Campaign", "spring"}};
  const std::string wire = MustCompose(in);
  for (const auto& [name, value] : Fields(wire)) {
    EXPECT_FALSE(absl::EqualsIgnoreCase(name, "Bcc")) << value;
  }
  EXPECT_THAT(absl::AsciiStrToLower(wire), Not(HasSubstr("bcc")));

  in.headers = {{"bcc", "hidden@example.com"}};
  absl::StatusOr<std::string> rejected = ComposeMessage(in);
  EXPECT_EQ(rejected.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ComposerTest, ExtraHeadersAreWrittenInOrderAndAsciiValuesVerbatim) {
  const std::string url =
      "<https://example.com/unsubscribe?token=" + std::string(200, 'x') + ">";
  ComposeInput in = BaseInput();
  in.headers = {
      {"List-Unsubscribe", url + ", <mailto:unsub@example.com?subject=stop>"},
      {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
      {"X-Tag", "one"},
      {"X-Tag", "two"},
      {"X-Note", "Größe: été"},
  };
  const std::string wire = MustCompose(in);
  ExpectWireFormat(wire);
  std::vector<std::string> names;
  for (const auto& [name, value] : Fields(wire)) names.push_back(name);
  const auto first = std::find(names.begin(), names.end(), "List-Unsubscribe");
  ASSERT_NE(first, names.end());
  EXPECT_THAT(std::vector<std::string>(first, first + 5),
              ElementsAre("List-Unsubscribe", "List-Unsubscribe-Post", "X-Tag",
                          "X-Tag", "X-Note"));

  // The URL is never turned into encoded-words, only folded at whitespace.
  EXPECT_THAT(FieldValues(wire, "List-Unsubscribe"),
              ElementsAre(in.headers[0].second));
  EXPECT_THAT(HeaderBlock(wire), HasSubstr(url));
  EXPECT_THAT(FieldValues(wire, "X-Tag"), ElementsAre("one", "two"));

  // A non-ASCII value is unstructured text: encoded, and decodes back.
  const std::vector<std::string> note = FieldValues(wire, "X-Note");
  ASSERT_EQ(note.size(), 1u);
  EXPECT_TRUE(absl::StartsWith(note[0], "=?UTF-8?")) << note[0];
  char* decoded = g_mime_utils_header_decode_text(nullptr, note[0].c_str());
  EXPECT_STREQ(decoded, "Größe: été");
  g_free(decoded);
}

TEST(ComposerTest, NonAsciiAndSpecialDisplayNamesRoundTrip) {
  const std::vector<std::string> names = {
      "Jöhn Döe",
      "Doe, Jane \"JD\" (ops)",
      "John Q. Public",
      "back\\slash",
      "=?utf-8?q?not_an_encoded_word?=",
      "日本語の名前です日本語の名前です日本語の名前です日本語の名前です",
      "Ελληνικά και English mixed",
  };
  ComposeInput in = BaseInput();
  in.from.display_name = names[0];
  in.to.clear();
  for (size_t i = 1; i < names.size(); ++i) {
    in.to.push_back({absl::StrCat("r", i, "@example.net"), names[i]});
  }
  const std::string wire = MustCompose(in);
  ExpectWireFormat(wire);
  for (const std::string& word : EncodedWords(wire)) {
    EXPECT_LE(word.size(), 75u) << word;
  }
  auto message = Parse(wire);
  EXPECT_EQ(AddressName(g_mime_message_get_from(message.get()), 0), names[0]);
  InternetAddressList* to = g_mime_message_get_to(message.get());
  ASSERT_EQ(internet_address_list_length(to),
            static_cast<int>(names.size() - 1));
  for (size_t i = 1; i < names.size(); ++i) {
    EXPECT_EQ(AddressName(to, i - 1), names[i]);
    EXPECT_EQ(AddressAddr(to, i - 1), absl::StrCat("r", i, "@example.net"));
  }
}

TEST(ComposerTest, NonAsciiSubjectRoundTripsAndLooksLikeEncodedWordIsEncoded) {
  for (const std::string subject :
       {"Grüße — Ihre Bestellung Nr. 42", "=?utf-8?q?spoofed?= price", "Café",
        "plain ASCII subject"}) {
    ComposeInput in = BaseInput();
    in.subject = subject;
    const std::string wire = MustCompose(in);
    ExpectWireFormat(wire);
    EXPECT_STREQ(g_mime_message_get_subject(Parse(wire).get()),
                 subject.c_str());
  }
}

TEST(ComposerTest, LongSubjectsAreFoldedIntoShortEncodedWords) {
  std::string cjk;
  while (cjk.size() < 600) cjk += "日本語のテキストです。";
  std::string long_word = std::string(1500, 'w') + " end";
  std::string many_words;
  while (many_words.size() < 1200) many_words += "lorem ipsum dolor sit amet ";
  many_words.pop_back();
  std::string latin;
  while (latin.size() < 500) latin += "Ünïcödé Straße façade ";
  latin.pop_back();

  for (const std::string& subject : {cjk, long_word, many_words, latin}) {
    SCOPED_TRACE(subject.substr(0, 20));
    ComposeInput in = BaseInput();
    in.subject = subject;
    const std::string wire = MustCompose(in);
    ExpectWireFormat(wire);
    // Folded: no header line over the recommended 78 columns.
    for (const std::string& line : HeaderLines(wire)) {
      EXPECT_LE(line.size(), 78u) << line;
    }
    EXPECT_GT(FieldValues(wire, "Subject").size(), 0u);
    for (const std::string& word : EncodedWords(wire)) {
      EXPECT_LE(word.size(), 75u) << word;
    }
    EXPECT_STREQ(g_mime_message_get_subject(Parse(wire).get()),
                 subject.c_str());
  }
}

// GMime 3.2 joins adjacent B-encoded words before decoding and stops at the
// first '=' padding, so a padded word in the middle truncates the field. Two-
// byte characters make 45-octet words impossible, which used to force one.
TEST(ComposerTest, OnlyTheLastBEncodedWordIsPadded) {
  std::string subject;
  for (int i = 0; i < 100; ++i) subject += "ÄÖÜ ";
  subject.pop_back();
  ComposeInput in = BaseInput();
  in.subject = subject;
  const std::string wire = MustCompose(in);
  const std::vector<std::string> words = EncodedWords(wire);
  ASSERT_GT(words.size(), 2u);
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    EXPECT_FALSE(absl::EndsWith(words[i], "=?=")) << words[i];
  }
  EXPECT_STREQ(g_mime_message_get_subject(Parse(wire).get()), subject.c_str());
}

TEST(ComposerTest, PlainAsciiSubjectIsNotEncoded) {
  ComposeInput in = BaseInput();
  in.subject = std::string(30, 'x') + " " + std::string(60, 'y');
  const std::string wire = MustCompose(in);
  EXPECT_THAT(EncodedWords(wire), IsEmpty());
  EXPECT_THAT(FieldValues(wire, "Subject"), ElementsAre(in.subject));
}

TEST(ComposerTest, SmtpUtf8AddressesAppearAsRawUtf8) {
  ComposeInput in = BaseInput();
  in.from = {"üser@bücher.example", "Bücher"};
  in.to = {{"用户@例子.广告", ""}, {"ascii@xn--bcher-kva.example", ""}};
  const std::string wire = MustCompose(in);
  ExpectWireFormat(wire);
  const std::string header = HeaderBlock(wire);
  EXPECT_THAT(header, HasSubstr("<üser@bücher.example>"));
  EXPECT_THAT(header, HasSubstr("用户@例子.广告"));
  // GMime would punycode the domain; the composer must not.
  EXPECT_THAT(header, Not(HasSubstr("xn--bcher-kva.example>")));
  EXPECT_THAT(header, Not(HasSubstr("xn--fsqu00a")));
  auto message = Parse(wire);
  EXPECT_EQ(AddressAddr(g_mime_message_get_from(message.get()), 0),
            "üser@bücher.example");
  EXPECT_EQ(AddressName(g_mime_message_get_from(message.get()), 0), "Bücher");
  EXPECT_EQ(AddressAddr(g_mime_message_get_to(message.get()), 0),
            "用户@例子.广告");
}

TEST(ComposerTest, ManyRecipientsAreFoldedBetweenAddresses) {
  ComposeInput in = BaseInput();
  in.to.clear();
  for (int i = 0; i < 60; ++i) {
    in.to.push_back({absl::StrCat("recipient", i, "@example.net"),
                     absl::StrCat("Recipient Number ", i)});
  }
  const std::string wire = MustCompose(in);
  ExpectWireFormat(wire);
  for (const std::string& line : HeaderLines(wire)) {
    EXPECT_LE(line.size(), 78u) << line;
  }
  auto message = Parse(wire);
  InternetAddressList* to = g_mime_message_get_to(message.get());
  ASSERT_EQ(internet_address_list_length(to), 60);
  EXPECT_EQ(AddressAddr(to, 59), "recipient59@example.net");
  EXPECT_EQ(AddressName(to, 59), "Recipient Number 59");
}

TEST(ComposerTest, NonAsciiFilenameRoundTrips) {
  ComposeInput in = BaseInput();
  const std::string filename =
      "Résumé 2024 — final version for the committee.pdf";
  in.attachments = {{filename, "application/pdf", "pdf", ""}};
  const std::string wire = MustCompose(in);
  ExpectWireFormat(wire);
  EXPECT_THAT(wire, HasSubstr("UTF-8''"));
  auto message = Parse(wire);
  GMimeObject* part = Child(Root(message.get()), 1);
  EXPECT_STREQ(g_mime_part_get_filename(GMIME_PART(part)), filename.c_str());
}

TEST(ComposerTest, ContentTypeParametersAreKept) {
  ComposeInput in = BaseInput();
  in.attachments = {{"data.csv", "Text/CSV; charset=utf-8", "a,b\n", ""}};
  const std::string wire = MustCompose(in);
  auto message = Parse(wire);
  GMimeObject* part = Child(Root(message.get()), 1);
  EXPECT_EQ(MimeType(part), "text/csv");
  EXPECT_EQ(Charset(part), "utf-8");
}

// ---------------------------------------------------------------------------
// Rejections (defence in depth against header injection and bad input).

struct RejectCase {
  std::string label;
  std::function<void(ComposeInput&)> mutate;
  std::string field;  // must be named in the error
};

TEST(ComposerTest, RejectsInjectionAndMalformedInput) {
  const std::string nul = std::string("a\0b", 3);
  const std::vector<RejectCase> cases = {
      {"subject CRLF",
       [](ComposeInput& in) { in.subject = "Hi\r\nBcc: v@x.com"; }, "subject"},
      {"subject LF", [](ComposeInput& in) { in.subject = "Hi\nX-Evil: 1"; },
       "subject"},
      {"subject CR", [](ComposeInput& in) { in.subject = "Hi\rX-Evil: 1"; },
       "subject"},
      {"subject NUL", [&](ComposeInput& in) { in.subject = nul; }, "subject"},
      {"subject bad UTF-8", [](ComposeInput& in) { in.subject = "caf\xe9"; },
       "subject"},
      {"from name CRLF",
       [](ComposeInput& in) { in.from.display_name = "Eve\r\nBcc: v@x.com"; },
       "from.display_name"},
      {"from address empty", [](ComposeInput& in) { in.from.address = ""; },
       "from.address"},
      {"to address CRLF",
       [](ComposeInput& in) { in.to[0].address = "a@b.com\r\nBcc: v@x.com"; },
       "to[0].address"},
      {"to address NUL",
       [&](ComposeInput& in) { in.to[0].address = nul + "@b.c"; },
       "to[0].address"},
      {"cc address smuggles a recipient",
       [](ComposeInput& in) {
         in.cc = {{"ok@b.com", ""}, {"a@b.com, evil@x.com", ""}};
       },
       "cc[1].address"},
      {"to address with brackets",
       [](ComposeInput& in) { in.to[0].address = "<a@b.com>"; },
       "to[0].address"},
      {"to address with space",
       [](ComposeInput& in) { in.to[0].address = "a b@c.com"; },
       "to[0].address"},
      {"to address without domain",
       [](ComposeInput& in) { in.to[0].address = "nobody"; }, "to[0].address"},
      {"reply_to name LF",
       [](ComposeInput& in) {
         in.reply_to = {{"r@b.com", "x\ny"}};
       },
       "reply_to[0].display_name"},
      {"header name CRLF",
       [](ComposeInput& in) {
         in.headers = {{"X-Foo\r\nBcc", "v@x.com"}};
       },
       "headers[0].name"},
      {"header name with space",
       [](ComposeInput& in) {
         in.headers = {{"X Foo", "1"}};
       },
       "headers[0].name"},
      {"header name with colon",
       [](ComposeInput& in) {
         in.headers = {{"X-Foo:", "1"}};
       },
       "headers[0].name"},
      {"header name empty",
       [](ComposeInput& in) {
         in.headers = {{"", "1"}};
       },
       "headers[0].name"},
      {"header name non-ASCII",
       [](ComposeInput& in) {
         in.headers = {{"X-Grüße", "1"}};
       },
       "headers[0].name"},
      {"header Bcc",
       [](ComposeInput& in) {
         in.headers = {{"X-Ok", "1"}, {"BCC", "v@x.com"}};
       },
       "headers[1].name"},
      {"header From",
       [](ComposeInput& in) {
         in.headers = {{"from", "a@b.c"}};
       },
       "headers[0].name"},
      {"header Content-Type",
       [](ComposeInput& in) {
         in.headers = {{"Content-Type", "text/html"}};
       },
       "headers[0].name"},
      {"header X-Deliverd-Id",
       [](ComposeInput& in) {
         in.headers = {{"x-deliverd-id", "other"}};
       },
       "headers[0].name"},
      {"header value CRLF",
       [](ComposeInput& in) {
         in.headers = {{"X-Foo", "1\r\nBcc: v@x.com"}};
       },
       "headers[0].value"},
      {"header value NUL",
       [&](ComposeInput& in) {
         in.headers = {{"X-Foo", nul}};
       },
       "headers[0].value"},
      {"header value control char",
       [](ComposeInput& in) {
         in.headers = {{"X-Foo", "a\x1b[31m"}};
       },
       "headers[0].value"},
      {"header value unfoldable",
       [](ComposeInput& in) {
         in.headers = {{"X-Foo", std::string(1200, 'z')}};
       },
       "headers[0].value"},
      {"filename CRLF",
       [](ComposeInput& in) {
         in.attachments = {{"a.txt\r\nContent-Type: text/html", "", "x", ""}};
       },
       "attachments[0].filename"},
      {"content type CRLF",
       [](ComposeInput& in) {
         in.attachments = {{"a", "text/plain\r\nX-Evil: 1", "x", ""}};
       },
       "attachments[0].content_type"},
      {"content type not a type",
       [](ComposeInput& in) {
         in.attachments = {{"a", "nonsense", "x", ""}};
       },
       "attachments[0].content_type"},
      {"content type multipart",
       [](ComposeInput& in) {
         in.attachments = {{"a", "multipart/mixed; boundary=x", "x", ""}};
       },
       "attachments[0].content_type"},
      {"content type message",
       [](ComposeInput& in) {
         in.attachments = {{"a", "message/rfc822", "x", ""}};
       },
       "attachments[0].content_type"},
      {"content id CRLF",
       [](ComposeInput& in) {
         in.attachments = {{"a", "", "x", "id\r\nX: 1"}};
       },
       "attachments[0].content_id"},
      {"content id with space",
       [](ComposeInput& in) {
         in.attachments = {{"a", "", "x", "a b"}};
       },
       "attachments[0].content_id"},
      {"content id repeated",
       [](ComposeInput& in) {
         in.attachments = {{"a", "", "x", "same@x"},
                           {"b", "", "y", "<same@x>"}};
       },
       "attachments[1].content_id"},
      {"message id CRLF",
       [](ComposeInput& in) { in.message_id = "a@b\r\nBcc: v@x.com"; },
       "message_id"},
      {"message id with brackets",
       [](ComposeInput& in) { in.message_id = "<a@b>"; }, "message_id"},
      {"message id without @", [](ComposeInput& in) { in.message_id = "abc"; },
       "message_id"},
      {"message id empty", [](ComposeInput& in) { in.message_id = ""; },
       "message_id"},
      {"deliverd id empty", [](ComposeInput& in) { in.deliverd_id = ""; },
       "deliverd_id"},
      {"deliverd id LF", [](ComposeInput& in) { in.deliverd_id = "id\nX: 1"; },
       "deliverd_id"},
      {"deliverd id space", [](ComposeInput& in) { in.deliverd_id = "a b"; },
       "deliverd_id"},
      {"no body",
       [](ComposeInput& in) {
         in.text_body.clear();
         in.html_body.clear();
       },
       "text_body"},
      {"text body NUL", [&](ComposeInput& in) { in.text_body = nul; },
       "text_body"},
      {"html body bad UTF-8",
       [](ComposeInput& in) { in.html_body = "\xff\xfe"; }, "html_body"},
      {"date infinite",
       [](ComposeInput& in) { in.date = absl::InfiniteFuture(); }, "date"},
  };
  for (const RejectCase& c : cases) {
    SCOPED_TRACE(c.label);
    ComposeInput in = BaseInput();
    c.mutate(in);
    absl::StatusOr<std::string> result = ComposeMessage(in);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(result.status().message(), HasSubstr(c.field));
  }
}

TEST(ComposerTest, AcceptsQuotedLocalPartAndDomainLiteral) {
  ComposeInput in = BaseInput();
  in.to = {{"\"john doe\"@example.com", ""}, {"postmaster@[192.0.2.1]", ""}};
  const std::string wire = MustCompose(in);
  auto message = Parse(wire);
  InternetAddressList* to = g_mime_message_get_to(message.get());
  ASSERT_EQ(internet_address_list_length(to), 2);
  EXPECT_EQ(AddressAddr(to, 1), "postmaster@[192.0.2.1]");
}

// ---------------------------------------------------------------------------
// Thread safety.

TEST(ComposerTest, ComposesConcurrently) {
  // The parser used below needs GMime too; initialise it before any thread
  // starts so the test's own initialisation cannot race with the composer's.
  InitGMime();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < kPerThread; ++i) {
        ComposeInput in = BaseInput();
        in.subject = absl::StrCat("Grüße ", t, "-", i);
        in.html_body = "<p>hi</p>";
        in.attachments = {Pdf(), Logo()};
        absl::StatusOr<std::string> wire = ComposeMessage(in);
        if (!wire.ok()) {
          ++failures[t];
          continue;
        }
        auto message = Parse(*wire);
        if (message == nullptr ||
            g_mime_message_get_subject(message.get()) != in.subject) {
          ++failures[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(failures[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace deliverd::delivery
