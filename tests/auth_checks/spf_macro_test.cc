// SPF macro expansion (RFC 7208 section 7): letters, transformers,
// delimiters, escapes, URL-escaping and syntax errors.
#include "auth_checks/spf/spf_macro.h"

#include <string>

#include "gtest/gtest.h"

namespace deliverd::auth_checks::spf {
namespace {

MacroContext Context() {
  MacroContext c;
  c.sender = "first.last+tag@mail.sender.example";
  c.local_part = "first.last+tag";
  c.sender_domain = "mail.sender.example";
  c.domain = "sub.domain.example";
  c.ip = "192.0.2.3";
  c.helo = "mx.helo.example";
  c.receiver = "mx.receiver.example";
  c.timestamp = 1234567890;
  c.validated_domain = [] { return std::string("ptr.client.example"); };
  return c;
}

std::string Expand(const std::string& text, bool exp = false,
                   MacroContext c = Context()) {
  absl::StatusOr<std::string> r = ExpandMacroString(text, c, exp);
  return r.ok() ? *r : "ERROR: " + std::string(r.status().message());
}

TEST(SpfMacroTest, Letters) {
  EXPECT_EQ(Expand("%{s}"), "first.last+tag@mail.sender.example");
  EXPECT_EQ(Expand("%{l}"), "first.last+tag");
  EXPECT_EQ(Expand("%{o}"), "mail.sender.example");
  EXPECT_EQ(Expand("%{d}"), "sub.domain.example");
  EXPECT_EQ(Expand("%{i}"), "192.0.2.3");
  EXPECT_EQ(Expand("%{p}"), "ptr.client.example");
  EXPECT_EQ(Expand("%{v}"), "in-addr");
  EXPECT_EQ(Expand("%{h}"), "mx.helo.example");
  EXPECT_EQ(Expand("%{c} %{r} %{t}", true),
            "192.0.2.3 mx.receiver.example 1234567890");
}

TEST(SpfMacroTest, Ipv6Forms) {
  MacroContext c = Context();
  c.ip = "2001:db8::cb01";
  c.ipv6 = true;
  EXPECT_EQ(Expand("%{v}", false, c), "ip6");
  EXPECT_EQ(Expand("%{i}", false, c),
            "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.b.0.1");
  EXPECT_EQ(Expand("%{c}", true, c), "2001:db8::cb01");
}

TEST(SpfMacroTest, DigitsAndReverse) {
  EXPECT_EQ(Expand("%{d2}"), "domain.example");
  EXPECT_EQ(Expand("%{d9}"), "sub.domain.example");
  EXPECT_EQ(Expand("%{dr}"), "example.domain.sub");
  EXPECT_EQ(Expand("%{d2r}"), "domain.sub");
  EXPECT_EQ(Expand("%{ir}.zone.example"), "3.2.0.192.zone.example");
  EXPECT_EQ(Expand("%{i1r}"), "192");
}

TEST(SpfMacroTest, Delimiters) {
  EXPECT_EQ(Expand("%{l-}"), "first.last+tag");  // One part: unchanged.
  EXPECT_EQ(Expand("%{l+}"), "first.last.tag");
  EXPECT_EQ(Expand("%{lr.+}"), "tag.last.first");
  EXPECT_EQ(Expand("%{l1r+.}"), "first");
}

TEST(SpfMacroTest, Escapes) {
  EXPECT_EQ(Expand("100%%"), "100%");
  EXPECT_EQ(Expand("a%_b", true), "a b");
  EXPECT_EQ(Expand("a%-b"), "a%20b");
}

TEST(SpfMacroTest, UpperCaseUrlEscapes) {
  EXPECT_EQ(Expand("%{S}"), "first.last%2Btag%40mail.sender.example");
  EXPECT_EQ(Expand("%{L}"), "first.last%2Btag");
}

TEST(SpfMacroTest, ExplanationOnlyPieces) {
  EXPECT_NE(Expand("%{c}").rfind("ERROR", 0), std::string::npos);
  EXPECT_NE(Expand("a b").rfind("ERROR", 0), std::string::npos);
  EXPECT_EQ(Expand("a b", true), "a b");
}

TEST(SpfMacroTest, SyntaxErrors) {
  EXPECT_FALSE(ValidateMacroString("%{x}", false).ok());
  EXPECT_FALSE(ValidateMacroString("%{d0}", false).ok());
  EXPECT_FALSE(ValidateMacroString("%{d", false).ok());
  EXPECT_FALSE(ValidateMacroString("%{d2x}", false).ok());
  EXPECT_FALSE(ValidateMacroString("50%", false).ok());
  EXPECT_FALSE(ValidateMacroString("%a", false).ok());
  EXPECT_TRUE(ValidateMacroString("%{d2r.-+,/_=}.x", false).ok());
}

TEST(SpfMacroTest, PLookupHappensOnlyWhenUsed) {
  MacroContext c = Context();
  int calls = 0;
  c.validated_domain = [&calls] {
    ++calls;
    return std::string("p.example");
  };
  EXPECT_EQ(Expand("%{d}", false, c), "sub.domain.example");
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(Expand("%{p}.%{p1}", false, c), "p.example.example");
  EXPECT_EQ(calls, 1);
}

TEST(SpfMacroTest, TruncateDomain) {
  std::string label(60, 'a');
  std::string long_name = label + "." + label + "." + label + "." + label +
                          "." + label + ".example";  // 311 octets.
  std::string t = TruncateDomain(long_name);
  EXPECT_LE(t.size(), 253u);
  EXPECT_EQ(t, label + "." + label + "." + label + "." + label + ".example");
  EXPECT_EQ(TruncateDomain("x.example."), "x.example");
}

}  // namespace
}  // namespace deliverd::auth_checks::spf
