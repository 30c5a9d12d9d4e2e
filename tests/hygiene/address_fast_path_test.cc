#include "hygiene/address_fast_path.h"

#include <cstddef>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "hygiene/address.h"

namespace deliverd::hygiene {
namespace {

struct Shortcut {
  bool taken = false;
  std::string normalized;
  size_t at = 0;
};

Shortcut TryShortcut(absl::string_view input) {
  Shortcut out;
  out.taken = ParseCommonAsciiAddress(input, &out.normalized, &out.at);
  return out;
}

TEST(AddressFastPathTest, NormalisesPlainAddresses) {
  Shortcut got = TryShortcut("John.Smith+Tag@Mail.Example.COM");
  ASSERT_TRUE(got.taken);
  EXPECT_EQ(got.normalized, "John.Smith+Tag@mail.example.com");
  EXPECT_EQ(got.at, 14u);

  got = TryShortcut("  a@b-c.d9  ");
  ASSERT_TRUE(got.taken);
  EXPECT_EQ(got.normalized, "a@b-c.d9");
  EXPECT_EQ(got.at, 1u);

  got = TryShortcut("!#$%&'*+-/=?^_`{|}~@x.io");
  ASSERT_TRUE(got.taken);
  EXPECT_EQ(got.normalized, "!#$%&'*+-/=?^_`{|}~@x.io");
}

TEST(AddressFastPathTest, LeavesEverythingElseToTheFullParser) {
  const std::string local64(64, 'a');
  const std::string label63(63, 'b');
  const std::string label64(64, 'b');
  // Accepted at the limits...
  EXPECT_TRUE(TryShortcut(local64 + "@x.com").taken);
  EXPECT_TRUE(TryShortcut("a@" + label63 + ".com").taken);
  // ...and declined, whether valid or not, one step past them or outside the
  // plain-ASCII subset.
  for (const std::string& input : std::vector<std::string>{
           "", "   ", local64 + "a@x.com", "a@" + label64 + ".com",
           "a@" + std::string(250, 'c') + ".com", "a", "@x.com", "a@",
           "a@x", "a@x.", "a@x.com.", "a@.x.com", "a@x..com", ".a@x.com",
           "a.@x.com", "a..b@x.com", "a@-x.com", "a@x-.com", "a@x.com-",
           "a@xn--bcher-kva.de", "a@XN--bcher-kva.de", "a@ab--c.de",
           "a@x.123", "a@[192.0.2.1]", "\"a b\"@x.com", "\"a\"@x.com",
           "a b@x.com", "a@x .com", "a@b@x.com", "a@x_y.com", "a\r@x.com",
           "a@x.com\n", "\ta@x.com", "b\xc3\xbc@x.com", "a@b\xc3\xbc.de",
           "a(c)@x.com", "a@x.com(c)", "<a@x.com>", "a\\b@x.com"}) {
    EXPECT_FALSE(TryShortcut(input).taken) << input;
  }
}

TEST(AddressFastPathTest, WritesNothingWhenDeclining) {
  std::string normalized = "untouched";
  size_t at = 7;
  EXPECT_FALSE(ParseCommonAsciiAddress("a@x", &normalized, &at));
  EXPECT_EQ(normalized, "untouched");
  EXPECT_EQ(at, 7u);
}

// Inputs built from the characters the two parsers branch on, with the
// shapes of real addresses, so that both accepted and refused ones are
// common.
std::string RandomAddress(std::mt19937& rng) {
  static const std::vector<std::string> kPieces = {
      "a", "Z", "m", "0", "9", ".", ".", "-", "-", "+", "_", "!", "~", "@",
      " ", "\"", "\\", "(", "[", "]", "xn--", "XN--", "ab--", "\xc3\xa9",
      "\r", "\x7f", ",", ":", "com", "Example", "mail", "123"};
  std::uniform_int_distribution<int> piece(0, kPieces.size() - 1);
  std::uniform_int_distribution<int> length(0, 6);
  std::uniform_int_distribution<int> coin(0, 9);
  auto part = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += kPieces[piece(rng)];
    return s;
  };
  std::string local = coin(rng) < 7 ? "user" + part(length(rng) / 2)
                                    : part(1 + length(rng));
  std::string domain = coin(rng) < 7
                           ? part(length(rng) / 3) + "host" +
                                 part(length(rng) / 3) + ".Org"
                           : part(1 + length(rng));
  if (coin(rng) == 0) local = std::string(60 + length(rng), 'q');
  if (coin(rng) == 0) domain = std::string(60 + length(rng), 'd') + ".net";
  std::string out = local + "@" + domain;
  if (coin(rng) == 0) out = " " + out + " ";
  return out;
}

TEST(AddressFastPathTest, AgreesWithTheFullParserOnGeneratedInput) {
  std::mt19937 rng(20261127);
  int taken = 0;
  int full_accepted = 0;
  for (int i = 0; i < 200000; ++i) {
    const std::string input = RandomAddress(rng);
    const absl::StatusOr<ParsedAddress> reference =
        ParseAddressWithoutShortcut(input);
    const Shortcut got = TryShortcut(input);
    if (reference.ok()) ++full_accepted;
    if (got.taken) {
      ++taken;
      ASSERT_TRUE(reference.ok()) << input;
      EXPECT_EQ(got.normalized, reference->normalized) << input;
      EXPECT_EQ(absl::string_view(got.normalized).substr(0, got.at),
                reference->local_part)
          << input;
      EXPECT_EQ(absl::string_view(got.normalized).substr(got.at + 1),
                reference->domain_ascii)
          << input;
      EXPECT_EQ(reference->domain_unicode, reference->domain_ascii) << input;
      EXPECT_FALSE(reference->smtputf8 || reference->quoted_local_part ||
                   reference->ip_literal)
          << input;
    }
    // ParseAddress (shortcut first) must equal the reference in every field
    // and every error message.
    const absl::StatusOr<ParsedAddress> parsed = ParseAddress(input);
    ASSERT_EQ(parsed.ok(), reference.ok()) << input;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status(), reference.status()) << input;
    } else {
      EXPECT_EQ(parsed->local_part, reference->local_part) << input;
      EXPECT_EQ(parsed->domain_ascii, reference->domain_ascii) << input;
      EXPECT_EQ(parsed->domain_unicode, reference->domain_unicode) << input;
      EXPECT_EQ(parsed->normalized, reference->normalized) << input;
      EXPECT_EQ(parsed->smtputf8, reference->smtputf8) << input;
      EXPECT_EQ(parsed->quoted_local_part, reference->quoted_local_part)
          << input;
      EXPECT_EQ(parsed->ip_literal, reference->ip_literal) << input;
    }
  }
  // The generator must exercise both sides, or the comparison says little.
  EXPECT_GT(taken, 20000);
  EXPECT_GT(full_accepted - taken, 2000);
  EXPECT_GT(200000 - full_accepted, 20000);
}

}  // namespace
}  // namespace deliverd::hygiene
