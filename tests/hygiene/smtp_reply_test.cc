// Tests for hygiene/bounce/smtp_reply: reply parsing (single and multi-line,
// CRLF and bare LF, hostile input), enhanced status codes, and code
// extraction from free diagnostic text. All sample replies are our own.
#include "hygiene/bounce/smtp_reply.h"

#include <random>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace deliverd::hygiene::bounce {
namespace {

std::string CodeOf(absl::string_view raw) {
  return SmtpReplyErrorCode(ParseSmtpReply(raw).status());
}

TEST(SmtpReplyTest, SingleLine) {
  absl::StatusOr<SmtpReply> r = ParseSmtpReply("250 OK\r\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, 250);
  EXPECT_EQ(r->code_class(), 2);
  EXPECT_FALSE(r->enhanced.has_value());
  EXPECT_EQ(r->text, "OK");
  EXPECT_EQ(r->line_count, 1);
}

TEST(SmtpReplyTest, TerminatorOptionalAndBareCodeAllowed) {
  absl::StatusOr<SmtpReply> r = ParseSmtpReply("354 go ahead");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, 354);
  EXPECT_EQ(r->text, "go ahead");
  r = ParseSmtpReply("250\r\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, 250);
  EXPECT_EQ(r->text, "");
  r = ParseSmtpReply("250 \r\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->text, "");
}

TEST(SmtpReplyTest, MultiLineWithEnhancedCodeOnEveryLine) {
  const char* raw =
      "550-5.1.1 The mailbox you addressed is not known here. Check\r\n"
      "550-5.1.1 the spelling of the address and try once more, or\r\n"
      "550 5.1.1 ask the recipient for a current address. abc123 - mx\r\n";
  absl::StatusOr<SmtpReply> r = ParseSmtpReply(raw);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, 550);
  ASSERT_TRUE(r->enhanced.has_value());
  EXPECT_EQ(r->enhanced->ToString(), "5.1.1");
  EXPECT_EQ(r->line_count, 3);
  EXPECT_EQ(r->text,
            "The mailbox you addressed is not known here. Check\n"
            "the spelling of the address and try once more, or\n"
            "ask the recipient for a current address. abc123 - mx");
}

TEST(SmtpReplyTest, EhloStyleMultiLineWithoutEnhancedCodes) {
  absl::StatusOr<SmtpReply> r = ParseSmtpReply(
      "250-mx.example.net greets you\n250-PIPELINING\n250-SIZE 10240000\n"
      "250-ENHANCEDSTATUSCODES\n250 SMTPUTF8\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->line_count, 5);
  EXPECT_FALSE(r->enhanced.has_value());
  EXPECT_EQ(r->text,
            "mx.example.net greets you\nPIPELINING\nSIZE 10240000\n"
            "ENHANCEDSTATUSCODES\nSMTPUTF8");
}

TEST(SmtpReplyTest, EnhancedCodeOnlyOnLastLineAndDifferentCodesKept) {
  absl::StatusOr<SmtpReply> r = ParseSmtpReply(
      "451-Try later\r\n451-4.3.0 local trouble\r\n"
      "451 4.7.1 greylisted\r\n");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->enhanced.has_value());
  EXPECT_EQ(r->enhanced->ToString(), "4.3.0");
  EXPECT_EQ(r->text, "Try later\nlocal trouble\n4.7.1 greylisted");
}

TEST(SmtpReplyTest, EnhancedCodeValidation) {
  struct Case {
    const char* raw;
    const char* want;  // "" means no enhanced code
  };
  const Case cases[] = {
      {"550 5.1.1 x", "5.1.1"},
      {"550 5.999.999 x", "5.999.999"},
      {"550 5.001.010 x", "5.1.10"},  // 1*3digit allows leading zeros
      {"550 5.1.1", "5.1.1"},         // nothing after the code
      {"550 5.1000.1 x", ""},         // subject over 3 digits
      {"550 5.1.1000 x", ""},         // detail over 3 digits
      {"550 3.1.1 x", ""},            // class 3 does not exist
      {"550 2.1.5 x", ""},            // class differs from the reply's
      {"450 5.1.1 x", ""},
      {"550 5.1.1x", ""},  // not followed by SP
      {"550 5.1. x", ""},
      {"550 5..1 x", ""},
      {"550 55.1.1 x", ""},
      {"550 x 5.1.1", ""},  // only at the start of the text
      {"250 2.0.0 Ok: queued as 4B1C2", "2.0.0"},
      {"421 4.4.2 timeout", "4.4.2"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<SmtpReply> r = ParseSmtpReply(c.raw);
    ASSERT_TRUE(r.ok()) << c.raw << ": " << r.status();
    EXPECT_EQ(r->enhanced ? r->enhanced->ToString() : "", c.want) << c.raw;
  }
}

TEST(SmtpReplyTest, ParseEnhancedStatusCodeAlone) {
  ASSERT_TRUE(ParseEnhancedStatusCode("4.2.2").ok());
  EXPECT_EQ(ParseEnhancedStatusCode("4.2.2")->detail, 2);
  EXPECT_FALSE(ParseEnhancedStatusCode("4.2.2 ").ok());
  EXPECT_FALSE(ParseEnhancedStatusCode("6.0.0").ok());
  EXPECT_FALSE(ParseEnhancedStatusCode("").ok());
  EXPECT_FALSE(ParseEnhancedStatusCode("5.1").ok());
  EXPECT_EQ(ParseEnhancedStatusCode("5.1.1").value(),
            (EnhancedStatusCode{5, 1, 1}));
}

TEST(SmtpReplyTest, MalformedRepliesHaveStableReasons) {
  EXPECT_EQ(CodeOf(""), "reply.empty");
  EXPECT_EQ(CodeOf("\r\n"), "reply.bad_code");
  EXPECT_EQ(CodeOf("25 OK"), "reply.bad_code");
  EXPECT_EQ(CodeOf("abc OK"), "reply.bad_code");
  EXPECT_EQ(CodeOf("650 OK"), "reply.bad_code");  // first digit 2-5
  EXPECT_EQ(CodeOf("170 OK"), "reply.bad_code");
  EXPECT_EQ(CodeOf("260 OK"), "reply.bad_code");  // second digit 0-5
  EXPECT_EQ(CodeOf("250OK"), "reply.bad_separator");
  EXPECT_EQ(CodeOf("2500 OK"), "reply.bad_separator");
  EXPECT_EQ(CodeOf("250-one\r\n251 two\r\n"), "reply.mismatched_code");
  EXPECT_EQ(CodeOf("250-one\r\n250-two\r\n"), "reply.incomplete");
  EXPECT_EQ(CodeOf("250-one"), "reply.incomplete");
  EXPECT_EQ(CodeOf("250 one\r\n250 two\r\n"), "reply.trailing_data");
  EXPECT_EQ(CodeOf("250 one\r\nfoo"), "reply.trailing_data");
  EXPECT_EQ(CodeOf("250-one\r\n\r\n250 two"), "reply.bad_code");
  EXPECT_EQ(CodeOf(absl::string_view("250 o\0k", 7)),
            "reply.control_character");
  EXPECT_EQ(CodeOf("250 a\rb"), "reply.control_character");
  EXPECT_EQ(CodeOf("250 a\r"), "reply.control_character");
  EXPECT_EQ(CodeOf("250 a\x1b[31m"), "reply.control_character");
  EXPECT_EQ(CodeOf("250 a\x7f"), "reply.control_character");
  EXPECT_EQ(CodeOf("250 tab\tis fine"), "");
}

TEST(SmtpReplyTest, ErrorsDoNotEchoInput) {
  absl::Status s = ParseSmtpReply("250-secret\r\n251 token-XYZ").status();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(s.message()).find("XYZ"), std::string::npos);
  EXPECT_EQ(std::string(s.message()).find("secret"), std::string::npos);
}

TEST(SmtpReplyTest, MixedLineEndings) {
  absl::StatusOr<SmtpReply> r = ParseSmtpReply("250-a\n250-b\r\n250 c\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->text, "a\nb\nc");
}

TEST(SmtpReplyTest, Limits) {
  std::string ok_line = "550 " + std::string(kMaxLineOctets - 4, 'x');
  EXPECT_TRUE(ParseSmtpReply(ok_line).ok());
  std::string long_line = "550 " + std::string(kMaxLineOctets - 3, 'x');
  EXPECT_EQ(CodeOf(long_line), "reply.line_too_long");

  std::string many;
  for (size_t i = 0; i < kMaxReplyLines; ++i) many += "250-x\r\n";
  many += "250 x\r\n";
  EXPECT_EQ(CodeOf(many), "reply.too_many_lines");

  std::string huge(kMaxReplyOctets + 1, 'x');
  EXPECT_EQ(CodeOf(huge), "reply.too_long");
}

TEST(SmtpReplyTest, Utf8TextKeptInvalidReplaced) {
  absl::StatusOr<SmtpReply> r =
      ParseSmtpReply("550 5.1.1 Empf\xc3\xa4nger unbekannt");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->text, "Empf\xc3\xa4nger unbekannt");
  r = ParseSmtpReply("550 Empf\xe4nger \xc3");  // Latin-1, truncated UTF-8
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->text, "Empf\xef\xbf\xbdnger \xef\xbf\xbd");
  r = ParseSmtpReply("550 \xed\xa0\x80 \xf4\x90\x80\x80");  // surrogate, >max
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->text.find("\xed\xa0"), std::string::npos);
  EXPECT_EQ(r->text.find("\xf4\x90"), std::string::npos);
}

