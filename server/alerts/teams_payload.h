// Microsoft Teams incoming webhook (or Workflows webhook) payload for an
// alert: an Adaptive Card 1.4 in the "message" attachment envelope.
//
// POST <webhook url>, Content-Type: application/json, body
//   {"type":"message","attachments":[{
//     "contentType":"application/vnd.microsoft.card.adaptive",
//     "content":{
//       "$schema":"http://adaptivecards.io/schemas/adaptive-card.json",
//       "type":"AdaptiveCard","version":"1.4","body":[
//         {"type":"TextBlock","text":<title>,"size":"Large","weight":"Bolder",
//          "color":"Attention"|"Warning","wrap":true},
//         {"type":"FactSet","facts":[{"title":"Severity","value":...},
//           {"title":"Kind",...},{"title":"Tenant",...},{"title":"Time",...}]},
//         {"type":"TextBlock","text":<what happened>,"wrap":true},
//         {"type":"TextBlock","text":"Messages (N): ...","wrap":true},
//         {"type":"TextBlock","text":<evidence>,"wrap":true,
//          "fontType":"Monospace"},
//         {"type":"TextBlock","text":"What to do: ...","wrap":true}]}}]}
// Empty parts are left out. The legacy MessageCard format is not produced:
// Microsoft retires Office 365 connectors; both connector and Workflows
// webhooks accept this envelope.
//
// The webhook URL is a secret: callers must not log it. Pure; thread-safe.
#ifndef DELIVERD_SERVER_ALERTS_TEAMS_PAYLOAD_H_
#define DELIVERD_SERVER_ALERTS_TEAMS_PAYLOAD_H_

#include "absl/strings/string_view.h"
#include "server/alerts/alert.h"
#include "server/alerts/http_request.h"

namespace deliverd::alerts {

HttpRequest BuildTeamsRequest(absl::string_view webhook_url,
                              const Alert& alert);

}  // namespace deliverd::alerts

#endif  // DELIVERD_SERVER_ALERTS_TEAMS_PAYLOAD_H_
