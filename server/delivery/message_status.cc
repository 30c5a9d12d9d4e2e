#include "server/delivery/message_status.h"

namespace deliverd::delivery {

store::MessageStatus DeriveMessageStatus(
    const std::vector<store::Recipient>& recipients) {
  using store::MessageStatus;
  static constexpr MessageStatus kPrecedence[] = {
      MessageStatus::kQueued,  MessageStatus::kWaiting,
      MessageStatus::kSent,    MessageStatus::kConfirmed,
      MessageStatus::kBounced, MessageStatus::kBlocked,
      MessageStatus::kFailed,  MessageStatus::kSuppressed,
  };
  for (MessageStatus candidate : kPrecedence) {
    for (const store::Recipient& r : recipients) {
      if (r.status == candidate) return candidate;
    }
  }
  return MessageStatus::kFailed;
}

bool IsPending(store::MessageStatus status) {
  return status == store::MessageStatus::kQueued ||
         status == store::MessageStatus::kWaiting;
}

}  // namespace deliverd::delivery
