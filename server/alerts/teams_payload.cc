#include "server/alerts/teams_payload.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/alerts/json.h"
#include "server/alerts/truncate.h"

namespace deliverd::alerts {
namespace {

Json TextBlock(absl::string_view text) {
  Json block = Json::Object();
  block.Set("type", Json::String("TextBlock"))
      .Set("text", Json::String(text))
      .Set("wrap", Json::Bool(true));
  return block;
}

Json Fact(absl::string_view title, absl::string_view value) {
  Json fact = Json::Object();
  fact.Set("title", Json::String(title)).Set("value", Json::String(value));
  return fact;
}

}  // namespace

HttpRequest BuildTeamsRequest(absl::string_view webhook_url,
                              const Alert& alert) {
  Json title = Json::Object();
  title.Set("type", Json::String("TextBlock"))
      .Set("text", Json::String(TruncateUtf8(alert.title, kMaxTitleBytes)))
      .Set("size", Json::String("Large"))
      .Set("weight", Json::String("Bolder"))
      .Set("color",
           Json::String(alert.severity == AlertSeverity::kCritical ? "Attention"
                                                                   : "Warning"))
      .Set("wrap", Json::Bool(true));

  Json facts = Json::Array();
  facts.Push(Fact("Severity", AlertSeverityName(alert.severity)))
      .Push(Fact("Kind", AlertKindName(alert.kind)));
  if (!alert.tenant.empty()) {
    facts.Push(Fact("Tenant", TruncateUtf8(alert.tenant, kMaxTenantBytes)));
  }
  facts.Push(Fact("Time", RenderAlertTime(alert.time)));

  Json card_body = Json::Array();
  card_body.Push(std::move(title))
      .Push(std::move(Json::Object()
                          .Set("type", Json::String("FactSet"))
                          .Set("facts", std::move(facts))));
  if (!alert.what_happened.empty()) {
    card_body.Push(
        TextBlock(TruncateUtf8(alert.what_happened, kMaxWhatHappenedBytes)));
  }
  if (AlertMessageCount(alert) > 0) {
    card_body.Push(
        TextBlock(absl::StrCat("Messages (", AlertMessageCount(alert),
                               "): ", RenderMessageIds(alert))));
  }
  if (!alert.evidence.empty()) {
    Json evidence = TextBlock(TruncateUtf8(alert.evidence, kMaxEvidenceBytes));
    evidence.Set("fontType", Json::String("Monospace"));
    card_body.Push(std::move(evidence));
  }
  if (!alert.what_to_do.empty()) {
    card_body.Push(TextBlock(absl::StrCat(
        "What to do: ", TruncateUtf8(alert.what_to_do, kMaxWhatToDoBytes))));
  }

  Json card = Json::Object();
  card.Set("$schema",
           Json::String("http://adaptivecards.io/schemas/adaptive-card.json"))
      .Set("type", Json::String("AdaptiveCard"))
      .Set("version", Json::String("1.4"))
      .Set("body", std::move(card_body));
  Json attachment = Json::Object();
  attachment
      .Set("contentType",
           Json::String("application/vnd.microsoft.card.adaptive"))
      .Set("content", std::move(card));
  Json body = Json::Object();
  body.Set("type", Json::String("message"))
      .Set("attachments", std::move(Json::Array().Push(std::move(attachment))));

  return JsonPost(webhook_url, body.Serialize());
}

}  // namespace deliverd::alerts
