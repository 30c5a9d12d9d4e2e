// Bounce message parsing (issue 6): from a raw message received at a bounce
// address to one entry per failed (or delayed, or delivered) recipient, each
// classified by ClassifyReply() into a Reason and a BounceClass.
//
// Why hand-written on top of GMime: GMime (already used by the composer)
// parses the MIME structure robustly; no Debian library reads delivery status
// notifications, feedback reports or the free-text bounces of older MTAs.
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
//   kNonStandard  a bounce recognised by its sender (mailer-daemon,
//                 postmaster, ...), subject ("Undelivered Mail Returned to
//                 Sender", "failure notice", ...) or X-Failed-Recipients;
//                 recipients and diagnostics come from the text body
//                 (qmail, Exim, Exchange, Gmail, Sendmail wording).
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
//   * Bounce-body rules (kBodyRules in the .cc: MTA wording such as "retry
//     timeout exceeded", "no mailbox here by that name", "Host not found",
//     "reverse DNS") apply only when ClassifyReply() fell back to a default
//     (rule "code:", "subject:", a generic X.0.0 / X.7.1 code, or unknown).
//     They never make a result hard under a subject-7 code or a session
//     stage. reply_classifier itself is not changed.
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
//         content_rejected, soft (the address passed RCPT TO);
//       - a hard result with Status X.2.1 whose comment says "disabled" ->
//         suspended, soft;
//       - host_unknown with "try again" (a temporary DNS failure) ->
//         network_error, soft;
//       - text saying the queue lifetime ran out, or a timed-out connection
//         under a failed Action with a 4.x.x status -> expired, soft;
//       - Action failed with a transient code, or Action delayed: class soft;
//         a vague reason becomes expired, host_unknown becomes network_error.
//   * Safety: adjustments only ever make a result softer; hard comes only
//     from ClassifyReply() or a body rule whose reason ClassOfReason() calls
//     hard, outside the guards above. A reputation block is never hard.
//
// Deliberate differences from other bounce parsers' labels: a refused sender
// (X.1.7/X.1.8, "after MAIL FROM") is policy, as reason.h defines it, not
// blocked; "550 User unknown" without evidence of a DATA-stage refusal is
// user_unknown (hard), as the receiver said.
//
// Contract
//   * ParseBounce() returns INVALID_ARGUMENT only for input that is not a
//     message at all (empty, over kMaxBounceOctets). Any other input gives a
//     report, possibly with is_bounce false.
//   * Total on hostile input (broken MIME, missing boundaries, huge headers,
//     NULs, invalid UTF-8): never crashes or reads out of bounds; work is
//     bounded (MIME depth, part count, boundary lines handed to GMime, text
//     examined and recipients are capped, see the constants below). A
//     multipart whose boundaries are all missing is read as plain text, so
//     its DSN fields or bounce wording are still found.
//   * Thread-safe. GMime is initialised once per process, through the one
//     initialiser every GMime user shares (hygiene/gmime_init).
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
// Lines starting with "--" handed to GMime (which builds every part it
// sees): the input is cut before the next one.
inline constexpr size_t kMaxMimeBoundaryLines = 4096;
inline constexpr size_t kMaxBounceRecipients = 256;
// Free text examined for non-standard bounces.
inline constexpr size_t kMaxBodyTextOctets = 256 * 1024;

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
