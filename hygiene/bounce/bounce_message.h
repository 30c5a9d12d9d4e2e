// Bounce message parsing (issue 6): from a raw message received at a bounce
// address to one entry per failed (or delayed, or delivered) recipient, each
// classified by ClassifyReply() into a Reason and a BounceClass.
//
// Why hand-written: no Debian library reads delivery status notifications,
// feedback reports or the free-text bounces of older MTAs. The MIME
// structure is read by mime_reader.h (its header says why it is not GMime's
// parser; GMime still does the transfer decodings and encoded words).
// The DSN field parsing, the heuristics and the classification are ours,
// written from RFC 3464 (DSN), RFC 6533 (global DSN), RFC 5965 (ARF) and
// RFC 3834 (auto-responders), and from how common MTAs word their bounces.
//
// Kinds recognised, first that applies wins:
//   kArf          multipart/report; report-type=feedback-report: one
//                 recipient per Original-Rcpt-To (else the returned
//                 message's recipient), reason complaint, class none,
//                 feedback_type. Also the older non-ARF format that returns
//                 the message under a "complaint about message from ..."
//                 subject.
//   kDsn          multipart/report; report-type=delivery-status (or any
//                 message carrying a message/delivery-status part).
//   (SES)         an Amazon SES notification mailed through SNS (a JSON
//                 body with "notificationType"): Bounce -> kDsn, one entry
//                 per bouncedRecipients element classified like a DSN
//                 recipient; Complaint -> kArf, complaint/none; Delivery ->
//                 kDsn, delivered/none. A small bounded reader of just these
//                 fields (no JSON library in the tree); SNS's wrapped lines
//                 are re-joined. Checked after kDsn/kArf, before the rest.
//   kNonStandard  a bounce recognised by its sender (mailer-daemon,
//                 postmaster, ...), subject ("Undelivered Mail Returned to
//                 Sender", "failure notice", ...), X-Failed-Recipients, or
//                 a returned message/rfc822 part preceded by "could not be
//                 delivered to:" (carrier gateways with unknown senders and
//                 localised subjects);
//                 recipients and diagnostics come from the text body
//                 (qmail, Exim, Exchange, Gmail, Sendmail wording).
//   (list)        a mailing list's administrative address (owner, admin,
//                 -request, ...) with list headers (List-Id, X-ML-Name, ...)
//                 saying the sender is "not a member" / "not allowed to
//                 post": kNonStandard, one entry for the list address named,
//                 reason blocked (the list refused the poster).
//   kAutoReply    RFC 3834 Auto-Submitted: auto-replied, X-Autoreply,
//                 vacation / out-of-office subjects: reason auto_reply, class
//                 none (a recipient entry for the sender when known).
//   kNone         anything else: is_bounce is false.
//
// Classification of a recipient:
//   * Action delivered / relayed / expanded / deliverable: delivered, none.
//   * Otherwise ClassifyReply(code, enhanced, diagnostic, options), where
//     code is the reply code found in the diagnostic (FindStatusCodesInText)
//     or else derived from the Status class (2/4/5 -> 250/450/550; a 2xx in a
//     failure report is classified as 550), enhanced is the diagnostic's
//     enhanced code or else the DSN Status field, and the diagnostic falls
//     back to the human-readable part when the DSN has none. options.stage is
//     kSession when the text says the reply answered MAIL FROM, EHLO/HELO,
//     STARTTLS, AUTH or the greeting ("after MAIL FROM", "in reply to MAIL
//     FROM command", ">>> MAIL From", "my name was rejected", ...).
//   * SMTP transcripts (Sendmail's ">>> COMMAND" / "<<< reply" lines): the
//     command whose reply names the recipient decides the stage (MAIL,
//     EHLO, HELO: session; DATA: after the data), and in a non-standard
//     bounce the "<<<" reply to it is the diagnostic, so later lines about
//     other hosts or retries do not decide. When a non-standard bounce has
//     no code for a recipient at all (a gateway's bare "unable to deliver
//     to <rcpt>") and the returned message is itself an upstream MTA's
//     failure report, a transcript reply in the returned message's text
//     that names the recipient's full address is the diagnostic; nothing
//     else of the returned message is read (it is the sender's content). A 5xx "<<<" reply before any
//     command of a connection, with no later connection getting further, is
//     a refusal at the greeting: session stage.
//   * Bounce-body rules (kBodyRules in the .cc: MTA wording such as "retry
//     timeout exceeded", "no mailbox here by that name", "Host not found",
//     "reverse DNS") apply only when ClassifyReply() fell back to a default
//     (rule "code:", "subject:", a generic X.0.0 / X.7.1 code, or unknown).
//     They never make a result hard under a subject-7 code or a session
//     stage. reply_classifier itself is not changed.
//   * A generic X.7.0/X.7.1 that comes only from the DSN Status (the
//     receiver's reply has a code but no enhanced code) is the reporting
//     MTA's guess: when ClassifyReply() on the reply alone decides by its
//     words ("553 Invalid recipient"), that result stands (rule
//     "dsn:status_guess_ignored,..."); sender-side and reputation words
//     still come first there, and the vetoes below still apply.
//   * Adjustments, each recorded in `rule` ("dsn:..." prefix):
//       - a hard result whose diagnostic (its first 512 bytes) reads, on its
//         own, as a blocklist, spam, rate, virus, message-authentication or
//         sender refusal is given that text-only classification (a Status
//         5.1.x on a blocklist refusal is the reporting MTA's guess, and
//         some receivers misuse 5.1.1 for throttling);
//       - a hard result whose diagnostic also quotes a 4.7.x/5.7.x code
//         (other than 5.7.17/5.7.18) is classified again under that code,
//         so a policy refusal wrapped in a relay's wording is never hard;
//       - a hard result answering the message data ("in reply to end of DATA
//         command", ">>> DATA") without a specific enhanced code ->
//         content_rejected, soft (the address passed RCPT TO), unless the
//         receiver says outright that the mailbox does not exist (an
//         X.1.1 code in its words, "does not exist", "does not have an
//         account"): some providers check recipients only at DATA;
//       - a local delivery program's failure ("procmail: Couldn't create",
//         "command died with status") -> system_error, soft, whatever
//         address code the MTA mapped its exit status to;
//       - a hard result with Status X.2.1 whose comment says "disabled" ->
//         suspended, soft;
//       - "550 : User unknown" with the address slot empty and no X.1.x
//         code -> content_rejected, soft: carrier domain filters answer so
//         when they refuse the sender; the mailbox exists;
//       - a session-stage reply whose result is policy, unknown or a code
//         default -> blocked (the receiver refused us, not the address);
//       - Google Groups refusals (googlegroups.com recipient, the
//         groups.google.com help link, localised text without a code) ->
//         blocked: the group refused the poster;
//       - a failed pipe recipient ("|/path/program") with a vague result ->
//         system_error (the local delivery program failed);
//       - host_unknown with "try again" (a temporary DNS failure) ->
//         network_error, soft;
//       - text saying the queue lifetime ran out, or a timed-out connection
//         under a failed Action with a 4.x.x status -> expired, soft (not
//         for Action delayed: a delay warning's "could not be delivered for
//         2 hours" has not run out of anything; its cause stays);
//       - Action failed with a transient code, or Action delayed: class soft;
//         a vague reason becomes expired, host_unknown becomes network_error.
//   * Safety: adjustments only ever make a result softer; hard comes only
//     from ClassifyReply() (also on the reply without a Status guess, above)
//     or a body rule whose reason ClassOfReason() calls hard, outside the
//     guards above. A reputation block is never hard.
//
// Conventions, checked against a corpus of real bounces: a refused sender
// (X.1.7/X.1.8, "sender address rejected", any refusal after MAIL FROM or at
// the greeting) is blocked, not policy: the receiver refused *us*, which is
// what users read "blocked" as and how other bounce parsers label it (this
// was a deliberate difference before; the corpus showed it was the less
// useful one). Deliberate difference kept: "550 User unknown" without
// evidence of a DATA-stage refusal (transcript, "end of DATA", an empty
// address slot) is user_unknown (hard), as the receiver said; Sisimai-style
// labels call some of these content_rejected, from knowledge of individual
// MTAs rather than from the text.
//
// Contract
//   * ParseBounce() returns INVALID_ARGUMENT only for input that is not a
//     message at all (empty, over kMaxBounceOctets). Any other input gives a
//     report, possibly with is_bounce false.
//   * Total on hostile input (broken MIME, missing boundaries, huge headers,
//     NULs, invalid UTF-8): never crashes or reads out of bounds; work is
//     bounded (MIME depth, part count, header fields per entity, text
//     examined and recipients are capped, see the constants below). A
//     multipart whose boundaries are all missing is read as plain text, so
//     its DSN fields or bounce wording are still found.
//   * Thread-safe. GMime is initialised once per process, through the one
//     initialiser every GMime user shares (hygiene/gmime_init), when a
//     bounce first needs one of its decoders.
//   * Output strings are the bytes found (headers unfolded, trimmed); they are
//     not guaranteed valid UTF-8.
#ifndef DELIVERD_HYGIENE_BOUNCE_BOUNCE_MESSAGE_H_
#define DELIVERD_HYGIENE_BOUNCE_BOUNCE_MESSAGE_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hygiene/bounce/reason.h"

