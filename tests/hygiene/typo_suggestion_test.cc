#include "hygiene/typo_suggestion.h"

#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "hygiene/address.h"

namespace deliverd::hygiene {
namespace {

std::string Suggest(const std::string& domain) {
  return SuggestDomain(domain).value_or("(none)");
}

TEST(SuggestDomain, CommonTypos) {
  EXPECT_EQ(Suggest("gmial.com"), "gmail.com");      // transposition
  EXPECT_EQ(Suggest("hotmial.com"), "hotmail.com");  // transposition
  EXPECT_EQ(Suggest("yahooo.com"), "yahoo.com");     // insertion
  EXPECT_EQ(Suggest("gmai.com"), "gmail.com");       // deletion
  EXPECT_EQ(Suggest("gnail.com"), "gmail.com");      // substitution
  EXPECT_EQ(Suggest("hotmaill.co.uk"), "hotmail.co.uk");
  EXPECT_EQ(Suggest("outloook.com"), "outlook.com");
  EXPECT_EQ(Suggest("googlmial.com"), "googlemail.com");  // two edits, long
  EXPECT_EQ(Suggest("googlemial.com"), "googlemail.com");
  EXPECT_EQ(Suggest("protonmial.com"), "protonmail.com");
}

TEST(SuggestDomain, TldTypos) {
  EXPECT_EQ(Suggest("gmail.con"), "gmail.com");
  EXPECT_EQ(Suggest("gmail.cmo"), "gmail.com");
  EXPECT_EQ(Suggest("yahoo.ocm"), "yahoo.com");
  EXPECT_EQ(Suggest("gmail.co"), "gmail.com");
  // A never-delegated TLD is fixed for any domain, then the name too.
  EXPECT_EQ(Suggest("example.con"), "example.com");
  EXPECT_EQ(Suggest("gmial.con"), "gmail.com");
  EXPECT_EQ(Suggest("example.ogr"), "example.org");
}

TEST(SuggestDomain, CaseAndRootDot) {
  EXPECT_EQ(Suggest("GMIAL.COM"), "gmail.com");
  EXPECT_EQ(Suggest("gmial.com."), "gmail.com");
}

TEST(SuggestDomain, NothingForListedOrUnrelatedDomains) {
  for (const char* domain :
       {"gmail.com", "GMail.com", "googlemail.com", "hotmail.co.uk", "gmx.de",
        "web.de", "mail.ru", "example.com", "example.org", "deliverd.dev",
        "university.edu", "xn--bcher-kva.de", "[192.0.2.1]", "", "."}) {
    EXPECT_EQ(Suggest(domain), "(none)") << domain;
  }
}

TEST(SuggestDomain, NothingWhenAmbiguous) {
  // hotmail.fr and hotmail.de are both one edit away.
  EXPECT_EQ(Suggest("hotmail.fe"), "(none)");
  EXPECT_EQ(Suggest("outlook.dr"), "(none)");
  // Cut short: hotmail.com or hotmail.co.uk?
  EXPECT_EQ(Suggest("hotmail.co"), "(none)");
  EXPECT_EQ(Suggest("yahoo.co"), "(none)");
}

TEST(SuggestDomain, NothingForShortNamesOrTooManyEdits) {
  // Short first labels sit next to many real domains.
  EXPECT_EQ(Suggest("gmz.de"), "(none)");
  EXPECT_EQ(Suggest("aoi.com"), "(none)");
  EXPECT_EQ(Suggest("wed.de"), "(none)");
  // gmail has five letters: one edit only.
  EXPECT_EQ(Suggest("gmaiil.comm"), "gmail.com");  // TLD fix, then one edit
  EXPECT_EQ(Suggest("gnial.com"), "(none)");
  // hotmail has seven letters: one edit only.
  EXPECT_EQ(Suggest("hotnial.com"), "(none)");
  // Three edits from anything.
  EXPECT_EQ(Suggest("hxtnxal.com"), "(none)");
}

TEST(SuggestDomain, RealLookalikeNamesAreLeftAlone) {
  // Real domains (from the disposable list) two edits from a provider.
  for (const char* domain : {"yopmail.fr", "fanymail.com", "famamail.com",
                             "omail.de", "zetmail.com", "chogmail.com"}) {
    EXPECT_EQ(Suggest(domain), "(none)") << domain;
  }
}

TEST(SuggestDomain, IdnDomainFromParser) {
  auto parsed = ParseAddress(
      "user@G\xC3\xBC"
      "mail.com");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  // xn--gmail-jua.com is not a listed provider and is far from all of them.
  EXPECT_EQ(Suggest(parsed->domain_ascii), "(none)");
  auto typo = ParseAddress("user@GMIAL.com");
  ASSERT_TRUE(typo.ok());
  EXPECT_EQ(Suggest(typo->domain_ascii), "gmail.com");
}

TEST(SuggestDomain, LongInputIsCheap) {
  EXPECT_EQ(Suggest(std::string(300, 'a') + ".com"), "(none)");
  EXPECT_EQ(Suggest(std::string(200, 'g') + ".con"),
            std::string(200, 'g') + ".com");
}

TEST(BoundedEditDistance, Values) {
  EXPECT_EQ(BoundedEditDistance("gmail.com", "gmail.com", 2), 0);
  EXPECT_EQ(BoundedEditDistance("gmial.com", "gmail.com", 2), 1);
  EXPECT_EQ(BoundedEditDistance("gmail.com", "gmal.com", 2), 1);
  EXPECT_EQ(BoundedEditDistance("ab", "ba", 2), 1);
  EXPECT_EQ(BoundedEditDistance("abcd", "badc", 2), 2);
  EXPECT_EQ(BoundedEditDistance("", "ab", 2), 2);
  EXPECT_EQ(BoundedEditDistance("kitten", "sitting", 2), 3);  // capped
  EXPECT_EQ(BoundedEditDistance("a", "abcd", 2), 3);
  EXPECT_EQ(BoundedEditDistance("abc", "xyz", 5), 3);
}

}  // namespace
}  // namespace deliverd::hygiene
