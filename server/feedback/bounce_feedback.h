// From a parsed bounce, delivery status notification or feedback report
// (hygiene/bounce) to the feedback items ingestion applies: one per
// recipient, with the references that find the original message.
// Pure; thread-safe.
#ifndef DELIVERD_SERVER_FEEDBACK_BOUNCE_FEEDBACK_H_
#define DELIVERD_SERVER_FEEDBACK_BOUNCE_FEEDBACK_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hygiene/bounce/bounce_message.h"
#include "server/feedback/feedback_item.h"
#include "server/feedback/ingester.h"
#include "server/feedback/unsubscribe_token.h"

namespace deliverd::feedback {

// Feedback reports -> complaints; auto-replies -> auto_reply; DSN actions
// delivered/relayed/expanded -> delivered, delayed -> delayed, anything
// else -> bounce. A report that is not a bounce gives nothing.
std::vector<FeedbackItem> ItemsFromBounce(
    const hygiene::bounce::BounceReport& report);

// A raw message read as feedback: its report, the items and the source
// (untrusted: anyone can mail a bounce address; digest of the bytes). A
// message addressed to a list message's unsubscribe mailbox whose token
// `list_unsubscribe` verifies is one unsubscribe item for that message
// (null: such mail is not recognised).
struct RawFeedback {
  hygiene::bounce::BounceReport report;
  std::vector<FeedbackItem> items;
  FeedbackSource source;
};

// INVALID_ARGUMENT (from ParseBounce) only for input that is not a message.
absl::StatusOr<RawFeedback> ReadRawFeedback(
    absl::string_view raw, const ListUnsubscribeConfig* list_unsubscribe);

}  // namespace deliverd::feedback

#endif  // DELIVERD_SERVER_FEEDBACK_BOUNCE_FEEDBACK_H_
