// The two ways the composer writes a message's MIME body (its Content-*
// fields and content, after the message's own header fields), exposed so
// tests can hold them to the same output.
//
// A single text part (plain or HTML) in ASCII with no line over 998 octets
// needs no MIME encoding: its Content-* fields are fixed text and its
// content is the text itself with CRLF line breaks. PlainBody writes that
// directly. Building and serialising the same part with GMime objects cost
// more than the rest of composing such a message together (relay_bench's
// 4 KB message: 13 -> 8 us per message on one thread, more under
// contention, where GLib's allocator and type system take locks).
// Everything that needs encoding or structure (quoted-printable, base64,
// multipart boundaries, RFC 2231 parameters) goes through GMime (GMimeBody).
// The two agree byte for byte on every body PlainBody accepts
// (tests/server/delivery/composer_internal_test.cc).
//
// Both are pure functions of `input`, which the composer has validated;
// thread-safe.
#ifndef DELIVERD_SERVER_DELIVERY_COMPOSER_INTERNAL_H_
#define DELIVERD_SERVER_DELIVERY_COMPOSER_INTERNAL_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "server/delivery/composer.h"

namespace deliverd::delivery::internal {

// The body as GMime serialises it, CRLF line breaks.
absl::StatusOr<std::string> GMimeBody(const ComposeInput& input);

// The body written directly when it is a single ASCII text part with lines
// of at most 998 octets and no attachments; nullopt otherwise.
std::optional<std::string> PlainBody(const ComposeInput& input);

}  // namespace deliverd::delivery::internal

#endif  // DELIVERD_SERVER_DELIVERY_COMPOSER_INTERNAL_H_
