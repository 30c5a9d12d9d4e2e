// Tests for hygiene/bounce/bounce_message. Every sample below is written for
// this test (invented hosts under example.* and documentation IP ranges),
// modelled on the shapes common MTAs produce; none is copied from a corpus.
#include "hygiene/bounce/bounce_message.h"

#include <random>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "hygiene/bounce/reason.h"

namespace deliverd::hygiene::bounce {
namespace {

// Builds an RFC 3464 report with the given per-recipient blocks.
std::string Dsn(absl::string_view recipient_blocks,
                absl::string_view returned_headers =
                    "Message-ID: <orig-1@sender.example>\n"
                    "X-Deliverd-Id: msg_0001\n"
                    "From: news@sender.example\n"
                    "To: someone@example.net\n"
                    "Subject: Hello\n") {
  return absl::StrCat(
      "Return-Path: <>\n"
      "Delivered-To: bounce+AbC123@sender.example\n"
      "From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)\n"
      "To: bounce+AbC123@sender.example\n"
      "Subject: Undelivered Mail Returned to Sender\n"
      "Auto-Submitted: auto-replied\n"
      "MIME-Version: 1.0\n"
      "Content-Type: multipart/report; report-type=delivery-status;\n"
      "\tboundary=\"BOUNDARY-1\"\n"
      "\n"
      "This is a MIME-encapsulated message.\n"
      "\n"
      "--BOUNDARY-1\n"
      "Content-Type: text/plain; charset=us-ascii\n"
      "\n"
      "This is the mail system at host mx.sender.example.\n"
      "I'm sorry to have to inform you that your message could not\n"
      "be delivered to one or more recipients.\n"
      "\n"
      "--BOUNDARY-1\n"
      "Content-Type: message/delivery-status\n"
      "\n"
      "Reporting-MTA: dns; mx.sender.example\n"
      "Arrival-Date: Mon, 2 Mar 2026 10:00:00 +0000\n"
      "\n",
      recipient_blocks,
      "\n"
      "--BOUNDARY-1\n"
      "Content-Type: text/rfc822-headers\n"
      "\n",
      returned_headers,
      "\n"
      "--BOUNDARY-1--\n");
}

BounceReport Parse(absl::string_view raw) {
  absl::StatusOr<BounceReport> r = ParseBounce(raw);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : BounceReport();
}

TEST(BounceMessageTest, DsnUserUnknownIsHard) {
  BounceReport r = Parse(
      Dsn("Final-Recipient: rfc822; Nobody@Example.NET\n"
          "Original-Recipient: rfc822;Nobody@Example.NET\n"
          "Action: failed\n"
          "Status: 5.1.1\n"
          "Remote-MTA: dns; mx1.example.net\n"
          "Diagnostic-Code: smtp; 550 5.1.1 <Nobody@Example.NET>: Recipient\n"
          "    address rejected: User unknown in local recipient table\n"));
  EXPECT_TRUE(r.is_bounce);
  EXPECT_EQ(r.kind, BounceKind::kDsn);
  EXPECT_EQ(r.reporting_mta, "mx.sender.example");
  ASSERT_EQ(r.recipients.size(), 1u);
  const BounceRecipient& rc = r.recipients[0];
  EXPECT_EQ(rc.address, "Nobody@example.net");
  EXPECT_EQ(rc.action, "failed");
  EXPECT_EQ(rc.status, "5.1.1");
  EXPECT_EQ(rc.reply_code, 550);
  EXPECT_EQ(rc.remote_mta, "mx1.example.net");
  EXPECT_NE(rc.diagnostic.find("User unknown"), std::string::npos);
  EXPECT_EQ(rc.reason, Reason::kUserUnknown);
  EXPECT_EQ(rc.bounce_class, BounceClass::kHard);
  EXPECT_FALSE(rc.rule.empty());
}

TEST(BounceMessageTest, DsnMailboxFullIsSoft) {
  BounceReport r = Parse(
      Dsn("Final-Recipient: rfc822; full@example.net\n"
          "Action: failed\n"
          "Status: 5.2.2\n"
          "Diagnostic-Code: smtp; 552 5.2.2 Mailbox full: quota exceeded\n"));
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].reason, Reason::kMailboxFull);
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kSoft);
  EXPECT_EQ(r.recipients[0].reply_code, 552);
}

TEST(BounceMessageTest, DsnTwoRecipientsFailedAndDelayed) {
  BounceReport r = Parse(Dsn(
      "Final-Recipient: rfc822; gone@example.net\n"
      "Action: failed\n"
      "Status: 5.1.1\n"
      "Diagnostic-Code: smtp; 550 5.1.1 No such user\n"
      "\n"
      "Final-Recipient: rfc822; slow@example.org\n"
      "Action: delayed\n"
      "Status: 4.4.1\n"
      "Diagnostic-Code: X-Postfix; connect to mx.example.org[192.0.2.7]:25:\n"
      "    Connection timed out\n"
      "Will-Retry-Until: Thu, 5 Mar 2026 10:00:00 +0000\n"));
  ASSERT_EQ(r.recipients.size(), 2u);
  EXPECT_EQ(r.recipients[0].address, "gone@example.net");
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kHard);
  EXPECT_EQ(r.recipients[1].address, "slow@example.org");
  EXPECT_EQ(r.recipients[1].action, "delayed");
  EXPECT_EQ(r.recipients[1].bounce_class, BounceClass::kSoft);
  EXPECT_EQ(r.recipients[1].reason, Reason::kNetworkError);
}

TEST(BounceMessageTest, DelayedUserUnknownStaysSoft) {
  BounceReport r =
      Parse(Dsn("Final-Recipient: rfc822; maybe@example.net\n"
                "Action: delayed\n"
                "Status: 4.1.1\n"
                "Diagnostic-Code: smtp; 450 4.1.1 Recipient address rejected: "
                "unverified address\n"));
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kSoft);
}

TEST(BounceMessageTest, ReputationBlockIsNeverHard) {
  BounceReport r = Parse(Dsn(
      "Final-Recipient: rfc822; someone@example.net\n"
      "Action: failed\n"
      "Status: 5.7.1\n"
      "Diagnostic-Code: smtp; 554 5.7.1 Service unavailable; Client host\n"
      "    [198.51.100.9] blocked using a reputation list; user unknown\n"));
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].reason, Reason::kBlocked);
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kSoft);
}

TEST(BounceMessageTest, StatusWithoutDiagnosticIsUsedAsEnhancedCode) {
  BounceReport r =
      Parse(Dsn("Final-Recipient: rfc822; who@example.net\n"
                "Action: failed\n"
                "Status: 5.1.1\n"));
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].reason, Reason::kUserUnknown);
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kHard);
}

