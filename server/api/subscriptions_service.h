// deliverd.v1.Subscriptions over gRPC's callback API: the suppression list
// (list, add, remove, check). Subscribe, Unsubscribe and GetSubscription
// are not implemented yet and answer UNIMPLEMENTED (the generated default).
#ifndef DELIVERD_SERVER_API_SUBSCRIPTIONS_SERVICE_H_
#define DELIVERD_SERVER_API_SUBSCRIPTIONS_SERVICE_H_

#include "deliverd/v1/subscriptions.grpc.pb.h"
#include "server/api/service_context.h"

namespace deliverd::api {

class SubscriptionsService final : public v1::Subscriptions::CallbackService {
 public:
  explicit SubscriptionsService(ServiceContext* context) : ctx_(context) {}

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
  ServiceContext* ctx_;
};

}  // namespace deliverd::api

#endif  // DELIVERD_SERVER_API_SUBSCRIPTIONS_SERVICE_H_