namespace deliverd::hygiene::bounce {

inline constexpr size_t kMaxBounceOctets = 25 * 1024 * 1024;
inline constexpr int kMaxMimeDepth = 8;
inline constexpr int kMaxMimeParts = 256;
inline constexpr size_t kMaxBounceRecipients = 256;
// Free text examined for non-standard bounces.
inline constexpr size_t kMaxBodyTextOctets = 256 * 1024;
// Text of the returned message kept for an upstream MTA's transcript.
inline constexpr size_t kMaxReturnedTextOctets = 16 * 1024;

enum class BounceKind { kNone, kDsn, kArf, kAutoReply, kNonStandard };

absl::string_view BounceKindName(BounceKind kind);  // "dsn", "arf", ...

struct BounceRecipient {
  // Final-Recipient (else Original-Recipient) without its "rfc822;" type,
  // domain lower-cased; empty when the bounce names no address.
  std::string address;
  std::string original_recipient;  // Original-Recipient, when given
  std::string action;              // failed/delayed/delivered/relayed/expanded
  std::string status;              // DSN Status ("5.1.1"), when given
  std::optional<int> reply_code;   // from the diagnostic text
  std::string diagnostic;          // Diagnostic-Code text or body excerpt
  std::string remote_mta;          // Remote-MTA without its type
  std::string feedback_type;       // ARF Feedback-Type
  Reason reason = Reason::kUnknown;
  BounceClass bounce_class = BounceClass::kSoft;
  std::string rule;  // what decided: ClassifyReply's rule or "dsn:...", ...
};

struct BounceReport {
  bool is_bounce = false;
  BounceKind kind = BounceKind::kNone;
  std::vector<BounceRecipient> recipients;
  // The envelope recipient of the bounce itself when it looks like a VERP
  // address (local part "bounce+..." or "bounce-..."), from Delivered-To,
  // X-Original-To, Envelope-To or To. Raw address; matching is elsewhere.
  std::string verp_address;
  std::string original_message_id;  // without angle brackets
  std::string deliverd_id;          // X-Deliverd-Id of the returned message
  std::string reporting_mta;        // DSN Reporting-MTA without its type
  std::string subject;              // of the bounce
};

absl::StatusOr<BounceReport> ParseBounce(absl::string_view raw_message);

}  // namespace deliverd::hygiene::bounce

#endif  // DELIVERD_HYGIENE_BOUNCE_BOUNCE_MESSAGE_H_
