// The envelope sender (Return-Path) of outgoing mail. With VERP each message
// gets its own: "bounce+<message id>@<domain>", so an asynchronous bounce
// or DSN arriving days later names the message (and so the tenant and
// recipient) it is about, whatever the remote MTA did to the headers.
//
// Our message ids are "m_" plus 26 lower-case Crockford base32 characters
// (server/api/message_ids), safe in a local part. Pure functions; thread-safe.
#ifndef DELIVERD_SERVER_DELIVERY_RETURN_PATH_H_
#define DELIVERD_SERVER_DELIVERY_RETURN_PATH_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace deliverd::delivery {

struct ReturnPathOptions {
  bool verp = true;
  // Empty: the domain of the From address.
  std::string domain;
};

std::string ReturnPathFor(const ReturnPathOptions& options,
                          absl::string_view from_address,
                          absl::string_view message_id);

// `text` as one of our message ids ("m_" and 26 Crockford base32
// characters, compared case-insensitively, returned in our lower case), or
// nullopt. For ids read from hostile text (a bounce's returned headers).
std::optional<std::string> ParseMessageId(absl::string_view text);

// The message id a VERP address carries ("bounce+m_x@d" -> "m_x"; the
// local part is compared case-insensitively, as some MTAs fold it), or
// nullopt for any other address.
std::optional<std::string> MessageIdFromReturnPath(absl::string_view address);

}  // namespace deliverd::delivery

#endif  // DELIVERD_SERVER_DELIVERY_RETURN_PATH_H_
