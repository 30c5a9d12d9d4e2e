// Slack incoming webhook payload for an alert.
//
// POST <webhook url>, Content-Type: application/json, body
//   {"text": <plain-text rendering>,
//    "blocks": [{"type":"header","text":{"type":"plain_text","text":<title>}},
//               {"type":"section","text":{"type":"mrkdwn","text":<details>}}]}
// "text" is the notification fallback; the section carries tenant, what
// happened, messages, evidence (in a code block) and what to do, with
// Slack's control characters (&, <, >) escaped so caller text can neither
// mention (<!channel>) nor link. Bounded: the section text stays under
// Slack's 3,000-character limit, the header under 150.
//
// The webhook URL is a secret (anyone holding it can post): callers must not
// log it. Pure; thread-safe.
#ifndef DELIVERD_SERVER_ALERTS_SLACK_PAYLOAD_H_
#define DELIVERD_SERVER_ALERTS_SLACK_PAYLOAD_H_

#include <string>

#include "absl/strings/string_view.h"
#include "server/alerts/alert.h"
#include "server/alerts/http_request.h"

namespace deliverd::alerts {

// & < > as Slack's &amp; &lt; &gt;
// (https://api.slack.com/reference/surfaces/formatting).
std::string SlackEscape(absl::string_view text);

HttpRequest BuildSlackRequest(absl::string_view webhook_url,
                              const Alert& alert);

}  // namespace deliverd::alerts

#endif  // DELIVERD_SERVER_ALERTS_SLACK_PAYLOAD_H_
