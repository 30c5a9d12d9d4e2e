#include "hygiene/disposable_domains.h"

#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "gtest/gtest.h"
#include "hygiene/data/embedded_data.h"
#include "hygiene/address.h"

namespace deliverd::hygiene {
namespace {

TEST(IsDisposableDomain, ListedDomains) {
  for (const char* domain :
       {"mailinator.com", "10minutemail.com", "guerrillamail.com",
        "yopmail.com", "trashmail.com"}) {
    EXPECT_TRUE(IsDisposableDomain(domain)) << domain;
  }
}

TEST(IsDisposableDomain, ProvidersAndOrdinaryDomainsAreNot) {
  for (const char* domain :
       {"gmail.com", "yahoo.com", "outlook.com", "example.com", "web.de",
        "mail.ru", "com", "", ".", "[192.0.2.1]", "mailinator.com.evil.org",
        "mailinator.co"}) {
    EXPECT_FALSE(IsDisposableDomain(domain)) << domain;
  }
}

TEST(IsDisposableDomain, ParentDomainMatches) {
  EXPECT_TRUE(IsDisposableDomain("x.mailinator.com"));
  EXPECT_TRUE(IsDisposableDomain("a.b.c.yopmail.com"));
  // A label that merely ends with the listed name is not a subdomain.
  EXPECT_FALSE(IsDisposableDomain("xmailinator.com"));
  EXPECT_FALSE(IsDisposableDomain("mailinator.com.example.org"));
}

TEST(IsDisposableDomain, CaseAndRootDot) {
  EXPECT_TRUE(IsDisposableDomain("MAILINATOR.COM"));
  EXPECT_TRUE(IsDisposableDomain("Sub.Mailinator.Com"));
  EXPECT_TRUE(IsDisposableDomain("mailinator.com."));
}

TEST(IsDisposableDomain, IdnDomainsInALabelForm) {
  // xn--9kq967o.com is listed; ParseAddress gives the A-label form of its
  // Unicode spelling, and of a Unicode subdomain of a listed name.
  auto listed = ParseAddress("user@\xE9\x9B\xA8\xE4\xBA\x91.com");
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->domain_ascii, "xn--9kq967o.com");
  EXPECT_TRUE(IsDisposableDomain(listed->domain_ascii));

  auto sub = ParseAddress(
      "user@b\xC3\xBC"
      "cher.Mailinator.com");
  ASSERT_TRUE(sub.ok()) << sub.status();
  EXPECT_EQ(sub->domain_ascii, "xn--bcher-kva.mailinator.com");
  EXPECT_TRUE(IsDisposableDomain(sub->domain_ascii));

  auto plain = ParseAddress(
      "user@b\xC3\xBC"
      "cher.de");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE(IsDisposableDomain(plain->domain_ascii));
}

TEST(IsDisposableDomain, OverlongInput) {
  EXPECT_FALSE(IsDisposableDomain(std::string(300, 'a') + ".mailinator.com"));
}

TEST(DisposableDomainCount, TheEmbeddedListIsLoaded) {
  // The file holds several thousand domains; a broken embedding (empty file,
  // every line taken for a comment) fails here.
  EXPECT_GT(DisposableDomainCount(), 5000u);
}

// The hashed index (one pass over the name, all parents hashed on the way)
// against a plain set and the parent walk of the header.
TEST(IsDisposableDomain, AgreesWithAPlainSetAndParentWalk) {
  std::set<std::string> listed;
  std::vector<std::string> entries;
  for (absl::string_view entry :
       embedded::DataEntries(embedded::disposable_domains())) {
    if (!entry.empty() && entry.back() == '.') entry.remove_suffix(1);
    if (entry.empty()) continue;
    listed.insert(absl::AsciiStrToLower(entry));
    entries.emplace_back(entry);
  }
  EXPECT_EQ(DisposableDomainCount(), listed.size());
  auto reference = [&](std::string d) {
    if (!d.empty() && d.back() == '.') d.pop_back();
    if (d.empty() || d.size() > 255 || d.front() == '[') return false;
    d = absl::AsciiStrToLower(d);
    for (absl::string_view rest = d; !rest.empty();) {
      if (listed.count(std::string(rest)) != 0) return true;
      const size_t dot = rest.find('.');
      if (dot == absl::string_view::npos) break;
      rest.remove_prefix(dot + 1);
    }
    return false;
  };
  std::mt19937 rng(5);
  std::vector<std::string> inputs;
  for (size_t i = 0; i < entries.size(); i += 3) {
    const std::string& e = entries[i];
    inputs.push_back(e);
    inputs.push_back("sub." + e);
    inputs.push_back("a.B." + absl::AsciiStrToUpper(e) + ".");
    inputs.push_back(e.substr(1));
    inputs.push_back("x" + e);
    inputs.push_back(e + ".org");
    inputs.push_back(e.substr(0, e.size() - 1));
    inputs.push_back("." + e);
    inputs.push_back("a.." + e);
  }
  for (const char* other :
       {"", ".", "..", "com", "com.", "a.com", "[192.0.2.1]", "x..",
        "gmail.com", "mail.ru"}) {
    inputs.push_back(other);
  }
  for (const std::string& in : inputs) {
    EXPECT_EQ(IsDisposableDomain(in), reference(in)) << in;
  }
}

}  // namespace
}  // namespace deliverd::hygiene
