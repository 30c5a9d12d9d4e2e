// The MIME structure (RFC 2045, 2046) of a bounce, read without building an
// object model: header fields and bodies are views into the caller's text,
// and only the few things a bounce classifier reads are ever copied or
// decoded.
//
// Why hand-written: GMime's parser builds a GObject for every header field
// and every part, with an allocation and locks each, and frees them again;
// for a bounce that was 60 % of classifying it, while the classifier reads
// a dozen header fields and the text of three or four parts. What needs a
// codec stays with GMime: transfer decodings (base64, quoted-printable,
// uuencode) and RFC 2047 encoded words in header values. The structural
// rules follow GMime's (tests/hygiene/bounce_mime_reader_test.cc holds the
// two to the same results on tricky input); where a message is cut inside
// its header block, or starts with a line that is no header field, GMime
// gave up and the reader reads what is there:
//   * a header block ends at the first empty line; lines that are neither
//     a field ("name:", printable name) nor a continuation are skipped;
//   * a part's content ends before the line break that precedes the next
//     delimiter line ("--boundary" or "--boundary--", then only white
//     space); the preamble and the epilogue are not parts; a part without a
//     closing delimiter runs to the end of its enclosing body; a multipart
//     without a boundary parameter, or whose boundary never occurs, has no
//     parts;
//   * a Content-Type without "type/subtype" is application/octet-stream;
//     none at all is text/plain (message/rfc822 in a multipart/digest);
//   * a parameter value without quotes runs to the next ';' (trimmed).
//
// Contract: total on any bytes (NULs, lone CRs, no line breaks, unbalanced
// quotes); work is linear in the text for each call, and callers bound the
// nesting. Views returned point into the argument and live as long as it.
// Thread-safe: GMime's codecs are reentrant once GMime is initialised
// (which the functions that use it see to); the one shared state, the
// charset converters MimeHeaderValue() keeps loaded for the process (see
// mime_reader.cc), is behind a mutex.
#ifndef DELIVERD_HYGIENE_BOUNCE_MIME_READER_H_
#define DELIVERD_HYGIENE_BOUNCE_MIME_READER_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace deliverd::hygiene::bounce {

struct MimeField {
  absl::string_view name;       // as written, white space before ':' cut
  absl::string_view raw_value;  // after ':', folded lines included
};

// An entity: its header block and the body after the empty line.
struct MimeEntity {
  std::vector<MimeField> fields;
  absl::string_view body;

  // The raw value of the first (LastField: the last) field named `name`
  // (ASCII case-insensitive). GMime's model takes a repeated Content-*
  // field's last occurrence and an address field's first.
  std::optional<absl::string_view> Field(absl::string_view name) const;
  std::optional<absl::string_view> LastField(absl::string_view name) const;
};

// Splits `text` into fields (at most `max_fields` kept; the rest of the
// header block is still skipped) and body. Without an empty line the whole
// text is header block and the body is empty.
MimeEntity ReadMimeEntity(absl::string_view text, size_t max_fields);

// A field value as a reader means it: folding line breaks removed, white
// space trimmed at both ends, and, when the value has encoded words or
// 8-bit bytes, decoded to UTF-8 by GMime's rules for header text.
std::string MimeHeaderValue(absl::string_view raw_value);

struct MimeContentType {
  std::string type;     // lower case
  std::string subtype;  // lower case
  absl::string_view parameters;  // raw text after "type/subtype"

  bool Is(absl::string_view t, absl::string_view s) const {
    return type == t && subtype == s;
  }
};

// `raw_value` of a Content-Type field; application/octet-stream when it has
// no "type/subtype".
MimeContentType ParseMimeContentType(absl::string_view raw_value);

// The first token of a Content-Disposition value ("attachment"), lower
// case.
std::string MimeDispositionType(absl::string_view raw_value);

// Parameter `name` (lower case) of a parameter list ("; a=b; c=\"d\""), with
// quoted strings unquoted and RFC 2231 continuations ("name*0", "name*1*")
// joined and %-decoded; nullopt when absent.
std::optional<std::string> MimeParameter(absl::string_view parameters,
                                         absl::string_view name);

// The parts of a multipart body delimited by `boundary`, at most
// `max_parts` of them.
std::vector<absl::string_view> SplitMultipart(absl::string_view body,
                                              absl::string_view boundary,
                                              size_t max_parts);

// `body` decoded by its Content-Transfer-Encoding (`transfer_encoding` is
// the raw field value, read by its first token; base64, quoted-printable
// and x-uuencode, from its "begin" line, are decoded, anything else is
// taken as it is): the first `limit` bytes of the result, or all of it.
std::string DecodeMimeBody(absl::string_view body,
                           absl::string_view transfer_encoding, size_t limit);

// Whether DecodeMimeBody() decodes a body of this Content-Transfer-Encoding.
bool IsEncodedTransfer(absl::string_view transfer_encoding);

// A Message-ID field's raw value read as a msg-id by GMime's rules
// (comments and folding dropped, the first id kept, angle brackets off).
std::string MimeMessageId(absl::string_view raw_value);

}  // namespace deliverd::hygiene::bounce

#endif  // DELIVERD_HYGIENE_BOUNCE_MIME_READER_H_
