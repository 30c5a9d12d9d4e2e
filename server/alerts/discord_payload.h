// Discord webhook payload for an alert.
//
// POST <webhook url>, Content-Type: application/json, body
//   {"content": "[CRITICAL] <title>",            (<= 2,000 characters)
//    "allowed_mentions": {"parse": []},           (no @everyone from text)
//    "embeds": [{"title": <title>, "description": <what happened>,
//                "color": <red for critical, amber for warning>,
//                "fields": [{"name":"Tenant","value":...},
//                           {"name":"Messages (N)","value":...},
//                           {"name":"Evidence","value":...},
//                           {"name":"What to do","value":...}],
//                "timestamp": <RFC 3339>}]}
// Empty parts are left out. Discord's limits hold: title 256, description
// 4,096, field value 1,024 characters, total embed under 6,000.
//
// The webhook URL is a secret: callers must not log it. Pure; thread-safe.
#ifndef DELIVERD_SERVER_ALERTS_DISCORD_PAYLOAD_H_
#define DELIVERD_SERVER_ALERTS_DISCORD_PAYLOAD_H_

#include <cstddef>

#include "absl/strings/string_view.h"
#include "server/alerts/alert.h"
#include "server/alerts/http_request.h"

namespace deliverd::alerts {

inline constexpr size_t kDiscordMaxContentBytes = 2000;
inline constexpr int kDiscordColorCritical = 0xD32F2F;
inline constexpr int kDiscordColorWarning = 0xF9A825;

HttpRequest BuildDiscordRequest(absl::string_view webhook_url,
                                const Alert& alert);

}  // namespace deliverd::alerts

#endif  // DELIVERD_SERVER_ALERTS_DISCORD_PAYLOAD_H_
