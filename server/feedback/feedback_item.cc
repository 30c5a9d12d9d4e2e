#include "server/feedback/feedback_item.h"

namespace deliverd::feedback {

absl::string_view FeedbackKindName(FeedbackKind kind) {
  switch (kind) {
    case FeedbackKind::kBounce:
      return "bounce";
    case FeedbackKind::kDelayed:
      return "delayed";
    case FeedbackKind::kDelivered:
      return "delivered";
    case FeedbackKind::kComplaint:
      return "complaint";
    case FeedbackKind::kUnsubscribe:
      return "unsubscribe";
    case FeedbackKind::kOpen:
      return "open";
    case FeedbackKind::kClick:
      return "click";
    case FeedbackKind::kAutoReply:
      return "auto_reply";
  }
  return "unknown";
}

}  // namespace deliverd::feedback
