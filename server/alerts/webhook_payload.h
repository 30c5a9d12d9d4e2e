// Generic JSON webhook payload for an alert, signed (webhook_signature.h).
//
// POST <url>, headers
//   Content-Type: application/json
//   X-Deliverd-Timestamp: <unix seconds of `now`>
//   X-Deliverd-Signature: v1=<hex HMAC-SHA256(secret, timestamp "." body)>
// body (members in this order; empty strings and an empty id list are kept,
// so receivers see a fixed shape):
//   {"version":1,"id":<delivery id>,"kind":"hard_bounce","severity":"critical",
//    "tenant":...,"title":...,"what_happened":...,"message_ids":[...],
//    "count":N,"evidence":...,"what_to_do":...,"time":"<RFC 3339>",
//    "text":<plain-text rendering>}
// message_ids holds at most kMaxListedMessageIds ids (count says how many in
// all); every text is truncated to its budget.
//
// `id` names the alert delivery: the same on every retry, so a receiver can
// de-duplicate. The signature covers `now`: the sender rebuilds the request
// for each attempt (AlertSender's RequestBuilder) so that a retry after a
// long backoff is not rejected as a replay.
//
// Pure; thread-safe.
#ifndef DELIVERD_SERVER_ALERTS_WEBHOOK_PAYLOAD_H_
#define DELIVERD_SERVER_ALERTS_WEBHOOK_PAYLOAD_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/alerts/alert.h"
#include "server/alerts/http_request.h"

namespace deliverd::alerts {

struct WebhookChannel {
  std::string url;
  std::string secret;
};

// The JSON body alone (unsigned).
std::string WebhookBody(absl::string_view delivery_id, const Alert& alert);

HttpRequest BuildWebhookRequest(const WebhookChannel& channel,
                                absl::string_view delivery_id,
                                const Alert& alert, absl::Time now);

}  // namespace deliverd::alerts

#endif  // DELIVERD_SERVER_ALERTS_WEBHOOK_PAYLOAD_H_