bool IsValidUtf8(absl::string_view s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char b = static_cast<unsigned char>(s[i]);
    size_t n;
    if (b < 0x80) {
      n = 0;
    } else if (b >= 0xC2 && b <= 0xDF) {
      n = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      n = 2;
    } else if (b >= 0xF0 && b <= 0xF4) {
      n = 3;
    } else {
      return false;
    }
    if (i + n >= s.size() && n > 0) return false;
    for (size_t k = 1; k <= n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n + 1;
  }
  return true;
}

// Deterministic fuzz: random bytes and mutated valid replies. Every input is
// either parsed (with a consistent result) or refused with InvalidArgument.
TEST(SmtpReplyTest, FuzzNeverCrashes) {
  std::mt19937 rng(20261126);
  const std::string seeds[] = {
      "250 OK\r\n",
      "550-5.1.1 a\r\n550-5.1.1 b\r\n550 5.1.1 c\r\n",
      "421 4.7.0 try later\n",
      "250-x\r\n250 2.0.0 y",
  };
  const char alphabet[] =
      "0123455-. \r\n\t\x00\x80\xc3\xff"
      "245.";
  int ok = 0, refused = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string input;
    if (iter % 2 == 0) {
      size_t n = rng() % 64;
      for (size_t i = 0; i < n; ++i) {
        input.push_back(iter % 4 == 0
                            ? static_cast<char>(rng() & 0xFF)
                            : alphabet[rng() % (sizeof(alphabet) - 1)]);
      }
    } else {
      input = seeds[rng() % 4];
      int edits = 1 + rng() % 4;
      for (int e = 0; e < edits && !input.empty(); ++e) {
        size_t pos = rng() % input.size();
        switch (rng() % 3) {
          case 0:
            input[pos] = alphabet[rng() % (sizeof(alphabet) - 1)];
            break;
          case 1:
            input.erase(pos, 1);
            break;
          default:
            input.insert(pos, 1, static_cast<char>(rng() & 0xFF));
        }
      }
    }
    absl::StatusOr<SmtpReply> r = ParseSmtpReply(input);
    if (r.ok()) {
      ++ok;
      ASSERT_GE(r->code, 200);
      ASSERT_LE(r->code, 559);
      ASSERT_GE(r->line_count, 1);
      ASSERT_TRUE(IsValidUtf8(r->text)) << absl::CEscape(input);
      if (r->enhanced) {
        ASSERT_EQ(r->enhanced->klass, r->code_class());
      }
    } else {
      ++refused;
      ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
      ASSERT_FALSE(SmtpReplyErrorCode(r.status()).empty()) << r.status();
    }
    FoundStatusCodes found = FindStatusCodesInText(input);
    if (found.enhanced) {
      ASSERT_TRUE(found.enhanced->klass == 2 || found.enhanced->klass == 4 ||
                  found.enhanced->klass == 5);
      ASSERT_LE(found.enhanced->subject, 999);
      ASSERT_LE(found.enhanced->detail, 999);
    }
  }
  // The fuzz must exercise both paths.
  EXPECT_GT(ok, 100);
  EXPECT_GT(refused, 100);
}

