#include "hygiene/disposable_domains.h"

#include "gtest/gtest.h"
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

}  // namespace
}  // namespace deliverd::hygiene
