// deliverd.v1.Alerts over gRPC's callback API: a tenant's alert channels
// and rules, test alerts, and the record of alerts sent. Every call is
// scoped to the caller's tenant.
//
// Contract:
// - Bad input is INVALID_ARGUMENT "field: reason" (server/alerts/
//   alert_config.h validates); nothing is stored for a refused request.
// - Channel secrets (webhook secret, SMS auth token) are write-only and
//   URLs are shown redacted: webhook URLs are credentials.
// - Changes apply to this replica's alert engine at once and to other
//   replicas within the engine's refresh interval.
// - SendTestAlert runs off the gRPC callback thread (it waits for the
//   channel) and answers with the record, accepted or not; the call fails
//   only when the channel does not exist or the store is away.
#ifndef DELIVERD_SERVER_API_ALERTS_SERVICE_H_
#define DELIVERD_SERVER_API_ALERTS_SERVICE_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "deliverd/v1/alerts.grpc.pb.h"
#include "server/alerts/alert_engine.h"
#include "server/api/service_context.h"

namespace deliverd::api {

class AlertsService final : public v1::Alerts::CallbackService {
 public:
  // `engine` must outlive the service.
  AlertsService(ServiceContext* context, alerts::AlertEngine* engine)
      : ctx_(context), engine_(engine) {}
  // Waits for test alerts still being delivered (they use the engine).
  ~AlertsService() override;

  grpc::ServerUnaryReactor* CreateAlertChannel(
      grpc::CallbackServerContext* call,
      const v1::CreateAlertChannelRequest* request,
      v1::AlertChannel* response) override;
  grpc::ServerUnaryReactor* ListAlertChannels(
      grpc::CallbackServerContext* call,
      const v1::ListAlertChannelsRequest* request,
      v1::ListAlertChannelsResponse* response) override;
  grpc::ServerUnaryReactor* DeleteAlertChannel(
      grpc::CallbackServerContext* call,
      const v1::DeleteAlertChannelRequest* request,
      v1::DeleteAlertChannelResponse* response) override;
  grpc::ServerUnaryReactor* CreateAlertRule(
      grpc::CallbackServerContext* call,
      const v1::CreateAlertRuleRequest* request,
      v1::AlertRule* response) override;
  grpc::ServerUnaryReactor* ListAlertRules(
      grpc::CallbackServerContext* call,
      const v1::ListAlertRulesRequest* request,
      v1::ListAlertRulesResponse* response) override;
  grpc::ServerUnaryReactor* DeleteAlertRule(
      grpc::CallbackServerContext* call,
      const v1::DeleteAlertRuleRequest* request,
      v1::DeleteAlertRuleResponse* response) override;
  grpc::ServerUnaryReactor* SendTestAlert(
      grpc::CallbackServerContext* call,
      const v1::SendTestAlertRequest* request,
      v1::AlertRecord* response) override;
  grpc::ServerUnaryReactor* ListAlerts(
      grpc::CallbackServerContext* call, const v1::ListAlertsRequest* request,
      v1::ListAlertsResponse* response) override;

 private:
  ServiceContext* const ctx_;
  alerts::AlertEngine* const engine_;
  absl::Mutex mu_;
  int test_alerts_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace deliverd::api

#endif  // DELIVERD_SERVER_API_ALERTS_SERVICE_H_