TEST(BounceMessageTest, DeliveredActionIsNone) {
  BounceReport r =
      Parse(Dsn("Final-Recipient: rfc822; ok@example.net\n"
                "Action: delivered\n"
                "Status: 2.0.0\n"
                "Diagnostic-Code: smtp; 250 2.0.0 Ok: queued\n"));
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].reason, Reason::kDelivered);
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kNone);
}

TEST(BounceMessageTest, IdentifiersFromReturnedHeaders) {
  BounceReport r =
      Parse(Dsn("Final-Recipient: rfc822; nobody@example.net\n"
                "Action: failed\n"
                "Status: 5.1.1\n"));
  EXPECT_EQ(r.verp_address, "bounce+AbC123@sender.example");
  EXPECT_EQ(r.original_message_id, "orig-1@sender.example");
  EXPECT_EQ(r.deliverd_id, "msg_0001");
}

TEST(BounceMessageTest, IdentifiersFromReturnedMessage) {
  std::string raw =
      "From: postmaster@mx.example.net\n"
      "To: bounce-77@sender.example\n"
      "Subject: Delivery Status Notification (Failure)\n"
      "Content-Type: multipart/report; report-type=delivery-status; "
      "boundary=b2\n"
      "\n"
      "--b2\n"
      "Content-Type: message/delivery-status\n"
      "\n"
      "Reporting-MTA: dns; mx.example.net\n"
      "\n"
      "Final-Recipient: rfc822; a@example.net\n"
      "Action: failed\n"
      "Status: 5.1.1\n"
      "\n"
      "--b2\n"
      "Content-Type: message/rfc822\n"
      "\n"
      "Message-ID: <returned-2@sender.example>\n"
      "X-Deliverd-Id: msg_0002\n"
      "Subject: hi\n"
      "\n"
      "body\n"
      "--b2--\n";
  BounceReport r = Parse(raw);
  EXPECT_EQ(r.verp_address, "bounce-77@sender.example");
  EXPECT_EQ(r.original_message_id, "returned-2@sender.example");
  EXPECT_EQ(r.deliverd_id, "msg_0002");
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kHard);
}

TEST(BounceMessageTest, ArfComplaint) {
  std::string raw =
      "From: feedback@isp.example\n"
      "To: abuse@sender.example\n"
      "Subject: Complaint about message\n"
      "MIME-Version: 1.0\n"
      "Content-Type: multipart/report; report-type=feedback-report;\n"
      "  boundary=\"arf\"\n"
      "\n"
      "--arf\n"
      "Content-Type: text/plain\n"
      "\n"
      "This is an abuse report.\n"
      "--arf\n"
      "Content-Type: message/feedback-report\n"
      "\n"
      "Feedback-Type: abuse\n"
      "User-Agent: ExampleFBL/1.0\n"
      "Version: 1\n"
      "Original-Rcpt-To: <Reader@Example.COM>\n"
      "\n"
      "--arf\n"
      "Content-Type: message/rfc822\n"
      "\n"
      "From: news@sender.example\n"
      "To: reader@example.com\n"
      "Message-ID: <fbl-3@sender.example>\n"
      "X-Deliverd-Id: msg_0003\n"
      "\n"
      "Spam?\n"
      "--arf--\n";
  BounceReport r = Parse(raw);
  EXPECT_TRUE(r.is_bounce);
  EXPECT_EQ(r.kind, BounceKind::kArf);
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].address, "Reader@example.com");
  EXPECT_EQ(r.recipients[0].reason, Reason::kComplaint);
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kNone);
  EXPECT_EQ(r.recipients[0].feedback_type, "abuse");
  EXPECT_EQ(r.deliverd_id, "msg_0003");
  EXPECT_EQ(r.original_message_id, "fbl-3@sender.example");
}

TEST(BounceMessageTest, AutoReply) {
  std::string raw =
      "From: Pat Reader <pat@example.com>\n"
      "To: news@sender.example\n"
      "Subject: Out of Office: Hello\n"
      "Auto-Submitted: auto-replied\n"
      "\n"
      "I am away until Monday.\n";
  BounceReport r = Parse(raw);
  EXPECT_TRUE(r.is_bounce);
  EXPECT_EQ(r.kind, BounceKind::kAutoReply);
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].address, "pat@example.com");
  EXPECT_EQ(r.recipients[0].reason, Reason::kAutoReply);
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kNone);
}

TEST(BounceMessageTest, OrdinaryMessageIsNotABounce) {
  std::string raw =
      "From: Alice <alice@example.com>\n"
      "To: bob@example.org\n"
      "Subject: Lunch on Friday?\n"
      "Message-ID: <lunch@example.com>\n"
      "\n"
      "Are you free? My old address alice@example.net no longer works.\n";
  BounceReport r = Parse(raw);
  EXPECT_FALSE(r.is_bounce);
  EXPECT_EQ(r.kind, BounceKind::kNone);
  EXPECT_TRUE(r.recipients.empty());
}

TEST(BounceMessageTest, QmailStyle) {
  std::string raw =
      "From: MAILER-DAEMON@mail.example.org\n"
      "To: bounce+q1@sender.example\n"
      "Subject: failure notice\n"
      "\n"
      "Hi. This is the qmail-send program at mail.example.org.\n"
      "I'm afraid I wasn't able to deliver your message to the following "
      "addresses.\n"
      "This is a permanent error; I've given up. Sorry it didn't work out.\n"
      "\n"
      "<missing@example.org>:\n"
      "Sorry, no mailbox here by that name. (#5.1.1)\n"
      "\n"
      "--- Below this line is a copy of the message.\n"
      "\n"
      "Return-Path: <bounce+q1@sender.example>\n"
      "Message-ID: <q-4@sender.example>\n"
      "X-Deliverd-Id: msg_0004\n"
      "From: news@sender.example\n"
      "To: missing@example.org\n"
      "\n"
      "Hello\n";
  BounceReport r = Parse(raw);
  EXPECT_TRUE(r.is_bounce);
  EXPECT_EQ(r.kind, BounceKind::kNonStandard);
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].address, "missing@example.org");
  EXPECT_EQ(r.recipients[0].reason, Reason::kUserUnknown);
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kHard);
  EXPECT_EQ(r.original_message_id, "q-4@sender.example");
  EXPECT_EQ(r.deliverd_id, "msg_0004");
  EXPECT_EQ(r.verp_address, "bounce+q1@sender.example");
}

