#include "server/alerts/alert.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/alerts/truncate.h"

namespace deliverd::alerts {

absl::string_view AlertKindName(AlertKind kind) {
  switch (kind) {
    case AlertKind::kMessageFailed:
      return "message_failed";
    case AlertKind::kHardBounce:
      return "hard_bounce";
    case AlertKind::kComplaint:
      return "complaint";
    case AlertKind::kBounceRate:
      return "bounce_rate";
    case AlertKind::kComplaintRate:
      return "complaint_rate";
    case AlertKind::kQueueAge:
      return "queue_age";
    case AlertKind::kDomainAuthRegressed:
      return "domain_auth_regressed";
    case AlertKind::kTest:
      return "test";
  }
  return "unknown";
}

absl::string_view AlertSeverityName(AlertSeverity severity) {
  switch (severity) {
    case AlertSeverity::kWarning:
      return "warning";
    case AlertSeverity::kCritical:
      return "critical";
  }
  return "unknown";
}

int64_t AlertMessageCount(const Alert& alert) {
  return alert.count > 0 ? alert.count
                         : static_cast<int64_t>(alert.message_ids.size());
}

std::string RenderMessageIds(const Alert& alert) {
  const size_t listed =
      std::min(alert.message_ids.size(), kMaxListedMessageIds);
  std::vector<std::string> ids;
  ids.reserve(listed);
  for (size_t i = 0; i < listed; ++i) {
    ids.push_back(TruncateUtf8(alert.message_ids[i], kMaxMessageIdBytes));
  }
  std::string out = absl::StrJoin(ids, ", ");
  const int64_t more = AlertMessageCount(alert) - static_cast<int64_t>(listed);
  if (more > 0) {
    absl::StrAppend(&out, listed > 0 ? " and " : "", more,
                    listed > 0 ? " more" : " messages");
  }
  return out;
}

std::string RenderAlertTime(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

std::string RenderAlertText(const Alert& alert) {
  std::string out = absl::StrCat(
      "[", absl::AsciiStrToUpper(AlertSeverityName(alert.severity)), "] ",
      TruncateUtf8(alert.title, kMaxTitleBytes), "\n");
  if (!alert.tenant.empty()) {
    absl::StrAppend(
        &out, "Tenant: ", TruncateUtf8(alert.tenant, kMaxTenantBytes), "\n");
  }
  if (!alert.what_happened.empty()) {
    absl::StrAppend(&out, "What happened: ",
                    TruncateUtf8(alert.what_happened, kMaxWhatHappenedBytes),
                    "\n");
  }
  const int64_t count = AlertMessageCount(alert);
  if (count > 0) {
    absl::StrAppend(&out, "Messages (", count, "): ", RenderMessageIds(alert),
                    "\n");
  }
  if (!alert.evidence.empty()) {
    absl::StrAppend(&out, "Evidence: ",
                    TruncateUtf8(alert.evidence, kMaxEvidenceBytes), "\n");
  }
  if (!alert.what_to_do.empty()) {
    absl::StrAppend(&out, "What to do: ",
                    TruncateUtf8(alert.what_to_do, kMaxWhatToDoBytes), "\n");
  }
  absl::StrAppend(&out, "Time: ", RenderAlertTime(alert.time));
  return out;
}

}  // namespace deliverd::alerts
