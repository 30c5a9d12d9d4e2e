// A message's status is derived from its recipients' statuses, so that a
// message to several people reports the state that matters most to its
// sender: still in progress beats delivered, delivered to someone beats
// refused, and among refusals an address problem is reported before a
// policy block, a failure and a suppression. Pure; thread-safe.
#ifndef DELIVERD_SERVER_DELIVERY_MESSAGE_STATUS_H_
#define DELIVERD_SERVER_DELIVERY_MESSAGE_STATUS_H_

#include <vector>

#include "server/store/types.h"

namespace deliverd::delivery {

store::MessageStatus DeriveMessageStatus(
    const std::vector<store::Recipient>& recipients);

// True for statuses that still expect a delivery attempt.
bool IsPending(store::MessageStatus status);

}  // namespace deliverd::delivery

#endif  // DELIVERD_SERVER_DELIVERY_MESSAGE_STATUS_H_