TEST(BounceMessageTest, EximStyle) {
  std::string raw =
      "From: Mail Delivery System <Mailer-Daemon@relay.example.com>\n"
      "To: bounce+e5@sender.example\n"
      "Subject: Mail delivery failed: returning message to sender\n"
      "X-Failed-Recipients: full@example.com\n"
      "Auto-Submitted: auto-replied\n"
      "\n"
      "This message was created automatically by mail delivery software.\n"
      "\n"
      "A message that you sent could not be delivered to one or more of its\n"
      "recipients. This is a permanent error. The following address(es) "
      "failed:\n"
      "\n"
      "  full@example.com\n"
      "    host mx.example.com [203.0.113.5]\n"
      "    SMTP error from remote mail server after RCPT "
      "TO:<full@example.com>:\n"
      "    552 5.2.2 The mailbox is over quota\n"
      "\n"
      "------ This is a copy of the message, including all the headers. "
      "------\n"
      "\n"
      "Message-ID: <e-5@sender.example>\n"
      "\n"
      "Hi\n";
  BounceReport r = Parse(raw);
  EXPECT_EQ(r.kind, BounceKind::kNonStandard);
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].address, "full@example.com");
  EXPECT_EQ(r.recipients[0].reply_code, 552);
  EXPECT_EQ(r.recipients[0].reason, Reason::kMailboxFull);
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kSoft);
  EXPECT_EQ(r.original_message_id, "e-5@sender.example");
}

TEST(BounceMessageTest, SessionStageRefusalIsNeverHard) {
  // The refusal answered MAIL FROM: it is about our sender, not the address.
  std::string raw =
      "From: Mail Delivery System <Mailer-Daemon@relay.example.com>\n"
      "To: bounce+s1@sender.example\n"
      "Subject: Mail delivery failed: returning message to sender\n"
      "\n"
      "A message that you sent could not be delivered to one or more of its\n"
      "recipients. This is a permanent error. The following address(es) "
      "failed:\n"
      "\n"
      "  reader@example.com\n"
      "    host mx.example.com [203.0.113.5]\n"
      "    SMTP error from remote mail server after MAIL FROM:"
      "<bounce+s1@sender.example>:\n"
      "    550 5.1.1 sender domain does not exist, user unknown\n";
  BounceReport r = Parse(raw);
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].address, "reader@example.com");
  EXPECT_NE(r.recipients[0].bounce_class, BounceClass::kHard)
      << r.recipients[0].rule;
}

TEST(BounceMessageTest, RefusalAfterDataIsContentNotAddress) {
  BounceReport r = Parse(absl::StrReplaceAll(
      Dsn("Final-Recipient: rfc822; reader@example.net\n"
          "Action: failed\n"
          "Status: 5.0.0\n"
          "Diagnostic-Code: smtp; 550 Unknown user reader@example.net\n"),
      {{"be delivered to one or more recipients.\n",
        "be delivered to one or more recipients.\n\n"
        "<reader@example.net>: host mx.example.net[192.0.2.8] said: 550\n"
        "    Unknown user reader@example.net (in reply to end of DATA\n"
        "    command)\n"}}));
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].reason, Reason::kContentRejected);
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kSoft);
}

TEST(BounceMessageTest, AfterDataAnExplicitNonexistentMailboxStaysHard) {
  // Some providers check recipients only once the message has come: a
  // refusal at DATA that says the mailbox does not exist is about the
  // address after all.
  for (const char* said :
       {"554 delivery refused: this user does not have an account here",
        "550 5.1.1 <reader@example.net>: that mailbox does not exist"}) {
    BounceReport r = Parse(absl::StrReplaceAll(
        Dsn(absl::StrCat("Final-Recipient: rfc822; reader@example.net\n"
                         "Action: failed\n"
                         "Status: 5.0.0\n"
                         "Diagnostic-Code: smtp; ",
                         said, "\n")),
        {{"be delivered to one or more recipients.\n",
          absl::StrCat("be delivered to one or more recipients.\n\n"
                       "<reader@example.net>: host mx.example.net said: ",
                       said, " (in reply to end of DATA command)\n")}}));
    ASSERT_EQ(r.recipients.size(), 1u) << said;
    EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kHard) << said;
    EXPECT_EQ(r.recipients[0].reason, Reason::kUserUnknown) << said;
  }
}

TEST(BounceMessageTest, FailedLocalDeliveryProgramIsASystemError) {
  // The MTA mapped the program's exit status to 5.1.1; the program's own
  // words say the mailbox file could not be written.
  BounceReport r = Parse(
      Dsn("Final-Recipient: rfc822; reader@example.net\n"
          "Action: failed\n"
          "Status: 5.1.1\n"
          "Diagnostic-Code: x-unix; procmail: Couldn't create "
          "\"/var/mail/reader\"\n"));
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].reason, Reason::kSystemError);
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kSoft);
}

TEST(BounceMessageTest, SessionStageRefusalIsBlocked) {
  // A vague refusal of MAIL FROM in a Sendmail transcript: the receiver
  // refused us (reason blocked, see "refused sender" in the header).
  std::string raw =
      "From: Mail Delivery Subsystem <MAILER-DAEMON@relay.sender.example>\n"
      "To: bounce+t1@sender.example\n"
      "Subject: Returned mail: see transcript for details\n"
      "\n"
      "   ----- The following addresses had permanent fatal errors -----\n"
      "<reader@example.org>\n"
      "\n"
      "   ----- Transcript of session follows -----\n"
      "... while talking to mx.example.org.:\n"
      ">>> MAIL From:<bounce+t1@sender.example> SIZE=1200\n"
      "<<< 550 Go away\n";
  BounceReport r = Parse(raw);
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].address, "reader@example.org");
  EXPECT_EQ(r.recipients[0].reason, Reason::kBlocked) << r.recipients[0].rule;
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kSoft);
}

TEST(BounceMessageTest, TranscriptReplyToRcptIsTheDiagnostic) {
  // The reply to ">>> RCPT To:" is the receiver's verdict on the address; a
  // later line about a timed-out retry to another host is not.
  std::string raw =
      "From: Mail Delivery Subsystem <MAILER-DAEMON@relay.sender.example>\n"
      "To: bounce+t2@sender.example\n"
      "Subject: Returned mail: User unknown\n"
      "\n"
      "   ----- Transcript of session follows -----\n"
      "While talking to mx.example.org:\n"
      ">>> RCPT To:<gone@example.org>\n"
      "<<< 550 <gone@example.org>... No such user\n"
      "451 backup.example.org: Connection timed out while opening queue\n";
  BounceReport r = Parse(raw);
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].address, "gone@example.org");
  EXPECT_EQ(r.recipients[0].reason, Reason::kUserUnknown)
      << r.recipients[0].rule;
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kHard);
}

