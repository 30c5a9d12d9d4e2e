// Tests for hygiene/bounce/mime_reader: its own contract, and the same
// structure as GMime's parser finds on tricky messages written for this
// test (GMime is the reference the reader's rules were taken from).
#include "hygiene/bounce/mime_reader.h"

#include <gmime/gmime.h>

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "hygiene/gmime_init.h"

namespace deliverd::hygiene::bounce {
namespace {

// The header fields both sides are compared on (GMime moves Content-* of a
// message to its MIME part, so those are compared through the leaves).
constexpr const char* kCompared[] = {"From", "To", "Subject", "Message-ID",
                                     "X-Failed-Recipients"};

std::string Lowered(const char* s) {
  return s == nullptr ? "" : absl::AsciiStrToLower(s);
}

void GMimeFlatten(GMimeObject* object, int depth, std::vector<std::string>* out);

void GMimeMessageFlatten(GMimeMessage* message, int depth,
                         std::vector<std::string>* out) {
  for (const char* name : kCompared) {
    const char* value = g_mime_object_get_header(GMIME_OBJECT(message), name);
    if (value != nullptr) {
      out->push_back(absl::StrCat(depth, " header ", name, "=", value));
    }
  }
  GMimeFlatten(g_mime_message_get_mime_part(message), depth, out);
}

void GMimeFlatten(GMimeObject* object, int depth,
                  std::vector<std::string>* out) {
  if (object == nullptr) return;
  GMimeContentType* type = g_mime_object_get_content_type(object);
  std::string mime_type = absl::StrCat(
      Lowered(g_mime_content_type_get_media_type(type)), "/",
      Lowered(g_mime_content_type_get_media_subtype(type)));
  if (GMIME_IS_MULTIPART(object)) {
    GMimeMultipart* multipart = GMIME_MULTIPART(object);
    out->push_back(absl::StrCat(depth, " multipart ", mime_type, " ",
                                g_mime_multipart_get_count(multipart)));
    for (int i = 0; i < g_mime_multipart_get_count(multipart); ++i) {
      GMimeFlatten(g_mime_multipart_get_part(multipart, i), depth + 1, out);
    }
    return;
  }
  if (GMIME_IS_MESSAGE_PART(object)) {
    out->push_back(absl::StrCat(depth, " message ", mime_type));
    GMimeMessage* inner =
        g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
    if (inner != nullptr) GMimeMessageFlatten(inner, depth + 1, out);
    return;
  }
  std::string content;
  GMimeDataWrapper* wrapper = g_mime_part_get_content(GMIME_PART(object));
  if (wrapper != nullptr) {
    GMimeStream* mem = g_mime_stream_mem_new();
    g_mime_data_wrapper_write_to_stream(wrapper, mem);
    GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    content.assign(reinterpret_cast<const char*>(bytes->data), bytes->len);
    g_object_unref(mem);
  }
  out->push_back(absl::StrCat(depth, " leaf ", mime_type, " [", content, "]"));
}

std::vector<std::string> ByGMime(const std::string& text) {
  EnsureGMimeInitialized();
  std::vector<std::string> out;
  GMimeStream* stream =
      g_mime_stream_mem_new_with_buffer(text.data(), text.size());
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
  GMimeMessage* message = g_mime_parser_construct_message(parser, nullptr);
  if (message != nullptr) {
    GMimeMessageFlatten(message, 0, &out);
    g_object_unref(message);
  }
  g_object_unref(parser);
  g_object_unref(stream);
  return out;
}

void OursFlatten(const MimeEntity& entity, const MimeContentType& fallback,
                 int depth, std::vector<std::string>* out);

void OursMessageFlatten(const MimeEntity& message, int depth,
                        std::vector<std::string>* out) {
  for (const char* name : kCompared) {
    std::optional<absl::string_view> raw = message.Field(name);
    if (raw) {
      out->push_back(
          absl::StrCat(depth, " header ", name, "=", MimeHeaderValue(*raw)));
    }
  }
  MimeContentType text_plain{"text", "plain", ""};
  OursFlatten(message, text_plain, depth, out);
}

void OursFlatten(const MimeEntity& entity, const MimeContentType& fallback,
                 int depth, std::vector<std::string>* out) {
  // As ParseBounce's walk reads them: a repeated Content-* field by its
  // last occurrence, an encoded message/rfc822 as a leaf.
  std::optional<absl::string_view> field = entity.LastField("Content-Type");
  MimeContentType type = field ? ParseMimeContentType(*field) : fallback;
  const absl::string_view transfer_encoding =
      entity.LastField("Content-Transfer-Encoding").value_or("");
  std::string mime_type = absl::StrCat(type.type, "/", type.subtype);
  if (type.type == "multipart") {
    std::vector<absl::string_view> parts = SplitMultipart(
        entity.body, MimeParameter(type.parameters, "boundary").value_or(""),
        1000);
    out->push_back(
        absl::StrCat(depth, " multipart ", mime_type, " ", parts.size()));
    MimeContentType child{type.subtype == "digest" ? "message" : "text",
                          type.subtype == "digest" ? "rfc822" : "plain", ""};
    for (absl::string_view part : parts) {
      OursFlatten(ReadMimeEntity(part, 1000), child, depth + 1, out);
    }
    return;
  }
  if ((type.Is("message", "rfc822") || type.Is("message", "global")) &&
      !IsEncodedTransfer(transfer_encoding)) {
    out->push_back(absl::StrCat(depth, " message ", mime_type));
    OursMessageFlatten(ReadMimeEntity(entity.body, 1000), depth + 1, out);
    return;
  }
  std::string content = DecodeMimeBody(entity.body, transfer_encoding, 1 << 20);
  out->push_back(absl::StrCat(depth, " leaf ", mime_type, " [", content, "]"));
}

std::vector<std::string> ByReader(const std::string& text) {
  std::vector<std::string> out;
  OursMessageFlatten(ReadMimeEntity(text, 1000), 0, &out);
  return out;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) absl::StrAppend(&out, l, "\n");
  return out;
}

// Each message in both line-break conventions.
void ExpectSameAsGMime(const std::string& lf_text) {
  for (const std::string& text :
       {lf_text, absl::StrReplaceAll(lf_text, {{"\n", "\r\n"}})}) {
    std::vector<std::string> reference = ByGMime(text);
    ASSERT_FALSE(reference.empty()) << text;
    EXPECT_EQ(Join(ByReader(text)), Join(reference)) << text;
  }
}

TEST(MimeReaderSameAsGMimeTest, FoldedHeadersAndPlainBody) {
  ExpectSameAsGMime(
      "From: Mail Delivery System\n <MAILER-DAEMON@mx.example.org>\n"
      "To: someone@example.com\n"
      "Subject:   Undelivered\n\tMail   \n"
      "\n"
      "line one\nline two\n");
}

TEST(MimeReaderSameAsGMimeTest, ReportWithThreeParts) {
  ExpectSameAsGMime(
      "From: MAILER-DAEMON@mx.example.org\n"
      "Content-Type: multipart/report; report-type=delivery-status;\n"
      "\tboundary=\"B-1\"\n"
      "\n"
      "preamble\n"
      "--B-1\n"
      "Content-Type: text/plain\n"
      "\n"
      "could not deliver\n"
      "\n"
      "--B-1\n"
      "Content-Type: message/delivery-status\n"
      "\n"
      "Reporting-MTA: dns; mx.example.org\n"
      "\n"
      "Final-Recipient: rfc822; a@example.net\n"
      "Action: failed\n"
      "--B-1\n"
      "Content-Type: text/rfc822-headers\n"
      "\n"
      "Message-ID: <m1@example.com>\n"
      "--B-1--\n"
      "epilogue\n--B-1\nnot a part\n");
}

TEST(MimeReaderSameAsGMimeTest, BoundaryTrapsAndTrailingSpace) {
  ExpectSameAsGMime(
      "Content-Type: multipart/mixed; boundary=b1\n"
      "\n"
      "--b1\n"
      "\n"
      "text1\n"
      "--b1-x is not a delimiter\n"
      "-- b1 neither\n"
      "--b1  \t\n"
      "Content-Type: text/plain\n"
      "\n"
      "text2\n"
      "--b1--   \n");
}

TEST(MimeReaderSameAsGMimeTest, InnerMultipartWithoutClosingDelimiter) {
  ExpectSameAsGMime(
      "Content-Type: multipart/mixed; boundary=outer\n"
      "\n"
      "--outer\n"
      "Content-Type: multipart/alternative; boundary=inner\n"
      "\n"
      "--inner\n"
      "\n"
      "alt one\n"
      "--inner\n"
      "Content-Type: text/html\n"
      "\n"
      "<p>alt two</p>\n"
      "--outer\n"
      "\n"
      "after\n"
      "--outer--\n");
}

TEST(MimeReaderSameAsGMimeTest, LastPartWithoutClosingDelimiter) {
  ExpectSameAsGMime(
      "Content-Type: multipart/mixed; boundary=\"x y\"\n"
      "\n"
      "--x y\n"
      "\n"
      "first\n"
      "--x y\n"
      "--x y\n"
      "\n"
      "runs to the end\n");
}

TEST(MimeReaderSameAsGMimeTest, TransferEncodings) {
  ExpectSameAsGMime(
      "Content-Type: multipart/mixed; boundary=e\n"
      "\n"
      "--e\n"
      "Content-Transfer-Encoding: BASE64\n"
      "\n"
      "VGhlIG1haWwgc3lzdGVt\n"
      "IGdhdmUgdXAu\n"
      "--e\n"
      "Content-Type: text/plain; charset=utf-8\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "caf=C3=A9 =3D soft=\n"
      "break\n"
      "--e\n"
      "Content-Transfer-Encoding: 8bit\n"
      "\n"
      "plain \xe9t\xe9\n"
      "--e\n"
      "Content-Transfer-Encoding: x-uuencode\n"
      "\n"
      "begin 644 report.txt\n"
      "L5&AE(&UA:6P@<WES=&5M(&=A=F4@=7 @;VX@=7-E<D!E>&%M<&QE+FYE= H \n"
      "`\n"
      "end\n"
      "--e\n"
      "Content-Transfer-Encoding: base64 (a comment)\n"
      "\n"
      "aGVsbG8=\n"
      "--e--\n");
}

TEST(MimeReaderSameAsGMimeTest, RepeatedFieldsAndLenientParameters) {
  ExpectSameAsGMime(
      "Content-Type: multipart/mixed; boundary=abc def\n"
      "\n"
      "--abc def\n"
      "Content-Type: text/html\n"
      "Content-Type: text/plain\n"
      "Content-Transfer-Encoding: 7bit\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "last=20wins\n"
      "--abc def\n"
      "Content-Type: message/rfc822\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "TWVzc2FnZS1JRDogPHJldHVybmVkQGV4YW1wbGUuY29tPgoKYm9keQo=\n"
      "--abc def--\n");
}

TEST(MimeReaderSameAsGMimeTest, ReturnedMessageWithItsOwnParts) {
  ExpectSameAsGMime(
      "From: postmaster@example.org\n"
      "Content-Type: multipart/mixed; boundary=out\n"
      "\n"
      "--out\n"
      "\n"
      "returned below\n"
      "--out\n"
      "Content-Type: message/rfc822\n"
      "\n"
      "From: sender@example.com\n"
      "To: rcpt@example.net\n"
      "Message-ID: <orig@example.com>\n"
      "Content-Type: multipart/alternative; boundary=in\n"
      "\n"
      "--in\n"
      "\n"
      "hello\n"
      "--in--\n"
      "--out--\n");
}

TEST(MimeReaderSameAsGMimeTest, ContentTypeOddities) {
  ExpectSameAsGMime(
      "Content-Type: Multipart/Mixed (a comment); BOUNDARY=\"q\"\n"
      "\n"
      "--q\n"
      "Content-Type: text\n"
      "\n"
      "no subtype\n"
      "--q\n"
      "Content-Type: TEXT/HTML; charset=\"us-ascii\"\n"
      "\n"
      "<b>x</b>\n"
      "--q\n"
      "Content-Type: multipart/digest; boundary=d\n"
      "\n"
      "--d\n"
      "\n"
      "Subject: digest entry\n"
      "\n"
      "entry body\n"
      "--d--\n"
      "--q--\n");
}

TEST(MimeReaderSameAsGMimeTest, EncodedWordsAndInvalidHeaderLines) {
  ExpectSameAsGMime(
      "From: =?utf-8?q?Syst=C3=A8me?= <daemon@example.org>\n"
      "this line is not a header\n"
      "Subject: =?iso-8859-1?b?UmV0b3Vy?= de =?utf-8?q?courrier?=\n"
      "To: raw \xe9t\xe9 <x@example.net>\n"
      "\n"
      "body\n");
}

TEST(MimeReaderSameAsGMimeTest, EmptyPartsAndMultipartWithoutBoundary) {
  ExpectSameAsGMime(
      "Content-Type: multipart/mixed; boundary=z\n"
      "\n"
      "--z\n"
      "--z\n"
      "\n"
      "\n"
      "--z\n"
      "Content-Type: multipart/related\n"
      "\n"
      "--z1\n"
      "\n"
      "never a part\n"
      "--z--\n");
}

TEST(MimeReaderTest, ContinuedAndEncodedParameters) {
  MimeContentType type = ParseMimeContentType(
      " multipart/report; report-type=delivery-status;\r\n"
      " boundary*0=\"abc\"; boundary*1*=%2Ddef; title*=utf-8'en'a%20b");
  EXPECT_EQ(type.type, "multipart");
  EXPECT_EQ(type.subtype, "report");
  EXPECT_EQ(MimeParameter(type.parameters, "boundary").value_or("?"),
            "abc-def");
  EXPECT_EQ(MimeParameter(type.parameters, "title").value_or("?"), "a b");
  EXPECT_EQ(MimeParameter(type.parameters, "report-type").value_or("?"),
            "delivery-status");
  EXPECT_FALSE(MimeParameter(type.parameters, "charset").has_value());
}

TEST(MimeReaderTest, HostileInputIsReadWithinItsBounds) {
  // No line break, unbalanced quotes and comments, NULs.
  const std::string text("Content-Type: multipart/mixed; boundary=\"open (\0",
                         46);
  MimeEntity entity = ReadMimeEntity(text, 10);
  ASSERT_EQ(entity.fields.size(), 1u);
  EXPECT_TRUE(entity.body.empty());
  MimeContentType type = ParseMimeContentType(entity.fields[0].raw_value);
  EXPECT_EQ(type.type, "multipart");
  EXPECT_TRUE(SplitMultipart("--", "", 10).empty());
  EXPECT_TRUE(SplitMultipart("-", "x", 10).empty());
  // GMime reads a value up to a NUL, as it did when it parsed bounces.
  EXPECT_EQ(MimeHeaderValue(std::string("a\0b", 3)), "a");
  // A field cap keeps the first fields and still finds the body.
  MimeEntity capped = ReadMimeEntity("A: 1\nB: 2\nC: 3\n\nbody", 2);
  EXPECT_EQ(capped.fields.size(), 2u);
  EXPECT_EQ(capped.body, "body");
  // Decoding stops at the limit.
  EXPECT_EQ(DecodeMimeBody("aGVsbG8gd29ybGQ=", "base64", 5), "hello");
}

TEST(MimeReaderTest, DecodingGivesTheWholeLimitWhateverTheExpansion) {
  // Quoted-printable at its densest: three bytes for one.
  std::string body;
  for (int i = 0; i < 3000; ++i) body += "=41";
  EXPECT_EQ(DecodeMimeBody(body, "quoted-printable", 2000),
            std::string(2000, 'A'));
  EXPECT_EQ(DecodeMimeBody(body, "Quoted-Printable", 5000),
            std::string(3000, 'A'));
}

TEST(MimeReaderTest, UuencodeStartsAfterItsBeginLine) {
  const std::string body =
      "some preamble\n"
      "begin 644 report.txt\n"
      "L5&AE(&UA:6P@<WES=&5M(&=A=F4@=7 @;VX@=7-E<D!E>&%M<&QE+FYE= H \n"
      "`\n"
      "end\n";
  EXPECT_EQ(DecodeMimeBody(body, "x-uuencode", 1000),
            "The mail system gave up on user@example.net\n");
  EXPECT_EQ(DecodeMimeBody("no begin line\n", "x-uuencode", 1000), "");
}

TEST(MimeReaderTest, MessageIdsReadAsMsgIds) {
  EXPECT_EQ(MimeMessageId(" <id-1@example.com> (comment)"), "id-1@example.com");
  EXPECT_EQ(MimeMessageId(" <BAY182-W41"), "BAY182-W41");
}

TEST(MimeReaderTest, PartsAreCapped) {
  std::string body;
  for (int i = 0; i < 50; ++i) absl::StrAppend(&body, "--b\n\npart ", i, "\n");
  std::vector<absl::string_view> parts = SplitMultipart(body, "b", 7);
  ASSERT_EQ(parts.size(), 7u);
  EXPECT_EQ(ReadMimeEntity(parts[6], 10).body, "part 6");
}

}  // namespace
}  // namespace deliverd::hygiene::bounce
