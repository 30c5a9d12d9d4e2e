#include "hygiene/offline_verdict.h"

#include "gtest/gtest.h"

namespace deliverd::hygiene {
namespace {

TEST(VerdictName, Spellings) {
  EXPECT_EQ(VerdictName(Verdict::kDeliverable), "deliverable");
  EXPECT_EQ(VerdictName(Verdict::kUndeliverable), "undeliverable");
  EXPECT_EQ(VerdictName(Verdict::kRisky), "risky");
  EXPECT_EQ(VerdictName(Verdict::kUnknown), "unknown");
}

TEST(VerifyOffline, OrdinaryAddressIsUnknown) {
  const AddressVerdict v = VerifyOffline("  Jane.Doe@Example.COM ");
  EXPECT_EQ(v.address, "  Jane.Doe@Example.COM ");
  EXPECT_TRUE(v.valid);
  EXPECT_EQ(v.normalized, "Jane.Doe@example.com");
  EXPECT_EQ(v.verdict, Verdict::kUnknown);
  EXPECT_EQ(v.reason, "ok.syntax");
  EXPECT_EQ(v.suggestion, "");
  EXPECT_FALSE(v.role);
  EXPECT_FALSE(v.disposable);
  EXPECT_FALSE(v.smtputf8);
}

TEST(VerifyOffline, SyntaxErrorIsUndeliverableWithTheParserCode) {
  AddressVerdict v = VerifyOffline("jane.example.com");
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.verdict, Verdict::kUndeliverable);
  EXPECT_EQ(v.reason, "syntax.missing_at");
  EXPECT_EQ(v.normalized, "");

  v = VerifyOffline("a@b@gmial.com");
  EXPECT_EQ(v.reason, "syntax.multiple_at");
  EXPECT_EQ(v.suggestion, "");
  EXPECT_FALSE(v.role);

  EXPECT_EQ(VerifyOffline("").reason, "syntax.empty");
  EXPECT_EQ(VerifyOffline("a@localhost").reason, "syntax.dotless_domain");
}

TEST(VerifyOffline, DisposableIsRisky) {
  const AddressVerdict v = VerifyOffline("someone@X.Mailinator.com");
  EXPECT_TRUE(v.valid);
  EXPECT_TRUE(v.disposable);
  EXPECT_EQ(v.verdict, Verdict::kRisky);
  EXPECT_EQ(v.reason, "risky.disposable");
}

TEST(VerifyOffline, TypoIsRiskyWithAFullSuggestion) {
  AddressVerdict v = VerifyOffline("Jane@gmial.com");
  EXPECT_EQ(v.verdict, Verdict::kRisky);
  EXPECT_EQ(v.reason, "risky.typo");
  EXPECT_EQ(v.suggestion, "Jane@gmail.com");

  v = VerifyOffline("\"john smith\"@hotmial.com");
  EXPECT_EQ(v.suggestion, "\"john smith\"@hotmail.com");
  EXPECT_EQ(VerifyOffline("x@gmail.con").suggestion, "x@gmail.com");
  EXPECT_EQ(VerifyOffline("x@yahooo.com").suggestion, "x@yahoo.com");
}

TEST(VerifyOffline, RoleAccountIsRisky) {
  const AddressVerdict v = VerifyOffline("No-Reply+x@example.org");
  EXPECT_TRUE(v.role);
  EXPECT_EQ(v.verdict, Verdict::kRisky);
  EXPECT_EQ(v.reason, "risky.role_account");
}

TEST(VerifyOffline, PrecedenceTypoThenDisposableThenRole) {
  AddressVerdict v = VerifyOffline("postmaster@yopmail.com");
  EXPECT_TRUE(v.role);
  EXPECT_TRUE(v.disposable);
  EXPECT_EQ(v.reason, "risky.disposable");

  v = VerifyOffline("info@gnail.com");
  EXPECT_TRUE(v.role);
  EXPECT_EQ(v.suggestion, "info@gmail.com");
  EXPECT_EQ(v.reason, "risky.typo");

  // gmial.com is on the disposable list (typo-squatted): the typo wins.
  v = VerifyOffline("jane@gmial.com");
  EXPECT_TRUE(v.disposable);
  EXPECT_EQ(v.suggestion, "jane@gmail.com");
  EXPECT_EQ(v.reason, "risky.typo");
}

TEST(VerifyOffline, SpecialUseDomainsAreUndeliverable) {
  for (const char* address :
       {"a@foo.test", "a@example.invalid", "a@host.localhost", "a@x.example",
        "a@printer.local", "a@abc.onion", "a@1.0.0.127.in-addr.arpa",
        "postmaster@mailinator.test"}) {
    const AddressVerdict v = VerifyOffline(address);
    EXPECT_TRUE(v.valid) << address;
    EXPECT_EQ(v.verdict, Verdict::kUndeliverable) << address;
    EXPECT_EQ(v.reason, "undeliverable.special_use_domain") << address;
  }
  // Not special use: only the top-level label counts.
  EXPECT_EQ(VerifyOffline("a@test.com").reason, "ok.syntax");
}

TEST(VerifyOffline, IdnAndSmtputf8) {
  AddressVerdict v = VerifyOffline("b@ex\xC3\xA4mple.de");
  EXPECT_TRUE(v.valid);
  EXPECT_EQ(v.normalized, "b@xn--exmple-cua.de");
  EXPECT_FALSE(v.smtputf8);
  EXPECT_EQ(v.reason, "ok.syntax");

  v = VerifyOffline("j\xC3\xBCrgen@example.de");
  EXPECT_TRUE(v.smtputf8);
  EXPECT_EQ(v.verdict, Verdict::kUnknown);

  // A Unicode subdomain of a disposable provider.
  v = VerifyOffline(
      "a@b\xC3\xBC"
      "cher.yopmail.com");
  EXPECT_TRUE(v.disposable);
  EXPECT_EQ(v.reason, "risky.disposable");
}

TEST(VerifyOffline, AddressLiteral) {
  AddressVerdict v = VerifyOffline("user@[192.0.2.1]");
  EXPECT_TRUE(v.valid);
  EXPECT_EQ(v.reason, "ok.syntax");
  EXPECT_FALSE(v.disposable);
  EXPECT_EQ(v.suggestion, "");
  v = VerifyOffline("postmaster@[192.0.2.1]");
  EXPECT_EQ(v.reason, "risky.role_account");
}

}  // namespace
}  // namespace deliverd::hygiene