TEST(BounceMessageTest, TranscriptReplyToDataIsContent) {
  // Sendmail's transcript shows the "user unknown" answered DATA: the
  // address had passed RCPT TO, the message was refused.
  BounceReport r = Parse(absl::StrReplaceAll(
      Dsn("Final-Recipient: rfc822; reader@example.net\n"
          "Action: failed\n"
          "Status: 5.2.0\n"
          "Diagnostic-Code: smtp; 550 5.2.0 <reader@example.net>... no such "
          "user\n"),
      {{"be delivered to one or more recipients.\n",
        "be delivered to one or more recipients.\n\n"
        "   ----- Transcript of session follows -----\n"
        ">>> DATA\n"
        "<<< 550 5.2.0 <reader@example.net>... no such user\n"}}));
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].reason, Reason::kContentRejected)
      << r.recipients[0].rule;
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kSoft);
}

TEST(BounceMessageTest, EmptyAddressUserUnknownIsAFilter) {
  for (const char* diag :
       {"550 : User unknown", "550: : User unknown", "550 <>: User unknown"}) {
    BounceReport r = Parse(
        Dsn(absl::StrCat("Final-Recipient: rfc822; phone@carrier.example\n"
                         "Action: failed\n"
                         "Status: 5.0.0\n"
                         "Diagnostic-Code: smtp; ",
                         diag, "\n")));
    ASSERT_EQ(r.recipients.size(), 1u) << diag;
    EXPECT_EQ(r.recipients[0].reason, Reason::kContentRejected)
        << diag << " " << r.recipients[0].rule;
    EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kSoft) << diag;
  }
  // With the address named, or with an X.1.1 code, it is a missing mailbox.
  for (const char* diag : {"550 <phone@carrier.example>: User unknown",
                           "550 5.1.1 : User unknown"}) {
    BounceReport r = Parse(
        Dsn(absl::StrCat("Final-Recipient: rfc822; phone@carrier.example\n"
                         "Action: failed\n"
                         "Diagnostic-Code: smtp; ",
                         diag, "\n")));
    ASSERT_EQ(r.recipients.size(), 1u) << diag;
    EXPECT_EQ(r.recipients[0].reason, Reason::kUserUnknown) << diag;
    EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kHard) << diag;
  }
}

TEST(BounceMessageTest, GoogleGroupsRefusalIsBlocked) {
  // Localised (here German-like placeholder) text, no reply code: the
  // googlegroups.com recipient and the help link identify the refusal.
  std::string raw =
      "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\n"
      "To: writer@sender.example\n"
      "Subject: Delivery Status Notification (Failure)\n"
      "X-Failed-Recipients: ourlist@googlegroups.com\n"
      "\n"
      "Hallo writer@sender.example,\n"
      "\n"
      "Gruppe ourlist: Nachricht nicht zugestellt.\n"
      "Hilfe: https://groups.google.com/support/\n"
      "\n"
      "Google Groups\n";
  BounceReport r = Parse(raw);
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].address, "ourlist@googlegroups.com");
  EXPECT_EQ(r.recipients[0].reason, Reason::kBlocked) << r.recipients[0].rule;
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kSoft);
  // The same text for an ordinary address is not read as a group refusal.
  BounceReport other = Parse(absl::StrReplaceAll(
      raw, {{"ourlist@googlegroups.com", "ourlist@lists.example"}}));
  ASSERT_EQ(other.recipients.size(), 1u);
  EXPECT_NE(other.recipients[0].reason, Reason::kBlocked);
}

std::string SesMail(absl::string_view json) {
  return absl::StrCat(
      "From: Notifications <no-reply@sns.notify.example>\n"
      "To: ops@sender.example\n"
      "Subject: Notification Message\n"
      "Content-Type: text/plain; charset=UTF-8\n"
      "\n",
      json, "\n");
}

TEST(BounceMessageTest, SesBounceNotification) {
  // Written for this test in the documented SES notification shape; the
  // long line is wrapped the way SNS mail wraps it ("!" newline space).
  BounceReport r = Parse(SesMail(
      "{\"notificationType\":\"Bounce\",\"bounce\":{\"bounceType\":"
      "\"Permanent\",\"bouncedRecipients\":[{\"emailAddress\":"
      "\"gone@example.net\",\"action\":\"failed\",\"status\":\"5.1.1\","
      "\"diagnosticCode\":\"smtp; 550 5.1.1 <gone@example.net>: no such "
      "user\"},{\"emailAddress\":\"busy@exa!\n mple.org\",\"status\":"
      "\"4.2.2\",\"diagnosticCode\":\"smtp; 452 4.2.2 mailbox full\"}]},"
      "\"mail\":{\"source\":\"news@sender.example\"}}"));
  EXPECT_TRUE(r.is_bounce);
  ASSERT_EQ(r.recipients.size(), 2u);
  EXPECT_EQ(r.recipients[0].address, "gone@example.net");
  EXPECT_EQ(r.recipients[0].reason, Reason::kUserUnknown);
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kHard);
  EXPECT_EQ(r.recipients[1].address, "busy@example.org");
  EXPECT_EQ(r.recipients[1].reason, Reason::kMailboxFull);
  EXPECT_EQ(r.recipients[1].bounce_class, BounceClass::kSoft);
}

TEST(BounceMessageTest, SesComplaintAndDeliveryNotifications) {
  BounceReport c = Parse(SesMail(
      "{\"notificationType\":\"Complaint\",\"complaint\":{"
      "\"complainedRecipients\":[{\"emailAddress\":\"reader@example.com\"}],"
      "\"complaintFeedbackType\":\"abuse\"},\"mail\":{}}"));
  EXPECT_EQ(c.kind, BounceKind::kArf);
  ASSERT_EQ(c.recipients.size(), 1u);
  EXPECT_EQ(c.recipients[0].address, "reader@example.com");
  EXPECT_EQ(c.recipients[0].reason, Reason::kComplaint);
  EXPECT_EQ(c.recipients[0].bounce_class, BounceClass::kNone);
  EXPECT_EQ(c.recipients[0].feedback_type, "abuse");

  BounceReport d = Parse(
      SesMail("{\"notificationType\":\"Delivery\",\"mail\":{\"destination\":"
              "[\"reader@example.com\"]},\"delivery\":{\"recipients\":"
              "[\"reader@example.com\"],\"smtpResponse\":\"250 2.6.0 ok\"}}"));
  ASSERT_EQ(d.recipients.size(), 1u);
  EXPECT_EQ(d.recipients[0].reason, Reason::kDelivered);
  EXPECT_EQ(d.recipients[0].bounce_class, BounceClass::kNone);

  // A notification naming nobody, or broken JSON, is not a bounce.
  EXPECT_FALSE(Parse(SesMail("{\"notificationType\":\"Bounce\",\"bounce\":{"
                             "\"bouncedRecipients\":[{\"emailAddress\":"))
                   .is_bounce);
}

