#include "hygiene/typo_suggestion.h"

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "hygiene/address.h"
#include "hygiene/data/embedded_data.h"

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

// The optimal-string-alignment distance, full table, no bound.
int ReferenceDistance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int>(i);
  for (size_t j = 0; j <= m; ++j) d[0][j] = static_cast<int>(j);
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1,
                          d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

// Up to max_len characters drawn from `alphabet`.
std::string RandomString(std::mt19937& rng, const std::string& alphabet,
                         size_t max_len) {
  std::string s(rng() % (max_len + 1), 'a');
  for (char& c : s) c = alphabet[rng() % alphabet.size()];
  return s;
}

TEST(BoundedEditDistance, AgreesWithTheFullTable) {
  std::mt19937 rng(7);
  const std::string alphabet = "abc.";
  for (int round = 0; round < 20000; ++round) {
    const std::string a = RandomString(rng, alphabet, 9);
    const std::string b = RandomString(rng, alphabet, 9);
    const int bound = static_cast<int>(rng() % 4);
    const int want = std::min(ReferenceDistance(a, b), bound + 1);
    ASSERT_EQ(BoundedEditDistance(a, b, bound), want)
        << a << " / " << b << " bound " << bound;
  }
}

TEST(SuggestDomain, TopLevelTyposMatchWholeLabelsOnly) {
  // A label that merely ends like a typo, or holds a NUL before it, is not
  // that typo.
  EXPECT_EQ(Suggest(std::string("example.\0con", 12)), "(none)");
  EXPECT_EQ(Suggest("example.xcon"), "(none)");
  EXPECT_EQ(Suggest("example.con"), "example.com");
}

TEST(WithinOneEdit, AgreesWithTheFullTable) {
  std::mt19937 rng(8);
  const std::string alphabet = "ab.";
  int near = 0;
  for (int round = 0; round < 50000; ++round) {
    const std::string a = RandomString(rng, alphabet, 7);
    // Half the pairs one random edit apart, so both answers are common.
    std::string b = RandomString(rng, alphabet, 7);
    if (round % 2 == 0 && !a.empty()) {
      b = a;
      const size_t pos = rng() % b.size();
      switch (rng() % 4) {
        case 0:
          b.insert(b.begin() + pos, alphabet[rng() % alphabet.size()]);
          break;
        case 1:
          b.erase(pos, 1);
          break;
        case 2:
          b[pos] = alphabet[rng() % alphabet.size()];
          break;
        default:
          if (pos + 1 < b.size()) std::swap(b[pos], b[pos + 1]);
      }
    }
    const bool want = ReferenceDistance(a, b) <= 1;
    near += want;
    ASSERT_EQ(WithinOneEdit(a, b), want) << a << " / " << b;
  }
  EXPECT_GT(near, 10000);
  EXPECT_LT(near, 40000);
}

// SuggestDomain as the header states it, without any of the shortcuts of
// the implementation (length index, character-class filter, the first search
// over candidates' own bounds, the hashed rule-1 set): every listed domain,
// full distance table.
struct ReferenceSuggester {
  std::vector<std::string> listed;

  ReferenceSuggester() {
    for (absl::string_view entry :
         embedded::DataEntries(embedded::common_domains())) {
      std::string d = absl::AsciiStrToLower(entry);
      if (!d.empty() && d.back() == '.') d.pop_back();
      if (!d.empty()) listed.push_back(d);
    }
    std::sort(listed.begin(), listed.end());
    listed.erase(std::unique(listed.begin(), listed.end()), listed.end());
  }

  static int Bound(const std::string& d) {
    const size_t first = std::min(d.find('.'), d.size());
    return first <= 3 ? 0 : first <= 8 ? 1 : 2;
  }
  bool IsListed(const std::string& d) const {
    return std::binary_search(listed.begin(), listed.end(), d);
  }
  bool IsTruncation(const std::string& d) const {
    for (const std::string& c : listed) {
      if (c.size() > d.size() && c[d.size()] == '.' &&
          absl::StartsWith(c, d)) {
        return true;
      }
    }
    return false;
  }
  std::optional<std::string> Nearest(const std::string& d) const {
    int best = 3;
    int ties = 0;
    const std::string* best_c = nullptr;
    for (const std::string& c : listed) {
      const int dist = ReferenceDistance(d, c);
      if (dist > 2) continue;
      if (dist < best) {
        best = dist;
        best_c = &c;
        ties = 1;
      } else if (dist == best) {
        ++ties;
      }
    }
    if (best_c == nullptr || ties != 1 || best > Bound(*best_c)) {
      return std::nullopt;
    }
    return *best_c;
  }
  std::optional<std::string> Suggest(std::string d) const {
    if (!d.empty() && d.back() == '.') d.pop_back();
    if (d.empty() || d.size() > 255 || d.front() == '[') return std::nullopt;
    d = absl::AsciiStrToLower(d);
    if (IsListed(d) || IsTruncation(d)) return std::nullopt;
    const size_t dot = d.rfind('.');
    if (dot != std::string::npos && dot > 0) {
      const std::string name = d.substr(0, dot), tld = d.substr(dot + 1);
      static const std::pair<const char*, const char*> kFixes[] = {
          {"con", "com"},  {"cmo", "com"}, {"ocm", "com"},  {"cpm", "com"},
          {"vom", "com"},  {"xom", "com"}, {"cim", "com"},  {"comm", "com"},
          {"coom", "com"}, {"nte", "net"}, {"nett", "net"}, {"ogr", "org"},
          {"prg", "org"}};
      for (const auto& [typo, fix] : kFixes) {
        if (tld != typo) continue;
        const std::string fixed = absl::StrCat(name, ".", fix);
        if (IsListed(fixed)) return fixed;
        if (auto nearer = Nearest(fixed)) return nearer;
        return fixed;
      }
      if (tld == "co" && IsListed(name + ".com")) return name + ".com";
    }
    return Nearest(d);
  }
};

TEST(SuggestDomain, AgreesWithTheReferenceOnEditsAndRealNames) {
  const ReferenceSuggester reference;
  std::mt19937 rng(11);
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-.";
  auto edit = [&](std::string s) {
    const size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
    switch (rng() % 4) {
      case 0:  // insert
        s.insert(s.begin() + pos, alphabet[rng() % alphabet.size()]);
        break;
      case 1:  // delete
        if (pos < s.size()) s.erase(pos, 1);
        break;
      case 2:  // substitute
        if (pos < s.size()) s[pos] = alphabet[rng() % alphabet.size()];
        break;
      default:  // transpose
        if (pos + 1 < s.size()) std::swap(s[pos], s[pos + 1]);
    }
    return s;
  };
  std::vector<std::string> inputs = reference.listed;
  for (const char* extra :
       {"acme.com", "acme.de", "mail.acme.co.uk", "north-river.com.br",
        "wonka.io", "gmx.con", "example.co", "hotmail.co", "yahoo.co"}) {
    inputs.push_back(extra);
  }
  // Real names near the providers: a sample of the disposable list.
  const auto disposable =
      embedded::DataEntries(embedded::disposable_domains());
  for (size_t i = 0; i < disposable.size(); i += 4) {
    inputs.emplace_back(disposable[i]);
  }
  const size_t base = inputs.size();
  for (int round = 0; round < 10000; ++round) {
    std::string s = inputs[rng() % base];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) s = edit(s);
    inputs.push_back(s);
  }
  for (const std::string& in : inputs) {
    ASSERT_EQ(Suggest(in), reference.Suggest(in).value_or("(none)")) << in;
  }
}

}  // namespace
}  // namespace deliverd::hygiene
