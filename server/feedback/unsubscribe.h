// What unsubscribing an address does, in one place for every path that
// does it (the Unsubscribe RPC, a provider's unsubscribe event, a reply to
// the List-Unsubscribe mailto): each affected list's subscription becomes
// unsubscribed (its metadata and create time kept) and the address is
// suppressed for that list with reason unsubscribed — never tenant-wide,
// so transactional mail goes on. A stronger suppression already in the
// list's scope (manual, hard bounce, complaint) is kept: replacing it would
// let a later Subscribe lift it.
//
// The changes are added to a store::FeedbackUpdate for the caller to apply
// in one commit with its events. Thread-safe (reads through the store).
#ifndef DELIVERD_SERVER_FEEDBACK_UNSUBSCRIBE_H_
#define DELIVERD_SERVER_FEEDBACK_UNSUBSCRIBE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/store/store.h"

namespace deliverd::feedback {

struct UnsubscribeRequest {
  int64_t tenant_id = 0;
  std::string address;  // normalised
  // Empty: every list the address is subscribed to (or pending on).
  // Otherwise these lists, including ones the address was never on (the
  // row records the refusal).
  std::vector<std::string> lists;
  absl::Time when;
  std::string source;          // "api", "mailgun", "list-unsubscribe", ...
  std::string evidence;        // recorded with the suppression
  std::string source_message;  // "messages/{id}" or empty
};

// Adds the changes to `update`; returns the subscriptions as they will be
// (lists already unsubscribed are left out: nothing changes for them).
absl::StatusOr<std::vector<store::Subscription>> AddUnsubscribe(
    store::Store& store, const UnsubscribeRequest& request,
    store::FeedbackUpdate* update);

// The suppression of `address` in exactly `scope` (not the tenant-wide one
// FindSuppressions reports first), or nullopt.
absl::StatusOr<std::optional<store::Suppression>> ScopedSuppression(
    store::Store& store, int64_t tenant_id, const std::string& address,
    const std::string& scope);

// Subscribed or pending confirmation.
bool IsActiveSubscription(store::SubscriptionState state);

}  // namespace deliverd::feedback

#endif  // DELIVERD_SERVER_FEEDBACK_UNSUBSCRIBE_H_
