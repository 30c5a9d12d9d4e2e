// The Alerts service as the end-to-end tests call it: one blocking call
// per RPC over a Client's channel and key, each with the Client's deadline,
// gRPC errors turned into absl::Status.
#ifndef DELIVERD_TESTS_E2E_TESTING_ALERTS_H_
#define DELIVERD_TESTS_E2E_TESTING_ALERTS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "deliverd/v1/alerts.grpc.pb.h"
#include "testing/smtp_server.h"
#include "testing_deliverd.h"

namespace deliverd::e2e {

// The secret the alert tests' webhook channels sign with.
inline constexpr char kAlertWebhookSecret[] =
    "an-e2e-webhook-secret-of-32-bytes";

// deliverd flags that send through `relay` (plain SMTP on loopback).
std::vector<std::string> RelayFlags(const testing::SmtpServer& relay);

// A webhook channel `name` posting to `url`, signed with kAlertWebhookSecret.
v1::AlertChannel Webhook(const std::string& name, const std::string& url);

class AlertsClient {
 public:
  // `client` must outlive this object.
  explicit AlertsClient(const Client& client);

  absl::StatusOr<v1::AlertChannel> CreateChannel(v1::AlertChannel channel);
  absl::StatusOr<v1::ListAlertChannelsResponse> ListChannels();
  absl::Status DeleteChannel(const std::string& name);
  absl::StatusOr<v1::AlertRule> CreateRule(v1::AlertRule rule);
  absl::StatusOr<v1::ListAlertRulesResponse> ListRules();
  // SendTestAlert (waits for the channel: a longer deadline).
  absl::StatusOr<v1::AlertRecord> Test(const std::string& channel);
  absl::StatusOr<v1::ListAlertsResponse> List();
  // Polls ListAlerts until a record is there and returns the newest
  // (bounded by `timeout`).
  absl::StatusOr<v1::AlertRecord> WaitForRecord(absl::Duration timeout);

 private:
  const Client& client_;
  std::unique_ptr<v1::Alerts::Stub> stub_;
};

}  // namespace deliverd::e2e

#endif  // DELIVERD_TESTS_E2E_TESTING_ALERTS_H_