TEST(BounceMessageTest, RefusedAtGreetingIsBlocked) {
  // Every MX answered the connection with a 5xx before any command: the
  // receiver refused us, not the address.
  std::string raw = absl::StrReplaceAll(
      Dsn("Final-Recipient: rfc822; reader@example.net\n"
          "Action: failed\n"
          "Status: 5.0.0\n"
          "Diagnostic-Code: SMTP; 554 mx2.example.net closed, try another "
          "day\n"),
      {{"be delivered to one or more recipients.\n",
        "be delivered to one or more recipients.\n\n"
        "   ----- Transcript of session follows -----\n"
        "... while talking to mx1.example.net.:\n"
        "<<< 554 mx1.example.net closed, try another day\n"
        ">>> QUIT\n"
        "... while talking to mx2.example.net.:\n"
        "<<< 554 mx2.example.net closed, try another day\n"
        "554 5.0.0 Service unavailable\n"}});
  BounceReport r = Parse(raw);
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].reason, Reason::kBlocked) << r.recipients[0].rule;
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kSoft);

  // A refused greeting at one MX followed by a full session at another is
  // not a greeting refusal.
  BounceReport later = Parse(absl::StrReplaceAll(
      raw, {{"<<< 554 mx2.example.net closed, try another day\n",
             "<<< 220 mx2.example.net ready\n"
             ">>> DATA\n"
             "<<< 554 mx2.example.net closed, try another day\n"}}));
  ASSERT_EQ(later.recipients.size(), 1u);
  EXPECT_NE(later.recipients[0].reason, Reason::kBlocked)
      << later.recipients[0].rule;
}

TEST(BounceMessageTest, DelayWarningKeepsItsCause) {
  // "could not be delivered for more than 2 hours" in a delay warning: the
  // message has not expired, the cause (a network error) is the reason.
  BounceReport r = Parse(absl::StrReplaceAll(
      Dsn("Final-Recipient: rfc822; reader@example.net\n"
          "Action: delayed\n"
          "Status: 4.4.1\n"
          "Diagnostic-Code: X-Postfix; connect to mx.example.net[192.0.2.4]:25:"
          " No route to host\n"),
      {{"be delivered to one or more recipients.\n",
        "be delivered to one or more recipients.\n"
        "Your message could not be delivered for more than 3 hour(s).\n"
        "It will be retried until it is 5 day(s) old.\n"}}));
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].reason, Reason::kNetworkError)
      << r.recipients[0].rule;
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kSoft);
  // The same text in a failure report is an expiry.
  BounceReport failed = Parse(absl::StrReplaceAll(
      Dsn("Final-Recipient: rfc822; reader@example.net\n"
          "Action: failed\n"
          "Status: 4.4.1\n"
          "Diagnostic-Code: X-Postfix; connect to mx.example.net[192.0.2.4]:25:"
          " No route to host\n"),
      {{"be delivered to one or more recipients.\n",
        "be delivered to one or more recipients.\n"
        "Your message could not be delivered for more than 5 day(s).\n"}}));
  ASSERT_EQ(failed.recipients.size(), 1u);
  EXPECT_EQ(failed.recipients[0].reason, Reason::kExpired)
      << failed.recipients[0].rule;
}

TEST(BounceMessageTest, ReturnedMessageWithFailureWordsIsABounce) {
  // Unknown sender, localised subject; the text before the returned
  // message says who could not be reached and why.
  std::string raw =
      "From: no-reply@gateway.carrier.example\n"
      "To: writer@sender.example\n"
      "Subject: =?UTF-8?B?8J+TqA==?=\n"
      "MIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=\"B1\"\n"
      "\n"
      "--B1\n"
      "Content-Type: text/plain\n"
      "\n"
      "Sent: Mon, 2 Mar 2026 10:00:00 +0900\n"
      "   Could not be delivered to: <phone@carrier.example>\n"
      "   As their mailbox is full.\n"
      "\n"
      "--B1\n"
      "Content-Type: message/rfc822\n"
      "\n"
      "From: writer@sender.example\n"
      "To: phone@carrier.example\n"
      "Message-ID: <m-1@sender.example>\n"
      "Subject: hi\n"
      "\n"
      "hi\n"
      "--B1--\n";
  BounceReport r = Parse(raw);
  EXPECT_TRUE(r.is_bounce);
  EXPECT_EQ(r.kind, BounceKind::kNonStandard);
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].address, "phone@carrier.example");
  EXPECT_EQ(r.recipients[0].reason, Reason::kMailboxFull);
  // Forwarding a message with other words is not a bounce.
  EXPECT_FALSE(Parse(absl::StrReplaceAll(raw, {{"Could not be delivered to:",
                                                "Forwarded to:"}}))
                   .is_bounce);
}

TEST(BounceMessageTest, FailedPipeIsSystemError) {
  BounceReport r =
      Parse(Dsn("Final-Recipient: rfc822;|/usr/local/bin/autoreply reader\n"
                "Action: failed\n"
                "Status: 5.0.0\n"));
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].reason, Reason::kSystemError)
      << r.recipients[0].rule;
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kSoft);
}

TEST(BounceMessageTest, TryAgainAdviceIsNotATemporaryDnsFailure) {
  BounceReport r = Parse(
      Dsn("Final-Recipient: rfc822; reader@nowhere.example\n"
          "Action: failed\n"
          "Status: 5.5.0\n"
          "Diagnostic-Code: smtp;554 The mail could not be delivered to the "
          "recipient because the domain is not reachable. Please check the "
          "domain and try again\n"));
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].reason, Reason::kHostUnknown)
      << r.recipients[0].rule;
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kHard);
}

