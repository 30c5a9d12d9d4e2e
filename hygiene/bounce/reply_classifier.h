// From an SMTP reply (basic code, enhanced code, text) to what delivery does
// next and what the bounce means: an Outcome, a Reason and a BounceClass.
//
// Why hand-written: this is the project's core judgment (issue 3's statuses,
// issue 6's classifier). The rules are ours, written from RFC 5321 (basic
// codes, 521/556 of RFC 7504), RFC 3463 and its IANA registry additions
// (enhanced codes: RFC 4954, 5248, 6531, 6710, 7293, 7372, 7505, 8689) and
// from what large receivers are known to say; no table is copied from another
// project.
//
// Outcomes and the statuses of ARCHITECTURE.md:
//   kAccepted   2xx                                   -> sent / confirmed
//   kTransient  4xx, 3xx (an intermediate reply is never a final success),
//               and the two 5xx that RFCs say to treat as temporary (see
//               "mapping decisions")                   -> waiting (retry)
//   kBounced    5xx about the address itself; always class hard -> bounced
//   kBlocked    5xx about the sender, its reputation, policy or the content;
//               always class soft                      -> blocked
//   kFailed     any other 5xx: message too large, suspended mailbox, system or
//               protocol errors, our own relay's authentication, unknown
//               causes; class soft                     -> failed
//
// Class: kAccepted -> none; kTransient -> soft whatever the reason (a
// transient reply never suppresses; "450 4.1.1 unverified" keeps reason
// user_unknown but is soft); permanent -> ClassOfReason(reason), with
// kBounced exactly when that is hard.
//
// Order of evaluation (first that decides wins):
//   1. 2xx accepted; 3xx transient "intermediate".
//   2. A *specific* enhanced code (table in the .cc: 5.1.1, 5.1.2, 5.1.6,
//      5.1.10, 5.2.2, 5.3.4, 5.7.8, 5.7.17, 5.7.23, ...): the receiver named
//      the condition precisely; the text is not consulted.
//   3. Keyword rules on the text, case-insensitive, each keyword anchored at
//      a word start, ordered: sender-side and reputation rules come before
//      address rules, so a text that mentions both ("sender verify failed
//      ... user unknown", "blocked ... no such user") is never hard.
//   4. A *generic* enhanced code (X.0.0, X.1.0, X.2.0, X.3.0, X.4.1, X.5.0,
//      X.7.0, X.7.1, any undefined detail): its subject's default.
//   5. The basic code's default (550 unknown/failed, 551 has_moved, 552
//      mailbox_full, 521/556 not_accept, 421 system_error, ...).
//   Without an enhanced code at line starts, a qmail-style "(#5.7.1)" code
//   found in the text (same class as the basic code) is used instead.
//
// Safety rules (tested):
//   * Under a subject-7 (security/policy) enhanced code nothing is hard except
//     the specific 5.7.17/5.7.18 (RFC 7293: the mailbox or domain changed
//     owner); hard keyword matches are skipped there.
//   * Stage::kSession (greeting, EHLO, STARTTLS, AUTH, MAIL FROM): the reply
//     is about our session or our sender, never the recipient, so a hard
//     result becomes reason blocked, outcome kBlocked (a refused sender,
//     see below).
//
// Mapping decisions worth knowing:
//   * 5.2.2 mailbox full on a 5xx: kTransient, reason mailbox_full, soft.
//     RFC 3463 says X.2.2 serves "persistent transient" conditions and RFC
//     5321 4.5.3.1.10 records that 552 was long misused for what is 452; a
//     mailbox can be emptied. Retries stay bounded by the RetrySchedule.
//     Options::retry_mailbox_full = false makes it kFailed instead.
//   * 5.5.3 / "too many recipients" on a 5xx: kTransient, rate_limited (RFC
//     5321 4.5.3.1.10: treat as 452; send the rest in a new transaction).
//   * 5.3.4 / 5.2.3 / "message too large": kFailed, message_too_large. Not an
//     address problem (bounced) nor reputation (blocked): this message can
//     never pass, the next, smaller one will.
//   * 5.2.1 mailbox disabled: kFailed, suspended, soft. It may be re-enabled
//     (RFC 3463 says either); repeated ones suppress through the soft-bounce
//     score in hygiene/policy.
//   * 5.1.3 bad mailbox syntax, 5.1.4 ambiguous: user_unknown, hard.
//   * 5.1.7 / 5.1.8 bad *sender* address or domain, "sender address
//     rejected", "sender verify failed": reason blocked, kBlocked. The
//     receiver refused us; users (and other bounce parsers) call that
//     blocked, and it keeps "policy" for rules about the message.
//   * "UBE" (unsolicited bulk email) is spam_detected; a message refused
//     because its content is a "security issue/risk" (Gmail's attachment
//     wording) is policy, not a reputation block, although it says
//     "blocked".
//   * 5.4.4 unable to route: host_unknown, hard (Postfix and Exim report
//     nonexistent domains with it); 4.4.4 stays transient.
//   * 5.7.8 / 5.7.9 / 5.7.11-5.7.14, 530, 535: our relay refused our
//     credentials: security_error, kFailed (issue 3: "auth refused" fails).
//     5.7.20-5.7.26 (DKIM/SPF/DMARC/reverse-DNS checks on the message):
//     security_error, kBlocked.
//   * Relay denied: relay_denied, kFailed (the recipient may be fine; the
//     server we talked to is the wrong one or refuses us).
//   * An unknown 5xx cause: reason unknown, kFailed (never guessed hard).
#ifndef DELIVERD_HYGIENE_BOUNCE_REPLY_CLASSIFIER_H_
#define DELIVERD_HYGIENE_BOUNCE_REPLY_CLASSIFIER_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "hygiene/bounce/reason.h"
#include "hygiene/bounce/smtp_reply.h"

namespace deliverd::hygiene::bounce {

enum class Outcome { kAccepted, kTransient, kBounced, kBlocked, kFailed };

absl::string_view OutcomeName(Outcome outcome);  // "accepted", "bounced", ...
bool IsPermanent(Outcome outcome);               // kBounced, kBlocked, kFailed

enum class Stage {
  kRecipient,  // RCPT TO, DATA end, or a DSN's Diagnostic-Code (the default)
  kSession,    // greeting, EHLO/HELO, STARTTLS, AUTH, MAIL FROM
};

struct ClassifyOptions {
  Stage stage = Stage::kRecipient;
  bool retry_mailbox_full = true;  // see "mapping decisions"
};

struct ReplyClassification {
  Outcome outcome = Outcome::kFailed;
  Reason reason = Reason::kUnknown;
  BounceClass bounce_class = BounceClass::kSoft;
  // Which rule decided, for evidence and debugging: "2xx", "intermediate",
  // "enhanced:5.1.1", "text:user_unknown", "subject:7", "code:550".
  std::string rule;
};

// `code` must be 200-599 (others give kFailed/unknown, rule "invalid_code").
ReplyClassification ClassifyReply(
    int code, const std::optional<EnhancedStatusCode>& enhanced,
    absl::string_view text, const ClassifyOptions& options = {});

inline ReplyClassification ClassifyReply(const SmtpReply& reply,
                                         const ClassifyOptions& options = {}) {
  return ClassifyReply(reply.code, reply.enhanced, reply.text, options);
}

}  // namespace deliverd::hygiene::bounce

#endif  // DELIVERD_HYGIENE_BOUNCE_REPLY_CLASSIFIER_H_
