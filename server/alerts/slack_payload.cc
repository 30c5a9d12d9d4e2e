#include "server/alerts/slack_payload.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "server/alerts/json.h"
#include "server/alerts/truncate.h"

namespace deliverd::alerts {
namespace {

// Slack's limit for a section's text is 3,000 characters.
constexpr size_t kMaxSectionBytes = 3000;

}  // namespace

std::string SlackEscape(absl::string_view text) {
  return absl::StrReplaceAll(text,
                             {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}});
}

HttpRequest BuildSlackRequest(absl::string_view webhook_url,
                              const Alert& alert) {
  std::string details;
  absl::StrAppend(&details, "*Severity:* ", AlertSeverityName(alert.severity),
                  "  *Kind:* ", AlertKindName(alert.kind));
  if (!alert.tenant.empty()) {
    absl::StrAppend(&details, "  *Tenant:* ",
                    SlackEscape(TruncateUtf8(alert.tenant, kMaxTenantBytes)));
  }
  absl::StrAppend(&details, "\n");
  if (!alert.what_happened.empty()) {
    absl::StrAppend(
        &details, "*What happened:* ",
        SlackEscape(TruncateUtf8(alert.what_happened, kMaxWhatHappenedBytes)),
        "\n");
  }
  if (AlertMessageCount(alert) > 0) {
    absl::StrAppend(&details, "*Messages (", AlertMessageCount(alert), "):* ",
                    SlackEscape(RenderMessageIds(alert)), "\n");
  }
  if (!alert.evidence.empty()) {
    // Backticks inside the evidence would end the code block early.
    absl::StrAppend(
        &details, "*Evidence:*\n```",
        SlackEscape(absl::StrReplaceAll(
            TruncateUtf8(alert.evidence, kMaxEvidenceBytes), {{"```", "'''"}})),
        "```\n");
  }
  if (!alert.what_to_do.empty()) {
    absl::StrAppend(
        &details, "*What to do:* ",
        SlackEscape(TruncateUtf8(alert.what_to_do, kMaxWhatToDoBytes)), "\n");
  }
  absl::StrAppend(&details, "*Time:* ", RenderAlertTime(alert.time));

  Json header = Json::Object();
  header.Set("type", Json::String("header"))
      .Set("text",
           std::move(Json::Object()
                         .Set("type", Json::String("plain_text"))
                         .Set("text", Json::String(TruncateUtf8(
                                          alert.title, kMaxTitleBytes)))));
  Json section = Json::Object();
  section.Set("type", Json::String("section"))
      .Set("text",
           std::move(Json::Object()
                         .Set("type", Json::String("mrkdwn"))
                         .Set("text", Json::String(TruncateUtf8(
                                          details, kMaxSectionBytes)))));
  Json body = Json::Object();
  body.Set("text", Json::String(SlackEscape(RenderAlertText(alert))))
      .Set("blocks",
           std::move(
               Json::Array().Push(std::move(header)).Push(std::move(section))));

  return JsonPost(webhook_url, body.Serialize());
}

}  // namespace deliverd::alerts
