// deliverd.v1.Subscriptions over gRPC's callback API: list subscriptions
// (subscribe, unsubscribe, get, list) and the suppression list (list, add,
// remove, check). Every call is scoped to the caller's tenant.
//
// Contract:
// - Bad input is INVALID_ARGUMENT "field: reason"; nothing is changed.
// - Subscribe and Unsubscribe apply all their changes (subscription rows,
//   suppressions, events) in one store::Store::ApplyFeedback commit, with
//   the semantics of the feedback ingester's list-unsubscribe: an
//   unsubscribe is state UNSUBSCRIBED plus a suppression with reason
//   UNSUBSCRIBED scoped to the list (never tenant-wide, so transactional
//   mail is unaffected) plus an UNSUBSCRIBED event without a message.
// - Subscribe lifts only the list's UNSUBSCRIBED suppression; hard-bounce,
//   complaint, manual and other suppressions stay. A double opt-in
//   subscription is PENDING (and lifts nothing) until confirmed.
// - request_id: the commit's fingerprint is
//   Sha256Hex("subscriptions:<rpc>:<request_id>"); a replay changes nothing
//   and answers the current state.
#ifndef DELIVERD_SERVER_API_SUBSCRIPTIONS_SERVICE_H_
#define DELIVERD_SERVER_API_SUBSCRIPTIONS_SERVICE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "deliverd/v1/subscriptions.grpc.pb.h"
#include "server/api/service_context.h"

namespace deliverd::api {

class SubscriptionsService final : public v1::Subscriptions::CallbackService {
 public:
  explicit SubscriptionsService(ServiceContext* context) : ctx_(context) {}

  grpc::ServerUnaryReactor* Subscribe(grpc::CallbackServerContext* call,
                                      const v1::SubscribeRequest* request,
                                      v1::Subscription* response) override;
  grpc::ServerUnaryReactor* Unsubscribe(grpc::CallbackServerContext* call,
                                        const v1::UnsubscribeRequest* request,
                                        v1::Subscription* response) override;
  grpc::ServerUnaryReactor* GetSubscription(
      grpc::CallbackServerContext* call,
      const v1::GetSubscriptionRequest* request,
      v1::Subscription* response) override;
  grpc::ServerUnaryReactor* ListSubscriptions(
      grpc::CallbackServerContext* call,
      const v1::ListSubscriptionsRequest* request,
      v1::ListSubscriptionsResponse* response) override;

  grpc::ServerUnaryReactor* ListSuppressions(
      grpc::CallbackServerContext* call,
      const v1::ListSuppressionsRequest* request,
      v1::ListSuppressionsResponse* response) override;
  grpc::ServerUnaryReactor* AddSuppression(
      grpc::CallbackServerContext* call,
      const v1::AddSuppressionRequest* request,
      v1::Suppression* response) override;
  grpc::ServerUnaryReactor* RemoveSuppression(
      grpc::CallbackServerContext* call,
      const v1::RemoveSuppressionRequest* request,
      v1::Suppression* response) override;
  grpc::ServerUnaryReactor* CheckSuppression(
      grpc::CallbackServerContext* call,
      const v1::CheckSuppressionRequest* request,
      v1::CheckSuppressionResponse* response) override;

 private:
  // Whom an Unsubscribe is about: from its fields, or from the list message
  // its token names.
  struct UnsubscribeTarget {
    std::string address;
    std::string list;  // empty: every list
    std::string reason;
    std::string source;
    std::string message_id;  // with a token
  };
  absl::StatusOr<UnsubscribeTarget> TargetFromFields(
      const v1::UnsubscribeRequest& request);
  absl::StatusOr<UnsubscribeTarget> TargetFromToken(
      int64_t tenant_id, const v1::UnsubscribeRequest& request);
  // The stored subscription of `address` to `list`, as the response;
  // NOT_FOUND naming the address when there is none.
  absl::Status ReadSubscription(int64_t tenant_id, const std::string& address,
                                const std::string& list,
                                v1::Subscription* out);

  ServiceContext* ctx_;
};

}  // namespace deliverd::api

#endif  // DELIVERD_SERVER_API_SUBSCRIPTIONS_SERVICE_H_
