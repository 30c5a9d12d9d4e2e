#include "server/alerts/discord_payload.h"

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/alerts/json.h"
#include "server/alerts/truncate.h"

namespace deliverd::alerts {
namespace {

constexpr size_t kMaxFieldValueBytes = 1024;

Json Field(absl::string_view name, absl::string_view value) {
  Json field = Json::Object();
  field.Set("name", Json::String(name))
      .Set("value", Json::String(TruncateUtf8(value, kMaxFieldValueBytes)));
  return field;
}

}  // namespace

HttpRequest BuildDiscordRequest(absl::string_view webhook_url,
                                const Alert& alert) {
  const std::string title = TruncateUtf8(alert.title, kMaxTitleBytes);
  Json fields = Json::Array();
  if (!alert.tenant.empty()) {
    fields.Push(Field("Tenant", TruncateUtf8(alert.tenant, kMaxTenantBytes)));
  }
  if (AlertMessageCount(alert) > 0) {
    fields.Push(Field(absl::StrCat("Messages (", AlertMessageCount(alert), ")"),
                      RenderMessageIds(alert)));
  }
  if (!alert.evidence.empty()) {
    fields.Push(
        Field("Evidence", TruncateUtf8(alert.evidence, kMaxEvidenceBytes)));
  }
  if (!alert.what_to_do.empty()) {
    fields.Push(
        Field("What to do", TruncateUtf8(alert.what_to_do, kMaxWhatToDoBytes)));
  }
  Json embed = Json::Object();
  embed.Set("title", Json::String(title));
  if (!alert.what_happened.empty()) {
    embed.Set("description", Json::String(TruncateUtf8(alert.what_happened,
                                                       kMaxWhatHappenedBytes)));
  }
  embed
      .Set("color", Json::Int(alert.severity == AlertSeverity::kCritical
                                  ? kDiscordColorCritical
                                  : kDiscordColorWarning))
      .Set("fields", std::move(fields))
      .Set("timestamp", Json::String(RenderAlertTime(alert.time)));

  Json body = Json::Object();
  body.Set(
          "content",
          Json::String(TruncateUtf8(
              absl::StrCat(
                  "[", absl::AsciiStrToUpper(AlertSeverityName(alert.severity)),
                  "] ", title),
              kDiscordMaxContentBytes)))
      .Set("allowed_mentions",
           std::move(Json::Object().Set("parse", Json::Array())))
      .Set("embeds", std::move(Json::Array().Push(std::move(embed))));

  return JsonPost(webhook_url, body.Serialize());
}

}  // namespace deliverd::alerts
