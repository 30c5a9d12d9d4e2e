// Signing of the generic JSON webhook, and its verification by a receiver.
//
// A request carries
//   X-Deliverd-Timestamp: <unix seconds at signing>
//   X-Deliverd-Signature: v1=<hex HMAC-SHA256(secret, timestamp "." body)>
// The timestamp is inside the MAC, so a receiver that rejects timestamps
// more than `tolerance` away from its clock rejects replays of an old
// request (within the window it should de-duplicate by the body's "id").
// During a secret rotation the header may carry several comma-separated
// "v1=" signatures; one valid signature is enough. Unknown schemes ("v2=")
// are ignored, so the scheme can evolve.
//
// Pure functions; thread-safe. Comparison is constant-time.
#ifndef DELIVERD_SERVER_ALERTS_WEBHOOK_SIGNATURE_H_
#define DELIVERD_SERVER_ALERTS_WEBHOOK_SIGNATURE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace deliverd::alerts {

inline constexpr absl::string_view kWebhookTimestampHeader =
    "X-Deliverd-Timestamp";
inline constexpr absl::string_view kWebhookSignatureHeader =
    "X-Deliverd-Signature";

// The X-Deliverd-Timestamp value for `time`: decimal Unix seconds.
std::string WebhookTimestamp(absl::Time time);

// "v1=" followed by the 64 lower-case hex digits of
// HMAC-SHA256(secret, timestamp + "." + body).
std::string SignWebhook(absl::string_view secret, absl::string_view timestamp,
                        absl::string_view body);

// OK if `signature_header` holds a valid v1 signature of `body` with
// `timestamp_header` and the timestamp is within `tolerance` of `now` (in
// either direction). INVALID_ARGUMENT for a malformed timestamp or a header
// without any v1 signature; UNAUTHENTICATED for a wrong signature or a
// timestamp outside the tolerance (a replay, or a badly skewed clock).
absl::Status VerifyWebhookSignature(absl::string_view secret,
                                    absl::string_view timestamp_header,
                                    absl::string_view signature_header,
                                    absl::string_view body, absl::Time now,
                                    absl::Duration tolerance);

}  // namespace deliverd::alerts

#endif  // DELIVERD_SERVER_ALERTS_WEBHOOK_SIGNATURE_H_