TEST(BounceMessageTest, StatusGuessDoesNotOverrideReceiverWords) {
  // The receiver said only "553 Invalid recipient"; the 5.7.1 is the
  // reporting MTA's Status. The receiver's words decide.
  BounceReport r = Parse(
      Dsn("Final-Recipient: rfc822; gone@example.org\n"
          "Action: failed\n"
          "Status: 5.7.1\n"
          "Diagnostic-Code: smtp; 553 Invalid recipient gone@example.org\n"));
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].reason, Reason::kUserUnknown)
      << r.recipients[0].rule;
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kHard);
  // With the 5.7.1 in the receiver's own reply, it is never hard.
  BounceReport own =
      Parse(Dsn("Final-Recipient: rfc822; gone@example.org\n"
                "Action: failed\n"
                "Status: 5.7.1\n"
                "Diagnostic-Code: smtp; 553 5.7.1 Invalid recipient "
                "gone@example.org\n"));
  ASSERT_EQ(own.recipients.size(), 1u);
  EXPECT_NE(own.recipients[0].bounce_class, BounceClass::kHard);
  // Reputation words in the reply are never hard either.
  BounceReport listed = Parse(
      Dsn("Final-Recipient: rfc822; gone@example.org\n"
          "Action: failed\n"
          "Status: 5.7.1\n"
          "Diagnostic-Code: smtp; 553 Invalid recipient: your IP is listed "
          "at bl.example\n"));
  ASSERT_EQ(listed.recipients.size(), 1u);
  EXPECT_EQ(listed.recipients[0].reason, Reason::kBlocked);
  EXPECT_EQ(listed.recipients[0].bounce_class, BounceClass::kSoft);
}

TEST(BounceMessageTest, ListRefusesNonMemberPost) {
  std::string raw =
      "From: ourlist-owner@lists.example\n"
      "To: writer@sender.example\n"
      "Subject: Your post to ourlist was rejected\n"
      "List-Id: <ourlist.lists.example>\n"
      "\n"
      "You are not a member of the list <ourlist@lists.example>; only\n"
      "members may post.\n";
  BounceReport r = Parse(raw);
  EXPECT_TRUE(r.is_bounce);
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].address, "ourlist@lists.example");
  EXPECT_EQ(r.recipients[0].reason, Reason::kBlocked);
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kSoft);
  // An ordinary list post saying the same words is not a refusal.
  EXPECT_FALSE(Parse(absl::StrReplaceAll(raw, {{"ourlist-owner@", "alice@"}}))
                   .is_bounce);
}

TEST(BounceMessageTest, DestinationRefusingToTalkIsNotASuspendedMailbox) {
  // Postfix: "delivery temporarily suspended" names the destination's
  // state in our queue, and the server refused us at its greeting.
  BounceReport r = Parse(
      Dsn("Final-Recipient: rfc822; reader@example.net\n"
          "Action: failed\n"
          "Status: 4.0.0\n"
          "Diagnostic-Code: X-Postfix; delivery temporarily suspended: "
          "connect to mx.example.net[192.0.2.7]: server refused to talk to "
          "me: 554 go away\n"));
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].reason, Reason::kBlocked) << r.recipients[0].rule;
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kSoft);
}

TEST(BounceMessageTest, FailedAfterRetriesIsExpired) {
  BounceReport r = Parse(Dsn(
      "Final-Recipient: rfc822; slow@example.org\n"
      "Action: failed\n"
      "Status: 4.4.1\n"
      "Diagnostic-Code: X-Postfix; connect to mx.example.org[192.0.2.7]:25:\n"
      "    Connection timed out\n"));
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].reason, Reason::kExpired);
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kSoft);
}

TEST(BounceMessageTest, TemporaryDnsFailureIsNotHostUnknown) {
  std::string raw =
      "From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)\n"
      "To: bounce+d1@sender.example\n"
      "Subject: Undelivered Mail Returned to Sender\n"
      "\n"
      "<someone@example.com>: Name service error for domain example.com:\n"
      "    Host not found, try again\n";
  BounceReport r = Parse(raw);
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].address, "someone@example.com");
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kSoft);
}

TEST(BounceMessageTest, ExchangeStyleNonStandard) {
  std::string raw =
      "From: postmaster@corp.example.com\n"
      "To: bounce+x1@sender.example\n"
      "Subject: Undeliverable: Hello\n"
      "\n"
      "Delivery has failed to these recipients or groups:\n"
      "\n"
      "Pat Reader (pat@corp.example.com)\n"
      "The email address you entered couldn't be found.\n"
      "\n"
      "Diagnostic information for administrators:\n"
      "Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not "
      "found'\n";
  BounceReport r = Parse(raw);
  EXPECT_EQ(r.kind, BounceKind::kNonStandard);
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].address, "pat@corp.example.com");
  EXPECT_EQ(r.recipients[0].reply_code, 550);
  EXPECT_EQ(r.recipients[0].reason, Reason::kUserUnknown);
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kHard);
}

TEST(BounceMessageTest, GmailStyleNonStandard) {
  std::string raw =
      "From: Mail Delivery Subsystem <mailer-daemon@mail.example.com>\n"
      "To: bounce+g1@sender.example\n"
      "Subject: Delivery Status Notification (Failure)\n"
      "\n"
      "Delivery to the following recipient failed permanently:\n"
      "\n"
      "     nobody.here@example.com\n"
      "\n"
      "Technical details of permanent failure:\n"
      "The email account that you tried to reach does not exist. Please try\n"
      "double-checking the recipient's email address for typos.\n";
  BounceReport r = Parse(raw);
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].address, "nobody.here@example.com");
  EXPECT_EQ(r.recipients[0].reason, Reason::kUserUnknown);
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kHard);
}

TEST(BounceMessageTest, ArfWithSeveralRecipients) {
  std::string raw =
      "From: feedback@isp.example\n"
      "Content-Type: multipart/report; report-type=feedback-report; "
      "boundary=f\n"
      "\n"
      "--f\n"
      "Content-Type: message/feedback-report\n"
      "\n"
      "Feedback-Type: fraud\n"
      "Original-Rcpt-To: a@example.com\n"
      "Original-Rcpt-To: b@example.com\n"
      "--f--\n";
  BounceReport r = Parse(raw);
  EXPECT_EQ(r.kind, BounceKind::kArf);
  ASSERT_EQ(r.recipients.size(), 2u);
  EXPECT_EQ(r.recipients[1].address, "b@example.com");
  EXPECT_EQ(r.recipients[1].feedback_type, "fraud");
}

TEST(BounceMessageTest, IdentifiersQuotedInBody) {
  std::string raw =
      "From: MAILER-DAEMON@mx.example.org\n"
      "Delivered-To: bounce+Z9@sender.example\n"
      "To: news@sender.example\n"
      "Subject: Returned mail: see transcript for details\n"
      "\n"
      "   ----- The following addresses had permanent fatal errors -----\n"
      "<gone@example.org>\n"
      "    (reason: 550 5.1.1 User unknown)\n"
      "\n"
      "Some details of the message:\n"
      "    Message-ID: <quoted-7@sender.example>\n"
      "    X-Deliverd-Id: msg_0007\n";
  BounceReport r = Parse(raw);
  EXPECT_EQ(r.verp_address, "bounce+Z9@sender.example");
  EXPECT_EQ(r.original_message_id, "quoted-7@sender.example");
  EXPECT_EQ(r.deliverd_id, "msg_0007");
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].address, "gone@example.org");
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kHard);
}

