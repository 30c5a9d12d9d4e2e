#include "server/store/types.h"

#include <utility>

namespace deliverd::store {

Event MessageEvent(const Message& message, EventType type, absl::Time time,
                   std::string recipient, std::string source,
                   std::string detail) {
  Event e;
  e.tenant_id = message.tenant_id;
  e.message_id = message.id;
  e.type = type;
  e.time = time;
  e.recipient = std::move(recipient);
  e.source = std::move(source);
  e.detail = std::move(detail);
  return e;
}

const char* MessageStatusName(MessageStatus status) {
  switch (status) {
    case MessageStatus::kQueued: return "queued";
    case MessageStatus::kSent: return "sent";
    case MessageStatus::kWaiting: return "waiting";
    case MessageStatus::kConfirmed: return "confirmed";
    case MessageStatus::kFailed: return "failed";
    case MessageStatus::kBounced: return "bounced";
    case MessageStatus::kBlocked: return "blocked";
    case MessageStatus::kSuppressed: return "suppressed";
    case MessageStatus::kUnspecified: break;
  }
  return "unspecified";
}

const char* EventTypeName(EventType type) {
  switch (type) {
    case EventType::kQueued: return "queued";
    case EventType::kAttempt: return "attempt";
    case EventType::kSent: return "sent";
    case EventType::kDeferred: return "deferred";
    case EventType::kConfirmed: return "confirmed";
    case EventType::kBounced: return "bounced";
    case EventType::kBlocked: return "blocked";
    case EventType::kComplained: return "complained";
    case EventType::kOpened: return "opened";
    case EventType::kClicked: return "clicked";
    case EventType::kUnsubscribed: return "unsubscribed";
    case EventType::kSuppressed: return "suppressed";
    case EventType::kFailed: return "failed";
    case EventType::kResent: return "resent";
    case EventType::kUnspecified: break;
  }
  return "unspecified";
}

const char* SuppressionReasonName(SuppressionReason reason) {
  switch (reason) {
    case SuppressionReason::kHardBounce: return "hard_bounce";
    case SuppressionReason::kUnsubscribed: return "unsubscribed";
    case SuppressionReason::kComplaint: return "complaint";
    case SuppressionReason::kManual: return "manual";
    case SuppressionReason::kInvalid: return "invalid";
    case SuppressionReason::kSoftBounce: return "soft_bounce";
    case SuppressionReason::kUnspecified: break;
  }
  return "unspecified";
}

}  // namespace deliverd::store
