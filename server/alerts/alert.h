// The Alert record: what deliverd tells a tenant's operators when something
// goes wrong with their mail (a message failed, a hard bounce, a complaint,
// a bounce or complaint rate over its threshold, an old queue, a sending
// domain whose authentication regressed) or when they ask for a test alert.
//
// Every alert says what happened, to which message(s), the evidence (for a
// delivery failure, the SMTP reply) and what to do. RenderAlertText() is the
// plain-text rendering that every channel uses (as the whole message for SMS,
// as the fallback/notification text for Slack and Discord, as the "text"
// member of the generic webhook); it is bounded (see the kMax* budgets).
//
// Plain data and pure functions; thread-safe.
#ifndef DELIVERD_SERVER_ALERTS_ALERT_H_
#define DELIVERD_SERVER_ALERTS_ALERT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace deliverd::alerts {

enum class AlertKind {
  kMessageFailed,
  kHardBounce,
  kComplaint,
  kBounceRate,
  kComplaintRate,
  kQueueAge,
  kDomainAuthRegressed,
  kTest,
};

enum class AlertSeverity { kWarning, kCritical };

struct Alert {
  AlertKind kind = AlertKind::kTest;
  AlertSeverity severity = AlertSeverity::kWarning;
  std::string tenant;
  // One line, e.g. "Hard bounce to bob@example.com".
  std::string title;
  std::string what_happened;
  // The messages concerned: all of them, or a sample when aggregated.
  std::vector<std::string> message_ids;
  // How many messages the alert concerns when aggregated (a rate alert over
  // 1,200 messages lists a few ids); 0: message_ids.size().
  int64_t count = 0;
  // The evidence, e.g. the SMTP reply "550 5.1.1 <bob@example.com>: user
  // unknown", a DMARC record before and after.
  std::string evidence;
  std::string what_to_do;
  absl::Time time = absl::UnixEpoch();
};

// Budgets, in bytes, of the parts of an alert as channels send them.
inline constexpr size_t kMaxTitleBytes = 150;  // Slack's header limit
inline constexpr size_t kMaxTenantBytes = 100;
inline constexpr size_t kMaxWhatHappenedBytes = 1000;
inline constexpr size_t kMaxEvidenceBytes = 1000;
inline constexpr size_t kMaxWhatToDoBytes = 1000;
inline constexpr size_t kMaxMessageIdBytes = 100;
// Message ids listed by name; the rest are counted ("and 57 more").
inline constexpr size_t kMaxListedMessageIds = 10;

// "message_failed", "hard_bounce", ... (stable: part of the webhook body).
absl::string_view AlertKindName(AlertKind kind);
// "warning", "critical".
absl::string_view AlertSeverityName(AlertSeverity severity);

// count, or message_ids.size() when count is 0.
int64_t AlertMessageCount(const Alert& alert);

// The message ids as listed by channels: at most kMaxListedMessageIds, each
// truncated, then "and N more" when there are more (or count says so).
// Empty when the alert concerns no message.
std::string RenderMessageIds(const Alert& alert);

// RFC 3339 UTC, whole seconds: "2026-11-26T16:05:01Z".
std::string RenderAlertTime(absl::Time time);

// The plain-text rendering:
//   [CRITICAL] <title>
//   Tenant: <tenant>
//   What happened: <what happened>
//   Messages (<count>): <ids>
//   Evidence: <evidence>
//   What to do: <what to do>
//   Time: <RFC 3339>
// Lines whose part is empty are left out; each part is truncated to its
// budget.
std::string RenderAlertText(const Alert& alert);

}  // namespace deliverd::alerts

#endif  // DELIVERD_SERVER_ALERTS_ALERT_H_
