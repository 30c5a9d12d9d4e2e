// SMTP reply parsing: basic reply codes (RFC 5321 section 4.2) and enhanced
// mail system status codes (RFC 3463, carried in replies per RFC 2034).
//
// Why hand-written: this is the project's core. Every delivery attempt's
// outcome (issue 3) and every DSN Diagnostic-Code (issue 6) goes through it,
// the input is hostile (any peer on the internet writes it), and the rules
// are small and exact. No library in Debian parses replies on their own (MTAs
// and libESMTP embed it in their protocol engines), so depending on one would
// also pull its I/O model in. Written from RFC 5321, RFC 2034 and RFC 3463.
//
// Contract
//   * Pure functions; no global state; thread-safe.
//   * Total: ParseSmtpReply() gives an SmtpReply or absl::InvalidArgumentError
//     for any byte sequence (NULs, controls, invalid UTF-8, megabytes). It
//     never reads out of bounds and never aborts. Error messages start with a
//     stable reason code ("reply.mismatched_code: ..."), never echo input
//     bytes, and name positions as line numbers.
//   * Work and memory are bounded: input over kMaxReplyOctets, a line over
//     kMaxLineOctets or more than kMaxReplyLines lines are refused before any
//     copy is made.
//   * FindStatusCodesInText() never fails: it reports what it finds.
//
// Accepted reply grammar (RFC 5321 4.2, with the leniency real peers need):
//     reply = *( code "-" [text] EOL ) code [ SP [text] ] [EOL]
//     code  = %x32-35 %x30-35 DIGIT          ; 200..559
//     EOL   = CRLF / LF                      ; bare LF accepted (many readers
//                                            ; strip CR already)
//   The terminator after the final line is optional (line readers strip it).
//   Text bytes: TAB, 0x20-0x7E, and bytes >= 0x80 (RFC 6531 allows UTF-8 in
//   replies). Invalid UTF-8 is not an error, it is replaced with U+FFFD in
//   `text` so the result can always be put in a proto string field.
//
// Error reason codes (stable):
//   reply.empty               no bytes at all
//   reply.too_long            whole reply over kMaxReplyOctets
//   reply.line_too_long       one line over kMaxLineOctets (without EOL)
//   reply.too_many_lines      more than kMaxReplyLines lines
//   reply.bad_code            a line not starting with a valid 3-digit code
//   reply.bad_separator       code followed by something other than SP, "-"
//                             or the end of the line
//   reply.mismatched_code     a continuation line's code differs from the
//                             first line's
//   reply.incomplete          only continuation lines, no final line
//   reply.trailing_data       bytes after the final line
//   reply.control_character   NUL, a bare CR, DEL or another C0 control
//
// Deliberate choices:
//   * The enhanced code must appear at the very start of a line's text,
//     followed by SP or the end of the line (RFC 2034). A code whose class
//     differs from the basic code's class ("550 2.1.5 ...") is not an
//     enhanced code for this reply (RFC 3463 says the classes agree; the basic
//     code is the one the protocol acts on) and stays part of the text.
//   * The reply's enhanced code is the first valid one of any line (RFC 2034
//     asks for it on every line; some servers put it only on the last).
//   * In `text`, each line's leading enhanced code is removed when it equals
//     the reply's enhanced code (the repetition is protocol, not message).
//     Lines carrying a different code keep it.
//   * Subject and detail allow 1 to 3 digits, leading zeros included (the RFC
//     3463 grammar "1*3digit"), and range 0-999.
#ifndef DELIVERD_HYGIENE_BOUNCE_SMTP_REPLY_H_
#define DELIVERD_HYGIENE_BOUNCE_SMTP_REPLY_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace deliverd::hygiene::bounce {

// RFC 5321 says 512 octets per reply line including CRLF; real servers exceed
// it (long diagnostic URLs), so we allow four times that before calling it
// hostile.
inline constexpr size_t kMaxLineOctets = 2048;
inline constexpr size_t kMaxReplyLines = 128;
inline constexpr size_t kMaxReplyOctets = 64 * 1024;

// class.subject.detail (RFC 3463 section 2).
struct EnhancedStatusCode {
  int klass = 0;    // 2 success, 4 persistent transient, 5 permanent
  int subject = 0;  // 0-999
  int detail = 0;   // 0-999

  std::string ToString() const;  // "5.1.1"
  friend bool operator==(const EnhancedStatusCode& a,
                         const EnhancedStatusCode& b) {
    return a.klass == b.klass && a.subject == b.subject && a.detail == b.detail;
  }
  friend bool operator!=(const EnhancedStatusCode& a,
                         const EnhancedStatusCode& b) {
    return !(a == b);
  }
};

// Parses "5.1.1" exactly (no surrounding bytes). InvalidArgument otherwise.
absl::StatusOr<EnhancedStatusCode> ParseEnhancedStatusCode(absl::string_view s);

struct SmtpReply {
  int code = 0;  // 200-559
  std::optional<EnhancedStatusCode> enhanced;
  // Each line's text (after "NNN-" / "NNN "), its leading enhanced code
  // removed as described above, joined by "\n". Valid UTF-8.
  std::string text;
  int line_count = 0;

  // 2, 3, 4 or 5.
  int code_class() const { return code / 100; }
};

// Parses one complete reply as received from a peer.
absl::StatusOr<SmtpReply> ParseSmtpReply(absl::string_view raw);

// The reason code of an error from ParseSmtpReply ("reply.incomplete"), or ""
// for OK or a status from elsewhere.
std::string SmtpReplyErrorCode(const absl::Status& status);

// Codes found in free text such as a DSN Diagnostic-Code field:
//   "smtp; 550 5.1.1 <x@y>: Recipient address rejected: User unknown"
//   "X-Postfix; host mx.example[192.0.2.1] said: 554 5.7.1 ..."
//   "sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"
struct FoundStatusCodes {
  std::optional<int> reply_code;               // 200-559
  std::optional<EnhancedStatusCode> enhanced;  // validated as above
};

// Rules: an enhanced code is a token "c.s.d" (c in 2/4/5, 1-3 digits each)
// not glued to letters, digits or dots on either side (so IP addresses,
// versions and dates do not match). A reply code is a 3-digit token 200-559
// with the same boundaries that is followed by SP, "-" or the end of text.
// The first enhanced code wins; the reply code is the first one whose class
// agrees with it (or the first one at all when there is no enhanced code).
// Only the first kMaxReplyOctets of `text` are examined.
FoundStatusCodes FindStatusCodesInText(absl::string_view text);

}  // namespace deliverd::hygiene::bounce

#endif  // DELIVERD_HYGIENE_BOUNCE_SMTP_REPLY_H_
