#include "server/alerts/webhook_payload.h"

#include <algorithm>
#include <utility>

#include "server/alerts/json.h"
#include "server/alerts/truncate.h"
#include "server/alerts/webhook_signature.h"

namespace deliverd::alerts {

std::string WebhookBody(absl::string_view delivery_id, const Alert& alert) {
  Json ids = Json::Array();
  const size_t listed =
      std::min(alert.message_ids.size(), kMaxListedMessageIds);
  for (size_t i = 0; i < listed; ++i) {
    ids.Push(
        Json::String(TruncateUtf8(alert.message_ids[i], kMaxMessageIdBytes)));
  }
  Json body = Json::Object();
  body.Set("version", Json::Int(1))
      .Set("id", Json::String(TruncateUtf8(delivery_id, kMaxMessageIdBytes)))
      .Set("kind", Json::String(AlertKindName(alert.kind)))
      .Set("severity", Json::String(AlertSeverityName(alert.severity)))
      .Set("tenant", Json::String(TruncateUtf8(alert.tenant, kMaxTenantBytes)))
      .Set("title", Json::String(TruncateUtf8(alert.title, kMaxTitleBytes)))
      .Set("what_happened", Json::String(TruncateUtf8(alert.what_happened,
                                                      kMaxWhatHappenedBytes)))
      .Set("message_ids", std::move(ids))
      .Set("count", Json::Int(AlertMessageCount(alert)))
      .Set("evidence",
           Json::String(TruncateUtf8(alert.evidence, kMaxEvidenceBytes)))
      .Set("what_to_do",
           Json::String(TruncateUtf8(alert.what_to_do, kMaxWhatToDoBytes)))
      .Set("time", Json::String(RenderAlertTime(alert.time)))
      .Set("text", Json::String(RenderAlertText(alert)));
  return body.Serialize();
}

HttpRequest BuildWebhookRequest(const WebhookChannel& channel,
                                absl::string_view delivery_id,
                                const Alert& alert, absl::Time now) {
  HttpRequest request;
  request.method = "POST";
  request.url = channel.url;
  request.body = WebhookBody(delivery_id, alert);
  const std::string timestamp = WebhookTimestamp(now);
  request.headers = {
      {"Content-Type", "application/json"},
      {std::string(kWebhookTimestampHeader), timestamp},
      {std::string(kWebhookSignatureHeader),
       SignWebhook(channel.secret, timestamp, request.body)},
  };
  return request;
}

}  // namespace deliverd::alerts