TEST(BounceMessageTest, QuotedPolicyCodeVetoesHard) {
  // A relay's generic "address error" wrapping the receiver's 5.7.1 refusal.
  BounceReport r = Parse(
      Dsn("Final-Recipient: rfc822; reader@example.net\n"
          "Action: failed\n"
          "Status: 5.0.0\n"
          "Diagnostic-Code: smtp; 5.1.0 - Unknown address error 550-'5.7.1\n"
          "    <reader@example.net>... Access denied'\n"));
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kSoft)
      << r.recipients[0].rule;
}

TEST(BounceMessageTest, BlocklistWordsVetoAnAddressStatus) {
  // The reporting MTA's Status says 5.1.x, the receiver's words say
  // blocklist or rate: never hard.
  BounceReport r = Parse(Dsn(
      "Final-Recipient: rfc822; a@example.net\n"
      "Action: failed\n"
      "Status: 5.1.3\n"
      "Diagnostic-Code: smtp; 553 see https://dnsbl.example.org/query?ip=\n"
      "    192.0.2.1\n"
      "\n"
      "Final-Recipient: rfc822; b@example.net\n"
      "Action: failed\n"
      "Status: 5.1.1\n"
      "Diagnostic-Code: smtp; 550 5.1.1 <b@example.net> 192.0.2.1 has sent\n"
      "    to too many recipients this hour\n"));
  ASSERT_EQ(r.recipients.size(), 2u);
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kSoft)
      << r.recipients[0].rule;
  EXPECT_EQ(r.recipients[1].bounce_class, BounceClass::kSoft)
      << r.recipients[1].rule;
}

TEST(BounceMessageTest, BrokenMimeMissingClosingBoundary) {
  std::string raw =
      Dsn("Final-Recipient: rfc822; lost@example.net\n"
          "Action: failed\n"
          "Status: 5.1.1\n");
  raw = raw.substr(0, raw.find("--BOUNDARY-1\nContent-Type: text/rfc822"));
  BounceReport r = Parse(raw);
  EXPECT_TRUE(r.is_bounce);
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].address, "lost@example.net");
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kHard);
}

TEST(BounceMessageTest, BrokenMimeWrongBoundaryDoesNotCrash) {
  std::string raw =
      Dsn("Final-Recipient: rfc822; lost@example.net\n"
          "Action: failed\n"
          "Status: 5.1.1\n");
  raw =
      absl::StrReplaceAll(raw, {{"boundary=\"BOUNDARY-1\"", "boundary=\"x\""}});
  absl::StatusOr<BounceReport> r = ParseBounce(raw);
  ASSERT_TRUE(r.ok());
  // The DSN fields are still found in the (now single-part) body.
  EXPECT_TRUE(r->is_bounce);
}

TEST(BounceMessageTest, RejectsNonMessages) {
  EXPECT_FALSE(ParseBounce("").ok());
  std::string huge(kMaxBounceOctets + 1, 'a');
  EXPECT_FALSE(ParseBounce(huge).ok());
  EXPECT_TRUE(ParseBounce("just some text without headers").ok());
}

TEST(BounceMessageTest, EmptyTextPartIsNotABrokenMultipart) {
  // Every text part is empty: the structure is still fine, so the returned
  // message (the sender's own words) must not be read as the bounce text.
  const std::string bounce =
      "From: MAILER-DAEMON@mx.example.org\n"
      "Subject: Undelivered Mail Returned to Sender\n"
      "Content-Type: multipart/mixed; boundary=B\n"
      "\n"
      "--B\n"
      "Content-Type: text/plain\n"
      "\n"
      "\n"
      "--B\n"
      "Content-Type: message/rfc822\n"
      "\n"
      "To: reader@example.net\n"
      "Subject: hi\n"
      "\n"
      "Please write to other@example.com, my mailbox is full\n"
      "--B--\n";
  absl::StatusOr<BounceReport> report = ParseBounce(bounce);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->recipients.size(), 1u);
  EXPECT_EQ(report->recipients[0].address, "");
  EXPECT_NE(report->recipients[0].reason, Reason::kMailboxFull);
}

// A plain bounce for reader@example.net that returns the original as a
// message/rfc822 part with these header lines and this body.
std::string ReturnedAsRfc822(absl::string_view part_header,
                             absl::string_view part_body) {
  return absl::StrCat(
      "From: MAILER-DAEMON@mx.example.org\n"
      "Subject: Undelivered Mail Returned to Sender\n"
      "Content-Type: multipart/mixed; boundary=B\n"
      "\n"
      "--B\n"
      "\n"
      "<reader@example.net>: 550 5.1.1 user unknown\n"
      "--B\n"
      "Content-Type: message/rfc822\n",
      part_header, "\n", part_body, "--B--\n");
}

TEST(BounceMessageTest, EncodedReturnedMessageStillIdentifiesIt) {
  // message/rfc822 sent base64 (not allowed, but sent): decoded, its
  // header identifies the original.
  const std::string bounce = ReturnedAsRfc822(
      "Content-Transfer-Encoding: base64\n",
      // "Message-ID: <orig-7@sender.example>\nX-Deliverd-Id: msg_7\n\nhi\n"
      "TWVzc2FnZS1JRDogPG9yaWctN0BzZW5kZXIuZXhhbXBsZT4KWC1EZWxpdmVyZC1JZDog\n"
      "bXNnXzcKCmhpCg==\n");
  absl::StatusOr<BounceReport> report = ParseBounce(bounce);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->original_message_id, "orig-7@sender.example");
  EXPECT_EQ(report->deliverd_id, "msg_7");
  ASSERT_EQ(report->recipients.size(), 1u);
  EXPECT_EQ(report->recipients[0].address, "reader@example.net");
}

TEST(BounceMessageTest, ReturnedHeadersEndAtALineOfWhiteSpace) {
  const std::string bounce = Dsn(
      "Final-Recipient: rfc822; reader@example.net\n"
      "Action: failed\n"
      "Status: 5.1.1\n",
      "X-Deliverd-Id: msg_0042\n"
      " \n"
      "Message-ID: <quoted-later@sender.example>\n");
  absl::StatusOr<BounceReport> report = ParseBounce(bounce);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->deliverd_id, "msg_0042");
  EXPECT_EQ(report->original_message_id, "");
}

