// Tests for hygiene/bounce/reply_classifier and hygiene/bounce/reason. The
// replies below are our own paraphrases of the kinds of text large providers
// and common MTAs send (not copies of any provider's wording or of another
// project's test data).
#include "hygiene/bounce/reply_classifier.h"

#include <chrono>
#include <random>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "hygiene/bounce/reason.h"
#include "hygiene/bounce/smtp_reply.h"

namespace deliverd::hygiene::bounce {
namespace {

struct Expect {
  const char* raw;
  Outcome outcome;
  Reason reason;
};

std::string Describe(const ReplyClassification& c) {
  return absl::StrCat(OutcomeName(c.outcome), "/", ReasonName(c.reason), "/",
                      BounceClassName(c.bounce_class), " via ", c.rule);
}

ReplyClassification ClassifyRaw(absl::string_view raw,
                                const ClassifyOptions& options = {}) {
  absl::StatusOr<SmtpReply> r = ParseSmtpReply(raw);
  EXPECT_TRUE(r.ok()) << raw << ": " << r.status();
  if (!r.ok()) return {};
  return ClassifyReply(*r, options);
}

void CheckAll(const Expect* cases, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const Expect& e = cases[i];
    ReplyClassification c = ClassifyRaw(e.raw);
    EXPECT_EQ(c.outcome, e.outcome) << e.raw << " -> " << Describe(c);
    EXPECT_EQ(c.reason, e.reason) << e.raw << " -> " << Describe(c);
    // The class follows from the outcome and reason, always.
    BounceClass want_class =
        c.outcome == Outcome::kAccepted  ? BounceClass::kNone
        : c.outcome == Outcome::kBounced ? BounceClass::kHard
                                         : BounceClass::kSoft;
    EXPECT_EQ(c.bounce_class, want_class) << e.raw << " -> " << Describe(c);
  }
}

TEST(ReasonTest, NamesRoundTripAndClasses) {
  int n = 0;
  const Reason* all = AllReasons(&n);
  EXPECT_EQ(n, 22);
  for (int i = 0; i < n; ++i) {
    absl::string_view name = ReasonName(all[i]);
    ASSERT_TRUE(ParseReason(name).has_value()) << name;
    EXPECT_EQ(*ParseReason(name), all[i]) << name;
  }
  EXPECT_FALSE(ParseReason("User_Unknown").has_value());
  EXPECT_EQ(ClassOfReason(Reason::kUserUnknown), BounceClass::kHard);
  EXPECT_EQ(ClassOfReason(Reason::kHostUnknown), BounceClass::kHard);
  EXPECT_EQ(ClassOfReason(Reason::kHasMoved), BounceClass::kHard);
  EXPECT_EQ(ClassOfReason(Reason::kNotAccept), BounceClass::kHard);
  EXPECT_EQ(ClassOfReason(Reason::kDelivered), BounceClass::kNone);
  EXPECT_EQ(ClassOfReason(Reason::kComplaint), BounceClass::kNone);
  EXPECT_EQ(ClassOfReason(Reason::kAutoReply), BounceClass::kNone);
  for (Reason r : {Reason::kBlocked, Reason::kSpamDetected, Reason::kPolicy,
                   Reason::kRateLimited, Reason::kMailboxFull,
                   Reason::kSuspended, Reason::kUnknown, Reason::kVirus}) {
    EXPECT_EQ(ClassOfReason(r), BounceClass::kSoft) << ReasonName(r);
  }
  for (BounceClass c :
       {BounceClass::kNone, BounceClass::kSoft, BounceClass::kHard}) {
    EXPECT_EQ(ParseBounceClass(BounceClassName(c)), c);
  }
}

TEST(ReplyClassifierTest, Accepted) {
  const Expect cases[] = {
      {"250 2.0.0 OK 1700000000 abc.123 - gsmtp", Outcome::kAccepted,
       Reason::kDelivered},
      {"250 2.0.0 Ok: queued as 4Xy7Zq1mBcz", Outcome::kAccepted,
       Reason::kDelivered},
      {"250 OK id=1abcDE-0001Gh-7Q", Outcome::kAccepted, Reason::kDelivered},
      // Even a 2xx whose text sounds bad is an acceptance.
      {"250 2.1.5 recipient ok, not blocked", Outcome::kAccepted,
       Reason::kDelivered},
      // 3xx is intermediate, never a final success.
      {"354 End data with <CR><LF>.<CR><LF>", Outcome::kTransient,
       Reason::kUnknown},
  };
  CheckAll(cases, sizeof(cases) / sizeof(cases[0]));
}

TEST(ReplyClassifierTest, GmailStyle) {
  const Expect cases[] = {
      {"550-5.1.1 The address you sent to was not found on this system.\r\n"
       "550-5.1.1 Please check it for typing mistakes or extra spaces.\r\n"
       "550 5.1.1 More help is on our support pages. a1b2c3 - gsmtp\r\n",
       Outcome::kBounced, Reason::kUserUnknown},
      {"452-4.2.2 The inbox of the person you wrote to has no space\r\n"
       "452 4.2.2 left. Try again later. x9 - gsmtp\r\n",
       Outcome::kTransient, Reason::kMailboxFull},
      {"552-5.2.2 The mailbox you tried to reach has used up its quota.\r\n"
       "552 5.2.2 zz - gsmtp",
       Outcome::kTransient, Reason::kMailboxFull},
      {"550-5.2.1 The account you are writing to has been disabled\r\n"
       "550 5.2.1 by its owner. q1 - gsmtp",
       Outcome::kFailed, Reason::kSuspended},
      {"550-5.7.1 [192.0.2.7] We think this message is probably\r\n"
       "550 5.7.1 unsolicited mail, so it was not accepted. - gsmtp",
       Outcome::kBlocked, Reason::kSpamDetected},
      {"550-5.7.26 Your message was refused because the sender is\r\n"
       "550 5.7.26 unauthenticated (no passing SPF or DKIM). - gsmtp",
       Outcome::kBlocked, Reason::kSecurityError},
      {"421-4.7.28 Our system sees an unusual rate of mail from your\r\n"
       "421 4.7.28 IP; slow down and retry. - gsmtp",
       Outcome::kTransient, Reason::kRateLimited},
      {"552-5.2.3 Your message is bigger than the limit we accept.\r\n"
       "552 5.2.3 w1 - gsmtp",
       Outcome::kFailed, Reason::kMessageTooLarge},
      {"552-5.7.0 We refused this message: an attachment could be a\r\n"
       "552 5.7.0 security risk. See our attachment help. - gsmtp",
       Outcome::kBlocked, Reason::kPolicy},
  };
  CheckAll(cases, sizeof(cases) / sizeof(cases[0]));
}

TEST(ReplyClassifierTest, MicrosoftStyle) {
  const Expect cases[] = {
      {"550 5.1.1 RESOLVER.ADR.RecipNotFound; recipient not in directory",
       Outcome::kBounced, Reason::kUserUnknown},
      {"550 5.1.10 RESOLVER.ADR.RecipientNotFound; address lookup found "
       "nobody",
       Outcome::kBounced, Reason::kUserUnknown},
      {"550 5.4.1 Recipient address rejected: Access denied. "
       "[AS(201806281)]",
       Outcome::kBounced, Reason::kUserUnknown},
      {"550 5.7.606 Access denied, banned sending IP [192.0.2.8]. To ask "
       "for removal, visit the delisting portal.",
       Outcome::kBlocked, Reason::kBlocked},
      {"550 5.7.1 Messages from [192.0.2.8] were not delivered because part "
       "of your provider's network is on our block list.",
       Outcome::kBlocked, Reason::kBlocked},
      {"550 5.7.509 Access denied, example.com fails DMARC and publishes a "
       "reject policy.",
       Outcome::kBlocked, Reason::kSecurityError},
      {"451 4.7.500 Server busy. Please try again later from [192.0.2.8].",
       Outcome::kTransient, Reason::kSystemError},
      {"554 5.2.2 mailbox full; STOREDRV.Deliver: QuotaExceededException",
       Outcome::kTransient, Reason::kMailboxFull},
      {"554 5.4.14 Hop count exceeded - possible mail loop", Outcome::kFailed,
       Reason::kNetworkError},
      {"550 5.5.0 Requested action not taken: mailbox unavailable.",
       Outcome::kBounced, Reason::kUserUnknown},
  };
  CheckAll(cases, sizeof(cases) / sizeof(cases[0]));
}

TEST(ReplyClassifierTest, YahooStyle) {
  const Expect cases[] = {
      {"554 delivery error: dd This user doesn't have a example.com "
       "account (x@example.com) [0] - mta7",
       Outcome::kBounced, Reason::kUserUnknown},
      {"552 1 Requested mail action aborted, mailbox not found",
       Outcome::kBounced, Reason::kUserUnknown},
      {"553 5.7.1 [BL21] Connections are refused from 192.0.2.9 since the "
       "IP is listed at Spamhaus",
       Outcome::kBlocked, Reason::kBlocked},
      {"421 4.7.0 [TSS04] Mail from 192.0.2.9 temporarily deferred due to "
       "unexpected volume or user complaints",
       Outcome::kTransient, Reason::kBlocked},
      {"554 5.7.9 Message not accepted for policy reasons.", Outcome::kBlocked,
       Reason::kPolicy},
      {"554 30 Sorry, your message cannot be delivered. This mailbox is "
       "disabled (554.30)",
       Outcome::kFailed, Reason::kSuspended},
  };
  CheckAll(cases, sizeof(cases) / sizeof(cases[0]));
}

TEST(ReplyClassifierTest, PostfixDefaults) {
  const Expect cases[] = {
      {"550 5.1.1 <nobody@example.org>: Recipient address rejected: User "
       "unknown in local recipient table",
       Outcome::kBounced, Reason::kUserUnknown},
      {"554 5.7.1 <a@example.org>: Relay access denied", Outcome::kFailed,
       Reason::kRelayDenied},
      {"554 5.7.1 Service unavailable; Client host [192.0.2.3] blocked "
       "using zen.example-rbl.org",
       Outcome::kBlocked, Reason::kBlocked},
      {"450 4.1.1 <a@example.org>: Recipient address rejected: unverified "
       "address: connection to the next hop timed out",
       Outcome::kTransient, Reason::kUserUnknown},  // 4.1.1 is specific
      {"450 4.7.1 <a@example.org>: Recipient address rejected: Greylisted, "
       "come back in 5 minutes",
       Outcome::kTransient, Reason::kPolicy},
      {"552 5.3.4 Message size exceeds fixed limit", Outcome::kFailed,
       Reason::kMessageTooLarge},
      {"452 4.3.1 Insufficient system storage", Outcome::kTransient,
       Reason::kSystemError},
      {"550 5.1.0 <me@sender.example>: Sender address rejected: User "
       "unknown in virtual mailbox table",
       Outcome::kBlocked, Reason::kBlocked},  // refused sender
      {"450 4.1.2 <a@nosuch.example>: Recipient address rejected: Domain "
       "not found",
       Outcome::kTransient, Reason::kHostUnknown},
      {"550 5.4.4 Host or domain name not found. Name service error",
       Outcome::kBounced, Reason::kHostUnknown},
      {"504 5.5.2 <me>: Sender address rejected: need fully-qualified "
       "address",
       Outcome::kBlocked, Reason::kBlocked},  // refused sender
      {"452 4.5.3 Error: too many recipients", Outcome::kTransient,
       Reason::kRateLimited},
  };
  CheckAll(cases, sizeof(cases) / sizeof(cases[0]));
}

TEST(ReplyClassifierTest, EximDefaults) {
  const Expect cases[] = {
      {"550 Unrouteable address", Outcome::kBounced, Reason::kHostUnknown},
      {"550 No Such User Here", Outcome::kBounced, Reason::kUserUnknown},
      {"550 Administrative prohibition", Outcome::kBlocked, Reason::kPolicy},
      {"550 relay not permitted", Outcome::kFailed, Reason::kRelayDenied},
      {"552 Message size exceeds maximum permitted", Outcome::kFailed,
       Reason::kMessageTooLarge},
      {"451 Temporary local problem - please try later", Outcome::kTransient,
       Reason::kSystemError},
      {"550-Verification failed for <me@sender.example>\r\n"
       "550-Called:   192.0.2.40\r\n"
       "550-Sent:     RCPT TO:<me@sender.example>\r\n"
       "550-Response: 550 No such user here\r\n"
       "550 Sender verify failed\r\n",
       Outcome::kBlocked, Reason::kBlocked},
  };
  CheckAll(cases, sizeof(cases) / sizeof(cases[0]));
}

TEST(ReplyClassifierTest, OtherServers) {
  const Expect cases[] = {
      // qmail puts the enhanced code at the end.
      {"553 sorry, that domain isn't in my list of allowed rcpthosts "
       "(#5.7.1)",
       Outcome::kFailed, Reason::kRelayDenied},
      {"550 sorry, no mailbox here by that name. (#5.1.1)", Outcome::kBounced,
       Reason::kUserUnknown},
      // RFC 7504 and RFC 7505.
      {"556 5.1.10 Recipient domain publishes a null MX", Outcome::kBounced,
       Reason::kNotAccept},
      {"521 5.3.2 This host does not accept mail", Outcome::kBounced,
       Reason::kNotAccept},
      {"556 domain accepts no mail", Outcome::kBounced, Reason::kNotAccept},
      {"551 User not local; please try <a@elsewhere.example>",
       Outcome::kBounced, Reason::kHasMoved},
      {"550 5.1.6 Mailbox has moved; no forwarding address", Outcome::kBounced,
       Reason::kHasMoved},
      {"550 5.7.17 Mailbox owner has changed", Outcome::kBounced,
       Reason::kHasMoved},
      {"550 5.1.2 Bad destination system address", Outcome::kBounced,
       Reason::kHostUnknown},
      {"554 5.7.1 Message rejected: virus found (Eicar-Test-Signature)",
       Outcome::kBlocked, Reason::kVirus},
      {"554 5.6.0 Message content rejected: executable attachment",
       Outcome::kBlocked, Reason::kContentRejected},
      {"535 5.7.8 Error: authentication failed: bad credentials",
       Outcome::kFailed, Reason::kSecurityError},
      {"530 5.7.0 Must issue a STARTTLS command first", Outcome::kFailed,
       Reason::kSecurityError},
      {"500 5.5.1 Unrecognized command", Outcome::kFailed,
       Reason::kSystemError},
      {"554 Transaction failed", Outcome::kFailed, Reason::kUnknown},
      {"550 Requested action not taken", Outcome::kFailed, Reason::kUnknown},
      {"552 Requested mail action aborted: exceeded storage allocation",
       Outcome::kTransient, Reason::kMailboxFull},
      {"552 5.5.3 Too many recipients", Outcome::kTransient,
       Reason::kRateLimited},
      {"421 4.4.2 mx.example.net Error: timeout exceeded", Outcome::kTransient,
       Reason::kNetworkError},
      {"421 Too many concurrent SMTP connections; please try again later",
       Outcome::kTransient, Reason::kRateLimited},
      {"550 5.4.7 delivery time expired", Outcome::kFailed, Reason::kExpired},
      // Our submission relay has not verified the sender identity.
      {"554 Message rejected: Email address is not verified. The following "
       "identities failed the check in region X: me@sender.example",
       Outcome::kFailed, Reason::kRelayDenied},
      // "Network error" before the weaker "temporary failure" words.
      {"451 Network error on destination MXs, temporary failure",
       Outcome::kTransient, Reason::kNetworkError},
      // The message breaks RFC 5322 header rules: content, even when the
      // header named is an authentication one.
      {"554 Transaction failed: Duplicate header 'DKIM-Signature'.",
       Outcome::kBlocked, Reason::kContentRejected},
      {"550 5.7.1 Messages with multiple addresses in From: header are not "
       "accepted.",
       Outcome::kBlocked, Reason::kContentRejected},
      // Exchange-style relay refusal.
      {"550 5.7.1 This system is not configured to relay mail from "
       "<a@b.example> to <c@d.example>",
       Outcome::kFailed, Reason::kRelayDenied},
      // The sender's From: or connecting IP refused: blocked.
      {"550 5.2.0 From: Domain is invalid. Please provide a valid From:",
       Outcome::kBlocked, Reason::kBlocked},
      {"550 domain [sender.example] mismatches client ip 192.0.2.1",
       Outcome::kBlocked, Reason::kBlocked},
      // The recipient's domain does not resolve (Outlook.com wording).
      {"554 The mail could not be delivered to the recipient because the "
       "domain is not reachable. Please check the domain and try again",
       Outcome::kBounced, Reason::kHostUnknown},
      // No MX: the domain takes no mail from this receiver (hard).
      {"554 No mx record found for domain=nomail.example", Outcome::kBounced,
       Reason::kNotAccept},
      // Line-length limit: a size problem of this message.
      {"500 Line limit exceeded", Outcome::kFailed, Reason::kMessageTooLarge},
      // The other side lacks the TLS we require.
      {"500 Remote server does not support TLS (state 6)", Outcome::kFailed,
       Reason::kSecurityError},
      // UBE: unsolicited bulk email, a spam verdict.
      {"550 5.7.1 Message content rejected, UBE, id=1234-56", Outcome::kBlocked,
       Reason::kSpamDetected},
      // Content judged a security risk: the receiver's content policy, not
      // a block of our reputation.
      {"552 5.7.0 This message was blocked because its content presents a "
       "potential security issue",
       Outcome::kBlocked, Reason::kPolicy},
      {"550 5.1.8 Sender domain does not resolve", Outcome::kBlocked,
       Reason::kBlocked},
      {"553 5.1.7 The sender address is syntactically invalid",
       Outcome::kBlocked, Reason::kBlocked},
      // "listed" means a blocklist only when the sender is listed.
      {"550 Recipient not listed in our directory", Outcome::kBounced,
       Reason::kUserUnknown},
      {"554 Your address 192.0.2.1 is listed in bl.example.org",
       Outcome::kBlocked, Reason::kBlocked},
  };
  CheckAll(cases, sizeof(cases) / sizeof(cases[0]));
}

TEST(ReplyClassifierTest, EveryFourXxIsTransientAndSoft) {
  const char* texts[] = {"4.1.1 user unknown",
                         "4.1.2 domain not found",
                         "4.7.1 blocked",
                         "4.2.2 mailbox full",
                         "4.3.0 error",
                         "try later",
                         "",
                         "4.1.6 has moved",
                         "4.7.17 owner changed",
                         "4.1.10 null MX"};
  for (int code : {421, 450, 451, 452, 454, 455, 459}) {
    for (const char* text : texts) {
      std::string raw = absl::StrCat(code, " ", text);
      ReplyClassification c = ClassifyRaw(raw);
      EXPECT_EQ(c.outcome, Outcome::kTransient) << raw << Describe(c);
      EXPECT_EQ(c.bounce_class, BounceClass::kSoft) << raw << Describe(c);
    }
  }
}

// Whatever the text says, a policy (X.7.x) code is never a hard bounce
// (except the RFC 7293 owner-changed codes), and block words win over
// address words.
TEST(ReplyClassifierTest, ReputationAndPolicyNeverHard) {
  const char* texts[] = {
      "user unknown",
      "no such user here",
      "mailbox unavailable",
      "Recipient address rejected: Access denied",
      "domain not found",
      "has moved",
      "null MX",
      "The account does not exist",
      "",
  };
  for (int detail : {0, 1, 2, 7, 9, 20, 23, 25, 26, 27, 28, 500, 606, 708}) {
    for (const char* text : texts) {
      for (int code : {550, 553, 554}) {
        std::string raw = absl::StrCat(code, " 5.7.", detail, " ", text);
        ReplyClassification c = ClassifyRaw(raw);
        EXPECT_NE(c.bounce_class, BounceClass::kHard) << raw << Describe(c);
        EXPECT_NE(c.outcome, Outcome::kBounced) << raw << Describe(c);
      }
    }
  }
  const char* blocks[] = {
      "550 Blocked: user unknown check skipped, IP listed in RBL",
      "554 Your IP is on our blacklist; no such user lookups done",
      "550 Message looks like spam; mailbox unavailable",
      "550 rejected by reputation filter: unknown user",
      "553 mailbox unavailable due to local policy",
  };
  for (const char* raw : blocks) {
    ReplyClassification c = ClassifyRaw(raw);
    EXPECT_EQ(c.outcome, Outcome::kBlocked) << raw << Describe(c);
    EXPECT_EQ(c.bounce_class, BounceClass::kSoft) << raw << Describe(c);
  }
}

TEST(ReplyClassifierTest, SessionStageIsNeverHard) {
  ClassifyOptions session;
  session.stage = Stage::kSession;
  for (const char* raw :
       {"550 5.1.1 sender unknown", "521 no mail here",
        "553 5.1.3 bad address syntax", "551 User not local"}) {
    ReplyClassification c = ClassifyRaw(raw, session);
    EXPECT_NE(c.bounce_class, BounceClass::kHard) << raw << Describe(c);
    EXPECT_EQ(c.outcome, Outcome::kBlocked) << raw << Describe(c);
    EXPECT_EQ(c.reason, Reason::kBlocked) << raw << Describe(c);
    // The same reply at the recipient stage is hard.
    EXPECT_EQ(ClassifyRaw(raw).bounce_class, BounceClass::kHard) << raw;
  }
  // Non-hard results are unchanged by the stage.
  EXPECT_EQ(ClassifyRaw("535 5.7.8 authentication failed", session).outcome,
            Outcome::kFailed);
}

TEST(ReplyClassifierTest, MailboxFullOption) {
  ClassifyOptions no_retry;
  no_retry.retry_mailbox_full = false;
  ReplyClassification c = ClassifyRaw("552 5.2.2 over quota", no_retry);
  EXPECT_EQ(c.outcome, Outcome::kFailed);
  EXPECT_EQ(c.reason, Reason::kMailboxFull);
  EXPECT_EQ(c.bounce_class, BounceClass::kSoft);
  // Too many recipients stays transient regardless.
  EXPECT_EQ(ClassifyRaw("552 5.5.3 too many recipients", no_retry).outcome,
            Outcome::kTransient);
}

TEST(ReplyClassifierTest, SpecificCodeBeatsTextGenericCodeDoesNot) {
  // 5.1.1 is specific: the text cannot turn it into something else.
  EXPECT_EQ(ClassifyRaw("550 5.1.1 message too large").reason,
            Reason::kUserUnknown);
  // 5.0.0 is generic: the text decides.
  EXPECT_EQ(ClassifyRaw("550 5.0.0 message too large").reason,
            Reason::kMessageTooLarge);
  EXPECT_EQ(ClassifyRaw("550 5.0.0 something odd").reason, Reason::kUnknown);
  EXPECT_EQ(ClassifyRaw("550 5.0.0 something odd").outcome, Outcome::kFailed);
  // Undefined details fall back to the subject's default.
  EXPECT_EQ(ClassifyRaw("550 5.6.99 odd").reason, Reason::kContentRejected);
  EXPECT_EQ(ClassifyRaw("550 5.3.77 odd").reason, Reason::kSystemError);
  EXPECT_EQ(ClassifyRaw("550 5.7.999 odd").outcome, Outcome::kBlocked);
}

TEST(ReplyClassifierTest, KeywordsAnchoredAtWordStart) {
  // "rbl" inside a word and "spam" inside "antispam-free" style words must
  // not trigger; a genuine word does.
  EXPECT_NE(ClassifyRaw("550 verbling mailbox unavailable").reason,
            Reason::kBlocked);
  EXPECT_EQ(ClassifyRaw("550 listed by RBL").reason, Reason::kBlocked);
  EXPECT_EQ(ClassifyRaw("550 USER UNKNOWN").reason, Reason::kUserUnknown);
}

TEST(ReplyClassifierTest, DiagnosticTextThroughFindStatusCodes) {
  // The DSN path: codes found in a Diagnostic-Code, then classified.
  const char* diag =
      "smtp; 550 5.1.1 <x@example.org>: Recipient address rejected: "
      "User unknown in virtual alias table";
  FoundStatusCodes f = FindStatusCodesInText(diag);
  ASSERT_TRUE(f.reply_code.has_value());
  ReplyClassification c = ClassifyReply(*f.reply_code, f.enhanced, diag);
  EXPECT_EQ(c.outcome, Outcome::kBounced);
  EXPECT_EQ(c.reason, Reason::kUserUnknown);
  EXPECT_EQ(c.rule, "enhanced:5.1.1");
}

TEST(ReplyClassifierTest, InvalidCodeAndMismatchedEnhancedClass) {
  ReplyClassification c = ClassifyReply(700, std::nullopt, "x");
  EXPECT_EQ(c.rule, "invalid_code");
  EXPECT_EQ(c.outcome, Outcome::kFailed);
  // An enhanced code of another class is ignored.
  c = ClassifyReply(550, EnhancedStatusCode{4, 2, 2}, "");
  EXPECT_EQ(c.reason, Reason::kUnknown);
  EXPECT_EQ(c.outcome, Outcome::kFailed);
}

// Invariants over random codes and texts built from keyword fragments: the
// class always follows from the outcome, 4xx are transient, 2xx accepted,
// X.7.x never hard.
TEST(ReplyClassifierTest, InvariantsOverRandomInput) {
  std::mt19937 rng(5321);
  const char* fragments[] = {"user unknown",
                             "blocked",
                             "spam",
                             "mailbox full",
                             "policy",
                             "rbl",
                             "has moved",
                             "null mx",
                             "domain not found",
                             "too many recipients",
                             "relay access denied",
                             "virus",
                             "disabled",
                             "expired",
                             "timed out",
                             "(#5.1.1)",
                             "(#4.2.2)",
                             "account",
                             "does not exist",
                             "\xff\x00",
                             " "};
  for (int i = 0; i < 20000; ++i) {
    int code = 200 + static_cast<int>(rng() % 400);
    std::optional<EnhancedStatusCode> enhanced;
    if (rng() % 2) {
      int k = code / 100;
      enhanced = EnhancedStatusCode{k == 3 ? 4 : k, static_cast<int>(rng() % 9),
                                    static_cast<int>(rng() % 32)};
    }
    std::string text;
    int n = static_cast<int>(rng() % 4);
    for (int j = 0; j < n; ++j) {
      text += fragments[rng() % (sizeof(fragments) / sizeof(fragments[0]))];
      text += ' ';
    }
    ClassifyOptions options;
    options.stage = rng() % 4 == 0 ? Stage::kSession : Stage::kRecipient;
    ReplyClassification c = ClassifyReply(code, enhanced, text, options);
    std::string what =
        absl::StrCat(code, " ", enhanced ? enhanced->ToString() : "-", " ",
                     text, " -> ", Describe(c));
    ASSERT_FALSE(c.rule.empty()) << what;
    switch (code / 100) {
      case 2:
        ASSERT_EQ(c.outcome, Outcome::kAccepted) << what;
        break;
      case 3:
      case 4:
        ASSERT_EQ(c.outcome, Outcome::kTransient) << what;
        break;
      default:
        ASSERT_NE(c.outcome, Outcome::kAccepted) << what;
    }
    ASSERT_EQ(c.bounce_class == BounceClass::kNone,
              c.outcome == Outcome::kAccepted)
        << what;
    ASSERT_EQ(c.bounce_class == BounceClass::kHard,
              c.outcome == Outcome::kBounced)
        << what;
    if (c.bounce_class == BounceClass::kHard) {
      ASSERT_EQ(ClassOfReason(c.reason), BounceClass::kHard) << what;
      ASSERT_EQ(options.stage, Stage::kRecipient) << what;
      if (enhanced && enhanced->klass == 5 && enhanced->subject == 7) {
        ASSERT_TRUE(enhanced->detail == 17 || enhanced->detail == 18) << what;
      }
    }
  }
}

TEST(ReplyClassifierTest, StarredKeywordsCostOneSearchPerText) {
  // A reply full of the first part of an "a*b" keyword ("account" ...
  // "does not exist") took a search of the whole text per occurrence.
  // Both texts are as long and hold as many words; only the first has the
  // keyword's first part everywhere. The bound is a hundred times what a
  // linear scan needs, far below the quadratic cost.
  std::string starred, plain;
  while (starred.size() + 10 <= kMaxReplyOctets) {
    starred += "account d ";
    plain += "xccount d ";
  }
  auto time = [](const std::string& text) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 10; ++i) {
      ReplyClassification c = ClassifyReply(550, std::nullopt, text);
      EXPECT_EQ(c.reason, Reason::kUnknown);
    }
    return std::chrono::steady_clock::now() - start;
  };
  const auto plain_time = time(plain);
  const auto starred_time = time(starred);
  EXPECT_LT(starred_time, plain_time * 100 + std::chrono::milliseconds(200));
}

}  // namespace
}  // namespace deliverd::hygiene::bounce