TEST(FindStatusCodesTest, DsnDiagnosticCodes) {
  struct Case {
    const char* text;
    int reply;  // 0: none
    const char* enhanced;
  };
  const Case cases[] = {
      {"smtp; 550 5.1.1 <x@y.example>: Recipient address rejected", 550,
       "5.1.1"},
      {"smtp;550 5.2.2 mailbox full", 550, "5.2.2"},
      {"X-Postfix; host mx.example.net[192.0.2.25] said: 554 5.7.1 "
       "Service unavailable",
       554, "5.7.1"},
      {"smtp; 550-5.1.1 The mailbox is unknown", 550, "5.1.1"},
      {"sorry, no mailbox here by that name (#5.1.1)", 0, "5.1.1"},
      {"#550 5.4.1 Recipient address rejected: Access denied", 550, "5.4.1"},
      {"Host 192.168.250.1 said 421 try later", 421, ""},
      {"version 2.5.1234 build 250.1 nothing", 0, ""},
      {"listed on 5.1.1.1.zen.example", 0, ""},
      {"v5.1.1 no", 0, ""},
      {"smtp; 550 Requested action not taken", 550, ""},
      {"delivery failed: 5.4.7 timed out.", 0, "5.4.7"},
      {"452 during 552 5.2.2 over quota", 552, "5.2.2"},
      {"", 0, ""},
  };
  for (const Case& c : cases) {
    FoundStatusCodes f = FindStatusCodesInText(c.text);
    EXPECT_EQ(f.reply_code.value_or(0), c.reply) << c.text;
    EXPECT_EQ(f.enhanced ? f.enhanced->ToString() : "", c.enhanced) << c.text;
  }
}

}  // namespace
}  // namespace deliverd::hygiene::bounce
