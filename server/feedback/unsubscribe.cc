#include "server/feedback/unsubscribe.h"

#include <algorithm>
#include <utility>

namespace deliverd::feedback {

bool IsActiveSubscription(store::SubscriptionState state) {
  return state == store::SubscriptionState::kSubscribed ||
         state == store::SubscriptionState::kPending;
}

absl::StatusOr<std::optional<store::Suppression>> ScopedSuppression(
    store::Store& store, int64_t tenant_id, const std::string& address,
    const std::string& scope) {
  store::SuppressionFilter filter;
  filter.scope = scope;
  filter.address_prefix = address;
  // Ordered by address: the exact address sorts before longer ones.
  absl::StatusOr<store::SuppressionPage> page =
      store.ListSuppressions(tenant_id, filter, 1, std::nullopt);
  if (!page.ok()) return page.status();
  for (store::Suppression& s : page->suppressions) {
    if (s.address == address && s.scope == scope) {
      return std::optional<store::Suppression>(std::move(s));
    }
  }
  return std::optional<store::Suppression>();
}

absl::StatusOr<std::vector<store::Subscription>> AddUnsubscribe(
    store::Store& store, const UnsubscribeRequest& request,
    store::FeedbackUpdate* update) {
  absl::StatusOr<std::vector<store::Subscription>> existing =
      store.GetSubscriptions(request.tenant_id, request.address, "");
  if (!existing.ok()) return existing.status();
  std::vector<store::Subscription> targets;
  if (request.lists.empty()) {
    for (const store::Subscription& sub : *existing) {
      if (IsActiveSubscription(sub.state)) targets.push_back(sub);
    }
  } else {
    for (const std::string& list : request.lists) {
      auto found = std::find_if(
          existing->begin(), existing->end(),
          [&](const store::Subscription& sub) { return sub.list == list; });
      if (found != existing->end()) {
        if (found->state != store::SubscriptionState::kUnsubscribed) {
          targets.push_back(*found);
        }
        continue;
      }
      store::Subscription fresh;
      fresh.tenant_id = request.tenant_id;
      fresh.address = request.address;
      fresh.list = list;
      fresh.create_time = request.when;
      targets.push_back(std::move(fresh));
    }
  }
  for (store::Subscription& sub : targets) {
    sub.state = store::SubscriptionState::kUnsubscribed;
    sub.update_time = request.when;
    sub.source = request.source;
    update->subscriptions.push_back(sub);

    absl::StatusOr<std::optional<store::Suppression>> current =
        ScopedSuppression(store, request.tenant_id, request.address, sub.list);
    if (!current.ok()) return current.status();
    if (current->has_value() &&
        (*current)->reason != store::SuppressionReason::kUnsubscribed) {
      continue;
    }
    store::Suppression s;
    s.tenant_id = request.tenant_id;
    s.address = request.address;
    s.reason = store::SuppressionReason::kUnsubscribed;
    s.scope = sub.list;
    s.create_time = request.when;
    s.expire_time = absl::InfiniteFuture();
    s.source_message = request.source_message;
    s.evidence = request.evidence;
    update->new_suppressions.push_back(std::move(s));
  }
  return targets;
}

}  // namespace deliverd::feedback
