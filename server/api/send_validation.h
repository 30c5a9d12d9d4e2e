// Validation of a SendRequest and its translation into a store message.
//
// Everything a caller sends is checked before anything is stored: addresses
// (RFC 5321 syntax through hygiene::ParseAddress), header injection (CR, LF
// or NUL in any value that becomes a header: display names, subject, extra
// headers, attachment names and types), sizes, counts and required fields.
// Errors are INVALID_ARGUMENT and start with the offending field's path
// ("content.to[1].address: ..."), prefixed by the caller's item path in a
// batch.
//
// Pure; thread-safe.
#ifndef DELIVERD_SERVER_API_SEND_VALIDATION_H_
#define DELIVERD_SERVER_API_SEND_VALIDATION_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "deliverd/v1/messages.pb.h"
#include "server/store/types.h"

namespace deliverd::api {

struct SendLimits {
  int max_recipients = 50;
  int64_t max_message_bytes = 25 * 1024 * 1024;
  // How far ahead send_time may be.
  absl::Duration max_schedule_ahead = absl::Hours(24 * 30);
};

struct ValidatedSend {
  // Everything but id, tenant, times and statuses, which the caller sets.
  store::Message message;
  // Schedule: InfinitePast means "now".
  absl::Time send_time = absl::InfinitePast();
  // SHA-256 of the request without its request_id, when it has one: a
  // replay must match it.
  std::string request_hash;
  // A list message's list (also its stream); empty for transactional mail.
  std::string list;
};

// `field_prefix` is prepended to field paths ("messages[3]." in a batch).
absl::StatusOr<ValidatedSend> ValidateSend(const v1::SendRequest& request,
                                           const SendLimits& limits,
                                           absl::string_view field_prefix,
                                           absl::Time now);

// Checks a request_id on its own (printable ASCII, at most 128 characters).
absl::Status ValidateRequestId(absl::string_view request_id,
                               absl::string_view field);

// True when `text` contains CR, LF or NUL.
bool HasLineBreakOrNul(absl::string_view text);

// Tags, streams, scopes and metadata keys: 1 to `max_length` characters of
// A-Z a-z 0-9 _ . : -
bool IsLabel(absl::string_view text, size_t max_length);

}  // namespace deliverd::api

#endif  // DELIVERD_SERVER_API_SEND_VALIDATION_H_