TEST(BounceMessageTest, ReturnedMessageIdIsReadAsAMsgId) {
  const std::string bounce = ReturnedAsRfc822(
      "",
      "Message-ID: <first@sender.example>\n"
      "Message-ID: (folded)\n <orig-9@sender.example>\n"
      "\n"
      "hi\n");
  absl::StatusOr<BounceReport> report = ParseBounce(bounce);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->original_message_id, "orig-9@sender.example");
}

TEST(BounceMessageTest, HostileInputNeverCrashes) {
  std::string base =
      Dsn("Final-Recipient: rfc822; x@example.net\n"
          "Action: failed\n"
          "Status: 5.1.1\n"
          "Diagnostic-Code: smtp; 550 5.1.1 unknown\n");
  std::mt19937 rng(42);
  for (int i = 0; i < 300; ++i) {
    std::string s = base;
    int edits = 1 + rng() % 20;
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % s.size();
      switch (rng() % 4) {
        case 0:
          s[pos] = static_cast<char>(rng() % 256);
          break;
        case 1:
          s.erase(pos, rng() % 40);
          break;
        case 2:
          s.insert(pos, std::string(rng() % 40, '\0'));
          break;
        default:
          s.insert(pos, "\n--BOUNDARY-1\nContent-Type: multipart/mixed\n\n");
      }
      if (s.empty()) s = "x";
    }
    absl::StatusOr<BounceReport> r = ParseBounce(s);
    EXPECT_TRUE(r.ok());
  }
  // A huge header and deep nesting.
  std::string big = absl::StrCat("Subject: ", std::string(1 << 20, 'a'),
                                 "\nFrom: mailer-daemon@x.example\n\n");
  for (int i = 0; i < 200; ++i) {
    absl::StrAppend(&big, "Final-Recipient: rfc822; u", i, "@example.net\n",
                    "Action: failed\nStatus: 5.1.1\n\n");
  }
  absl::StatusOr<BounceReport> r = ParseBounce(big);
  ASSERT_TRUE(r.ok());
  EXPECT_LE(r->recipients.size(), kMaxBounceRecipients);
  std::string nested = "Content-Type: multipart/mixed; boundary=a0\n\n";
  for (int i = 0; i < 100; ++i) {
    absl::StrAppend(&nested, "--a", i,
                    "\nContent-Type: multipart/mixed; "
                    "boundary=a",
                    i + 1, "\n\n");
  }
  EXPECT_TRUE(ParseBounce(nested).ok());
}

// A content-scanning gateway's report: no reply code of its own, and as the
// returned message the upstream MTA's failure report for the recipient.
constexpr char kGatewayText[] =
    "*** Message from the mail gateway ***\n"
    "The following mail could not be delivered.\n"
    "Reason: Unable to deliver message to <reader@example.net>.\n";

std::string GatewayReport(absl::string_view returned_body,
                          absl::string_view gateway_text = kGatewayText) {
  return absl::StrCat(
      "From: postmaster@gateway.example (\"Gateway Postmaster\")\n"
      "To: <news@sender.example>\n"
      "Subject: Mail could not be delivered\n"
      "MIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=\"GW\"\n"
      "\n"
      "--GW\n"
      "Content-Type: text/plain\n"
      "\n",
      gateway_text,
      "\n"
      "--GW\n"
      "Content-Type: message/rfc822\n"
      "\n"
      "From: news@sender.example\n"
      "To: reader@example.net\n"
      "Subject: News\n"
      "Content-Type: text/plain\n"
      "\n",
      returned_body, "\n--GW--\n");
}

TEST(BounceMessageTest, UpstreamTranscriptInTheReturnedMessageDecides) {
  BounceReport r = Parse(GatewayReport(
      "----- The following addresses had permanent fatal errors -----\n"
      "<reader@example.net>\n"
      "----- Transcript of session follows -----\n"
      "... while talking to mx.example.net:\n"
      ">>> RCPT To:<reader@example.net>\n"
      "<<< 550 5.1.1 <reader@example.net>... No such mailbox\n"));
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].address, "reader@example.net");
  EXPECT_EQ(r.recipients[0].reason, Reason::kUserUnknown)
      << r.recipients[0].rule;
  EXPECT_EQ(r.recipients[0].bounce_class, BounceClass::kHard);
  EXPECT_TRUE(absl::StrContains(r.recipients[0].diagnostic, "No such mailbox"))
      << r.recipients[0].diagnostic;
}

TEST(BounceMessageTest, ReturnedMessageProseOrOtherRecipientsDoNotDecide) {
  // The sender's own words in the returned message, and a transcript about
  // somebody else, say nothing about this recipient.
  for (const char* body :
       {"Hello, last time I got 550 5.1.1 user unknown from your server.\n",
        ">>> RCPT To:<other@example.net>\n"
        "<<< 550 5.1.1 <other@example.net>... No such mailbox\n",
        // The same local part at another domain is somebody else too.
        ">>> RCPT To:<reader@elsewhere.example>\n"
        "<<< 550 5.1.1 <reader@elsewhere.example>... No such mailbox\n"}) {
    BounceReport r = Parse(GatewayReport(body));
    ASSERT_EQ(r.recipients.size(), 1u) << body;
    EXPECT_EQ(r.recipients[0].address, "reader@example.net");
    EXPECT_NE(r.recipients[0].bounce_class, BounceClass::kHard)
        << body << " " << r.recipients[0].rule;
    EXPECT_FALSE(absl::StrContains(r.recipients[0].diagnostic, "5.1.1"))
        << r.recipients[0].diagnostic;
  }
}

TEST(BounceMessageTest, GatewaysOwnCodeIsNotReplacedByTheReturnedMessage) {
  // The gateway gives a reply of its own, a few lines above the address:
  // a transcript in the returned message does not override it.
  BounceReport r = Parse(GatewayReport(
      ">>> RCPT To:<reader@example.net>\n"
      "<<< 550 5.1.1 <reader@example.net>... No such mailbox\n",
      "Delivery failed: 554 5.7.1 refused by policy\n"
      "\n"
      "Details:\n"
      "Recipient:\n"
      "<reader@example.net>\n"));
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_NE(r.recipients[0].bounce_class, BounceClass::kHard)
      << r.recipients[0].rule;
  EXPECT_TRUE(absl::StrContains(r.recipients[0].diagnostic, "5.7.1"))
      << r.recipients[0].diagnostic;
}

}  // namespace
}  // namespace deliverd::hygiene::bounce
