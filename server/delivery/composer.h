// Message composer: turns one outgoing message into the RFC 5322 bytes that a
// transport hands to the next hop (SMTP DATA, the local outbox folder).
//
// The output is a complete Internet message with CRLF line endings, no line
// longer than 998 octets, and MIME structure chosen from the content:
//
//   text only                  text/plain
//   html only                  text/html
//   text and html              multipart/alternative (text first)
//   inline parts + html        the html becomes multipart/related
//                              [text/html, inline parts...]
//   other attachments          multipart/mixed [body, attachments...]
//
// Inline parts are attachments with a content_id; they are referenced from
// the HTML as cid:<content_id>. Without an HTML body there is nothing to
// reference them, so they are sent in multipart/mixed like other attachments
// (keeping their Content-ID and inline disposition).
//
// Encodings. Text bodies are canonicalised to MIME text form: every line break
// (LF, CRLF or a lone CR) becomes CRLF and a final line break is added if
// missing; a receiver decoding the part gets exactly that. They go out as 7bit
// when plain ASCII with lines of at most 998 octets, otherwise as
// quoted-printable (charset us-ascii or utf-8). Attachments are always base64,
// so their bytes (NULs and line endings included) arrive unchanged.
// Non-ASCII file names use RFC 2231 parameters (GMime does this).
//
// Header fields. Display names, the subject and non-ASCII values of extra
// headers are RFC 2047 encoded as UTF-8 encoded-words of at most 75
// characters, and every field is folded at whitespace to 78 columns. These
// field bodies are built here rather than by GMime, because GMime 3.2 (a) emits
// encoded-words far longer than 75 characters for multi-byte UTF-8 text,
// (b) leaves text that merely looks like an encoded-word ("=?utf-8?q?x?=")
// unencoded, so it would decode to something else, and (c) converts address
// domains to punycode, while non-ASCII (SMTPUTF8) addresses must appear as
// given, in raw UTF-8 (RFC 6532). ASCII values of extra headers are never
// encoded, since their grammar is unknown here (List-Unsubscribe URLs must stay
// literal); they are only folded. The composer writes these fields itself;
// GMime builds and serialises the MIME body (its Content-* fields and
// content), except a single ASCII text part that needs no encoding, which
// is written directly (composer_internal.h).
//
// Bcc recipients are not part of the input and never appear in the output;
// the transport gives them to the next hop as envelope recipients only.
//
// Errors. Input reaches this unit already validated by the API layer; it is
// checked again because a CR or LF in a header would let a caller inject
// fields (a Bcc, a second From). InvalidArgument, naming the field (for
// example "to[1].display_name", "headers[0].name"), is returned when:
//   - a header name/value, display name, subject, address, file name, content
//     type or id contains CR, LF, NUL or another control character other
//     than TAB, or is not valid UTF-8;
//   - a header name is not an RFC 5322 field name, or names a field this unit
//     writes itself (Date, From, To, Cc, Bcc, Reply-To, Subject, Message-ID,
//     MIME-Version, X-Deliverd-Id, Content-*);
//   - an address, message_id, deliverd_id, content_id or content type is
//     malformed, or content_ids repeat;
//   - there is no body, or a body contains NUL (send binary as an attachment);
//   - an extra header value has a run without whitespace too long to fold
//     into a 998-octet line.
// Internal is returned only if GMime fails or the serialised message breaks
// the line rules above (a bug here, never the caller's).
//
// Thread safety: ComposeMessage may be called from any number of threads at
// once. It initialises GMime exactly once (g_mime_init is not thread-safe);
// the only GMime object calls share is the format options, which GMime only
// reads while writing.

#ifndef DELIVERD_SERVER_DELIVERY_COMPOSER_H_
#define DELIVERD_SERVER_DELIVERY_COMPOSER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace deliverd::delivery {

struct Mailbox {
  // addr-spec, already validated and normalised by hygiene/address. Written
  // exactly as given (raw UTF-8 if non-ASCII).
  std::string address;
  // UTF-8; may be empty.
  std::string display_name;
};

struct OutgoingAttachment {
  // UTF-8; may be empty (no name parameter is then written).
  std::string filename;
  // "type/subtype" with optional parameters; empty means
  // application/octet-stream. multipart/* and message/* are rejected: their
  // bodies may not be base64 encoded (RFC 2046).
  std::string content_type;
  // Raw bytes.
  std::string content;
  // Non-empty makes this an inline part (Content-ID: <content_id>). Written
  // without angle brackets; a surrounding pair is tolerated and removed.
  std::string content_id;
};

struct ComposeInput {
  Mailbox from;
  // Bcc recipients are not here: they never appear in headers.
  std::vector<Mailbox> to, cc, reply_to;
  // At least one of text_body and html_body is required.
  std::string subject, text_body, html_body;
  // Extra headers, already validated by the API layer; written in order after
  // the composer's own fields.
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<OutgoingAttachment> attachments;
  // Without angle brackets, e.g. "01hx...@deliverd.local".
  std::string message_id;
  // Written in UTC, whole seconds.
  absl::Time date;
  // Our message id, written as "X-Deliverd-Id" so bounces can be matched later.
  std::string deliverd_id;
};

// Thread-safe (initialises GMime once). Returns the message with CRLF line
// endings.
absl::StatusOr<std::string> ComposeMessage(const ComposeInput& input);

}  // namespace deliverd::delivery

#endif  // DELIVERD_SERVER_DELIVERY_COMPOSER_H_
